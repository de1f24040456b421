import type { Command } from 'commander';
import { type Context, withContext, pollingFrom } from '../context.ts';
import { ApiError } from '../errors.ts';
import { duration, printJson, timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { positiveNumber, wholeNumber } from '../options.ts';
import type { InstanceResponse } from '../types.ts';
import { waitForStatus } from '../wait.ts';

/**
 * Lifecycle actions: `stop`, `kill`, `start`, `reboot` (`restart`), `extend`, and `task
 * start|finish`. Each is one POST (or DELETE) on /api/instances/{id}/<action> carrying an
 * Idempotency-Key; the answer is the instance as the action left it. The lifecycle itself is
 * the server's: an action it forbids is a 422 (ILLEGAL_TRANSITION) naming the current status,
 * a lost race a 409, and both are reported like every other API error (exit 1).
 */

interface WaitFlags {
  wait?: boolean;
  timeout: number;
}

interface StopOptions extends WaitFlags {
  force?: boolean;
}

interface RebootOptions extends WaitFlags {
  hard?: boolean;
}

interface ExtendOptions {
  minutes: number;
}

/** An action `--wait` can follow: its route and the statuses that end the wait. */
export interface ActionSpec {
  /** POST /api/instances/{id}/<route> */
  route: string;
  until: readonly string[];
  failOn: readonly string[];
}

/** Stopped, or on its way out instead. */
const DOWN: Pick<ActionSpec, 'until' | 'failOn'> = {
  until: ['STOPPED'],
  failOn: ['ERROR', 'TERMINATING', 'TERMINATED'],
};

/**
 * Up again. RUNNING counts (as for create): it is only reached from READY, so a task that
 * started the moment the instance came up does not leave the wait hanging. STOPPING/STOPPED
 * mean a kill cut the start or reboot short.
 */
const UP: Pick<ActionSpec, 'until' | 'failOn'> = {
  until: ['READY', 'RUNNING'],
  failOn: ['ERROR', 'STOPPING', 'STOPPED', 'TERMINATING', 'TERMINATED'],
};

export const ACTIONS = {
  stop: { route: 'stop', ...DOWN },
  kill: { route: 'kill', ...DOWN },
  start: { route: 'start', ...UP },
  reboot: { route: 'reboot', ...UP },
} as const satisfies Record<string, ActionSpec>;

function addWaitOptions(command: Command, target: string): Command {
  return command
    .option('--wait', `wait until it is ${target}, showing each step as it happens`)
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', positiveNumber('--timeout'), 300);
}

/** `stop instance <id> [--force]`; `--force` is `kill`. */
export function registerStopInstance(stop: Command, io: CliIO): void {
  addWaitOptions(
    stop
      .command('instance')
      .summary('Stop an instance (--force kills it; --wait follows it to STOPPED)')
      .description('Stop an instance: READY or RUNNING → STOPPING → STOPPED (it can be started again)')
      .argument('<id>', 'instance id')
      .option('--force', 'force it (same as `kill instance`): POST …/kill instead of …/stop'),
    'STOPPED',
  ).action(
    withContext(io, (ctx, o: StopOptions, id: string) => act(ctx, o, id, o.force ? ACTIONS.kill : ACTIONS.stop)),
  );
}

export function registerKillInstance(kill: Command, io: CliIO): void {
  addWaitOptions(
    kill
      .command('instance')
      .summary('Force-stop an instance (--wait follows it to STOPPED)')
      .description(
        'Force-stop an instance: STOPPING → STOPPED without a graceful shutdown; also cuts short a start, a reboot or a stop that hangs',
      )
      .argument('<id>', 'instance id'),
    'STOPPED',
  ).action(withContext(io, (ctx, o: WaitFlags, id: string) => act(ctx, o, id, ACTIONS.kill)));
}

export function registerStartInstance(start: Command, io: CliIO): void {
  addWaitOptions(
    start
      .command('instance')
      .summary('Start a stopped instance (--wait follows it to READY)')
      .description('Start a stopped instance: STOPPED → STARTING → READY')
      .argument('<id>', 'instance id'),
    'READY',
  ).action(withContext(io, (ctx, o: WaitFlags, id: string) => act(ctx, o, id, ACTIONS.start)));
}

/** `reboot instance <id> [--hard]`; registered under `restart` as well (same command, other verb). */
export function registerRebootInstance(reboot: Command, io: CliIO): void {
  addWaitOptions(
    reboot
      .command('instance')
      .summary('Reboot an instance (--hard; --wait follows it to READY)')
      .description('Reboot an instance: READY or RUNNING → REBOOTING → READY')
      .argument('<id>', 'instance id')
      .option('--hard', 'a hard reboot (power cycle) instead of a graceful one'),
    'READY',
  ).action(
    withContext(io, (ctx, o: RebootOptions, id: string) =>
      act(ctx, o, id, ACTIONS.reboot, o.hard ? { hard: true } : undefined),
    ),
  );
}

export function registerExtendInstance(extend: Command, io: CliIO): void {
  extend
    .command('instance')
    .summary('Push back the auto-terminate deadline')
    .description("Push back an instance's auto-terminate deadline by some minutes; prints the new deadline")
    .argument('<id>', 'instance id')
    .requiredOption('--minutes <n>', 'how many minutes to add', wholeNumber('--minutes', 1))
    .action(withContext(io, extendInstance));
}

/** `task start <id> <taskId>` (READY → RUNNING) and `task finish <id>` (RUNNING → READY). */
export function registerTaskCommands(task: Command, io: CliIO): void {
  task
    .command('start')
    .summary('Mark a task as running on an instance (READY → RUNNING)')
    .description('Mark a task as running on an instance: READY → RUNNING, with its taskId recorded')
    .argument('<id>', 'instance id')
    .argument('<taskId>', 'the task, e.g. task-456')
    .action(withContext(io, startTask));

  task
    .command('finish')
    .summary("Mark an instance's task as finished (RUNNING → READY)")
    .description("Mark an instance's task as finished: RUNNING → READY")
    .argument('<id>', 'instance id')
    .action(withContext(io, finishTask));
}

function actionPath(id: string, route: string): string {
  return `/api/instances/${encodeURIComponent(id)}/${route}`;
}

/** POST the action; then, with --wait, follow the instance until the action is done. */
async function act(ctx: Context, options: WaitFlags, id: string, spec: ActionSpec, body?: unknown): Promise<void> {
  const accepted = await send(id, () => ctx.client.post<InstanceResponse>(actionPath(id, spec.route), body));
  const instance = accepted.instance;

  if (!options.wait) {
    if (ctx.json) return printJson(ctx.stdout, accepted);
    return writeLine(ctx.stdout, `${instance.id} is ${instance.status}`);
  }

  if (!ctx.json) writeLine(ctx.stdout, `${instance.id} is ${instance.status}`);
  const { payload } = await waitForStatus({
    ...pollingFrom(ctx),
    id,
    until: spec.until,
    failOn: spec.failOn,
    initial: instance,
    // What this action caused, not the instance's whole history.
    eventsSince: instance.updatedAt,
    timeoutMs: options.timeout * 1000,
  });
  const final = payload ?? accepted;
  if (ctx.json) return printJson(ctx.stdout, final);
  writeLine(ctx.stdout, `${final.instance.id} is ${final.instance.status}`);
}

async function extendInstance(ctx: Context, options: ExtendOptions, id: string): Promise<void> {
  const payload = await send(id, () =>
    ctx.client.post<InstanceResponse>(actionPath(id, 'extend'), { minutes: options.minutes }),
  );
  if (ctx.json) return printJson(ctx.stdout, payload);
  const i = payload.instance;
  if (!i.autoTerminateAt) return writeLine(ctx.stdout, `${i.id} has no auto-terminate deadline`);
  const left = Date.parse(i.autoTerminateAt) - ctx.now().getTime();
  const inTime = Number.isFinite(left) && left > 0 ? ` (in ${duration(left)})` : '';
  writeLine(ctx.stdout, `${i.id} now auto-terminates at ${timestamp(i.autoTerminateAt)}${inTime}`);
}

async function startTask(ctx: Context, _options: unknown, id: string, taskId: string): Promise<void> {
  const payload = await send(id, () => ctx.client.post<InstanceResponse>(actionPath(id, 'task'), { taskId }));
  if (ctx.json) return printJson(ctx.stdout, payload);
  const i = payload.instance;
  writeLine(ctx.stdout, `${i.id} is ${i.status} (task ${i.taskId ?? taskId})`);
}

async function finishTask(ctx: Context, _options: unknown, id: string): Promise<void> {
  const payload = await send(id, () => ctx.client.delete<InstanceResponse>(actionPath(id, 'task')));
  if (ctx.json) return printJson(ctx.stdout, payload);
  writeLine(ctx.stdout, `${payload.instance.id} is ${payload.instance.status}`);
}

/**
 * Run one action request. A lost race (409, someone else changed the instance between the
 * server's read and write) gets a line saying what to do about it; other errors go as they are.
 */
async function send<T>(id: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof ApiError && error.status === 409 && !error.code.startsWith('IDEMPOTENCY')) {
      throw new ApiError(error.status, error.code, error.apiMessage, [
        ...error.lines,
        `Another change to ${id} landed at the same moment: check \`hangar instance status ${id}\`, then try again.`,
      ]);
    }
    throw error;
  }
}
