import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { StatefulStack } from './stacks/stateful-stack.ts';
import { StatelessStack } from './stacks/stateless-stack.ts';
import { parseStage, stageConfig, type StageConfig } from './stage.ts';

export interface HangarStacks {
  readonly stage: StageConfig;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/**
 * Defines one stage of Hangar on `app`: the stage comes from the `stage` context value
 * (`-c stage=prod`, default `dev`). Kept apart from the entry point so tests can build the same
 * app with their own context.
 */
export function defineHangarApp(app: App): HangarStacks {
  const stage = stageConfig(parseStage(app.node.tryGetContext('stage')), {
    allowDeploymentAwsAccount: app.node.tryGetContext('allowDeploymentAwsAccount'),
  });
  // Deploy to the account and region of the CLI's credentials; without them (offline synth) the
  // stacks stay environment-agnostic.
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };

  const stateful = new StatefulStack(app, `Hangar-${stage.name}-Stateful`, {
    stage,
    env,
    description: `Hangar ${stage.name}: the table and the secrets key (data that outlives deployments)`,
  });
  const stateless = new StatelessStack(app, `Hangar-${stage.name}-Stateless`, {
    stage,
    env,
    table: stateful.table,
    secretsKey: stateful.secretsKey,
    eventBus: stateful.eventBus,
    description: `Hangar ${stage.name}: API and functions`,
  });

  Tags.of(app).add('hangar:stage', stage.name);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  return { stage, stateful, stateless };
}
