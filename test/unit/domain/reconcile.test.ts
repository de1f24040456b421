import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INSTANCE_STATUSES } from '../../../shared/domain/lifecycle.ts';
import { driftCorrection, reconcileDecision, type ObservedMachine, type ReconcileRecord } from '../../../shared/domain/reconcile.ts';
import type { ReconcilePolicy } from '../../../shared/domain/sync.ts';
import { after, MINUTE } from './fixtures.ts';

const now = new Date('2026-06-01T10:00:00.000Z');
const ago = (minutes: number) => after(now, -minutes * MINUTE).toISOString();
const close: ReconcilePolicy = { graceMinutes: 30, orphans: 'terminate', ghosts: 'mark-terminated' };
const report: ReconcilePolicy = { graceMinutes: 30, orphans: 'report', ghosts: 'report' };
const machine = (state: ObservedMachine['state'], extra: Partial<ObservedMachine> = {}): ObservedMachine => ({ providerInstanceId: 'i-1', state, ...extra });
const recordOf = (status: (typeof INSTANCE_STATUSES)[number], suspect?: ReconcileRecord['suspect']): ReconcileRecord => ({
  providerInstanceId: 'i-1',
  instance: { id: 'vps-a-abc123', clientId: 'c1', status },
  ...(suspect ? { suspect } : {}),
});

describe('drift', () => {
  it.each([
    ['READY', 'stopped', 'observedStopped'],
    ['RUNNING', 'stopped', 'observedStopped'],
    ['STOPPED', 'running', 'observedRunning'],
    ['READY', 'error', 'fail'],
    ['STOPPED', 'error', 'fail'],
    ['ERROR', 'error', null],
    ['READY', 'running', null],
    ['STOPPED', 'stopped', null],
    ['READY', 'pending', null],
  ] as const)('recorded %s, provider says %s → %s', (status, state, action) => {
    expect(driftCorrection(status, state)?.action ?? null).toBe(action);
    const decision = reconcileDecision(recordOf(status), machine(state), close, now);
    expect(decision.kind === 'drift' ? decision.action : null).toBe(action);
  });

  it("words the correction with the provider's reason", () => {
    const decision = reconcileDecision(recordOf('READY'), machine('error', { reason: 'disk full' }), null, now);
    expect(decision).toMatchObject({ kind: 'drift', message: 'The provider reports the machine in error (disk full); it was recorded READY' });
  });

  it('clears a ghost whose machine is back', () => {
    const decision = reconcileDecision(recordOf('READY', { kind: 'ghost', firstSeenAt: ago(5) }), machine('running'), close, now);
    expect(decision).toMatchObject({ kind: 'none', ghostCleared: true });
  });
});

describe('ghosts', () => {
  it('suspects a record whose machine is gone, at once, from now', () => {
    for (const gone of [null, machine('terminated')]) {
      expect(reconcileDecision(recordOf('READY'), gone, close, now)).toEqual({
        kind: 'ghost',
        action: 'suspect',
        since: now.toISOString(),
        message: 'The provider no longer has machine i-1; it is recorded READY',
      });
    }
  });

  it.each([
    ['inside the grace period', 29, close, 'report'],
    ['at its end', 30, close, 'close'],
    ['long after, under a report policy', 300, report, 'report'],
    ['with no known policy', 300, null, 'report'],
  ] as const)('%s → %s', (_what, minutesAgo, policy, action) => {
    const decision = reconcileDecision(recordOf('STOPPED', { kind: 'ghost', firstSeenAt: ago(minutesAgo) }), null, policy, now);
    expect(decision).toMatchObject({ kind: 'ghost', action, since: ago(minutesAgo) });
  });

  it('closes only after the grace period and only under mark-terminated (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 300 }), fc.constantFrom('report', 'mark-terminated' as const), (minutesAgo, grace, ghosts) => {
        const policy: ReconcilePolicy = { graceMinutes: grace, orphans: 'report', ghosts };
        const decision = reconcileDecision(recordOf('READY', { kind: 'ghost', firstSeenAt: ago(minutesAgo) }), null, policy, now);
        expect(decision.kind).toBe('ghost');
        expect(decision.kind === 'ghost' && decision.action === 'close').toBe(minutesAgo >= grace && ghosts === 'mark-terminated');
      }),
    );
  });
});

describe('orphans', () => {
  const orphan = (owner: ReconcileRecord['owner'], suspect?: ReconcileRecord['suspect']): ReconcileRecord => ({ providerInstanceId: 'i-1', owner, ...(suspect ? { suspect } : {}) });

  it('leaves a machine its record owns while a workflow is at work', () => {
    expect(reconcileDecision(orphan({ id: 'vps-a-abc123', clientId: 'c1', status: 'PROVISIONING' }), machine('running', { instanceId: 'vps-a-abc123' }), close, now).kind).toBe('none');
    expect(reconcileDecision(orphan({ id: 'vps-a-abc123', clientId: 'c1', status: 'TERMINATING', providerInstanceId: 'i-1' }), machine('running'), close, now).kind).toBe('none');
  });

  it.each([
    ['no record', null, { instanceId: 'vps-x-abc123' }, 'tagged for vps-x-abc123, which Hangar has no record of'],
    ['no instance named', null, {}, "tagged as Hangar's but naming no instance"],
    ['a TERMINATED record', { id: 'vps-a-abc123', clientId: 'c1', status: 'TERMINATED' as const, providerInstanceId: 'i-1' }, {}, 'still at the provider although vps-a-abc123 is TERMINATED'],
    ['a second machine', { id: 'vps-a-abc123', clientId: 'c1', status: 'READY' as const, providerInstanceId: 'i-2' }, {}, 'a second machine for vps-a-abc123, which is on i-2'],
  ])('suspects a machine with %s, saying why', (_what, owner, extra, why) => {
    expect(reconcileDecision(orphan(owner), machine('running', extra), close, now)).toEqual({ kind: 'orphan', action: 'suspect', since: now.toISOString(), message: `Orphan i-1: ${why}`, why });
  });

  it.each([
    ['inside the grace period', 10, close, 'report'],
    ['after it, under terminate', 30, close, 'terminate'],
    ['after it, under report', 30, report, 'report'],
    ['after it, of no known client', 300, null, 'report'],
  ] as const)('a suspected orphan %s → %s', (_what, minutesAgo, policy, action) => {
    expect(reconcileDecision(orphan(null, { kind: 'orphan', firstSeenAt: ago(minutesAgo) }), machine('running'), policy, now)).toMatchObject({ kind: 'orphan', action });
  });

  it('clears a suspected orphan that is gone, and ignores a gone machine nobody suspected', () => {
    expect(reconcileDecision(orphan(null, { kind: 'orphan', firstSeenAt: ago(5) }), null, close, now)).toMatchObject({ kind: 'orphan', action: 'clear' });
    expect(reconcileDecision(orphan(null), machine('terminated'), close, now).kind).toBe('none');
  });
});
