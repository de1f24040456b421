/** What every SyncJobRepository must do: jobs newest first by filter, target state under versions. */
import { describe, expect, it } from 'vitest';
import { type RepositorySubject, repositoryUnderTest } from './repository-subject.ts';
import { ValidationError, VersionConflictError } from '../../shared/domain/errors.ts';
import type { SyncJob } from '../../shared/domain/sync.ts';
import type { SyncJobRepository } from '../../shared/ports/sync-job-repository.ts';
import { collectPages, withoutBookkeeping } from './instance-repository.contract.ts';

export type SyncJobRepositorySubject = RepositorySubject<SyncJobRepository>;

export function runSyncJobRepositoryContract(name: string, makeSubject: () => Promise<SyncJobRepositorySubject>): void {
  describe(`SyncJobRepository contract: ${name}`, () => {
    const { repo } = repositoryUnderTest(makeSubject);

    let seq = 0;
    const unique = (label: string) => `${label}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const job = (jobId: string, overrides: Partial<SyncJob> = {}): SyncJob => ({
      jobId,
      resourceType: 'flavors',
      provider: 'LOCAL',
      region: 'local',
      clientId: 'shared',
      trigger: 'request',
      status: 'QUEUED',
      queuedAt: '2026-01-01T00:00:00.000Z',
      created: 0,
      updated: 0,
      deleted: 0,
      unchanged: 0,
      errors: [],
      ...overrides,
    });

    it('puts, replaces and reads a job', async () => {
      const queued = job(unique('01JOB'));
      await repo.putJob(queued);
      expect(withoutBookkeeping((await repo.getJob(queued.jobId))!)).toEqual(queued);
      const done = { ...queued, status: 'SUCCEEDED' as const, created: 3, completedAt: '2026-01-01T00:01:00.000Z', findings: [{ kind: 'orphan', providerInstanceId: 'i-1', message: 'm' }] as SyncJob['findings'] };
      await repo.putJob(done);
      expect(withoutBookkeeping((await repo.getJob(queued.jobId))!)).toEqual(done);
      expect(await repo.getJob('no-such-job')).toBeNull();
    });

    it('lists newest first, by client, by resource type, by both, over pages', async () => {
      const clientId = unique('client');
      const prefix = `01Z${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
      const jobs = [
        job(`${prefix}1`, { clientId, resourceType: 'flavors' }),
        job(`${prefix}2`, { clientId, resourceType: 'images' }),
        job(`${prefix}3`, { clientId, resourceType: 'flavors' }),
        job(`${prefix}4`, { clientId: unique('other'), resourceType: 'flavors' }),
      ];
      for (const j of jobs) await repo.putJob(j);
      const ids = async (filter: Parameters<SyncJobRepository['listJobs']>[0]) =>
        (await collectPages((cursor) => repo.listJobs(filter, { limit: 1, ...(cursor ? { cursor } : {}) }), 1)).items
          .map((j) => j.jobId)
          .filter((id) => id.startsWith(prefix));
      expect(await ids({ clientId })).toEqual([`${prefix}3`, `${prefix}2`, `${prefix}1`]);
      expect(await ids({ clientId, resourceType: 'flavors' })).toEqual([`${prefix}3`, `${prefix}1`]);
      expect(await ids({ resourceType: 'flavors' })).toEqual([`${prefix}4`, `${prefix}3`, `${prefix}1`]);
      expect(await ids({})).toEqual([`${prefix}4`, `${prefix}3`, `${prefix}2`, `${prefix}1`]);
      await expect(repo.listJobs({}, { limit: 1, cursor: 'not-a-cursor!!' })).rejects.toBeInstanceOf(ValidationError);
    });

    it('target state starts at version 0 and moves one version per save; a stale save is a VersionConflictError', async () => {
      const targetKey = unique('LOCAL#shared');
      const fresh = await repo.getState(targetKey, 'instances');
      expect(withoutBookkeeping(fresh)).toEqual({ targetKey, resourceType: 'instances', version: 0 });
      const { version: _v, ...body } = fresh;
      const first = await repo.saveState(fresh, { ...body, watermark: 'w1', suspects: { 'i-1': { kind: 'orphan', firstSeenAt: '2026-01-01T00:00:00.000Z' } } });
      expect(first.version).toBe(1);
      expect(withoutBookkeeping(await repo.getState(targetKey, 'instances'))).toEqual(first);
      await expect(repo.saveState(fresh, { ...body, watermark: 'late' })).rejects.toBeInstanceOf(VersionConflictError);
      const second = await repo.saveState(first, { ...body, watermark: 'w2' });
      expect(second.version).toBe(2);
      expect(await repo.getState(targetKey, 'instances')).toMatchObject({ watermark: 'w2', version: 2 });
      expect((await repo.getState(targetKey, 'flavors')).version).toBe(0);
    });

    it('two saves from one read of the state: exactly one wins', async () => {
      const targetKey = unique('OPENSTACK#acct#RegionOne');
      const fresh = await repo.getState(targetKey, 'instances');
      const { version: _v, ...body } = fresh;
      const results = await Promise.allSettled([repo.saveState(fresh, { ...body, watermark: 'a' }), repo.saveState(fresh, { ...body, watermark: 'b' })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
    });
  });
}
