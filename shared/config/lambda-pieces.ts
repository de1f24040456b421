/**
 * The AWS adapters, each built from the Lambda environment the CDK app sets. A function calls
 * only the builders for the pieces it uses, so its bundle carries no other SDK client.
 */
import { EventBridgeScheduler, deadlineSchedulerFromEnvironment } from '../adapters/aws/eventbridge-scheduler.ts';
import { KmsSecretBox, SECRETS_KEY_VARIABLE } from '../adapters/aws/kms-secret-box.ts';
import { LambdaSyncDispatcher } from '../adapters/aws/lambda-sync-dispatcher.ts';
import { StepFunctionsWorkflows, stateMachineArnsFromEnvironment } from '../adapters/aws/step-functions-workflows.ts';
import { createDb, type Db } from '../db/db.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { SecretBox } from '../ports/secret-box.ts';
import type { SyncDispatcher } from '../ports/sync-dispatcher.ts';
import type { Workflows } from '../ports/workflows.ts';
import { requireEnv } from './env.ts';

export const tableFromEnvironment = (): Db => createDb({ tableName: requireEnv('TABLE_NAME') });

export const stepFunctionsFromEnvironment = (): Workflows => new StepFunctionsWorkflows(stateMachineArnsFromEnvironment);

export const deadlineSchedulerFromLambdaEnvironment = (): Scheduler => new EventBridgeScheduler(deadlineSchedulerFromEnvironment);

/** The key is checked when sealing, so functions that only open need not be given one. */
export const kmsSecretBoxFromEnvironment = (): SecretBox => new KmsSecretBox({ keyId: process.env[SECRETS_KEY_VARIABLE] });

export const lambdaSyncDispatcher = (): SyncDispatcher => new LambdaSyncDispatcher();

export const deadlineWarningMinutesFromEnvironment = (): number | undefined =>
  process.env.DEADLINE_WARNING_MINUTES ? Number(process.env.DEADLINE_WARNING_MINUTES) : undefined;
