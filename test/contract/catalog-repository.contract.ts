/** What every CatalogRepository must do: per-target items by kind, replaced whole, found by id or name. */
import { describe, expect, it } from 'vitest';
import { type RepositorySubject, repositoryUnderTest } from './repository-subject.ts';
import type { SyncTarget } from '../../shared/domain/sync.ts';
import type { CatalogRepository, StoredCatalogItem } from '../../shared/ports/catalog-repository.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { collectPages } from './instance-repository.contract.ts';

export type CatalogRepositorySubject = RepositorySubject<CatalogRepository>;

export function runCatalogRepositoryContract(name: string, makeSubject: () => Promise<CatalogRepositorySubject>): void {
  describe(`CatalogRepository contract: ${name}`, () => {
    const { repo } = repositoryUnderTest(makeSubject);

    let seq = 0;
    const uniqueRegion = () => `region-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const item = (target: SyncTarget, id: string, overrides: Partial<StoredCatalogItem> = {}): StoredCatalogItem => ({
      kind: 'flavors',
      id,
      name: `name-${id}`,
      region: target.region,
      hourlyMicros: 12_345,
      attributes: { vcpus: 2, memoryMiB: 4096 },
      provider: target.provider,
      ...(target.accountId ? { accountId: target.accountId } : {}),
      fingerprint: `fp-${id}`,
      firstSeenAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      syncJobId: 'job-1',
      ...overrides,
    });

    it('writes items and reads them back per kind, deleted ones included, in id order', async () => {
      const target: SyncTarget = { provider: 'OPENSTACK', region: uniqueRegion(), accountId: 'acct-1', clientId: 'client-1' };
      const items = [item(target, 'f-2'), item(target, 'f-1', { deletedAt: '2026-01-02T00:00:00.000Z' }), item(target, 'img-1', { kind: 'images', hourlyMicros: undefined })];
      delete items[2]!.hourlyMicros;
      expect(await repo.write(target, items)).toBe(3);
      expect(await repo.all(target, 'flavors')).toEqual([items[1], items[0]]);
      expect(await repo.all(target, 'images')).toEqual([items[2]]);
      expect(await repo.all(target, 'networks')).toEqual([]);
    });

    it('targets do not see each other: another account, the shared scope, another region', async () => {
      const region = uniqueRegion();
      const mine: SyncTarget = { provider: 'OPENSTACK', region, accountId: 'acct-a', clientId: 'client-a' };
      const shared: SyncTarget = { provider: 'LOCAL', region };
      await repo.write(mine, [item(mine, 'x')]);
      await repo.write(shared, [item(shared, 'y')]);
      expect((await repo.all({ ...mine, accountId: 'acct-b' }, 'flavors'))).toEqual([]);
      expect((await repo.all({ ...mine, region: uniqueRegion() }, 'flavors'))).toEqual([]);
      const [sharedItem] = await repo.all(shared, 'flavors');
      expect(sharedItem).toEqual(item(shared, 'y'));
      expect(sharedItem).not.toHaveProperty('accountId');
      expect((await repo.all(mine, 'flavors'))[0]).toMatchObject({ id: 'x', accountId: 'acct-a', provider: 'OPENSTACK', region });
    });

    it('a write replaces the whole item', async () => {
      const target: SyncTarget = { provider: 'LOCAL', region: uniqueRegion() };
      await repo.write(target, [item(target, 'a', { deletedAt: '2026-01-02T00:00:00.000Z' })]);
      const revived = item(target, 'a', { name: 'renamed', fingerprint: 'fp-new', updatedAt: '2026-01-03T00:00:00.000Z' });
      await repo.write(target, [revived]);
      expect(await repo.all(target, 'flavors')).toEqual([revived]);
    });

    it('pages leave deleted items out unless asked, over stable cursors', async () => {
      const target: SyncTarget = { provider: 'LOCAL', region: uniqueRegion() };
      const items = Array.from({ length: 9 }, (_, i) => item(target, `f-${i}`, i % 3 === 0 ? { deletedAt: '2026-01-02T00:00:00.000Z' } : {}));
      await repo.write(target, items);
      const live = await collectPages((cursor) => repo.page(target, 'flavors', { limit: 2, ...(cursor ? { cursor } : {}) }), 2);
      expect(live.items.map((i) => i.id)).toEqual(['f-1', 'f-2', 'f-4', 'f-5', 'f-7', 'f-8']);
      expect(live.cursors.at(-1)).toBeNull();
      const all = await collectPages((cursor) => repo.page(target, 'flavors', { limit: 4, includeDeleted: true, ...(cursor ? { cursor } : {}) }), 4);
      expect(all.items.map((i) => i.id)).toEqual(items.map((i) => i.id));
      await expect(repo.page(target, 'flavors', { limit: 2, cursor: 'not-a-cursor!!' })).rejects.toBeInstanceOf(ValidationError);
    });

    it('finds by id first, else by name with a live match preferred', async () => {
      const target: SyncTarget = { provider: 'LOCAL', region: uniqueRegion() };
      await repo.write(target, [
        item(target, 'a', { name: 'small', deletedAt: '2026-01-02T00:00:00.000Z' }),
        item(target, 'b', { name: 'small' }),
        item(target, 'c', { name: 'a' }),
        item(target, 'd', { name: 'gone', deletedAt: '2026-01-02T00:00:00.000Z' }),
      ]);
      expect((await repo.find(target, 'flavors', 'a'))?.id).toBe('a');
      expect((await repo.find(target, 'flavors', 'small'))?.id).toBe('b');
      expect((await repo.find(target, 'flavors', 'gone'))?.id).toBe('d');
      expect(await repo.find(target, 'flavors', 'nothing')).toBeNull();
      expect(await repo.find(target, 'images', 'a')).toBeNull();
    });
  });
}
