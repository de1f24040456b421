import type { Account } from '../../domain/account.ts';
import { ConflictError, VersionConflictError } from '../../domain/errors.ts';
import type { AccountRepository } from '../../ports/account-repository.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import type { Db } from '../../db/db.ts';
import { ACCOUNT_ATTRIBUTES } from '../../db/attributes.ts';
import { getItem, itemReader, partitionQuery, queryPage } from '../../db/item-pages.ts';
import { KEY_TEMPLATES, keyOf } from '../../db/keys.ts';
import type { NewBusinessAction } from '../../domain/business-actions.ts';
import { businessActionItems } from '../../db/business-actions.ts';
import { isConditionFailure, TransactionConditionFailed, type TransactWriteItem, writeTransaction } from '../../db/transactions.ts';

/** Provider accounts, under their client's partition. */
export class DynamoAccountRepository implements AccountRepository {
  constructor(private readonly db: Db) {}

  private async entities() {
    return (await this.db.entities()).core;
  }

  async create(account: Account, action?: NewBusinessAction): Promise<void> {
    const { account: entity } = await this.entities();
    try {
      if (!action) await entity.create(account).go();
      else await writeTransaction(this.db, [{ Put: entity.create(account).params() as TransactWriteItem['Put'] }, ...businessActionItems(this.db.tableName, action, account.updatedAt)]);
    } catch (error) {
      if (isConditionFailure(error) || failedFirst(error)) throw new ConflictError(`Account '${account.accountId}' already exists`, 'ALREADY_EXISTS');
      throw error;
    }
  }

  async get(clientId: string, accountId: string): Promise<Account | null> {
    return getItem(this.db, keyOf(KEY_TEMPLATES.account, { clientId, accountId }), readAccount);
  }

  /** By id alone (the platform admin); the index is only a pointer to the owning client. */
  async findById(accountId: string): Promise<Account | null> {
    const { data } = await (await this.entities()).account.query.byId({ accountId }).go({ attributes: ['clientId'] });
    const owner = data[0]?.clientId;
    return owner ? this.get(owner, accountId) : null;
  }

  async list(clientId: string, page: PageRequest): Promise<Page<Account>> {
    return queryPage(this.db, partitionQuery(this.db, KEY_TEMPLATES.account, { clientId }), page, readAccount);
  }

  /** Every account of every client (the periodic sync); credentials stay sealed. */
  async listAll(): Promise<Account[]> {
    const { data } = await (await this.entities()).account.query.all({}).go({ pages: 'all' });
    return data as Account[];
  }

  /** Replace the account if still at `before.version`; a lost race is a 409. */
  async save(before: Account, after: Account, action?: NewBusinessAction): Promise<void> {
    try {
      const put = (await this.entities()).account.put(after).where(({ version }, { eq }) => eq(version, before.version));
      if (!action) await put.go();
      else await writeTransaction(this.db, [{ Put: put.params() as TransactWriteItem['Put'] }, ...businessActionItems(this.db.tableName, action, after.updatedAt)]);
    } catch (error) {
      if (isConditionFailure(error) || failedFirst(error)) throw new VersionConflictError('Account', before.accountId);
      throw error;
    }
  }

  async delete(account: Account, action?: NewBusinessAction): Promise<void> {
    try {
      const remove = (await this.entities()).account.delete({ clientId: account.clientId, accountId: account.accountId }).where(({ version }, { eq }) => eq(version, account.version));
      if (!action) await remove.go();
      else await writeTransaction(this.db, [{ Delete: remove.params() as TransactWriteItem['Delete'] }, ...businessActionItems(this.db.tableName, action, new Date().toISOString())]);
    } catch (error) {
      if (isConditionFailure(error) || failedFirst(error)) throw new VersionConflictError('Account', account.accountId);
      throw error;
    }
  }

  /** Reads the client's partition only, never the table; stops at `limit`. */
  async instancesUsing(clientId: string, accountId: string, limit = 5): Promise<string[]> {
    const { data } = await (await this.entities()).instance.query
      .byClient({ clientId })
      .where(({ config, status }, { name, escape, ne }) => `${name(config)}.accountId = ${escape(accountId)} AND ${ne(status, 'TERMINATED')}`)
      .go({ count: limit, pages: 'all', attributes: ['id'] });
    return data.map((item) => item.id);
  }
}

/** The account's own write (the first item of its transaction) lost its condition. */
const failedFirst = (error: unknown) => error instanceof TransactionConditionFailed && error.failedIndexes.includes(0);

/** An account item read raw (the reads an API request most often makes skip ElectroDB: ../../db/item-pages.ts). */
const readAccount = itemReader<Account>(ACCOUNT_ATTRIBUTES);
