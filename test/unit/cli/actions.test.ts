import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, type RecordedRequest, fail, instance, ok, runCli, startFakeApi } from './harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ID = 'vps-web-1';
/** The server time of the action (the accepted instance's updatedAt); the fake clock starts here too. */
const ACTED_AT = '2025-03-01T10:00:00.000Z';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

interface FakeEvent {
  eventId: string;
  at: string;
  type: string;
  fromStatus?: string;
  toStatus?: string;
  actor: string;
  message: string;
}

let nextEventId = 0;
function event(at: string, message: string, change: { from?: string; to?: string } = {}): FakeEvent {
  nextEventId++;
  return {
    eventId: `01JEVENT${String(nextEventId).padStart(4, '0')}`,
    at,
    type: change.to ? 'instance.status-changed' : 'instance.note',
    ...(change.from ? { fromStatus: change.from } : {}),
    ...(change.to ? { toStatus: change.to } : {}),
    actor: change.to ? 'system:workflow' : 'key:k1',
    message,
  };
}

/** Events from before the action: an action's --wait must not show them. */
const HISTORY = [
  event('2025-03-01T09:00:00.000Z', 'Instance created', { to: 'PENDING' }),
  event('2025-03-01T09:00:05.000Z', 'Instance is ready', { from: 'CONFIGURING', to: 'READY' }),
];

interface Step {
  status: string;
  /** Events written by the time the instance reads `status`. */
  events?: FakeEvent[];
  fields?: Record<string, unknown>;
}

/**
 * One instance that an action sets moving. The action answers `accepted` with the first
 * step's status; each GET of the instance answers the next step (the last one repeats);
 * GET …/events pages through HISTORY plus the events of the steps reached so far, oldest
 * first, `pageSize` at a time, with a cursor like DynamoDB's (set whenever a page is full).
 */
function scriptedInstance(steps: Step[], options: { pageSize?: number; acceptedStatus?: number } = {}) {
  const pageSize = options.pageSize ?? 100;
  let reached = 0;
  let polls = 0;
  const log = () => [...HISTORY, ...steps.slice(0, reached + 1).flatMap((s) => s.events ?? [])];
  return startFakeApi((req) => {
    if (req.method !== 'GET') {
      return ok({ instance: instance({ id: ID, name: 'web-1', status: steps[0]!.status, updatedAt: ACTED_AT }) }, options.acceptedStatus ?? 202);
    }
    if (req.path.endsWith('/events')) {
      const all = log();
      const start = Number(req.query.get('cursor') ?? 0);
      const page = all.slice(start, start + pageSize);
      const nextCursor = page.length === pageSize ? String(start + pageSize) : null;
      return ok({ events: page, count: page.length, nextCursor });
    }
    reached = Math.min(polls++, steps.length - 1);
    const step = steps[reached]!;
    return ok({ instance: instance({ id: ID, name: 'web-1', status: step.status, updatedAt: ACTED_AT, ...step.fields }) });
  });
}

/** The `· message` lines of --wait progress, without their timestamps. */
function eventLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /^\d{4}-\d\d-\d\dT[\d:]+Z {2}vps-web-1 {2}· /.test(l))
    .map((l) => l.replace(/^\S+ {2}vps-web-1 {2}· /, ''));
}

/** The status-change lines of --wait progress. */
function statusLines(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /^\d{4}-\d\d-\d\dT[\d:]+Z {2}vps-web-1 {2}[A-Z]+$/.test(l))
    .map((l) => l.split(/\s+/)[2]!);
}

function expectActionRequest(req: RecordedRequest, method: string, path: string, body?: unknown) {
  expect(req.method).toBe(method);
  expect(req.path).toBe(path);
  expect(req.headers.authorization).toBe('Bearer hk_test');
  expect(req.headers['idempotency-key']).toMatch(UUID);
  if (body === undefined) {
    expect(req.rawBody).toBe('');
    expect(req.headers['content-type']).toBeUndefined();
  } else {
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual(body);
  }
}

