import type { Account } from '../domain/account.ts';
import type { NewBusinessAction } from '../domain/business-actions.ts';
import type { Page, PageRequest } from './page.ts';

/** A tenant's provider accounts; credentials only ever sealed. A write given a business `action` records it in the same transaction. */
export interface AccountRepository {
  /** An existing id is a ConflictError (ALREADY_EXISTS). */
  create(account: Account, action?: NewBusinessAction): Promise<void>;
  get(clientId: string, accountId: string): Promise<Account | null>;
  /** By id alone (the platform admin). */
  findById(accountId: string): Promise<Account | null>;
  /** A client's accounts in id order. */
  list(clientId: string, page: PageRequest): Promise<Page<Account>>;
  /** Every account of every client (the periodic sync). */
  listAll(): Promise<Account[]>;
  /** Replace the account if still at `before.version`, else VersionConflictError. */
  save(before: Account, after: Account, action?: NewBusinessAction): Promise<void>;
  /** Delete the account if still at its version, else VersionConflictError. */
  delete(account: Account, action?: NewBusinessAction): Promise<void>;
  /**
   * Ids of the client's instances that name this account and are not TERMINATED (an ERROR
   * instance may still hold a machine that needs the account to be released); at most `limit`.
   */
  instancesUsing(clientId: string, accountId: string, limit?: number): Promise<string[]>;
}
