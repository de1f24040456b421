import { describe, it, expect } from 'vitest';
import { IllegalTransitionError } from '../../../shared/domain/errors.ts';
import { accruedCost, applyAction, type Instance } from '../../../shared/domain/instance.ts';
import { INSTANCE_ACTIONS, canApply, type InstanceAction, type InstanceStatus } from '../../../shared/domain/lifecycle.ts';
import { HOUR, MINUTE, after, makeInstance } from './fixtures.ts';

const T0 = new Date('2026-03-01T10:00:00.000Z');

/** Run `actions` one after another, `stepMs` apart, starting at `start`. */
function walk(instance: Instance, actions: InstanceAction[], start: Date, stepMs = MINUTE): Instance {
  let current = instance;
  let at = start;
  for (const action of actions) {
    current = applyAction(current, action, at);
    at = after(at, stepMs);
  }
  return current;
}

/** PENDING → … → READY, activated exactly at `readyAt`. */
function readyAt(readyAtDate: Date, overrides: Partial<Instance> = {}): Instance {
  const configuring = makeInstance({ status: 'CONFIGURING', version: 3, ...overrides });
  return applyAction(configuring, 'activate', readyAtDate);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('applyAction: bookkeeping', () => {
  it('bumps the version by exactly one and sets updatedAt to the action time', () => {
    const before = makeInstance({ version: 7 });
    const at = new Date('2026-05-05T05:05:05.555Z');
    const next = applyAction(before, 'reserve', at);
    expect(next.status).toBe('PROVISIONING');
    expect(next.version).toBe(8);
    expect(next.updatedAt).toBe('2026-05-05T05:05:05.555Z');
    expect(next.createdAt).toBe(before.createdAt);
  });

  it('bumps the version once per action over a whole life', () => {
    const actions: InstanceAction[] = ['reserve', 'launched', 'activate', 'startTask', 'finishTask', 'terminate', 'terminated'];
    const end = walk(makeInstance({ version: 1 }), actions, T0);
    expect(end.version).toBe(1 + actions.length);
  });

  it('extend changes no status but still bumps the version', () => {
    const ready = readyAt(T0);
    const extended = applyAction(ready, 'extend', after(T0, MINUTE), { autoTerminateMinutes: 90 });
    expect(extended.status).toBe('READY');
    expect(extended.version).toBe(ready.version + 1);
    expect(extended.autoTerminateMinutes).toBe(90);
  });

  it('applies the extra changes given with the action', () => {
    const next = applyAction(makeInstance({ status: 'PROVISIONING' }), 'launched', T0, {
      providerInstanceId: 'i-0abc',
      privateIp: '10.0.0.5',
      port: 8080,
    });
    expect(next.providerInstanceId).toBe('i-0abc');
    expect(next.privateIp).toBe('10.0.0.5');
    expect(next.port).toBe(8080);
  });

  it('refuses an illegal action with IllegalTransitionError and changes nothing', () => {
    const pending = makeInstance();
    const snapshot = structuredClone(pending);
    expect(() => applyAction(pending, 'startTask', T0)).toThrow(IllegalTransitionError);
    expect(pending).toEqual(snapshot);
  });
});

describe('applyAction: input immutability', () => {
  it('does not mutate the instance it is given (deep equality before and after)', () => {
    const billing = readyAt(T0);
    const running = applyAction(billing, 'startTask', after(T0, MINUTE), { taskId: 'task-1' });
    const snapshot = structuredClone(running);
    const stopped = applyAction(running, 'stop', after(T0, HOUR));
    expect(running).toEqual(snapshot);
    expect(stopped).not.toBe(running);
  });

  it('works on a deeply frozen instance through every kind of change', () => {
    let current = deepFreeze(makeInstance({ tags: { a: 'b' }, resources: { cpu: 2 } }));
    const actions: InstanceAction[] = ['reserve', 'launched', 'activate', 'startTask', 'finishTask', 'fail', 'terminate', 'terminated'];
    let at = T0;
    for (const action of actions) {
      const changes = action === 'fail' ? { errorMessage: 'boom' } : action === 'startTask' ? { taskId: 't' } : {};
      current = deepFreeze(applyAction(current, action, at, changes));
      at = after(at, 10 * MINUTE);
    }
    expect(current.status).toBe('TERMINATED');
  });
});

describe('applyAction: billing', () => {
  it('opens billing on entering READY (activate), at the action time', () => {
    const ready = readyAt(T0);
    expect(ready.billableSince).toBe(T0.toISOString());
    expect(ready.accruedCostMicros).toBe(0);
  });

  it('does not bill before READY', () => {
    const configuring = walk(makeInstance(), ['reserve', 'launched'], T0);
    expect(configuring.status).toBe('CONFIGURING');
    expect(configuring.billableSince).toBeUndefined();
    expect(accruedCost(configuring, after(T0, 10 * HOUR))).toBe(0);
  });

  it('closes billing on STOPPED with the exact cost: $0.45/h for 90 minutes = 675000 micros', () => {
    const ready = readyAt(T0, { costPerHourMicros: 450_000 });
    const stopping = applyAction(ready, 'stop', after(T0, 60 * MINUTE));
    // STOPPING is still billable: the period stays open until the machine has stopped.
    expect(stopping.billableSince).toBe(T0.toISOString());
    const stopped = applyAction(stopping, 'stopped', after(T0, 90 * MINUTE));
    expect(stopped.billableSince).toBeUndefined();
    // 0.45 × 1.5 = 0.675 units = 675 000 micros
    expect(stopped.accruedCostMicros).toBe(675_000);
    expect(accruedCost(stopped, after(T0, 100 * HOUR))).toBe(675_000);
  });

  it('keeps one billing period through READY ⇄ RUNNING and reboots', () => {
    const ready = readyAt(T0, { costPerHourMicros: 1_000_000 });
    const running = applyAction(ready, 'startTask', after(T0, 10 * MINUTE), { taskId: 't-1' });
    const back = applyAction(running, 'finishTask', after(T0, 20 * MINUTE));
    const rebooting = applyAction(back, 'reboot', after(T0, 30 * MINUTE));
    const rebooted = applyAction(rebooting, 'rebooted', after(T0, 40 * MINUTE));
    for (const i of [running, back, rebooting, rebooted]) {
      expect(i.billableSince).toBe(T0.toISOString());
      expect(i.accruedCostMicros).toBe(0);
    }
    // $1/h for 2 hours
    expect(accruedCost(rebooted, after(T0, 2 * HOUR))).toBe(2_000_000);
  });

  it('accumulates over separate periods and does not bill while stopped', () => {
    // $2/h: 30 min billed, 5 h stopped, 15 min billed → 45 min → $1.50
    const ready = readyAt(T0, { costPerHourMicros: 2_000_000 });
    const stopping = applyAction(ready, 'stop', after(T0, 20 * MINUTE));
    const stopped = applyAction(stopping, 'stopped', after(T0, 30 * MINUTE));
    expect(stopped.accruedCostMicros).toBe(1_000_000);
    const starting = applyAction(stopped, 'start', after(T0, 5 * HOUR));
    expect(starting.billableSince).toBeUndefined();
    expect(accruedCost(starting, after(T0, 6 * HOUR))).toBe(1_000_000);
    const readyAgain = applyAction(starting, 'started', after(T0, 5 * HOUR + 30 * MINUTE));
    expect(readyAgain.billableSince).toBe(after(T0, 5 * HOUR + 30 * MINUTE).toISOString());
    const terminating = applyAction(readyAgain, 'terminate', after(T0, 5 * HOUR + 45 * MINUTE));
    expect(terminating.billableSince).toBeUndefined();
    expect(terminating.accruedCostMicros).toBe(1_500_000);
  });

  it('closes billing on fail and on terminate', () => {
    const ready = readyAt(T0, { costPerHourMicros: 3_600_000 }); // 1 micro per ms
    const failed = applyAction(ready, 'fail', after(T0, 1_234), { errorMessage: 'disk gone' });
    expect(failed.billableSince).toBeUndefined();
    expect(failed.accruedCostMicros).toBe(1_234);
    const running = applyAction(readyAt(T0, { costPerHourMicros: 3_600_000 }), 'startTask', T0, { taskId: 't' });
    const terminating = applyAction(running, 'terminate', after(T0, 4_321));
    expect(terminating.billableSince).toBeUndefined();
    expect(terminating.accruedCostMicros).toBe(4_321);
  });

  it('accruedCost is live while billing: closed cost plus the open period up to now', () => {
    const ready = readyAt(T0, { costPerHourMicros: 450_000 });
    expect(accruedCost(ready, T0)).toBe(0);
    expect(accruedCost(ready, after(T0, 30 * MINUTE))).toBe(225_000);
    expect(accruedCost(ready, after(T0, 90 * MINUTE))).toBe(675_000);
    const withClosed = { ...ready, accruedCostMicros: 1_000_000 };
    expect(accruedCost(withClosed, after(T0, 2 * HOUR))).toBe(1_900_000);
  });

  it('accruedCost never goes negative for a clock read before the period opened', () => {
    const ready = readyAt(T0, { costPerHourMicros: 450_000 });
    expect(accruedCost(ready, after(T0, -HOUR))).toBe(0);
  });

  it('accruedCost of an instance that is not billing is its closed cost, whatever the time', () => {
    const stopped = makeInstance({ status: 'STOPPED', accruedCostMicros: 42 });
    expect(accruedCost(stopped, after(T0, 1000 * HOUR))).toBe(42);
  });

  it('billing opens only on entering READY: a kill while STARTING does not start billing', () => {
    // DESIGN: cost accrues only in billable states; the brief: billing opens on entering READY.
    // STARTING is not billing, so force-stopping a machine that never became READY must not open a period.
    const starting = makeInstance({ status: 'STARTING', accruedCostMicros: 500, costPerHourMicros: 1_000_000 });
    const killed = applyAction(starting, 'kill', T0);
    expect(killed.status).toBe('STOPPING');
    expect(killed.billableSince).toBeUndefined();
    const stopped = applyAction(killed, 'stopped', after(T0, HOUR));
    expect(stopped.accruedCostMicros).toBe(500);
  });

  it('a kill while billing keeps the period open until STOPPED', () => {
    const ready = readyAt(T0, { costPerHourMicros: 1_000_000 });
    const killed = applyAction(ready, 'kill', after(T0, 30 * MINUTE));
    expect(killed.status).toBe('STOPPING');
    expect(killed.billableSince).toBe(T0.toISOString());
    const stopped = applyAction(killed, 'stopped', after(T0, HOUR));
    expect(stopped.accruedCostMicros).toBe(1_000_000);
  });
});

describe('applyAction: every transition out of a billing period', () => {
  // Billing from READY at T0; the statuses reachable from a billing state that still bill (the
  // machine is up, being rebooted or on its way down) versus those where billing must have closed.
  const STILL_BILLING: InstanceStatus[] = ['READY', 'RUNNING', 'REBOOTING', 'STOPPING'];
  const cases = (['READY', 'RUNNING', 'REBOOTING', 'STOPPING'] as InstanceStatus[]).flatMap((status) =>
    INSTANCE_ACTIONS.filter((action) => canApply(status, action)).map((action) => ({ status, action })),
  );

  it.each(cases)('$action from a billing $status instance keeps or closes the period exactly', ({ status, action }) => {
    // $3.60/h = 1 micro per millisecond, so the expected cost is the elapsed milliseconds.
    const billing = makeInstance({
      status,
      costPerHourMicros: 3_600_000,
      accruedCostMicros: 7,
      billableSince: T0.toISOString(),
    });
    const at = after(T0, 90 * MINUTE + 1);
    const next = applyAction(billing, action, at);
    if (STILL_BILLING.includes(next.status)) {
      expect(next.billableSince).toBe(T0.toISOString());
      expect(next.accruedCostMicros).toBe(7);
    } else {
      expect(next.billableSince).toBeUndefined();
      expect(next.accruedCostMicros).toBe(7 + 90 * MINUTE + 1);
    }
    expect(accruedCost(next, at)).toBe(7 + 90 * MINUTE + 1);
  });
});

describe('applyAction: error message, termination, task', () => {
  it('keeps the errorMessage given with fail', () => {
    const failed = applyAction(makeInstance({ status: 'PROVISIONING' }), 'fail', T0, { errorMessage: 'quota exceeded at provider' });
    expect(failed.status).toBe('ERROR');
    expect(failed.errorMessage).toBe('quota exceeded at provider');
  });

  it('clears the errorMessage on the next non-error transition', () => {
    const failed = applyAction(makeInstance({ status: 'READY' }), 'fail', T0, { errorMessage: 'boom' });
    const terminating = applyAction(failed, 'terminate', after(T0, MINUTE));
    expect(terminating.status).toBe('TERMINATING');
    expect(terminating.errorMessage).toBeUndefined();
    expect('errorMessage' in terminating).toBe(false);
  });

  it('does not carry an errorMessage into a non-error status even when passed as a change', () => {
    const next = applyAction(makeInstance({ status: 'PENDING' }), 'reserve', T0, { errorMessage: 'stale' });
    expect(next.errorMessage).toBeUndefined();
  });

  it('sets terminatedAt when the instance becomes TERMINATED, and not before', () => {
    const terminating = applyAction(readyAt(T0), 'terminate', after(T0, HOUR));
    expect(terminating.terminatedAt).toBeUndefined();
    const at = after(T0, HOUR + 5_000);
    const terminated = applyAction(terminating, 'terminated', at);
    expect(terminated.status).toBe('TERMINATED');
    expect(terminated.terminatedAt).toBe(at.toISOString());
    expect(terminated.updatedAt).toBe(at.toISOString());
  });

  it('sets taskId on startTask (given as a change) and clears it on finishTask', () => {
    const running = applyAction(readyAt(T0), 'startTask', after(T0, MINUTE), { taskId: 'task-456' });
    expect(running.status).toBe('RUNNING');
    expect(running.taskId).toBe('task-456');
    const ready = applyAction(running, 'finishTask', after(T0, 2 * MINUTE));
    expect(ready.status).toBe('READY');
    expect(ready.taskId).toBeUndefined();
    expect('taskId' in ready).toBe(false);
  });
  it('keeps stopReason only while STOPPED', () => {
    const stopping = makeInstance({ status: 'STOPPING' });
    const stopped = applyAction(stopping, 'stopped', T0, { stopReason: 'runtime-shutdown' });
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.stopReason).toBe('runtime-shutdown');
    const starting = applyAction(stopped, 'start', after(T0, MINUTE));
    expect(starting.stopReason).toBeUndefined();
    const terminating = applyAction(stopped, 'terminate', after(T0, MINUTE));
    expect(terminating.stopReason).toBeUndefined();
  });
});
