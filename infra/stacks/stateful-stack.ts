import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  ProjectionType,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
  type ITableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { TABLE } from '../../shared/db/table-definition.ts';
import { HangarEventBus } from '../constructs/event-delivery.ts';
import type { StageConfig } from '../stage.ts';

export interface StatefulStackProps extends StackProps {
  readonly stage: StageConfig;
}

/**
 * What must outlive a deployment: the one DynamoDB table, and the KMS key that seals the secrets
 * stored in it. Functions, APIs and workflows live in the stateless stack so they can be torn down
 * and redeployed without touching data.
 */
export class StatefulStack extends Stack {
  readonly table: ITableV2;
  /** Protects provider-account credentials (envelope encryption, shared/adapters/aws/kms-secret-box.ts). */
  readonly secretsKey: IKey;
  /** The stage's bus `hangar-<stage>`, for customers' rules on Hangar's events (docs/events.md). */
  readonly eventBus: IEventBus;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, { ...props, terminationProtection: props.terminationProtection ?? !props.stage.ephemeral });
    const { stage } = props;

    const string = (name: string) => ({ name, type: AttributeType.STRING });

    // Keys, indexes and the TTL attribute come from the shared definition, which the local runtime
    // also uses to create its table, so both shapes are the same by construction.
    this.table = new TableV2(this, 'Table', {
      tableName: `hangar-${stage.name}`,
      partitionKey: string(TABLE.partitionKey),
      sortKey: string(TABLE.sortKey),
      globalSecondaryIndexes: TABLE.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        // Every index serves whole entities (the shared definition projects ALL).
        projectionType: ProjectionType.ALL,
      })),
      timeToLiveAttribute: TABLE.ttlAttribute,
      billing: Billing.onDemand(),
      // Both images: the realtime fan-out and the audit consumers compare old and new status.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryptionV2.awsManagedKey(),
      deletionProtection: !stage.ephemeral,
      removalPolicy: stage.removalPolicy,
    });

    // Sealed credentials in the table are only as durable as this key: it lives and is retained
    // with the table. Rotation keeps old key material, so secrets sealed before a rotation still open.
    // The default key policy lets the account's IAM policies grant use; the stateless stack grants
    // each function exactly the actions it needs.
    this.secretsKey = new Key(this, 'SecretsKey', {
      alias: `alias/hangar-${stage.name}-secrets`,
      description: `Hangar ${stage.name}: envelope key for provider-account credentials`,
      enableKeyRotation: true,
      removalPolicy: stage.removalPolicy,
    });

    this.eventBus = new HangarEventBus(this, 'Events', { stageName: stage.name }).bus;

    new CfnOutput(this, 'EventBusName', {
      value: this.eventBus.eventBusName,
      description: "The stage's EventBridge bus: write rules on source \"hangar\" (docs/events.md)",
    });
    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description: 'The Hangar table (HANGAR_TABLE for infra/scripts/create-admin-key.ts)',
    });
  }
}
