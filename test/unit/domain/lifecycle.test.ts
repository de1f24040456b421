import { describe, it, expect } from 'vitest';
import { IllegalTransitionError } from '../../../shared/domain/errors.ts';
import {
  INSTANCE_ACTIONS,
  INSTANCE_STATUSES,
  canApply,
  isBillable,
  isFinal,
  isLive,
  isUp,
  nextStatus,
  type InstanceAction,
  type InstanceStatus,
} from '../../../shared/domain/lifecycle.ts';

/*
 * The expected table, written out from DESIGN.md ("Lifecycle") and the task brief, independently
 * of shared/domain/lifecycle.ts:
 *   PENDING → PROVISIONING → CONFIGURING → READY ⇄ RUNNING
 *   READY|RUNNING → STOPPING → STOPPED → STARTING → READY
 *   READY|RUNNING → REBOOTING → READY
 *   any live state → TERMINATING → TERMINATED
 *   any non-final state → ERROR
 *   kill: force stop, also from STARTING, REBOOTING, STOPPING
 *   extend: no status change; not in TERMINATING, TERMINATED, ERROR
 *   terminate: from everything but TERMINATING and TERMINATED (ERROR included)
 *   fail: from everything but TERMINATED and ERROR
 *   reconciliation: provider says stopped (READY|RUNNING → STOPPED), says running
 *   (STOPPED → READY), or confirms the machine gone (READY|RUNNING|STOPPED|ERROR → TERMINATED)
 */
const S = {
  PENDING: 'PENDING',
  PROVISIONING: 'PROVISIONING',
  CONFIGURING: 'CONFIGURING',
  READY: 'READY',
  RUNNING: 'RUNNING',
  STOPPING: 'STOPPING',
  STOPPED: 'STOPPED',
  STARTING: 'STARTING',
  REBOOTING: 'REBOOTING',
  TERMINATING: 'TERMINATING',
  TERMINATED: 'TERMINATED',
  ERROR: 'ERROR',
} as const satisfies Record<InstanceStatus, InstanceStatus>;

const ALL_STATUSES: InstanceStatus[] = Object.values(S);
const allBut = (...excluded: InstanceStatus[]) => ALL_STATUSES.filter((s) => !excluded.includes(s));

/** action → (from status → to status). `'same'` means the status does not change. */
const EXPECTED: Record<InstanceAction, Partial<Record<InstanceStatus, InstanceStatus | 'same'>>> = {
  reserve: { PENDING: S.PROVISIONING },
  launched: { PROVISIONING: S.CONFIGURING },
  activate: { CONFIGURING: S.READY },
  startTask: { READY: S.RUNNING },
  finishTask: { RUNNING: S.READY },
  stop: { READY: S.STOPPING, RUNNING: S.STOPPING },
  kill: {
    READY: S.STOPPING,
    RUNNING: S.STOPPING,
    STARTING: S.STOPPING,
    REBOOTING: S.STOPPING,
    STOPPING: S.STOPPING,
  },
  stopped: { STOPPING: S.STOPPED },
  start: { STOPPED: S.STARTING },
  started: { STARTING: S.READY },
  reboot: { READY: S.REBOOTING, RUNNING: S.REBOOTING },
  rebooted: { REBOOTING: S.READY },
  terminate: Object.fromEntries(allBut(S.TERMINATING, S.TERMINATED).map((s) => [s, S.TERMINATING])),
  terminated: { TERMINATING: S.TERMINATED },
  fail: Object.fromEntries(allBut(S.TERMINATED, S.ERROR).map((s) => [s, S.ERROR])),
  extend: Object.fromEntries(allBut(S.TERMINATING, S.TERMINATED, S.ERROR).map((s) => [s, 'same'])),
  observedStopped: { READY: S.STOPPED, RUNNING: S.STOPPED },
  observedRunning: { STOPPED: S.READY },
  vanished: { READY: S.TERMINATED, RUNNING: S.TERMINATED, STOPPED: S.TERMINATED, ERROR: S.TERMINATED },
};

const expectedNext = (status: InstanceStatus, action: InstanceAction): InstanceStatus | undefined => {
  const to = EXPECTED[action][status];
  return to === 'same' ? status : to;
};

const PAIRS = INSTANCE_STATUSES.flatMap((status) =>
  INSTANCE_ACTIONS.map((action) => ({ status, action, to: expectedNext(status, action) })),
);
const LEGAL = PAIRS.filter((p) => p.to !== undefined);
const ILLEGAL = PAIRS.filter((p) => p.to === undefined);

