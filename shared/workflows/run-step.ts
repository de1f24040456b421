import { ProviderError, type ProviderErrorKind } from '../domain/errors.ts';
import type { Instance } from '../domain/instance.ts';
import type { ProvisioningSteps, StepResult } from '../services/provisioning.ts';
import { ERRORS, POLL, type StepName } from './definitions.ts';

/** What a Task state passes to the steps handler (see `task()` in definitions.ts). */
export interface StepInput {
  step: StepName;
  clientId: string;
  instanceId: string;
  attempt?: number;
  force?: boolean;
  hard?: boolean;
  error?: { Error?: string; Cause?: string };
  /** Which workflow a `fail` step compensates for. */
  workflow?: string;
}

export interface PollOutput {
  done: boolean;
  attempt: number;
  waitSeconds: number;
  status: string;
}

/** Run one step and shape its result for the state machine (Choice states read `done`). */
export async function runStep(steps: ProvisioningSteps, input: StepInput): Promise<{ status: string } | PollOutput> {
  const ref = { clientId: input.clientId, instanceId: input.instanceId };
  const status = (instance: Instance) => ({ status: instance.status });
  const poll = (result: StepResult): PollOutput => {
    const attempt = (input.attempt ?? 0) + 1;
    const waitSeconds = Math.min(POLL.firstWaitSeconds * 2 ** (attempt - 1), POLL.maxWaitSeconds);
    return { done: result.done, attempt, waitSeconds, status: result.instance.status };
  };
  switch (input.step) {
    case 'reserve':
      return status(await steps.reserve(ref));
    case 'launch':
      return status(await steps.launch(ref));
    case 'poll':
      return poll(await steps.poll(ref));
    case 'configure':
      return status(await steps.configure(ref));
    case 'activate':
      return status(await steps.activate(ref));
    case 'fail':
      return status(
        await steps.fail(ref, failureOf(input.error), {
          failTermination: input.workflow === 'terminate',
          keepMachine: input.workflow === 'stop' || input.workflow === 'start' || input.workflow === 'reboot',
        }),
      );
    case 'release':
      return status(await steps.release(ref));
    case 'confirmTerminated':
      return poll(await steps.confirmTerminated(ref));
    case 'stopMachine':
      return status(await steps.stopMachine(ref, { force: input.force === true }));
    case 'confirmStopped':
      return poll(await steps.confirmStopped(ref));
    case 'startMachine':
      return status(await steps.startMachine(ref));
    case 'confirmStarted':
      return poll(await steps.confirmStarted(ref));
    case 'rebootMachine':
      return status(await steps.rebootMachine(ref, { hard: input.hard === true }));
    case 'confirmRebooted':
      return poll(await steps.confirmRebooted(ref));
  }
}

/**
 * The error a Catch handed over, as a message for a person. Lambda wraps the cause as JSON
 * (`{"errorType","errorMessage","trace"}`): keep only the message, never the trace.
 */
export function failureOf(error: StepInput['error']): ProviderError {
  let message = error?.Cause ?? 'The workflow failed';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // not JSON: already a message
  }
  // Hangar's own error names carry a message meant for people; others (a Lambda timeout, a
  // runtime crash) are said to be unexpected.
  const kind = KIND_BY_ERROR[error?.Error ?? ''];
  return new ProviderError(kind ? message : `Unexpected failure (${error?.Error ?? 'unknown'}): ${message}`, kind ?? 'fatal');
}

const KIND_BY_ERROR: Record<string, ProviderErrorKind> = {
  [ERRORS.transient]: 'transient',
  [ERRORS.throttled]: 'throttled',
  [ERRORS.capacity]: 'capacity',
  [ERRORS.conflict]: 'transient',
  [ERRORS.notFound]: 'not-found',
  [ERRORS.invalidRequest]: 'invalid-request',
  [ERRORS.auth]: 'auth',
  [ERRORS.fatal]: 'fatal',
  [ERRORS.timeout]: 'transient',
};
