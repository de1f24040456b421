/**
 * What every InstanceRepository must do, whatever keeps the data: optimistic versions, the
 * atomic live-instance quota, counters moved with each change, events in order, stable pages.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type RepositorySubject, repositoryUnderTest } from './repository-subject.ts';
import { ConflictError, QuotaExceededError, ValidationError, VersionConflictError } from '../../shared/domain/errors.ts';
import type { InstanceEvent } from '../../shared/domain/events.ts';
import { accruedCost, applyAction, type Instance } from '../../shared/domain/instance.ts';
import type { InstanceAction, InstanceStatus } from '../../shared/domain/lifecycle.ts';
import { costForDuration } from '../../shared/domain/money.ts';
import { statisticsAt } from '../../shared/domain/statistics.ts';
import type { InstanceFilters, InstanceRepository, Page } from '../../shared/ports/instance-repository.ts';
import { transition } from '../../shared/services/instance-changes.ts';
import { makeInstance } from '../support/fakes.ts';
import { ManualClock } from '../support/manual-clock.ts';

export type InstanceRepositorySubject = RepositorySubject<InstanceRepository>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Fields a store may add for its own bookkeeping (the table's `entityType`). */
export const withoutBookkeeping = <T extends object>(item: T): T => {
  const { entityType: _entityType, ...rest } = item as T & { entityType?: string };
  return rest as T;
};

