/** What every ClientRepository must do: unique names, optimistic versions, API keys by hash. */
import { describe, expect, it } from 'vitest';
import { type RepositorySubject, repositoryUnderTest } from './repository-subject.ts';
import type { ApiKeyRecord, Client } from '../../shared/domain/client.ts';
import { ConflictError, ValidationError, VersionConflictError } from '../../shared/domain/errors.ts';
import type { ClientRepository } from '../../shared/ports/client-repository.ts';
import { collectPages, withoutBookkeeping } from './instance-repository.contract.ts';

export type ClientRepositorySubject = RepositorySubject<ClientRepository>;

export function runClientRepositoryContract(name: string, makeSubject: () => Promise<ClientRepositorySubject>): void {
  describe(`ClientRepository contract: ${name}`, () => {
    const { repo } = repositoryUnderTest(makeSubject);

    let seq = 0;
    const makeClient = (label: string, overrides: Partial<Client> = {}): Client => {
      const n = `${label} ${(seq++).toString(36)} ${Math.random().toString(36).slice(2, 6)}`;
      return {
        clientId: `client-${n.replace(/ /g, '-')}`,
        name: n,
        nameKey: n.toLowerCase(),
        status: 'active',
        maxInstances: 10,
        maxAutoTerminateMinutes: 120,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
        version: 1,
        ...overrides,
      };
    };
    const makeKey = (clientId: string, n: number, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
      keyHash: `hash-${clientId}-${n}`,
      keyId: `key-${n}`,
      clientId,
      name: `key ${n}`,
      role: 'operator',
      prefix: 'hgr_abcd',
      createdAt: `2026-01-01T00:00:0${n}.000Z`,
      version: 1,
      ...overrides,
    });

    it('reads a client back by id and by name key', async () => {
      const client = makeClient('Read');
      await repo.create(client);
      expect(withoutBookkeeping((await repo.get(client.clientId))!)).toEqual(client);
      expect(withoutBookkeeping((await repo.findByName(client.nameKey))!)).toEqual(client);
      expect(await repo.get('client-missing')).toBeNull();
      expect(await repo.findByName('no such name')).toBeNull();
    });

    it('a taken name, or a taken id, is a ConflictError (ALREADY_EXISTS)', async () => {
      const client = makeClient('Unique');
      await repo.create(client);
      for (const clash of [makeClient('Other', { name: client.name, nameKey: client.nameKey }), { ...makeClient('Again'), clientId: client.clientId }]) {
        const error = await repo.create(clash).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).code).toBe('ALREADY_EXISTS');
      }
      expect(await repo.findByName(client.nameKey)).toMatchObject({ clientId: client.clientId });
    });

    it('concurrent creates of one name: exactly one wins', async () => {
      const base = makeClient('Race');
      const results = await Promise.allSettled(
        [0, 1, 2].map((i) => repo.create({ ...base, clientId: `${base.clientId}-${i}` })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ConflictError)).toBe(true);
    });

    it('save is conditional on the version read; a rename moves the name with it', async () => {
      const client = makeClient('Rename');
      await repo.create(client);
      const renamed = { ...client, name: `${client.name} two`, nameKey: `${client.nameKey} two`, version: 2 };
      await repo.save(client, renamed);
      expect(await repo.findByName(client.nameKey)).toBeNull();
      expect(await repo.findByName(renamed.nameKey)).toMatchObject({ clientId: client.clientId, version: 2 });

      const stale = await repo.save(client, { ...client, maxInstances: 1, version: 2 }).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(VersionConflictError);
      expect(await repo.get(client.clientId)).toMatchObject({ name: renamed.name, maxInstances: 10 });
    });

    it('a rename to a taken name is a ConflictError and changes nothing', async () => {
      const taken = makeClient('Taken');
      const client = makeClient('Mover');
      await repo.create(taken);
      await repo.create(client);
      const error = await repo.save(client, { ...client, name: taken.name, nameKey: taken.nameKey, version: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).not.toBeInstanceOf(VersionConflictError);
      expect(await repo.get(client.clientId)).toMatchObject({ name: client.name, version: 1 });
      expect(await repo.findByName(client.nameKey)).toMatchObject({ clientId: client.clientId });
      expect(await repo.findByName(taken.nameKey)).toMatchObject({ clientId: taken.clientId });
    });

    it('delete is conditional on the version and frees the name', async () => {
      const client = makeClient('Gone');
      await repo.create(client);
      await expect(repo.delete({ ...client, version: 7 })).rejects.toBeInstanceOf(VersionConflictError);
      await repo.delete(client);
      expect(await repo.get(client.clientId)).toBeNull();
      await repo.create({ ...makeClient('Reuse'), name: client.name, nameKey: client.nameKey });
    });

    it('lists clients in name order over stable pages; a tampered cursor is a ValidationError', async () => {
      const prefix = `aaa-list-${Math.random().toString(36).slice(2, 8)}`;
      const mine = [3, 1, 4, 0, 2].map((n) => makeClient('L', { name: `${prefix} ${n}`, nameKey: `${prefix} ${n}`, clientId: `client-${prefix}-${n}` }));
      for (const client of mine) await repo.create(client);
      const { items, cursors } = await collectPages((cursor) => repo.list({ limit: 2, ...(cursor ? { cursor } : {}) }), 2);
      const listed = items.filter((c) => c.nameKey.startsWith(prefix)).map((c) => c.nameKey);
      expect(listed).toEqual([0, 1, 2, 3, 4].map((n) => `${prefix} ${n}`));
      expect(new Set(items.map((c) => c.clientId)).size).toBe(items.length);
      expect(cursors.at(-1)).toBeNull();
      await expect(repo.list({ limit: 2, cursor: 'not-a-cursor!!' })).rejects.toBeInstanceOf(ValidationError);
    });

    it('API keys: found by hash, listed per client oldest first, a reused hash refused, upsert replaces, delete removes', async () => {
      const client = makeClient('Keys');
      await repo.create(client);
      const keys = [2, 0, 1].map((n) => makeKey(client.clientId, n));
      for (const key of keys) await repo.putApiKey(key);
      expect(withoutBookkeeping((await repo.findApiKey(keys[0]!.keyHash))!)).toEqual(keys[0]);
      expect((await repo.listApiKeys(client.clientId)).map((k) => k.keyId)).toEqual(['key-0', 'key-1', 'key-2']);
      expect(await repo.listApiKeys('client-without-keys')).toEqual([]);

      await expect(repo.putApiKey({ ...keys[0]!, name: 'again' })).rejects.toBeInstanceOf(ConflictError);
      await repo.upsertApiKey({ ...keys[0]!, name: 'replaced' });
      await repo.upsertApiKey(makeKey(client.clientId, 3));
      expect(await repo.findApiKey(keys[0]!.keyHash)).toMatchObject({ name: 'replaced' });

      await repo.deleteApiKey(keys[1]!.keyHash);
      expect(await repo.findApiKey(keys[1]!.keyHash)).toBeNull();
      expect((await repo.listApiKeys(client.clientId)).map((k) => k.keyId)).toEqual(['key-1', 'key-2', 'key-3']);
    });
  });
}