describe('lifecycle vocabulary', () => {
  it('has exactly the statuses of the design', () => {
    expect([...INSTANCE_STATUSES].sort()).toEqual([...ALL_STATUSES].sort());
  });

  it('has exactly the actions the expected table covers', () => {
    expect([...INSTANCE_ACTIONS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it('checks every (status, action) pair', () => {
    expect(PAIRS).toHaveLength(12 * 19);
    expect(LEGAL.length + ILLEGAL.length).toBe(PAIRS.length);
  });
});

describe('legal transitions', () => {
  it.each(LEGAL)('$action from $status → $to', ({ status, action, to }) => {
    expect(canApply(status, action)).toBe(true);
    expect(nextStatus(status, action)).toBe(to);
  });
});

describe('illegal transitions', () => {
  it.each(ILLEGAL)('$action from $status is refused', ({ status, action }) => {
    expect(canApply(status, action)).toBe(false);
    let thrown: unknown;
    try {
      nextStatus(status, action);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IllegalTransitionError);
    const error = thrown as IllegalTransitionError;
    expect(error.status).toBe(422);
    expect(error.code).toBe('ILLEGAL_TRANSITION');
    expect(error.message).toContain(status);
    expect(error.message).toContain(action);
    expect(error.currentStatus).toBe(status);
    expect(error.action).toBe(action);
  });
});

describe('shape of the graph', () => {
  it('TERMINATED is a dead end: no action applies to it', () => {
    for (const action of INSTANCE_ACTIONS) {
      expect(canApply(S.TERMINATED, action)).toBe(false);
      expect(() => nextStatus(S.TERMINATED, action)).toThrow(IllegalTransitionError);
    }
  });

  it('ERROR can only be left by terminating, or by the provider confirming the machine gone', () => {
    const allowed = INSTANCE_ACTIONS.filter((a) => canApply(S.ERROR, a));
    expect(allowed).toEqual(['terminate', 'vanished']);
    expect(nextStatus(S.ERROR, 'terminate')).toBe(S.TERMINATING);
  });

  it('every status is reachable from PENDING (BFS over the implemented table)', () => {
    const seen = new Set<InstanceStatus>([S.PENDING]);
    const queue: InstanceStatus[] = [S.PENDING];
    while (queue.length > 0) {
      const current = queue.shift()!;
      for (const action of INSTANCE_ACTIONS) {
        if (!canApply(current, action)) continue;
        const next = nextStatus(current, action);
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    expect([...seen].sort()).toEqual([...ALL_STATUSES].sort());
  });

  it('TERMINATED is reachable from every status (nothing is stuck forever)', () => {
    for (const start of allBut(S.TERMINATED)) {
      const seen = new Set<InstanceStatus>([start]);
      const queue: InstanceStatus[] = [start];
      while (queue.length > 0) {
        const current = queue.shift()!;
        for (const action of INSTANCE_ACTIONS) {
          if (!canApply(current, action)) continue;
          const next = nextStatus(current, action);
          if (!seen.has(next)) {
            seen.add(next);
            queue.push(next);
          }
        }
      }
      expect(seen.has(S.TERMINATED), `from ${start}`).toBe(true);
    }
  });

  it('the happy path of the design walks through the expected statuses', () => {
    const steps: [InstanceAction, InstanceStatus][] = [
      ['reserve', S.PROVISIONING],
      ['launched', S.CONFIGURING],
      ['activate', S.READY],
      ['startTask', S.RUNNING],
      ['finishTask', S.READY],
      ['stop', S.STOPPING],
      ['stopped', S.STOPPED],
      ['start', S.STARTING],
      ['started', S.READY],
      ['reboot', S.REBOOTING],
      ['rebooted', S.READY],
      ['terminate', S.TERMINATING],
      ['terminated', S.TERMINATED],
    ];
    let status: InstanceStatus = S.PENDING;
    for (const [action, expected] of steps) {
      status = nextStatus(status, action);
      expect(status).toBe(expected);
    }
  });
});

describe('status predicates', () => {
  it.each(ALL_STATUSES)('%s: final only when TERMINATED', (status) => {
    expect(isFinal(status)).toBe(status === S.TERMINATED);
  });

  it.each(ALL_STATUSES)('%s: live unless TERMINATING or TERMINATED', (status) => {
    expect(isLive(status)).toBe(status !== S.TERMINATING && status !== S.TERMINATED);
  });

  it.each(ALL_STATUSES)('%s: up only when READY or RUNNING', (status) => {
    expect(isUp(status)).toBe(status === S.READY || status === S.RUNNING);
  });

  it('READY and RUNNING are billable; states without a running machine are not', () => {
    expect(isBillable(S.READY)).toBe(true);
    expect(isBillable(S.RUNNING)).toBe(true);
    for (const status of [S.PENDING, S.PROVISIONING, S.CONFIGURING, S.STARTING, S.STOPPED, S.TERMINATING, S.TERMINATED, S.ERROR]) {
      expect(isBillable(status), status).toBe(false);
    }
  });
});
