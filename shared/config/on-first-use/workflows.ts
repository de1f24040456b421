import type { Workflows } from '../../ports/workflows.ts';
import { once } from '../lazy.ts';

/**
 * The AWS adapters an API function needs only on some requests (a create starts a workflow, an
 * extend moves a schedule, an account's credentials are opened), each loaded with its SDK client
 * on the first call that needs it. One module each: a bundle holds the chunk of every `import()`
 * it can reach, so a function that never starts a workflow must not reach that one.
 */
export function workflowsOnFirstUse(): Workflows {
  const load = once(async () => (await import('../../adapters/aws/step-functions-workflows.ts')).StepFunctionsWorkflows.fromEnvironment());
  return { start: async (workflow, ref, options) => (await load()).start(workflow, ref, options) };
}
