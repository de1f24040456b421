import { ConflictError, VersionConflictError } from '../../domain/errors.ts';
import type { NewBusinessAction } from '../../domain/business-actions.ts';
import type { ApiKeyRecord, Client } from '../../domain/client.ts';
import { businessActionItems } from '../../db/business-actions.ts';
import type { ClientRepository } from '../../ports/client-repository.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import type { Db } from '../../db/db.ts';
import { API_KEY_ATTRIBUTES, CLIENT_ATTRIBUTES } from '../../db/attributes.ts';
import { getItem, itemReader } from '../../db/item-pages.ts';
import { keys } from '../../db/keys.ts';
import { paged, pageOptions } from '../../db/pagination.ts';
import { isConditionFailure, TransactionConditionFailed, type TransactWriteItem, writeTransaction } from '../../db/transactions.ts';

/** Clients with their unique-name markers (`CLIENTNAME#<nameKey>`), and the API keys that act for them. */
export class DynamoClientRepository implements ClientRepository {
  constructor(private readonly db: Db) {}

  private async entities() {
    return (await this.db.entities()).core;
  }

  async create(client: Client, action?: NewBusinessAction): Promise<void> {
    const e = await this.entities();
    try {
      await writeTransaction(this.db, [
        { Put: e.client.create(client).params() as TransactWriteItem['Put'] },
        { Put: e.clientName.create({ nameKey: client.nameKey, clientId: client.clientId }).params() as TransactWriteItem['Put'] },
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
    return getItem(this.db, keys.client(clientId), readClient);
  }

  async findByName(nameKey: string): Promise<Client | null> {
    const { data } = await (await this.entities()).clientName.get({ nameKey }).go({ consistent: true });
    return data ? this.get(data.clientId) : null;
  }

  async list(page: PageRequest): Promise<Page<Client>> {
    return paged<Client>(async () => (await this.entities()).client.query.all({}).go(pageOptions(page)));
  }

  /** Replace the client if still at `before.version`; a rename moves the name marker atomically. */
  async save(before: Client, after: Client, action?: NewBusinessAction): Promise<void> {
    const e = await this.entities();
    const items: TransactWriteItem[] = [
      {
        Put: e.client
          .put(after)
          .where(({ version }, { eq }) => eq(version, before.version))
          .params() as TransactWriteItem['Put'],
      },
    ];
    if (before.nameKey !== after.nameKey) {
      items.push(
        { Put: e.clientName.create({ nameKey: after.nameKey, clientId: after.clientId }).params() as TransactWriteItem['Put'] },
        { Delete: e.clientName.delete({ nameKey: before.nameKey }).params() as TransactWriteItem['Delete'] },
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
    const e = await this.entities();
    try {
      await writeTransaction(this.db, [
        {
          Delete: e.client
            .delete({ clientId: client.clientId })
            .where(({ version }, { eq }) => eq(version, client.version))
            .params() as TransactWriteItem['Delete'],
        },
        { Delete: e.clientName.delete({ nameKey: client.nameKey }).params() as TransactWriteItem['Delete'] },
        ...businessActionItems(this.db.tableName, action, new Date().toISOString()),
      ]);
    } catch (error) {
      if (error instanceof TransactionConditionFailed) throw new VersionConflictError('Client', client.clientId);
      throw error;
    }
  }

  async putApiKey(record: ApiKeyRecord, action?: NewBusinessAction): Promise<void> {
    const { apiKey } = await this.entities();
    try {
      if (!action) await apiKey.create(record).go();
      else {
        await writeTransaction(this.db, [
          { Put: apiKey.create(record).params() as TransactWriteItem['Put'] },
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
    await (await this.entities()).apiKey.put(record).go();
  }

  /** Every authenticated request starts here (cached a little by the authenticator): a raw read. */
  async findApiKey(keyHash: string): Promise<ApiKeyRecord | null> {
    return getItem(this.db, keys.apiKey(keyHash), readApiKey);
  }

  async listApiKeys(clientId: string): Promise<ApiKeyRecord[]> {
    const { data } = await (await this.entities()).apiKey.query.byClient({ clientId }).go({ pages: 'all' });
    return data as ApiKeyRecord[];
  }

  async deleteApiKey(keyHash: string, action?: NewBusinessAction): Promise<void> {
    const { apiKey } = await this.entities();
    if (!action) await apiKey.delete({ keyHash }).go();
    else {
      await writeTransaction(this.db, [
        { Delete: apiKey.delete({ keyHash }).params() as TransactWriteItem['Delete'] },
        ...businessActionItems(this.db.tableName, action, new Date().toISOString()),
      ]);
    }
  }
}

const readClient = itemReader<Client>(CLIENT_ATTRIBUTES);
const readApiKey = itemReader<ApiKeyRecord>(API_KEY_ATTRIBUTES);
