/**
 * The lifecycle state machines in Amazon States Language (JSONPath), defined once: CDK deploys
 * them with `${StepsFunctionArn}` substituted, and the local runtime executes the very same
 * JSON with aws-local-stepfunctions, mapping every Task state to the same handler module.
 */
export const STEPS_FUNCTION_ARN = '${StepsFunctionArn}';

export const WORKFLOWS = ['provision', 'terminate', 'stop', 'start', 'reboot'] as const;
export type WorkflowName = (typeof WORKFLOWS)[number];

/**
 * Step names the task handler understands: one per idempotent step in shared/services. `configure`
 * and `activate` are no longer in the provision definition (poll records the machine up and
 * READY in one write) but stay for executions started under the earlier one.
 */
export const STEPS = [
  'reserve',
  'launch',
  'poll',
  'configure',
  'activate',
  'fail',
  'release',
  'confirmTerminated',
  'stopMachine',
  'confirmStopped',
  'startMachine',
  'confirmStarted',
  'rebootMachine',
  'confirmRebooted',
] as const;
export type StepName = (typeof STEPS)[number];

/** Named errors the task handler raises (see shared/workflows/step-errors.ts). */
export const ERRORS = {
  transient: 'Hangar.Transient',
  throttled: 'Hangar.Throttled',
  capacity: 'Hangar.Capacity',
  conflict: 'Hangar.Conflict',
  notFound: 'Hangar.NotFound',
  invalidRequest: 'Hangar.InvalidRequest',
  auth: 'Hangar.Auth',
  fatal: 'Hangar.Fatal',
  timeout: 'Hangar.Timeout',
} as const;

/** Poll with capped exponential backoff: 1, 2, 4 … 30 s, at most this many times. */
export const POLL = { maxAttempts: 40, firstWaitSeconds: 1, maxWaitSeconds: 30 } as const;

type State = Record<string, unknown>;

/**
 * Lambda's own transient failures to invoke the steps function (service errors, throttling, SDK
 * client errors), as AWS recommends retrying for every Lambda Task. The step never ran or its
 * answer was lost; every step is idempotent, so running it again is safe.
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

const RETRY = [
  {
    // Throttling, blips and lost races with a person's PATCH: try again soon.
    ErrorEquals: [ERRORS.throttled, ERRORS.transient, ERRORS.conflict, ...LAMBDA_TRANSIENT_ERRORS],
    IntervalSeconds: 2,
    BackoffRate: 2,
    MaxAttempts: 4,
    MaxDelaySeconds: 30,
    JitterStrategy: 'FULL',
  },
  {
    // No capacity now may mean capacity in a minute; not forever.
    ErrorEquals: [ERRORS.capacity],
    IntervalSeconds: 10,
    BackoffRate: 2,
    MaxAttempts: 2,
  },
];

function task(step: StepName, next: string | null, options: { resultPath?: string | null; extra?: Record<string, string>; catchTo?: string } = {}): State {
  return {
    Type: 'Task',
    Resource: STEPS_FUNCTION_ARN,
    Parameters: {
      step,
      'clientId.$': '$.clientId',
      'instanceId.$': '$.instanceId',
      ...options.extra,
    },
    ResultPath: options.resultPath === undefined ? '$.result' : options.resultPath,
    Retry: RETRY,
    ...(options.catchTo !== undefined ? { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: options.catchTo }] } : {}),
    ...(next ? { Next: next } : { End: true }),
  };
}

/**
 * Ask, then poll `confirm` with backoff until it reports done; a guard ends the loop. The first
 * check comes right after the ask (waitSeconds 0): a machine that is up at once waits for nothing.
 */
function pollLoop(prefix: string, confirm: StepName, then: string, what: string): Record<string, State> {
  return {
    [`${prefix}Init`]: {
      Type: 'Pass',
      Result: { done: false, attempt: 0, waitSeconds: 0 },
      ResultPath: '$.poll',
      Next: prefix,
    },
    [prefix]: task(confirm, `${prefix}Done?`, { resultPath: '$.poll', extra: { 'attempt.$': '$.poll.attempt' }, catchTo: 'Compensate' }),
    [`${prefix}Done?`]: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.poll.done', BooleanEquals: true, Next: then },
        { Variable: '$.poll.attempt', NumericGreaterThanEquals: POLL.maxAttempts, Next: `${prefix}TimedOut` },
      ],
      Default: `${prefix}Wait`,
    },
    [`${prefix}Wait`]: { Type: 'Wait', SecondsPath: '$.poll.waitSeconds', Next: prefix },
    [`${prefix}TimedOut`]: {
      Type: 'Pass',
      Result: { Error: ERRORS.timeout, Cause: `The machine did not ${what} after ${POLL.maxAttempts} checks` },
      ResultPath: '$.error',
      Next: 'Compensate',
    },
  };
}

