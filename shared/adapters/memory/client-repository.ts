import type { NewBusinessAction } from '../../domain/business-actions.ts';
import type { ApiKeyRecord, Client } from '../../domain/client.ts';
import { MemoryBusinessActionRepository } from './business-action-repository.ts';
import { ConflictError, VersionConflictError } from '../../domain/errors.ts';
import type { ClientRepository } from '../../ports/client-repository.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import { copy, pageOf, sortedBy } from './memory-page.ts';

/** Clients unique by name key, and their API keys, in memory. */
export class MemoryClientRepository implements ClientRepository {
  private readonly clients = new Map<string, Client>();
  /** nameKey → clientId: the uniqueness marker. */
  private readonly names = new Map<string, string>();
  private readonly apiKeys = new Map<string, ApiKeyRecord>();

  constructor(private readonly actions = new MemoryBusinessActionRepository()) {}

  async create(client: Client, action?: NewBusinessAction): Promise<void> {
    if (this.clients.has(client.clientId) || this.names.has(client.nameKey)) {
      throw new ConflictError(`A client named '${client.name}' already exists`, 'ALREADY_EXISTS');
    }
    this.clients.set(client.clientId, copy(client));
    this.names.set(client.nameKey, client.clientId);
    this.actions.append(action, client.updatedAt);
  }

  async get(clientId: string): Promise<Client | null> {
    const stored = this.clients.get(clientId);
    return stored ? copy(stored) : null;
  }

  async findByName(nameKey: string): Promise<Client | null> {
    const clientId = this.names.get(nameKey);
    return clientId ? this.get(clientId) : null;
  }

  async list(page: PageRequest): Promise<Page<Client>> {
    const sortKey = (c: Client) => `${c.nameKey}#${c.clientId}`;
    const result = pageOf('clients', sortedBy(this.clients.values(), sortKey), sortKey, page);
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async save(before: Client, after: Client, action?: NewBusinessAction): Promise<void> {
    const stored = this.clients.get(before.clientId);
    if (!stored || stored.version !== before.version) throw new VersionConflictError('Client', before.clientId);
    const renamed = before.nameKey !== after.nameKey;
    if (renamed && this.names.has(after.nameKey)) throw new ConflictError(`A client named '${after.name}' already exists`, 'ALREADY_EXISTS');
    this.clients.set(after.clientId, copy(after));
    if (renamed) {
      this.names.delete(before.nameKey);
      this.names.set(after.nameKey, after.clientId);
    }
    this.actions.append(action, after.updatedAt);
  }

  async delete(client: Client, action?: NewBusinessAction): Promise<void> {
    const stored = this.clients.get(client.clientId);
    if (!stored || stored.version !== client.version) throw new VersionConflictError('Client', client.clientId);
    this.clients.delete(client.clientId);
    this.names.delete(client.nameKey);
    this.actions.append(action, new Date().toISOString());
  }

  async putApiKey(record: ApiKeyRecord, action?: NewBusinessAction): Promise<void> {
    if (this.apiKeys.has(record.keyHash)) throw new ConflictError(`API key '${record.keyId}' already exists`, 'ALREADY_EXISTS');
    this.apiKeys.set(record.keyHash, copy(record));
    this.actions.append(action, record.createdAt);
  }

  async upsertApiKey(record: ApiKeyRecord): Promise<void> {
    this.apiKeys.set(record.keyHash, copy(record));
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | null> {
    const stored = this.apiKeys.get(keyHash);
    return stored ? copy(stored) : null;
  }

  async listApiKeys(clientId: string): Promise<ApiKeyRecord[]> {
    const mine = [...this.apiKeys.values()].filter((k) => k.clientId === clientId);
    return sortedBy(mine, (k) => `${k.createdAt}#${k.keyId}`).map(copy);
  }

  async deleteApiKey(keyHash: string, action?: NewBusinessAction): Promise<void> {
    this.apiKeys.delete(keyHash);
    this.actions.append(action, new Date().toISOString());
  }
}
