import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { Automations } from '../constructs/automations.ts';
import { InstancesApi } from '../constructs/instances-api.ts';
import { ProvisioningWorkflow } from '../constructs/provisioning-workflow.ts';
import type { StageConfig } from '../stage.ts';

export interface StatelessStackProps extends StackProps {
  readonly stage: StageConfig;
  /** The table from the stateful stack. */
  readonly table: ITableV2;
  /** The key that seals provider-account credentials, from the stateful stack. */
  readonly secretsKey: IKey;
}

/** Everything that can be redeployed or replaced without losing data: functions, the API, the workflows, the automations. */
export class StatelessStack extends Stack {
  readonly api: InstancesApi;
  readonly workflows: ProvisioningWorkflow;
  readonly automations: Automations;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { stage, table, secretsKey } = props;

    // Shared by every function of the stage: API areas and workflow steps.
    const environment = {
      HANGAR_STAGE: stage.name,
      // Stamped on every cloud machine, so stages sharing a cloud account never see each other's as orphans.
      HANGAR_DEPLOYMENT: `hangar-${stage.name}`,
      HANGAR_RUNTIME: 'aws',
      POWERTOOLS_SERVICE_NAME: 'hangar',
    };

    this.workflows = new ProvisioningWorkflow(this, 'Workflows', {
      table,
      secretsKey,
      namePrefix: `hangar-${stage.name}`,
      environment,
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
    });

    this.api = new InstancesApi(this, 'InstancesApi', {
      table,
      secretsKey,
      apiName: `hangar-${stage.name}`,
      environment,
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
    });
    // Every lifecycle action the API accepts runs as an execution of one of the workflows.
    this.workflows.grantStart(this.api.functions.instances);

    this.automations = new Automations(this, 'Automations', {
      table,
      secretsKey,
      workflows: this.workflows,
      namePrefix: `hangar-${stage.name}`,
      environment,
      logRetention: stage.logRetention,
      logRemovalPolicy: stage.removalPolicy,
    });
    // Activate and extend set an instance's deadline schedule (instances API, provisioning steps);
    // terminate cancels it. The auto-terminate function is the schedules' target.
    this.automations.grantScheduling(this.api.functions.instances);
    this.automations.grantScheduling(this.workflows.stepsFunction);
    // POST /api/sync and a new account queue sync jobs; the sync function runs them.
    this.automations.grantSyncDispatch(this.api.functions.accounts);

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Base URL of the Hangar API (routes start with /api)',
    });
  }
}