/** Any failure: mark ERROR with a message a person can act on, release what exists, fail. */
const compensation = (workflow: WorkflowName, failedName: string): Record<string, State> => ({
  Compensate: task('fail', 'Failed', { extra: { 'error.$': '$.error', workflow }, catchTo: 'CompensationFailed' }),
  Failed: { Type: 'Fail', Error: failedName, Cause: 'The instance is in ERROR; its events say why' },
  CompensationFailed: {
    Type: 'Fail',
    Error: 'Hangar.CompensationFailed',
    Cause: 'The failure was recorded but releasing the machine failed; see the instance events',
  },
});

function machine(comment: string, startAt: string, states: Record<string, State>) {
  return { Comment: comment, StartAt: startAt, TimeoutSeconds: 3600, States: states };
}

export const DEFINITIONS: Readonly<Record<WorkflowName, ReturnType<typeof machine>>> = {
  provision: machine('Reserve, launch (idempotent), check at once and then with backoff until up; the check that finds it up records it configured and READY; compensate on failure', 'Reserve', {
    Reserve: task('reserve', 'Launch', { catchTo: 'Compensate' }),
    Launch: task('launch', 'CheckUpInit', { catchTo: 'Compensate' }),
    ...pollLoop('CheckUp', 'poll', 'Provisioned', 'come up'),
    Provisioned: { Type: 'Succeed' },
    ...compensation('provision', 'Hangar.ProvisioningFailed'),
  }),
  terminate: machine('Release the machine, then record TERMINATED once the provider confirms it is gone', 'Release', {
    Release: task('release', 'CheckGoneInit', { catchTo: 'Compensate' }),
    ...pollLoop('CheckGone', 'confirmTerminated', 'Terminated', 'go away'),
    Terminated: { Type: 'Succeed' },
    ...compensation('terminate', 'Hangar.TerminationFailed'),
  }),
  stop: machine('Stop the machine (force cuts it off), then record STOPPED', 'StopMachine', {
    StopMachine: task('stopMachine', 'CheckStoppedInit', { extra: { 'force.$': '$.force' }, catchTo: 'Compensate' }),
    ...pollLoop('CheckStopped', 'confirmStopped', 'Stopped', 'stop'),
    Stopped: { Type: 'Succeed' },
    ...compensation('stop', 'Hangar.StopFailed'),
  }),
  start: machine('Start the machine, then record READY with its new addresses', 'StartMachine', {
    StartMachine: task('startMachine', 'CheckStartedInit', { catchTo: 'Compensate' }),
    ...pollLoop('CheckStarted', 'confirmStarted', 'Started', 'start'),
    Started: { Type: 'Succeed' },
    ...compensation('start', 'Hangar.StartFailed'),
  }),
  reboot: machine('Reboot the machine (hard or soft), then record READY', 'RebootMachine', {
    RebootMachine: task('rebootMachine', 'CheckRebootedInit', { extra: { 'hard.$': '$.hard' }, catchTo: 'Compensate' }),
    ...pollLoop('CheckRebooted', 'confirmRebooted', 'Rebooted', 'come back'),
    Rebooted: { Type: 'Succeed' },
    ...compensation('reboot', 'Hangar.RebootFailed'),
  }),
};

/** Every Task state of a definition: the local runner maps each to the steps handler. */
export function taskStateNames(definition: { States: Record<string, State> }): string[] {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name]) => name);
}

export function waitStateNames(definition: { States: Record<string, State> }): string[] {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Wait')
    .map(([name]) => name);
}

/** The input every execution starts with. */
export interface WorkflowInput {
  clientId: string;
  instanceId: string;
  force?: boolean;
  hard?: boolean;
}
