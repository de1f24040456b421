import type { NewBusinessAction } from '../../domain/business-actions.ts';
import { MemoryBusinessActionRepository } from './business-action-repository.ts';
import type { Account } from '../../domain/account.ts';
import { ConflictError, VersionConflictError } from '../../domain/errors.ts';
import type { Instance } from '../../domain/instance.ts';
import type { AccountRepository } from '../../ports/account-repository.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import { copy, pageOf, sortedBy } from './memory-page.ts';

/** Provider accounts in memory; `instancesUsing` reads the instances it is given. */
export class MemoryAccountRepository implements AccountRepository {
  private readonly accounts = new Map<string, Account>();

  /** The instances to look through (the memory instance repository), or none. */
  constructor(
    private readonly instances: { instancesOf(clientId: string): Instance[] } = { instancesOf: () => [] },
    private readonly actions = new MemoryBusinessActionRepository(),
  ) {}

  async create(account: Account, action?: NewBusinessAction): Promise<void> {
    const key = keyOf(account.clientId, account.accountId);
    if (this.accounts.has(key)) throw new ConflictError(`Account '${account.accountId}' already exists`, 'ALREADY_EXISTS');
    this.accounts.set(key, copy(account));
    this.actions.append(action, account.updatedAt);
  }

  async get(clientId: string, accountId: string): Promise<Account | null> {
    const stored = this.accounts.get(keyOf(clientId, accountId));
    return stored ? copy(stored) : null;
  }

  async findById(accountId: string): Promise<Account | null> {
    for (const account of this.accounts.values()) if (account.accountId === accountId) return copy(account);
    return null;
  }

  async list(clientId: string, page: PageRequest): Promise<Page<Account>> {
    const mine = sortedBy(
      [...this.accounts.values()].filter((a) => a.clientId === clientId),
      (a) => a.accountId,
    );
    const result = pageOf(`accounts/${clientId}`, mine, (a) => a.accountId, page);
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async listAll(): Promise<Account[]> {
    return sortedBy(this.accounts.values(), (a) => `${a.provider}#${a.accountId}`).map(copy);
  }

  async save(before: Account, after: Account, action?: NewBusinessAction): Promise<void> {
    const stored = this.accounts.get(keyOf(before.clientId, before.accountId));
    if (!stored || stored.version !== before.version) throw new VersionConflictError('Account', before.accountId);
    this.accounts.set(keyOf(after.clientId, after.accountId), copy(after));
    this.actions.append(action, after.updatedAt);
  }

  async delete(account: Account, action?: NewBusinessAction): Promise<void> {
    const key = keyOf(account.clientId, account.accountId);
    const stored = this.accounts.get(key);
    if (!stored || stored.version !== account.version) throw new VersionConflictError('Account', account.accountId);
    this.accounts.delete(key);
    this.actions.append(action, new Date().toISOString());
  }

  async instancesUsing(clientId: string, accountId: string, limit = 5): Promise<string[]> {
    return this.instances
      .instancesOf(clientId)
      .filter((i) => i.config.accountId === accountId && i.status !== 'TERMINATED')
      .slice(0, limit)
      .map((i) => i.id);
  }
}

const keyOf = (clientId: string, accountId: string) => `${clientId}/${accountId}`;