describe('lifecycle actions: the request each command sends', () => {
  const cases: Array<{ argv: string[]; method: string; path: string; body?: unknown; status: string; code?: number }> = [
    { argv: ['stop', 'instance', ID], method: 'POST', path: `/api/instances/${ID}/stop`, status: 'STOPPING' },
    { argv: ['stop', 'instance', ID, '--force'], method: 'POST', path: `/api/instances/${ID}/kill`, status: 'STOPPING' },
    { argv: ['kill', 'instance', ID], method: 'POST', path: `/api/instances/${ID}/kill`, status: 'STOPPING' },
    { argv: ['start', 'instance', ID], method: 'POST', path: `/api/instances/${ID}/start`, status: 'STARTING' },
    { argv: ['reboot', 'instance', ID], method: 'POST', path: `/api/instances/${ID}/reboot`, status: 'REBOOTING' },
    { argv: ['reboot', 'instance', ID, '--hard'], method: 'POST', path: `/api/instances/${ID}/reboot`, body: { hard: true }, status: 'REBOOTING' },
    { argv: ['restart', 'instance', ID, '--hard'], method: 'POST', path: `/api/instances/${ID}/reboot`, body: { hard: true }, status: 'REBOOTING' },
    { argv: ['restart', 'instance', ID], method: 'POST', path: `/api/instances/${ID}/reboot`, status: 'REBOOTING' },
  ];

  for (const c of cases) {
    it(`hangar ${c.argv.join(' ')} → ${c.method} ${c.path}${c.body ? ` ${JSON.stringify(c.body)}` : ''}`, async () => {
      api = await startFakeApi(() => ok({ instance: instance({ id: ID, status: c.status }) }, 202));
      const result = await runCli(['--url', api.url, '--api-key', 'hk_test', ...c.argv]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(api.requests).toHaveLength(1);
      expectActionRequest(api.requests[0]!, c.method, c.path, c.body);
      expect(result.stdout).toBe(`${ID} is ${c.status}\n`);
    });
  }

  it('task start POSTs {taskId} to /task and says the task is running', async () => {
    api = await startFakeApi(() => ok({ instance: instance({ id: ID, status: 'RUNNING', taskId: 'task-456' }) }));
    const result = await runCli(['--url', api.url, '--api-key', 'hk_test', 'task', 'start', ID, 'task-456']);
    expect(result.code).toBe(0);
    expect(api.requests).toHaveLength(1);
    expectActionRequest(api.requests[0]!, 'POST', `/api/instances/${ID}/task`, { taskId: 'task-456' });
    expect(result.stdout).toBe(`${ID} is RUNNING (task task-456)\n`);
  });

  it('task finish DELETEs /task with an Idempotency-Key and no body', async () => {
    api = await startFakeApi(() => ok({ instance: instance({ id: ID, status: 'READY' }) }));
    const result = await runCli(['--url', api.url, '--api-key', 'hk_test', 'task', 'finish', ID]);
    expect(result.code).toBe(0);
    expect(api.requests).toHaveLength(1);
    expectActionRequest(api.requests[0]!, 'DELETE', `/api/instances/${ID}/task`);
    expect(result.stdout).toBe(`${ID} is READY\n`);
  });

  it('extend POSTs {minutes} and prints the new deadline', async () => {
    api = await startFakeApi(() =>
      ok({ instance: instance({ id: ID, status: 'READY', autoTerminateAt: '2025-03-01T11:30:00.000Z' }) }),
    );
    const result = await runCli(['--url', api.url, '--api-key', 'hk_test', 'extend', 'instance', ID, '--minutes', '30']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expectActionRequest(api.requests[0]!, 'POST', `/api/instances/${ID}/extend`, { minutes: 30 });
    // The fake clock says 10:00:00Z.
    expect(result.stdout).toBe(`${ID} now auto-terminates at 2025-03-01T11:30:00Z (in 1h 30m)\n`);
  });

  it('extend refuses a missing or non-positive --minutes before sending anything', async () => {
    api = await startFakeApi(() => ok({ instance: instance() }));
    const missing = await runCli(['--url', api.url, 'extend', 'instance', ID]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("required option '--minutes <n>' not specified");
    const zero = await runCli(['--url', api.url, 'extend', 'instance', ID, '--minutes', '0']);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('--minutes must be at least 1');
    const words = await runCli(['--url', api.url, 'extend', 'instance', ID, '--minutes', 'thirty']);
    expect(words.code).toBe(1);
    expect(words.stderr).toContain('--minutes must be a whole number');
    expect(api.requests).toHaveLength(0);
  });

  it('uses a new Idempotency-Key for each invocation', async () => {
    api = await startFakeApi(() => ok({ instance: instance({ id: ID, status: 'STOPPING' }) }, 202));
    await runCli(['--url', api.url, 'stop', 'instance', ID]);
    await runCli(['--url', api.url, 'stop', 'instance', ID]);
    const [first, second] = api.requests.map((r) => r.headers['idempotency-key']);
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(first).not.toBe(second);
  });

  it('--json prints the payload as received', async () => {
    const payload = { success: true, instance: instance({ id: ID, status: 'REBOOTING' }) };
    api = await startFakeApi(() => ({ status: 202, body: payload }));
    const result = await runCli(['--url', api.url, '--json', 'reboot', 'instance', ID]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(payload);

    const extended = { success: true, instance: instance({ id: ID, autoTerminateAt: '2025-03-01T11:00:00.000Z' }) };
    await api.close();
    api = await startFakeApi(() => ({ status: 200, body: extended }));
    const extendResult = await runCli(['--url', api.url, '--json', 'extend', 'instance', ID, '--minutes', '5']);
    expect(JSON.parse(extendResult.stdout)).toEqual(extended);
  });

  it('--help lists the action commands', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of [
      'stop instance <id>',
      'kill instance <id>',
      'start instance <id>',
      'reboot instance <id>',
      'restart instance <id>',
      'extend instance <id>',
      'task start <id> <taskId>',
      'task finish <id>',
      'terminate instance <id>',
    ]) {
      expect(result.stdout).toContain(command);
    }
    expect(result.stdout).toContain('hangar stop instance vps-web-server-abc123 --wait');
    const stopHelp = await runCli(['stop', 'instance', '--help']);
    expect(stopHelp.stdout).toContain('--force');
    expect(stopHelp.stdout).toContain('--timeout <seconds>');
  });
});

describe('refused actions', () => {
  it('a 422 prints the code and the message naming the current status, exit 1, and nothing is polled', async () => {
    api = await startFakeApi(() =>
      fail(422, 'ILLEGAL_TRANSITION', 'Cannot stop an instance that is STOPPED; allowed only from READY, RUNNING'),
    );
    const result = await runCli(['--url', api.url, 'stop', 'instance', ID, '--wait']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error (ILLEGAL_TRANSITION): Cannot stop an instance that is STOPPED; allowed only from READY, RUNNING\n',
    );
    expect(api.requests).toHaveLength(1);
    expect(result.sleeps).toEqual([]);
  });

  it('a 422 on task start is reported the same way', async () => {
    api = await startFakeApi(() =>
      fail(422, 'ILLEGAL_TRANSITION', 'Cannot startTask an instance that is RUNNING; allowed only from READY'),
    );
    const result = await runCli(['--url', api.url, 'task', 'start', ID, 'task-9']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error (ILLEGAL_TRANSITION): Cannot startTask an instance that is RUNNING');
  });

  it('a lost race (409) says to look again and retry, and is not retried by itself', async () => {
    api = await startFakeApi(() =>
      fail(409, 'VERSION_CONFLICT', `Instance '${ID}' was changed by another request; read it again and retry`),
    );
    const result = await runCli(['--url', api.url, 'start', 'instance', ID]);
    expect(result.code).toBe(1);
    expect(api.requests).toHaveLength(1);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `Error (VERSION_CONFLICT): Instance '${ID}' was changed by another request; read it again and retry`,
      `  Another change to ${ID} landed at the same moment: check \`hangar instance status ${ID}\`, then try again.`,
    ]);
  });
});

describe('--wait follows the workflow through its events', () => {
  it('stop --wait prints each new event once, in order, and stops at STOPPED', async () => {
    api = await scriptedInstance([
      { status: 'STOPPING', events: [event('2025-03-01T10:00:00.000Z', 'Stop requested', { from: 'READY', to: 'STOPPING' })] },
      { status: 'STOPPING', events: [event('2025-03-01T10:00:00.700Z', 'Sent SIGTERM to process 4242')] },
      {
        status: 'STOPPED',
        events: [
          event('2025-03-01T10:00:01.500Z', 'Process 4242 exited with code 0'),
          event('2025-03-01T10:00:01.600Z', 'Instance stopped', { from: 'STOPPING', to: 'STOPPED' }),
        ],
      },
      { status: 'STARTING', events: [event('2025-03-01T10:00:09.000Z', 'Someone started it again')] },
    ]);
    const result = await runCli(['--url', api.url, '--api-key', 'hk_test', 'stop', 'instance', ID, '--wait']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expectActionRequest(api.requests[0]!, 'POST', `/api/instances/${ID}/stop`);
    // Each poll reads the instance, then its events; it stops at STOPPED (3 polls, 2 sleeps).
    expect(api.requests.slice(1).map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/instances/${ID}`,
      `GET /api/instances/${ID}/events`,
      `GET /api/instances/${ID}`,
      `GET /api/instances/${ID}/events`,
      `GET /api/instances/${ID}`,
      `GET /api/instances/${ID}/events`,
    ]);
    expect(result.sleeps).toEqual([1000, 1000]);
    // The history before the stop is not shown; what the stop caused is, once each, in order.
    expect(eventLines(result.stdout)).toEqual([
      'Stop requested',
      'Sent SIGTERM to process 4242',
      'Process 4242 exited with code 0',
      'Instance stopped',
    ]);
    expect(result.stdout).not.toContain('Someone started it again');
    // Event lines carry the event's own time; the status lines come after the events that led to them.
    expect(result.stdout).toContain('2025-03-01T10:00:01Z  vps-web-1  · Process 4242 exited with code 0\n');
    expect(statusLines(result.stdout)).toEqual(['STOPPING', 'STOPPED']);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${ID} is STOPPING`);
    expect(lines.at(-2)).toBe('2025-03-01T10:00:02Z  vps-web-1  STOPPED');
    expect(lines.at(-1)).toBe(`${ID} is STOPPED`);
  });

  it('kill --wait resumes the paged event log where it stopped, never repeating an event', async () => {
    const steps: Step[] = [
      { status: 'STOPPING', events: [event('2025-03-01T10:00:00.000Z', 'Kill requested', { from: 'RUNNING', to: 'STOPPING' })] },
      { status: 'STOPPING', events: [event('2025-03-01T10:00:00.200Z', 'Sent SIGKILL to process 4242'), event('2025-03-01T10:00:00.300Z', 'Task task-456 abandoned')] },
      { status: 'STOPPING', events: [] },
      { status: 'STOPPED', events: [event('2025-03-01T10:00:02.100Z', 'Process 4242 killed'), event('2025-03-01T10:00:02.200Z', 'Instance stopped', { from: 'STOPPING', to: 'STOPPED' })] },
    ];
    api = await scriptedInstance(steps, { pageSize: 2 });
    const result = await runCli(['--url', api.url, 'stop', 'instance', ID, '--force', '--wait']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.path).toBe(`/api/instances/${ID}/kill`);
    expect(eventLines(result.stdout)).toEqual([
      'Kill requested',
      'Sent SIGKILL to process 4242',
      'Task task-456 abandoned',
      'Process 4242 killed',
      'Instance stopped',
    ]);
    // Only the first poll reads the log from its start; later polls resume from the last page.
    const cursors = api.requests.filter((r) => r.path.endsWith('/events')).map((r) => r.query.get('cursor'));
    expect(cursors[0]).toBeNull();
    expect(cursors.slice(1).every((c) => c !== null)).toBe(true);
    expect(statusLines(result.stdout).at(-1)).toBe('STOPPED');
  });

  it('start --wait stops at READY', async () => {
    api = await scriptedInstance([
      { status: 'STARTING', events: [event('2025-03-01T10:00:00.000Z', 'Start requested', { from: 'STOPPED', to: 'STARTING' })] },
      { status: 'READY', events: [event('2025-03-01T10:00:00.900Z', 'Listening on port 41234', { from: 'STARTING', to: 'READY' })], fields: { port: 41234 } },
    ]);
    const result = await runCli(['--url', api.url, 'start', 'instance', ID, '--wait']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.path).toBe(`/api/instances/${ID}/start`);
    expect(eventLines(result.stdout)).toEqual(['Start requested', 'Listening on port 41234']);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`${ID} is READY`);
    expect(result.sleeps).toEqual([1000]);
  });

  it('reboot --hard --wait exits 1 with the errorMessage when the instance reaches ERROR', async () => {
    api = await scriptedInstance([
      { status: 'REBOOTING', events: [event('2025-03-01T10:00:00.000Z', 'Hard reboot requested', { from: 'READY', to: 'REBOOTING' })] },
      {
        status: 'ERROR',
        events: [event('2025-03-01T10:00:01.200Z', 'Reboot failed: process did not come back', { from: 'REBOOTING', to: 'ERROR' })],
        fields: { errorMessage: 'Reboot failed: process did not come back' },
      },
    ]);
    const result = await runCli(['--url', api.url, 'reboot', 'instance', ID, '--hard', '--wait']);
    expect(result.code).toBe(1);
    expect(api.requests[0]!.body).toEqual({ hard: true });
    expect(eventLines(result.stdout)).toEqual(['Hard reboot requested', 'Reboot failed: process did not come back']);
    expect(result.stdout).toMatch(/vps-web-1 {2}ERROR$/m);
    expect(result.stdout).not.toContain('is READY');
    expect(result.stderr).toBe(`Error: Instance ${ID} failed: Reboot failed: process did not come back\n`);
  });

  it('start --wait fails when a kill cuts the start short', async () => {
    api = await scriptedInstance([{ status: 'STARTING' }, { status: 'STOPPED' }]);
    const result = await runCli(['--url', api.url, 'start', 'instance', ID, '--wait']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Instance ${ID} reached STOPPED instead of READY or RUNNING`);
  });

  it('gives up after --timeout seconds with the last status', async () => {
    api = await scriptedInstance([{ status: 'STOPPING' }]);
    const result = await runCli(['--url', api.url, 'kill', 'instance', ID, '--wait', '--timeout', '3']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Timed out after 3s waiting for ${ID} to reach STOPPED (last status: STOPPING)`);
    expect(result.sleeps.reduce((a, b) => a + b, 0)).toBe(3000);
  });

  it('--json --wait keeps stdout pure JSON (the final payload) and puts the event lines on stderr', async () => {
    api = await scriptedInstance([
      { status: 'STOPPING', events: [event('2025-03-01T10:00:00.000Z', 'Stop requested', { from: 'READY', to: 'STOPPING' })] },
      { status: 'STOPPED', events: [event('2025-03-01T10:00:01.000Z', 'Instance stopped', { from: 'STOPPING', to: 'STOPPED' })] },
    ]);
    const result = await runCli(['--url', api.url, '--json', 'stop', 'instance', ID, '--wait']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ success: true, instance: { id: ID, status: 'STOPPED' } });
    expect(eventLines(result.stderr)).toEqual(['Stop requested', 'Instance stopped']);
  });

  it('on a terminal the spinner text shows each event as it comes and ends with the path taken', async () => {
    api = await scriptedInstance([
      { status: 'REBOOTING', events: [event('2025-03-01T10:00:00.000Z', 'Reboot requested', { from: 'READY', to: 'REBOOTING' })] },
      { status: 'REBOOTING', events: [event('2025-03-01T10:00:01.000Z', 'Process 4242 restarted as 4250')] },
      { status: 'READY', events: [event('2025-03-01T10:00:02.000Z', 'Instance is back', { from: 'REBOOTING', to: 'READY' })] },
    ]);
    const result = await runCli(['--url', api.url, 'restart', 'instance', ID, '--wait'], { tty: true });
    expect(result.code).toBe(0);
    const out = result.stdout;
    const shown = ['Reboot requested', 'Process 4242 restarted as 4250', 'Instance is back'].map((m) =>
      out.indexOf(`Z  ${m}`),
    );
    expect(shown.every((i) => i >= 0)).toBe(true);
    expect([...shown].sort((a, b) => a - b)).toEqual(shown);
    expect(out).toContain('2025-03-01T10:00:01Z  Process 4242 restarted as 4250');
    expect(out).toContain(`${ID} is READY (REBOOTING → READY`);
    // No log lines on a terminal: the events live in the spinner text.
    expect(eventLines(out)).toEqual([]);
  });

  it('carries on by status alone when the event log cannot be read', async () => {
    let polls = 0;
    api = await startFakeApi((req) => {
      if (req.method === 'POST') return ok({ instance: instance({ id: ID, status: 'STOPPING', updatedAt: ACTED_AT }) }, 202);
      if (req.path.endsWith('/events')) return fail(404, 'NOT_FOUND', 'No route GET /api/instances/{id}/events');
      return ok({ instance: instance({ id: ID, status: polls++ < 2 ? 'STOPPING' : 'STOPPED' }) });
    });
    const result = await runCli(['--url', api.url, 'stop', 'instance', ID, '--wait']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`${ID} is STOPPED`);
    // Tried once, then left alone.
    expect(api.requests.filter((r) => r.path.endsWith('/events'))).toHaveLength(1);
    expect(api.requests.filter((r) => r.path === `/api/instances/${ID}`)).toHaveLength(3);
  });
});
