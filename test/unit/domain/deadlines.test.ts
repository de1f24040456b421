import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deadlineDecision,
  deadlineOnReady,
  deadlineSchedules,
  extendDeadline,
  idleStopDecision,
  warningDecision,
  type DeadlinePolicy,
} from '../../../shared/domain/deadlines.ts';
import { ValidationError } from '../../../shared/domain/errors.ts';
import { INSTANCE_STATUSES, LIVE_STATUSES } from '../../../shared/domain/lifecycle.ts';
import { after, MINUTE, makeInstance } from './fixtures.ts';

const policy: DeadlinePolicy = { minuteMs: MINUTE, warningMinutes: 5 };
const now = new Date('2026-06-01T10:00:00.000Z');
const at = (minutes: number) => after(now, minutes * MINUTE).toISOString();

describe('deadlineOnReady', () => {
  it('sets the deadline autoTerminateMinutes after READY, and none without them', () => {
    expect(deadlineOnReady(makeInstance({ autoTerminateMinutes: 30 }), now, policy)).toBe(at(30));
    expect(deadlineOnReady(makeInstance(), now, policy)).toBeUndefined();
    expect(deadlineOnReady(makeInstance({ autoTerminateMinutes: 30 }), now, { ...policy, minuteMs: 1000 })).toBe(after(now, 30_000).toISOString());
  });
});

describe('deadlineDecision', () => {
  it.each([
    ['no deadline', undefined, 'READY', 'none'],
    ['far away', at(30), 'READY', 'none'],
    ['just outside the warning window', at(5.01), 'READY', 'none'],
    ['at the start of the warning window', at(5), 'RUNNING', 'warn'],
    ['inside the warning window', at(1), 'STOPPED', 'warn'],
    ['at its very instant', at(0), 'READY', 'terminate'],
    ['passed', at(-10), 'ERROR', 'terminate'],
    ['passed, but already terminating', at(-10), 'TERMINATING', 'none'],
    ['passed, but terminated', at(-10), 'TERMINATED', 'none'],
  ] as const)('%s → %s', (_what, deadline, status, kind) => {
    expect(deadlineDecision(makeInstance({ status, autoTerminateAt: deadline }), now, policy).kind).toBe(kind);
  });

  it('a live instance is terminated exactly when its deadline has come (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LIVE_STATUSES), fc.integer({ min: -10_000, max: 10_000 }), (status, offsetSeconds) => {
        const deadline = after(now, offsetSeconds * 1000).toISOString();
        const decision = deadlineDecision(makeInstance({ status, autoTerminateAt: deadline }), now, policy);
        expect(decision.kind === 'terminate').toBe(offsetSeconds <= 0);
        expect(decision.kind === 'warn').toBe(offsetSeconds > 0 && offsetSeconds <= 5 * 60);
      }),
    );
  });
});

describe('extendDeadline', () => {
  it('moves the deadline from the current one, or from now when it has passed or there is none', () => {
    expect(extendDeadline(makeInstance({ autoTerminateAt: at(10), autoTerminateMinutes: 30 }), 20, now, 120, policy)).toEqual({
      autoTerminateAt: at(30),
      autoTerminateMinutes: 50,
    });
    expect(extendDeadline(makeInstance({ autoTerminateAt: at(-10) }), 20, now, 120, policy).autoTerminateAt).toBe(at(20));
    expect(extendDeadline(makeInstance(), 15, now, 120, policy)).toEqual({ autoTerminateAt: at(15), autoTerminateMinutes: 15 });
  });

  it("refuses to put the deadline further away than the client's maximum, saying how much is left", () => {
    const instance = makeInstance({ autoTerminateAt: at(100) });
    expect(() => extendDeadline(instance, 30, now, 120, policy)).toThrow(ValidationError);
    try {
      extendDeadline(instance, 30, now, 120, policy);
    } catch (error) {
      expect((error as ValidationError).message).toBe('The deadline may be at most 120 minutes away for this client; extending by 30 would make it 130');
      expect((error as ValidationError).details).toEqual([{ path: 'minutes', message: 'at most 20 more minutes' }]);
    }
    expect(extendDeadline(instance, 20, now, 120, policy).autoTerminateAt).toBe(at(120));
  });

  it('never yields a deadline more than the maximum away, nor earlier than it was (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -200, max: 200 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 5, max: 300 }), (current, minutes, max) => {
        const instance = makeInstance({ autoTerminateAt: at(current) });
        try {
          const moved = Date.parse(extendDeadline(instance, minutes, now, max, policy).autoTerminateAt);
          expect(moved - now.getTime()).toBeLessThanOrEqual(max * MINUTE);
          expect(moved).toBeGreaterThan(Math.max(now.getTime(), Date.parse(at(current))));
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect(Math.max(current, 0) + minutes).toBeGreaterThan(max);
        }
      }),
    );
  });
});

