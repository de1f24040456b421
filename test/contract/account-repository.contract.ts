/** What every AccountRepository must do: accounts under their client, optimistic versions, who uses one. */
import { describe, expect, it } from 'vitest';
import { type RepositorySubject, repositoryUnderTest } from './repository-subject.ts';
import type { Account } from '../../shared/domain/account.ts';
import { ConflictError, ValidationError, VersionConflictError } from '../../shared/domain/errors.ts';
import type { InstanceStatus } from '../../shared/domain/lifecycle.ts';
import type { AccountRepository } from '../../shared/ports/account-repository.ts';
import type { InstanceRepository } from '../../shared/ports/instance-repository.ts';
import { makeInstance } from '../support/fakes.ts';
import { collectPages, withoutBookkeeping } from './instance-repository.contract.ts';

export interface AccountRepositorySubject extends RepositorySubject<AccountRepository> {
  /** Where instancesUsing looks: the instances kept beside the accounts. */
  instances: InstanceRepository;
}

export function runAccountRepositoryContract(name: string, makeSubject: () => Promise<AccountRepositorySubject>): void {
  describe(`AccountRepository contract: ${name}`, () => {
    const { repo, subject } = repositoryUnderTest(makeSubject);

    let seq = 0;
    const uniqueClient = () => `client-acct-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const makeAccount = (clientId: string, accountId: string, overrides: Partial<Account> = {}): Account => ({
      accountId,
      clientId,
      provider: 'OPENSTACK',
      name: `account ${accountId}`,
      region: 'RegionOne',
      sealedCredentials: { v: 1, keyId: 'k1', iv: 'aXY', tag: 'dGFn', data: 'ZGF0YQ' } as unknown as Account['sealedCredentials'],
      credentialKeys: ['authUrl', 'password', 'username'],
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      lastTestedAt: '2026-01-01T00:00:00.000Z',
      lastTestResult: { ok: true, message: 'Connected' },
      version: 1,
      ...overrides,
    });
    const uniqueAccount = () => `acct-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

    it('reads an account back under its client and by id alone; an existing id is a ConflictError', async () => {
      const clientId = uniqueClient();
      const account = makeAccount(clientId, uniqueAccount());
      await repo.create(account);
      expect(withoutBookkeeping((await repo.get(clientId, account.accountId))!)).toEqual(account);
      expect(withoutBookkeeping((await repo.findById(account.accountId))!)).toEqual(account);
      expect(await repo.get(uniqueClient(), account.accountId)).toBeNull();
      expect(await repo.findById('acct-missing')).toBeNull();
      const error = await repo.create({ ...account, name: 'again' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe('ALREADY_EXISTS');
    });

    it("lists one client's accounts in id order over pages, and every client's with listAll", async () => {
      const clientId = uniqueClient();
      const other = uniqueClient();
      const ids = ['acct-c', 'acct-a', 'acct-e', 'acct-b', 'acct-d'].map((id) => `${id}-${clientId}`);
      for (const id of ids) await repo.create(makeAccount(clientId, id));
      await repo.create(makeAccount(other, `acct-z-${other}`, { provider: 'AWS' }));
      const { items, cursors } = await collectPages((cursor) => repo.list(clientId, { limit: 2, ...(cursor ? { cursor } : {}) }), 2);
      expect(items.map((a) => a.accountId)).toEqual([...ids].sort());
      expect(cursors.at(-1)).toBeNull();
      await expect(repo.list(clientId, { limit: 2, cursor: 'not-a-cursor!!' })).rejects.toBeInstanceOf(ValidationError);

      const all = await repo.listAll();
      expect(all.filter((a) => a.clientId === clientId || a.clientId === other).map((a) => a.accountId).sort()).toEqual([...ids, `acct-z-${other}`].sort());
    });

    it('save and delete are conditional on the version read', async () => {
      const clientId = uniqueClient();
      const account = makeAccount(clientId, uniqueAccount());
      await repo.create(account);
      const renamed = { ...account, name: 'renamed', version: 2 };
      await repo.save(account, renamed);
      await expect(repo.save(account, { ...account, name: 'stale', version: 2 })).rejects.toBeInstanceOf(VersionConflictError);
      expect(await repo.get(clientId, account.accountId)).toMatchObject({ name: 'renamed', version: 2 });
      await expect(repo.delete(account)).rejects.toBeInstanceOf(VersionConflictError);
      await repo.delete(renamed);
      expect(await repo.get(clientId, account.accountId)).toBeNull();
      await expect(repo.save(renamed, { ...renamed, version: 3 })).rejects.toBeInstanceOf(VersionConflictError);
    });

    it("instancesUsing names the client's instances on the account that are not TERMINATED, up to the limit", async () => {
      const clientId = uniqueClient();
      const accountId = uniqueAccount();
      await repo.create(makeAccount(clientId, accountId));
      const on = async (n: number, status: InstanceStatus, account?: string, owner = clientId) => {
        const instance = makeInstance({ id: `vps-user-${n}-${accountId}`, clientId: owner, status, config: { ...makeInstance().config, ...(account ? { accountId: account } : {}) } });
        await subject().instances.create(instance, { type: 'instance.created', actor: 'key:test', message: 'created' });
        return instance.id;
      };
      const using = [await on(1, 'READY', accountId), await on(2, 'ERROR', accountId), await on(3, 'STOPPED', accountId)];
      await on(4, 'TERMINATED', accountId);
      await on(5, 'READY', 'acct-other');
      await on(6, 'READY');
      await on(7, 'READY', accountId, uniqueClient());
      expect((await repo.instancesUsing(clientId, accountId)).sort()).toEqual(using.sort());
      expect(await repo.instancesUsing(clientId, accountId, 2)).toHaveLength(2);
      expect(await repo.instancesUsing(clientId, 'acct-unused')).toEqual([]);
    });
  });
}