/** Every item of a paged list, with the cursors it handed out. */
export async function collectPages<T>(read: (cursor?: string) => Promise<Page<T>>, limit: number): Promise<{ items: T[]; cursors: (string | null)[] }> {
  const items: T[] = [];
  const cursors: (string | null)[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await read(cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursors.push(page.cursor);
    if (!page.cursor) break;
    cursor = page.cursor;
  }
  return { items, cursors };
}

export const TAMPERED_CURSORS: [string, string][] = [
  ['garbage', 'not-a-cursor!!'],
  ['valid base64 but not JSON', Buffer.from('{{{').toString('base64url')],
  ['JSON key of another partition', Buffer.from(JSON.stringify({ pk: 'CLIENT#someone-else', sk: 'INSTANCE#x' })).toString('base64url')],
  ['JSON with no key attributes', Buffer.from(JSON.stringify({ hello: 'world' })).toString('base64url')],
];

export function runInstanceRepositoryContract(name: string, makeSubject: () => Promise<InstanceRepositorySubject>): void {
  describe(`InstanceRepository contract: ${name}`, () => {
    const { repo } = repositoryUnderTest(makeSubject);

    let seq = 0;
    const uniqueId = (type = 'vps') => `${type}-web-server-${(seq++).toString(36).padStart(6, '0')}`;
    const uniqueClient = (label: string) => `client-${label}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const created = (instance: Instance) => ({ type: 'instance.created', toStatus: instance.status, actor: 'key:test', message: 'created', at: instance.createdAt });

    async function createInstance(overrides: Partial<Instance>): Promise<Instance> {
      const instance = makeInstance({ id: uniqueId(overrides.type), ...overrides });
      await repo.create(instance, created(instance));
      return instance;
    }

    async function allEvents(instanceId: string): Promise<InstanceEvent[]> {
      return (await collectPages((cursor) => repo.events(instanceId, { limit: 100, ...(cursor ? { cursor } : {}) }), 100)).items;
    }

    async function step(instance: Instance, action: InstanceAction, at: Date, changes: Parameters<typeof applyAction>[3] = {}): Promise<Instance> {
      const { after, event } = transition(instance, action, at, 'system:test', `${action}`, changes);
      await repo.save(instance, after, [event]);
      return after;
    }

    describe('create and read', () => {
      it('reads back what it created, by owner and by id alone, with its first event', async () => {
        const instance = await createInstance({ clientId: uniqueClient('read'), tags: { project: 'x' } });
        expect(withoutBookkeeping((await repo.get(instance.clientId, instance.id))!)).toEqual(instance);
        expect(withoutBookkeeping((await repo.findById(instance.id))!)).toEqual(instance);
        expect(await repo.get('someone-else', instance.id)).toBeNull();
        expect(await repo.findById('vps-missing-000000')).toBeNull();
        const events = await allEvents(instance.id);
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ type: 'instance.created', instanceId: instance.id, clientId: instance.clientId, at: instance.createdAt });
        expect(typeof events[0]!.eventId).toBe('string');
      });

      it('refuses a second create of the same instance with a ConflictError, changing nothing', async () => {
        const clientId = uniqueClient('dup');
        const instance = await createInstance({ clientId });
        const error = await repo.create({ ...instance, name: 'other' }, created(instance)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).code).toBe('ALREADY_EXISTS');
        expect((await repo.get(clientId, instance.id))!.name).toBe(instance.name);
        expect((await repo.counters({ clientId })).totalProvisioned).toBe(1);
        expect(await allEvents(instance.id)).toHaveLength(1);
      });

      it('a returned instance is a copy: changing it changes nothing stored', async () => {
        const instance = await createInstance({ clientId: uniqueClient('copy') });
        const read = (await repo.get(instance.clientId, instance.id))!;
        read.tags.changed = 'yes';
        expect((await repo.get(instance.clientId, instance.id))!.tags).toEqual({});
      });
    });

    describe('optimistic concurrency on save', () => {
      it('two saves from the same read: exactly one wins, the other is a 409 VersionConflictError', async () => {
        const instance = await createInstance({ clientId: uniqueClient('race') });
        const before = (await repo.get(instance.clientId, instance.id))!;
        expect(before.version).toBe(1);
        const at = new Date('2026-01-01T00:01:00.000Z');
        const reserve = transition(before, 'reserve', at, 'system:a', 'reserve');
        const retag: Instance = { ...before, tags: { team: 'b' }, updatedAt: at.toISOString(), version: before.version + 1 };
        const results = await Promise.allSettled([
          repo.save(before, reserve.after, [reserve.event]),
          repo.save(before, retag, [{ type: 'instance.updated', actor: 'key:b', message: 'retag', data: { tags: { team: 'b' } } }]),
        ]);
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(rejected).toHaveLength(1);
        expect(rejected[0]!.reason).toBeInstanceOf(VersionConflictError);
        expect((rejected[0]!.reason as VersionConflictError).status).toBe(409);
        expect((rejected[0]!.reason as VersionConflictError).code).toBe('VERSION_CONFLICT');

        const reserveWon = results[0]!.status === 'fulfilled';
        const stored = (await repo.get(instance.clientId, instance.id))!;
        expect(stored.version).toBe(2);
        expect(stored.status).toBe(reserveWon ? 'PROVISIONING' : 'PENDING');
        expect(stored.tags).toEqual(reserveWon ? {} : { team: 'b' });
        expect((await allEvents(instance.id)).map((e) => e.type)).toEqual(['instance.created', reserveWon ? 'instance.status-changed' : 'instance.updated']);
      });

      it('a save from a stale read is refused even when nobody races at that moment', async () => {
        const instance = await createInstance({ clientId: uniqueClient('stale') });
        const v2 = await step(instance, 'reserve', new Date('2026-01-01T00:01:00.000Z'));
        const stale = { ...instance, tags: { late: 'yes' }, version: 2 };
        await expect(repo.save(instance, stale, [{ type: 'instance.updated', actor: 'key:x', message: 'late' }])).rejects.toBeInstanceOf(VersionConflictError);
        expect(await repo.get(instance.clientId, instance.id)).toMatchObject({ status: 'PROVISIONING', version: v2.version, tags: {} });
        expect((await allEvents(instance.id)).map((e) => e.type)).toEqual(['instance.created', 'instance.status-changed']);
      });

      it('a save of an instance that was never created is a VersionConflictError', async () => {
        const ghost = makeInstance({ id: uniqueId(), clientId: uniqueClient('ghost') });
        await expect(repo.save(ghost, { ...ghost, version: 2 }, [])).rejects.toBeInstanceOf(VersionConflictError);
        expect(await repo.get(ghost.clientId, ghost.id)).toBeNull();
      });
    });

    describe('the live-instance quota', () => {
      it('refuses the create past maxLive with the numbers, writing nothing; a terminated instance frees its place', async () => {
        const clientId = uniqueClient('quota');
        const quota = { maxLive: 2, clientName: 'Acme Inc' };
        const make = () => makeInstance({ id: uniqueId(), clientId, userId: 'user-q' });
        const first = make();
        await repo.create(first, created(first), quota);
        const second = make();
        await repo.create(second, created(second), quota);
        const before = await repo.counters({ clientId });

        const third = make();
        const error = await repo.create(third, created(third), quota).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(QuotaExceededError);
        expect((error as QuotaExceededError).code).toBe('QUOTA_EXCEEDED');
        expect((error as QuotaExceededError).message).toBe("Client 'Acme Inc' already has 2 of its 2 instances; terminate one or raise maxInstances");
        expect((error as QuotaExceededError).usage).toEqual({ used: 2, limit: 2 });
        expect(await repo.get(clientId, third.id)).toBeNull();
        expect(await allEvents(third.id)).toEqual([]);
        expect(await repo.counters({ clientId })).toEqual(before);
        expect((await repo.counters({ clientId, userId: 'user-q' })).live).toBe(2);

        const at = new Date('2026-01-01T00:01:00.000Z');
        const terminating = await step(first, 'terminate', at);
        await step(terminating, 'terminated', at);
        await repo.create(third, created(third), quota);
        expect((await repo.counters({ clientId })).live).toBe(2);
      });

      it('names the client by id when no name is given', async () => {
        const clientId = uniqueClient('quota-id');
        const only = makeInstance({ id: uniqueId(), clientId });
        await repo.create(only, created(only), { maxLive: 1 });
        const next = makeInstance({ id: uniqueId(), clientId });
        await expect(repo.create(next, created(next), { maxLive: 1 })).rejects.toThrow(`Client '${clientId}' already has 1 of its 1 instances`);
      });

      it('concurrent creates cannot pass the limit together', async () => {
        const clientId = uniqueClient('quota-race');
        const batch = Array.from({ length: 6 }, () => makeInstance({ id: uniqueId(), clientId }));
        const results = await Promise.allSettled(batch.map((i) => repo.create(i, created(i), { maxLive: 3 })));
        const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        // A create that lost a write race (not the quota) is a retryable conflict; none may pass the limit.
        expect(refused.every((r) => r.reason instanceof QuotaExceededError || r.reason instanceof ConflictError)).toBe(true);
        const stored = (await Promise.all(batch.map((i) => repo.get(clientId, i.id)))).filter(Boolean);
        expect(stored.length).toBeLessThanOrEqual(3);
        expect(stored.length).toBe(results.length - refused.length);
        expect((await repo.counters({ clientId })).live).toBe(stored.length);
      });
    });

    describe('list', () => {
      let clientId: string;
      const STATUSES: InstanceStatus[] = ['PENDING', 'PROVISIONING', 'STOPPED', 'ERROR'];
      const TYPES = ['vps', 'gpu', 'cpu', 'worker'] as const;
      const made: Instance[] = [];
      const tagsFor = (i: number): Record<string, string> =>
        [{ project: 'x' }, { project: 'y', owner: 'x' }, { 'project-old': 'x' }, { note: 'project=x' }, {}, {}][i % 6]!;

      beforeAll(async () => {
        clientId = uniqueClient('list');
        const specs = Array.from({ length: 60 }, (_, i) =>
          makeInstance({
            id: `${TYPES[i % 4]}-node-${i}-${i.toString(36).padStart(6, '0')}`,
            clientId,
            userId: i % 10 === 0 ? 'user-a' : 'user-b',
            type: TYPES[i % 4]!,
            provider: i % 3 === 0 ? 'AWS' : 'LOCAL',
            status: STATUSES[i % 4]!,
            tags: tagsFor(i),
            createdAt: new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 1000).toISOString(),
            updatedAt: new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 1000).toISOString(),
          }),
        );
        for (let start = 0; start < specs.length; start += 20) {
          const batch = specs.slice(start, start + 20);
          await Promise.all(batch.map((instance) => repo.create(instance, created(instance))));
          made.push(...batch);
        }
        // Another client's instance matching every filter: never listed.
        const noise = makeInstance({ id: uniqueId(), clientId: uniqueClient('list-other'), provider: 'AWS', tags: { project: 'x' }, userId: 'user-a' });
        await repo.create(noise, created(noise));
      }, 120_000);

      const collect = async (filters: InstanceFilters, limit: number) => {
        const { items, cursors } = await collectPages((cursor) => repo.list(clientId, filters, { limit, ...(cursor ? { cursor } : {}) }), limit);
        return { ids: items.map((i) => i.id), cursors };
      };
      const idsWhere = (predicate: (i: Instance) => boolean) => made.filter(predicate).map((i) => i.id).sort();

      it('pages return every id exactly once and end with a null cursor', async () => {
        for (const limit of [100, 7]) {
          const { ids, cursors } = await collect({}, limit);
          expect(new Set(ids).size).toBe(ids.length);
          expect([...ids].sort()).toEqual(idsWhere(() => true));
          expect(cursors.at(-1)).toBeNull();
          expect(cursors.slice(0, -1).every((c) => typeof c === 'string')).toBe(true);
        }
      });

      it.each([
        ['status', { status: 'STOPPED' as const }, (i: Instance) => i.status === 'STOPPED'],
        ['provider', { provider: 'AWS' as const }, (i: Instance) => i.provider === 'AWS'],
        ['type', { type: 'gpu' }, (i: Instance) => i.type === 'gpu'],
        ['userId', { userId: 'user-a' }, (i: Instance) => i.userId === 'user-a'],
        ['tag key=value', { tag: 'project=x' }, (i: Instance) => i.tags.project === 'x'],
        ['tag key', { tag: 'project' }, (i: Instance) => 'project' in i.tags],
        ['tag value of another key', { tag: 'owner=x' }, (i: Instance) => i.tags.owner === 'x'],
        ['tag + type', { tag: 'project', type: 'vps' }, (i: Instance) => 'project' in i.tags && i.type === 'vps'],
        ['type + provider', { type: 'gpu', provider: 'AWS' as const }, (i: Instance) => i.type === 'gpu' && i.provider === 'AWS'],
        ['userId + provider', { userId: 'user-a', provider: 'LOCAL' as const }, (i: Instance) => i.userId === 'user-a' && i.provider === 'LOCAL'],
        ['status + userId', { status: 'STOPPED' as const, userId: 'user-a' }, (i: Instance) => i.status === 'STOPPED' && i.userId === 'user-a'],
        [
          'status + provider + tag',
          { status: 'PENDING' as const, provider: 'AWS' as const, tag: 'project' },
          (i: Instance) => i.status === 'PENDING' && i.provider === 'AWS' && 'project' in i.tags,
        ],
      ])('filter by %s returns exactly the matching instances, over pages', async (_name, filters, predicate) => {
        const expected = idsWhere(predicate);
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(made.length);
        for (const limit of [100, 4]) {
          const { ids, cursors } = await collect(filters, limit);
          expect([...ids].sort()).toEqual(expected);
          expect(cursors.at(-1)).toBeNull();
        }
      });

      it('a status-filtered list comes in creation order', async () => {
        const { ids } = await collect({ status: 'ERROR' }, 5);
        expect(ids).toEqual(made.filter((i) => i.status === 'ERROR').map((i) => i.id));
      });

      it('a filter that matches nothing returns an empty page and no cursor', async () => {
        expect(await repo.list(clientId, { tag: 'no-such-tag' }, { limit: 100 })).toEqual({ items: [], cursor: null });
        // Names an object has without owning them are no tags.
        expect(await repo.list(clientId, { tag: 'constructor' }, { limit: 100 })).toEqual({ items: [], cursor: null });
        expect(await repo.list(clientId, { type: 'database' }, { limit: 100 })).toEqual({ items: [], cursor: null });
      });

      it.each([
        ['tag', { tag: 'project' }, (i: Instance) => 'project' in i.tags],
        ['type', { type: 'cpu' }, (i: Instance) => i.type === 'cpu'],
        ['tag + status', { tag: 'project', status: 'PENDING' as const }, (i: Instance) => 'project' in i.tags && i.status === 'PENDING'],
      ])('a list filtered by %s comes in id order, as the unfiltered list', async (_name, filters, predicate) => {
        const { ids } = await collect(filters, 3);
        expect(ids).toEqual(idsWhere(predicate));
      });

      it('listed instances come back as stored', async () => {
        const page = await repo.list(clientId, { tag: 'project=y' }, { limit: 1 });
        const first = withoutBookkeeping(page.items[0]!);
        expect(first).toEqual(made.find((i) => i.id === first.id));
      });

      it.each(TAMPERED_CURSORS)('a tampered cursor (%s) is a 400 ValidationError', async (_name, cursor) => {
        const error = await repo.list(clientId, {}, { limit: 10, cursor }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).status).toBe(400);
      });

      it('listByStatus finds the status across clients, optionally for one provider', async () => {
        const stopped = (await repo.listByStatus('STOPPED')).filter((i) => i.clientId === clientId).map((i) => i.id).sort();
        expect(stopped).toEqual(idsWhere((i) => i.status === 'STOPPED'));
        const awsStopped = await repo.listByStatus('STOPPED', 'AWS');
        expect(awsStopped.every((i) => i.provider === 'AWS' && i.status === 'STOPPED')).toBe(true);
        expect(awsStopped.filter((i) => i.clientId === clientId).map((i) => i.id).sort()).toEqual(idsWhere((i) => i.status === 'STOPPED' && i.provider === 'AWS'));
      });
    });

    describe('tag filters follow every change', () => {
      const byTag = async (clientId: string, tag: string) => (await repo.list(clientId, { tag }, { limit: 100 })).items.map((i) => i.id);

      it('a tag change moves the instance between tag filters at once', async () => {
        const clientId = uniqueClient('retag');
        const before = await createInstance({ clientId, tags: { env: 'dev', team: 'a' } });
        const other = await createInstance({ clientId, tags: { env: 'dev' } });
        const after = { ...before, tags: { env: 'prod', owner: 'b' }, version: before.version + 1, updatedAt: new Date(Date.parse(before.updatedAt) + 1000).toISOString() };
        await repo.save(before, after, [{ type: 'instance.updated', actor: 'key:test', message: 'Changed tags' }]);
        expect(await byTag(clientId, 'env=dev')).toEqual([other.id]);
        expect(await byTag(clientId, 'env=prod')).toEqual([before.id]);
        expect((await byTag(clientId, 'env')).sort()).toEqual([before.id, other.id].sort());
        expect(await byTag(clientId, 'team')).toEqual([]);
        expect(await byTag(clientId, 'team=a')).toEqual([]);
        expect(await byTag(clientId, 'owner=b')).toEqual([before.id]);
      });

      it('a status change keeps the instance under its tags, terminated included, as in the unfiltered list', async () => {
        const clientId = uniqueClient('tag-life');
        const instance = await createInstance({ clientId, status: 'READY', tags: { env: 'prod' } });
        const terminating = await step(instance, 'terminate', new Date(Date.parse(instance.createdAt) + MINUTE));
        const terminated = await step(terminating, 'terminated', new Date(Date.parse(instance.createdAt) + 2 * MINUTE));
        expect(terminated.status).toBe('TERMINATED');
        expect(await byTag(clientId, 'env=prod')).toEqual([instance.id]);
        expect((await repo.list(clientId, { tag: 'env', status: 'TERMINATED' }, { limit: 10 })).items.map((i) => i.status)).toEqual(['TERMINATED']);
      });

      it('replacing 50 tags by 50 others lands whole, beyond what one transaction holds', async () => {
        const clientId = uniqueClient('many-tags');
        const tags = (prefix: string) => Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${prefix}${i}`, `v${i}`]));
        const before = await createInstance({ clientId, tags: tags('old') });
        const after = { ...before, tags: tags('new'), version: before.version + 1 };
        await repo.save(before, after, [{ type: 'instance.updated', actor: 'key:test', message: 'Changed tags' }]);
        expect(await byTag(clientId, 'old0')).toEqual([]);
        expect(await byTag(clientId, 'old49=v49')).toEqual([]);
        expect(await byTag(clientId, 'new49=v49')).toEqual([before.id]);
        expect(withoutBookkeeping((await repo.get(clientId, before.id))!).tags).toEqual(tags('new'));
      });
    });

    it('listByAccount returns the client’s instances on the account in the given statuses', async () => {
      const clientId = uniqueClient('by-account');
      const on = (status: InstanceStatus, accountId?: string) =>
        createInstance({ clientId, status, provider: 'AWS', config: { ...makeInstance().config, ...(accountId ? { accountId } : {}) } });
      const ready = await on('READY', 'acct-1');
      await on('TERMINATED', 'acct-1');
      await on('READY', 'acct-2');
      await on('READY');
      const stopped = await on('STOPPED', 'acct-1');
      const found = await repo.listByAccount(clientId, 'acct-1', ['READY', 'STOPPED']);
      expect(found.map((i) => i.id).sort()).toEqual([ready.id, stopped.id].sort());
      expect(await repo.listByAccount(uniqueClient('nobody'), 'acct-1', ['READY'])).toEqual([]);
    });

    describe('background passes read what is due, a page at a time', () => {
      const NOW = new Date('2026-03-01T12:00:00.000Z');
      const at = (minutes: number) => new Date(NOW.getTime() + minutes * MINUTE).toISOString();
      const dueIds = async (clientId: string, kind: 'auto-terminate' | 'idle-stop', options: { minuteMs?: number; pageSize?: number } = {}, now = NOW) => {
        const ids: string[] = [];
        for await (const page of repo.duePages(kind, now, options)) {
          expect(page.length).toBeLessThanOrEqual(options.pageSize ?? 100);
          ids.push(...page.filter((entry) => entry.clientId === clientId).map((entry) => entry.id));
        }
        return ids.sort();
      };
      const ready = (clientId: string, overrides: Partial<Instance> = {}) =>
        createInstance({ clientId, status: 'READY', idleSince: at(-30), ...overrides });

      it('finds the live instances whose deadline has passed, not those not yet due, without one, or terminated', async () => {
        const clientId = uniqueClient('due');
        const passed = await ready(clientId, { autoTerminateAt: at(-1) });
        const justNow = await ready(clientId, { autoTerminateAt: at(0), status: 'STOPPED' });
        await ready(clientId, { autoTerminateAt: at(1) });
        await ready(clientId);
        await createInstance({ clientId, status: 'TERMINATED', autoTerminateAt: at(-60) });
        await createInstance({ clientId, status: 'TERMINATING', autoTerminateAt: at(-60) });
        expect(await dueIds(clientId, 'auto-terminate')).toEqual([passed.id, justNow.id].sort());
        const entries = [];
        for await (const page of repo.duePages('auto-terminate', NOW)) entries.push(...page.filter((entry) => entry.id === passed.id));
        expect(entries).toEqual([{ kind: 'auto-terminate', clientId, id: passed.id, dueAt: passed.autoTerminateAt }]);
      });

      it('an extend moves the entry, a deadline set later adds one, a terminate removes it', async () => {
        const clientId = uniqueClient('due-moves');
        const early = await ready(clientId, { autoTerminateAt: at(-5) });
        const late = await ready(clientId, { autoTerminateAt: at(30) });
        const none = await ready(clientId);
        const later = (instance: Instance, changes: Partial<Instance>): Instance => ({ ...instance, ...changes, version: instance.version + 1, updatedAt: at(0) });
        const extended = later(early, { autoTerminateAt: at(60) });
        await repo.save(early, extended, [{ type: 'instance.extended', actor: 'key:test', message: 'extend' }]);
        const shortened = later(late, { autoTerminateAt: at(-1) });
        await repo.save(late, shortened, [{ type: 'instance.updated', actor: 'key:test', message: 'moved' }]);
        const given = later(none, { autoTerminateAt: at(-2) });
        await repo.save(none, given, [{ type: 'instance.updated', actor: 'key:test', message: 'set' }]);
        expect(await dueIds(clientId, 'auto-terminate')).toEqual([late.id, none.id].sort());
        expect(await dueIds(clientId, 'auto-terminate', {}, new Date(Date.parse(at(61))))).toEqual([early.id, late.id, none.id].sort());

        await step(shortened, 'terminate', new Date(Date.parse(at(1))));
        const cleared = later(given, { autoTerminateAt: undefined });
        delete cleared.autoTerminateAt;
        await repo.save(given, cleared, [{ type: 'instance.updated', actor: 'key:test', message: 'cleared' }]);
        expect(await dueIds(clientId, 'auto-terminate', {}, new Date(Date.parse(at(61))))).toEqual([early.id]);
      });

      it('pages through many due instances, each page within the size asked', async () => {
        const clientId = uniqueClient('due-pages');
        const made = await Promise.all(Array.from({ length: 7 }, (_, i) => ready(clientId, { autoTerminateAt: at(-10 - i) })));
        expect(await dueIds(clientId, 'auto-terminate', { pageSize: 2 })).toEqual(made.map((i) => i.id).sort());
      });

      it('finds READY instances idle past their idle stop, and reads ahead for a shorter minute', async () => {
        const clientId = uniqueClient('idle');
        const idle = await ready(clientId, { config: { idleStopMinutes: 10 } });
        const notYet = await ready(clientId, { config: { idleStopMinutes: 60 } });
        await ready(clientId);
        await ready(clientId, { status: 'RUNNING', config: { idleStopMinutes: 10 } });
        expect(await dueIds(clientId, 'idle-stop')).toEqual([idle.id]);
        // A development minute of one second: 60 "minutes" idle is one real minute, long past.
        expect(await dueIds(clientId, 'idle-stop', { minuteMs: 1000 })).toEqual([idle.id, notYet.id].sort());
        const running = { ...idle, status: 'RUNNING' as const, version: idle.version + 1, updatedAt: at(0) };
        delete running.idleSince;
        await repo.save(idle, running, [{ type: 'instance.status-changed', actor: 'key:test', message: 'task' }]);
        expect(await dueIds(clientId, 'idle-stop')).toEqual([]);
      });

      it('walks every instance of a status across clients a page at a time, optionally one provider', async () => {
        const clientId = uniqueClient('status-pages');
        const made = await Promise.all(
          Array.from({ length: 5 }, (_, i) => createInstance({ clientId, status: 'REBOOTING', provider: i % 2 ? 'AWS' : 'LOCAL' })),
        );
        const walk = async (provider?: 'AWS' | 'LOCAL') => {
          const ids: string[] = [];
          for await (const page of repo.statusPages('REBOOTING', { pageSize: 2, ...(provider ? { provider } : {}) })) {
            expect(page.length).toBeLessThanOrEqual(2);
            expect(page.every((i) => i.status === 'REBOOTING' && (!provider || i.provider === provider))).toBe(true);
            ids.push(...page.filter((i) => i.clientId === clientId).map((i) => i.id));
          }
          return ids.sort();
        };
        expect(await walk()).toEqual(made.map((i) => i.id).sort());
        expect(await walk('LOCAL')).toEqual(made.filter((i) => i.provider === 'LOCAL').map((i) => i.id).sort());
      });
    });

    describe('events, samples and health history', () => {
      it('events read oldest first over pages; appendEvent adds one without changing the instance', async () => {
        const instance = await createInstance({ clientId: uniqueClient('events'), createdAt: '2026-01-01T00:00:00.000Z' });
        let current = instance;
        for (let m = 1; m <= 4; m++) {
          const next = { ...current, labels: { step: String(m) }, updatedAt: `2026-01-01T00:0${m}:00.000Z`, version: current.version + 1 };
          await repo.save(current, next, [{ type: 'instance.updated', actor: 'key:t', message: `step ${m}` }]);
          current = next;
        }
        const appended = await repo.appendEvent(current, { type: 'provisioning.progress', actor: 'system:t', message: 'half way', at: '2026-01-01T00:05:00.000Z' });
        expect(appended).toMatchObject({ instanceId: instance.id, clientId: instance.clientId, at: '2026-01-01T00:05:00.000Z' });
        const { items } = await collectPages((cursor) => repo.events(instance.id, { limit: 2, ...(cursor ? { cursor } : {}) }), 2);
        expect(items.map((e) => e.message)).toEqual(['created', 'step 1', 'step 2', 'step 3', 'step 4', 'half way']);
        expect(items.map((e) => e.at)).toEqual([...items.map((e) => e.at)].sort());
        expect(items.at(-1)!.eventId).toBe(appended.eventId);
        expect((await repo.get(instance.clientId, instance.id))!.version).toBe(current.version);
      });

      it('samples and health checks read newest first over pages', async () => {
        const id = uniqueId();
        for (let s = 0; s < 5; s++) {
          await repo.recordSample(id, { sampledAt: `2026-01-01T00:00:0${s}.000Z`, cpuPercent: s, memoryBytes: 1000 * s });
          await repo.recordHealthCheck(id, { checkedAt: `2026-01-01T00:00:0${s}.000Z`, status: s % 2 ? 'HEALTHY' : 'UNHEALTHY', ...(s % 2 ? {} : { error: `e${s}` }) });
        }
        const samples = await collectPages((cursor) => repo.samples(id, { limit: 2, ...(cursor ? { cursor } : {}) }), 2);
        expect(samples.items.map((s) => s.cpuPercent)).toEqual([4, 3, 2, 1, 0]);
        expect(samples.items[0]).toEqual({ sampledAt: '2026-01-01T00:00:04.000Z', cpuPercent: 4, memoryBytes: 4000 });
        const checks = await collectPages((cursor) => repo.healthChecks(id, { limit: 3, ...(cursor ? { cursor } : {}) }), 3);
        expect(checks.items.map((c) => c.status)).toEqual(['UNHEALTHY', 'HEALTHY', 'UNHEALTHY', 'HEALTHY', 'UNHEALTHY']);
        expect(checks.items[0]).toEqual({ checkedAt: '2026-01-01T00:00:04.000Z', status: 'UNHEALTHY', error: 'e4' });
        expect(await repo.samples(uniqueId(), { limit: 5 })).toEqual({ items: [], cursor: null });
      });
    });

    describe('statistics counters', () => {
      it('a full life ends with live 0, running 0, and total cost equal to the accrued micros', async () => {
        const clientId = uniqueClient('life');
        const clock = new ManualClock(new Date('2026-03-01T10:00:00.000Z'));
        let instance = await createInstance({
          clientId,
          userId: 'user-life',
          costPerHourMicros: 450_001,
          provider: 'AWS',
          type: 'gpu',
          instanceType: 'g4dn.xlarge',
          createdAt: clock.now().toISOString(),
        });
        expect(statisticsAt(await repo.counters({ clientId }), clock.now())).toMatchObject({ totalProvisioned: 1, live: 1, currentlyRunning: 0, totalCostMicros: 0 });

        clock.advance(MINUTE);
        instance = await step(instance, 'reserve', clock.now());
        clock.advance(2 * MINUTE);
        instance = await step(instance, 'launched', clock.now(), { providerInstanceId: 'i-0abc' });
        clock.advance(MINUTE);
        instance = await step(instance, 'activate', clock.now());
        const activatedAt = clock.now();
        const counters = await repo.counters({ clientId });
        clock.advance(17 * MINUTE + 333);
        expect(statisticsAt(counters, clock.now())).toMatchObject({ currentlyRunning: 1, live: 1, totalCostMicros: accruedCost(instance, clock.now()) });

        clock.advance(HOUR + 12_345);
        instance = await step(instance, 'terminate', clock.now());
        expect(instance.accruedCostMicros).toBe(costForDuration(450_001, clock.now().getTime() - activatedAt.getTime()));
        clock.advance(30_000);
        instance = await step(instance, 'terminated', clock.now());

        clock.advance(5 * HOUR);
        for (const scope of [{ clientId }, { clientId, userId: 'user-life' }]) {
          expect(statisticsAt(await repo.counters(scope), clock.now())).toEqual({
            totalProvisioned: 1,
            currentlyRunning: 0,
            live: 0,
            totalCostMicros: instance.accruedCostMicros,
            finishedCount: 1,
            averageDurationMs: Date.parse(instance.terminatedAt!) - Date.parse(instance.createdAt),
            averageCostMicros: instance.accruedCostMicros,
            providerBreakdown: { AWS: 1 },
            instanceTypeBreakdown: { gpu: 1 },
          });
        }
        const raw = await repo.counters({ clientId });
        expect(raw.openRateMicrosPerHour).toBe(0);
        expect(raw.openRateSince).toBe(0n);
      });

      it('three instances billing at different rates: statisticsAt(now) = Σ accruedCost(instance, now) within 1 micro each', async () => {
        const clientId = uniqueClient('rates');
        const clock = new ManualClock(new Date('2026-04-01T00:00:00.000Z'));
        const up = async (rate: number) => {
          let i = await createInstance({ clientId, costPerHourMicros: rate, createdAt: clock.now().toISOString() });
          i = await step(i, 'reserve', clock.now());
          i = await step(i, 'launched', clock.now());
          clock.advance(1_234);
          return step(i, 'activate', clock.now());
        };
        let a = await up(450_000);
        clock.advance(7 * MINUTE + 13_001);
        let b = await up(3_060_001);
        clock.advance(3 * MINUTE + 999);
        let c = await up(123_457);
        const check = async () => {
          const stats = statisticsAt(await repo.counters({ clientId }), clock.now());
          const expected = [a, b, c].reduce((sum, i) => sum + accruedCost(i, clock.now()), 0);
          expect(Math.abs(stats.totalCostMicros - expected)).toBeLessThanOrEqual(3);
          expect(stats.currentlyRunning).toBe([a, b, c].filter((i) => i.status === 'READY' || i.status === 'RUNNING').length);
          return stats;
        };
        clock.advance(41 * MINUTE + 7);
        await check();
        b = await step(b, 'stop', clock.now());
        clock.advance(2 * MINUTE + 1);
        b = await step(b, 'stopped', clock.now());
        clock.advance(30 * MINUTE);
        await check();
        b = await step(b, 'start', clock.now());
        clock.advance(45_000);
        b = await step(b, 'started', clock.now());
        c = await step(c, 'reboot', clock.now());
        clock.advance(9_999);
        c = await step(c, 'rebooted', clock.now());
        a = await step(a, 'startTask', clock.now(), { taskId: 'task-1' });
        clock.advance(3 * HOUR + 17);
        const stats = await check();
        expect(stats.live).toBe(3);
        expect(stats.totalProvisioned).toBe(3);
        a = await step(a, 'fail', clock.now(), { errorMessage: 'gone' });
        clock.advance(10 * HOUR);
        expect((await check()).totalCostMicros).toBeGreaterThan(0);
      });
    });
  });
}
