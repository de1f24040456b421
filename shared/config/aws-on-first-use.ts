import type { Scheduler } from '../ports/scheduler.ts';
import type { SecretBox } from '../ports/secret-box.ts';
import type { Workflows } from '../ports/workflows.ts';
import { once } from './lazy.ts';

/**
 * The AWS adapters an API function needs only on some requests (a create starts a workflow, an
 * extend moves a schedule, an account's credentials are opened), each loaded with its SDK client
 * on the first call that needs it. The bundle splits them into chunks, so a read never parses
 * the Step Functions, Scheduler or KMS clients; the first write that needs one pays for it once.
 */
export function workflowsOnFirstUse(): Workflows {
  const load = once(async () => (await import('../adapters/aws/step-functions-workflows.ts')).StepFunctionsWorkflows.fromEnvironment());
  return { start: async (workflow, ref, options) => (await load()).start(workflow, ref, options) };
}

export function schedulerOnFirstUse(): Scheduler {
  const load = once(async () => (await import('../adapters/aws/eventbridge-scheduler.ts')).EventBridgeScheduler.fromEnvironment());
  return {
    scheduleOnce: async (schedule) => (await load()).scheduleOnce(schedule),
    cancel: async (name) => (await load()).cancel(name),
  };
}

export function secretBoxOnFirstUse(): SecretBox {
  const load = once(async () => (await import('../adapters/aws/kms-secret-box.ts')).KmsSecretBox.fromEnvironment());
  return {
    seal: async (plaintext, context) => (await load()).seal(plaintext, context),
    open: async (sealed, context) => (await load()).open(sealed, context),
  };
}
