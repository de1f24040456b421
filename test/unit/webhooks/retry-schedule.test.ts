import { describe, expect, it } from 'vitest';
import { parseRetrySchedule, webhookRetryScheduleFromEnvironment } from '../../../shared/adapters/webhooks/settings.ts';
import { type AttemptOutcome, DEFAULT_RETRY_SCHEDULE_MS, deliveryDecision, FAILING_ENDPOINT_DISABLE_MS, subscribes, webhookTypeOf } from '../../../shared/domain/webhooks.ts';

const now = new Date('2026-03-01T12:00:00.000Z');
const failure = { statusCode: 500 };

describe('deliveryDecision', () => {
  it('follows the schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then gives up', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([0, 5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000]);
    const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => deliveryDecision(failure, attempt, undefined, now));
    expect(delays).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000].map((delayMs) => ({ kind: 'retry', delayMs })));
    expect(deliveryDecision(failure, 8, undefined, now)).toEqual({ kind: 'exhausted' });
  });

  it.each([200, 201, 202, 204, 299])('counts %i as delivered', (statusCode) => {
    expect(deliveryDecision({ statusCode }, 3, '2026-02-27T00:00:00.000Z', now)).toEqual({ kind: 'succeeded' });
  });

  it.each([
    [{ statusCode: 301 }, 'a redirect (not followed)'],
    [{ statusCode: 400 }, 'a client error'],
    [{ statusCode: 429 }, 'throttling'],
    [{ statusCode: 503 }, 'a server error'],
    [{ error: 'No answer within 15 s' }, 'a timeout'],
    [{ error: 'Connection refused' }, 'a refused connection'],
  ] as [AttemptOutcome, string][])('retries after %j (%s)', (outcome) => {
    expect(deliveryDecision(outcome, 1, undefined, now)).toEqual({ kind: 'retry', delayMs: 5_000 });
  });

  it('disables the endpoint at once on 410 Gone, whatever the attempt', () => {
    expect(deliveryDecision({ statusCode: 410 }, 1, undefined, now)).toEqual({ kind: 'disable', reason: 'gone' });
  });

  it('disables an endpoint that has been failing for five days, and not a moment before', () => {
    const justUnder = new Date(now.getTime() - FAILING_ENDPOINT_DISABLE_MS + 1).toISOString();
    const fiveDays = new Date(now.getTime() - FAILING_ENDPOINT_DISABLE_MS).toISOString();
    expect(deliveryDecision(failure, 2, justUnder, now).kind).toBe('retry');
    expect(deliveryDecision(failure, 2, fiveDays, now)).toEqual({ kind: 'disable', reason: 'failing' });
  });

  it('uses a shortened schedule when given one', () => {
    expect(deliveryDecision(failure, 1, undefined, now, [0, 100, 200])).toEqual({ kind: 'retry', delayMs: 100 });
    expect(deliveryDecision(failure, 3, undefined, now, [0, 100, 200])).toEqual({ kind: 'exhausted' });
  });
});

describe('retry schedule configuration', () => {
  it('reads durations in ms, s, m and h', () => {
    expect(parseRetrySchedule('0, 200ms, 1s, 1.5s, 5m, 2h, 300')).toEqual([0, 200, 1000, 1500, 300_000, 7_200_000, 300]);
  });

  it('refuses what is not a duration, naming the variable', () => {
    expect(() => parseRetrySchedule('0,soon')).toThrow(/HANGAR_WEBHOOK_RETRY_SCHEDULE: 'soon'/);
    expect(() => parseRetrySchedule('0,-5s')).toThrow(/not a duration/);
  });

  it('defaults to the standard schedule', () => {
    expect(webhookRetryScheduleFromEnvironment({})).toBe(DEFAULT_RETRY_SCHEDULE_MS);
    expect(webhookRetryScheduleFromEnvironment({ HANGAR_WEBHOOK_RETRY_SCHEDULE: '0,1s' })).toEqual([0, 1000]);
  });
});

describe('webhook event types', () => {
  it.each([
    [{ type: 'instance.status-changed', fromStatus: 'PENDING', toStatus: 'PROVISIONING' }, 'instance.provisioning'],
    [{ type: 'instance.status-changed', fromStatus: 'CONFIGURING', toStatus: 'READY' }, 'instance.ready'],
    [{ type: 'instance.status-changed', fromStatus: 'TERMINATING', toStatus: 'TERMINATED' }, 'instance.terminated'],
    [{ type: 'instance.status-changed', fromStatus: 'PROVISIONING', toStatus: 'ERROR' }, 'instance.error'],
    [{ type: 'instance.created' }, 'instance.created'],
    [{ type: 'instance.extend', fromStatus: 'READY', toStatus: 'READY' }, 'instance.extend'],
    [{ type: 'provisioning.launched' }, 'instance.provisioning.launched'],
    [{ type: 'reconcile.ghost-found' }, 'instance.reconcile.ghost-found'],
    [{ type: 'client.budget-threshold' }, 'client.budget-threshold'],
  ] as const)('%j goes out as %s', (event, type) => {
    expect(webhookTypeOf(event as never)).toBe(type);
  });

  it('matches exact types, prefixes and *', () => {
    expect(subscribes(['instance.*'], 'instance.ready')).toBe(true);
    expect(subscribes(['instance.*'], 'instance.provisioning.launched')).toBe(true);
    expect(subscribes(['instance.*'], 'client.budget-threshold')).toBe(false);
    expect(subscribes(['instance.ready', 'instance.terminated'], 'instance.terminated')).toBe(true);
    expect(subscribes(['instance.ready'], 'instance.ready-ish')).toBe(false);
    expect(subscribes(['instance.ready'], 'instance.error')).toBe(false);
    expect(subscribes(['*'], 'webhook.disabled')).toBe(true);
    expect(subscribes(['instances.*'], 'instance.ready')).toBe(false);
  });
});
