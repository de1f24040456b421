import { ConflictError, VersionConflictError } from '../../domain/errors.ts';
import type { NewBusinessAction } from '../../domain/business-actions.ts';
import type { ApiKeyRecord, Client } from '../../domain/client.ts';
import { businessActionItems } from '../../db/business-actions.ts';
import type { ClientRepository } from '../../ports/client-repository.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import type { Db } from '../../db/db.ts';
import { paged, pageOptions } from '../../db/pagination.ts';
import { isConditionFailure, TransactionConditionFailed, type TransactWriteItem, writeTransaction } from '../../db/transactions.ts';

/** Clients with their unique-name markers (`CLIENTNAME#<nameKey>`), and the API keys that act for them. */
export class DynamoClientRepository implements ClientRepository {
  constructor(private readonly db: Db) {}

  private get e() {
    return this.db.entities.entities;
  }

  async create(client: Client, action?: NewBusinessAction): Promise<void> {
    try {
      await writeTransaction(this.db, [
        { Put: this.e.client.create(client).params() as TransactWriteItem['Put'] },
        { Put: this.e.clientName.create({ nameKey: client.nameKey, clientId: client.clientId }).params() as TransactWriteItem['Put'] },
        ...businessActionItems(this.db.tableName, action, client.updatedAt),
      ]);
    } catch (error) {
      if (error instanceof TransactionConditionFailed) {
        throw new ConflictError(`A client named '${client.name}' already exists`, 'ALREADY_EXISTS');
      }
      throw error;
    }
  }

  async get(clientId: string): Promise<Client | null> {
    const { data } = await this.e.client.get({ clientId }).go({ consistent: true });
    return (data as Client | null) ?? null;
  }

  async findByName(nameKey: string): Promise<Client | null> {
    const { data } = await this.e.clientName.get({ nameKey }).go({ consistent: true });
    return data ? this.get(data.clientId) : null;
  }

  async list(page: PageRequest): Promise<Page<Client>> {
    return paged<Client>(() => this.e.client.query.all({}).go(pageOptions(page)));
  }

  /** Replace the client if still at `before.version`; a rename moves the name marker atomically. */
  async save(before: Client, after: Client, action?: NewBusinessAction): Promise<void> {
    const items: TransactWriteItem[] = [
      {
        Put: this.e.client
          .put(after)
          .where(({ version }, { eq }) => eq(version, before.version))
          .params() as TransactWriteItem['Put'],
      },
    ];
    if (before.nameKey !== after.nameKey) {
      items.push(
        { Put: this.e.clientName.create({ nameKey: after.nameKey, clientId: after.clientId }).params() as TransactWriteItem['Put'] },
        { Delete: this.e.clientName.delete({ nameKey: before.nameKey }).params() as TransactWriteItem['Delete'] },
      );
    }
    items.push(...businessActionItems(this.db.tableName, action, after.updatedAt));
    try {
      await writeTransaction(this.db, items);
    } catch (error) {
      if (error instanceof TransactionConditionFailed) {
        if (error.failedIndexes.includes(0)) throw new VersionConflictError('Client', before.clientId);
        throw new ConflictError(`A client named '${after.name}' already exists`, 'ALREADY_EXISTS');
      }
      throw error;
    }
  }

  async delete(client: Client, action?: NewBusinessAction): Promise<void> {
    try {
      await writeTransaction(this.db, [
        {
          Delete: this.e.client
            .delete({ clientId: client.clientId })
            .where(({ version }, { eq }) => eq(version, client.version))
            .params() as TransactWriteItem['Delete'],
        },
        { Delete: this.e.clientName.delete({ nameKey: client.nameKey }).params() as TransactWriteItem['Delete'] },
        ...businessActionItems(this.db.tableName, action, new Date().toISOString()),
      ]);
    } catch (error) {
      if (error instanceof TransactionConditionFailed) throw new VersionConflictError('Client', client.clientId);
      throw error;
    }
  }

  async putApiKey(record: ApiKeyRecord, action?: NewBusinessAction): Promise<void> {
    try {
      if (!action) await this.e.apiKey.create(record).go();
      else {
        await writeTransaction(this.db, [
          { Put: this.e.apiKey.create(record).params() as TransactWriteItem['Put'] },
          ...businessActionItems(this.db.tableName, action, record.createdAt),
        ]);
      }
    } catch (error) {
      if (isConditionFailure(error) || (error instanceof TransactionConditionFailed && error.failedIndexes.includes(0))) {
        throw new ConflictError(`API key '${record.keyId}' already exists`, 'ALREADY_EXISTS');
      }
      throw error;
    }
  }

  /** Idempotent: used at start-up for the platform admin key. */
  async upsertApiKey(record: ApiKeyRecord): Promise<void> {
    await this.e.apiKey.put(record).go();
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | null> {
    const { data } = await this.e.apiKey.get({ keyHash }).go();
    return (data as ApiKeyRecord | null) ?? null;
  }

  async listApiKeys(clientId: string): Promise<ApiKeyRecord[]> {
    const { data } = await this.e.apiKey.query.byClient({ clientId }).go({ pages: 'all' });
    return data as ApiKeyRecord[];
  }

  async deleteApiKey(keyHash: string, action?: NewBusinessAction): Promise<void> {
    if (!action) await this.e.apiKey.delete({ keyHash }).go();
    else {
      await writeTransaction(this.db, [
        { Delete: this.e.apiKey.delete({ keyHash }).params() as TransactWriteItem['Delete'] },
        ...businessActionItems(this.db.tableName, action, new Date().toISOString()),
      ]);
    }
  }
}
