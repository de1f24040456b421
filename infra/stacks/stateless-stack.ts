import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { InstancesApi } from '../constructs/instances-api.ts';
import type { StageConfig } from '../stage.ts';

export interface StatelessStackProps extends StackProps {
  readonly stage: StageConfig;
  /** The table from the stateful stack. */
  readonly table: ITableV2;
}

/** Everything that can be redeployed or replaced without losing data: functions and the API. */
export class StatelessStack extends Stack {
  readonly api: InstancesApi;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { stage, table } = props;

    this.api = new InstancesApi(this, 'InstancesApi', {
      table,
      apiName: `hangar-${stage.name}`,
      environment: {
        HANGAR_STAGE: stage.name,
        HANGAR_RUNTIME: 'aws',
        POWERTOOLS_SERVICE_NAME: 'hangar',
      },
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Base URL of the Hangar API (routes start with /api)',
    });
  }
}
