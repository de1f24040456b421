import { describe, expect, it } from 'vitest';
import { PLATFORM_ADMIN } from '../../support/fakes.ts';
import { MINUTE } from '../domain/fixtures.ts';
import { useCaseHarness } from './harness.ts';

const LOCAL = { provider: 'LOCAL' as const, region: 'local' };

describe('status reconciliation on a fake provider', () => {
  async function reconcileNow(h: ReturnType<typeof useCaseHarness>) {
    const [queued] = await h.sync.request(PLATFORM_ADMIN, { provider: 'LOCAL', types: ['instances'] });
    const [job] = await h.sync.run(LOCAL, [queued!.jobId]);
    expect(job!.status).toBe('SUCCEEDED');
    return job!;
  }

  it('corrects drift with an event, and leaves an instance the provider agrees with unchanged', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Drift Co');
    const drifting = await h.readyInstance(operator, { name: 'drifting' });
    const steady = await h.readyInstance(operator, { name: 'steady' });
    h.provider.setState(drifting.id, 'stopped');
    const job = await reconcileNow(h);
    expect(job.findings).toEqual([expect.objectContaining({ kind: 'drift', outcome: 'corrected', instanceId: drifting.id })]);
    expect(job).toMatchObject({ updated: 1, unchanged: 1 });
    expect((await h.repos.instances.findById(drifting.id))!.status).toBe('STOPPED');
    expect((await h.repos.instances.findById(steady.id))!.status).toBe('READY');
  });

  it('reports a ghost at once and closes it only after the grace period, billing until it was found gone', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Ghost Co', { reconcilePolicy: { graceMinutes: 30 } });
    const ready = await h.readyInstance(operator, { name: 'ghost' });
    await h.provider.terminate({ instanceId: ready.id, providerInstanceId: ready.providerInstanceId!, region: 'local' });
    const foundAt = h.clock.now().toISOString();
    expect((await reconcileNow(h)).findings).toEqual([expect.objectContaining({ kind: 'ghost', outcome: 'reported', instanceId: ready.id })]);
    h.clock.advance(29 * MINUTE);
    expect((await reconcileNow(h)).findings).toEqual([expect.objectContaining({ kind: 'ghost', outcome: 'reported' })]);
    h.clock.advance(1 * MINUTE);
    expect((await reconcileNow(h)).findings).toEqual([expect.objectContaining({ kind: 'ghost', outcome: 'marked-terminated' })]);
    const closed = (await h.repos.instances.findById(ready.id))!;
    expect(closed).toMatchObject({ status: 'TERMINATED', terminatedAt: foundAt });
  });

  it('reports an orphan nobody owns and never releases it; terminates a TERMINATED record\'s leftover under a terminate policy', async () => {
    const h = useCaseHarness();
    const { operator } = await h.clientWith('Orphan Co', { reconcilePolicy: { graceMinutes: 10, orphans: 'terminate' } });
    const unknown = await h.provider.launch({ instanceId: 'vps-unknown-abc123', clientId: 'nobody', name: 'u', instanceType: 'local.small', region: 'local', resources: {}, tags: {} });
    const ready = await h.readyInstance(operator, { name: 'leftover' });
    // The record is closed while its machine stays behind at the provider.
    const stored = (await h.repos.instances.findById(ready.id))!;
    await h.repos.instances.save(stored, { ...stored, status: 'TERMINATED', version: stored.version + 1 }, [
      { type: 'instance.status-changed', actor: 'test', message: 'closed without release', fromStatus: 'READY', toStatus: 'TERMINATED' },
    ]);
    const first = await reconcileNow(h);
    expect(first.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'orphan', outcome: 'reported', providerInstanceId: unknown.providerInstanceId }),
        expect.objectContaining({ kind: 'orphan', outcome: 'reported', instanceId: ready.id }),
      ]),
    );
    h.clock.advance(10 * MINUTE);
    const later = await reconcileNow(h);
    expect(later.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'orphan', outcome: 'reported', providerInstanceId: unknown.providerInstanceId }),
        expect.objectContaining({ kind: 'orphan', outcome: 'terminated', instanceId: ready.id }),
      ]),
    );
    expect(h.provider.machineFor('vps-unknown-abc123')!.state).not.toBe('terminated');
    expect((await reconcileNow(h)).findings).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'orphan', outcome: 'cleared', instanceId: ready.id })]));
  });
});