describe('deadlineSchedules', () => {
  it('schedules the deadline and a warning ahead of it', () => {
    expect(deadlineSchedules(makeInstance({ status: 'READY', autoTerminateAt: at(30) }), now, policy)).toEqual({
      terminateAt: new Date(at(30)),
      warning: { kind: 'schedule', at: new Date(at(25)) },
    });
  });

  it('writes the warning at once for a new deadline already inside the warning window', () => {
    const instance = makeInstance({ status: 'READY', autoTerminateAt: at(5) });
    expect(deadlineSchedules(instance, now, policy, undefined).warning).toEqual({ kind: 'now', minutesLeft: 5 });
    expect(deadlineSchedules(instance, now, policy, at(3)).warning).toEqual({ kind: 'now', minutesLeft: 5 });
    // The same deadline applied again (a drift correction) does not warn twice.
    expect(deadlineSchedules(instance, now, policy, at(5)).warning).toEqual({ kind: 'none' });
    // A deadline already passed is not warned of: the sweeper terminates it.
    expect(deadlineSchedules(makeInstance({ status: 'READY', autoTerminateAt: at(-1) }), now, policy).warning).toEqual({ kind: 'none' });
  });

  it('cancels everything once no deadline stands', () => {
    for (const status of INSTANCE_STATUSES) {
      const plan = deadlineSchedules(makeInstance({ status, autoTerminateAt: at(30) }), now, policy);
      expect(plan.terminateAt === null).toBe(!LIVE_STATUSES.includes(status));
    }
    expect(deadlineSchedules(makeInstance({ status: 'READY' }), now, policy)).toEqual({ terminateAt: null, warning: { kind: 'none' } });
  });
});

describe('warningDecision', () => {
  it('warns only for the deadline the warning was scheduled for, while it stands', () => {
    const instance = makeInstance({ status: 'READY', autoTerminateAt: at(5) });
    expect(warningDecision(instance, at(5), now, policy)).toEqual({ kind: 'warn', deadline: at(5), minutesLeft: 5 });
    expect(warningDecision(instance, at(2), now, policy).kind).toBe('none');
    expect(warningDecision({ ...instance, status: 'TERMINATING' }, at(5), now, policy).kind).toBe('none');
    expect(warningDecision({ ...instance, autoTerminateAt: undefined }, at(5), now, policy).kind).toBe('none');
  });
});

describe('idleStopDecision', () => {
  const idle = (overrides: Parameters<typeof makeInstance>[0]) => makeInstance({ status: 'READY', config: { idleStopMinutes: 10 }, idleSince: at(-10), ...overrides });

  it.each([
    ['READY for exactly its idle minutes', {}, 'stop'],
    ['READY for less', { idleSince: at(-9) }, 'none'],
    ['RUNNING a task', { status: 'RUNNING' as const }, 'none'],
    ['without idle stop', { config: {} }, 'none'],
    ['READY without idleSince', { idleSince: undefined }, 'none'],
  ])('%s → %s', (_what, overrides, kind) => {
    expect(idleStopDecision(idle(overrides), now, policy).kind).toBe(kind);
  });

  it('says why it stops', () => {
    const decision = idleStopDecision(idle({}), now, policy);
    expect(decision.kind === 'stop' && decision.reason).toBe(`Stopped after 10 minutes idle (READY with no task since ${at(-10)})`);
  });
});
