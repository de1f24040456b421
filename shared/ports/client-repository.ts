import type { NewBusinessAction } from '../domain/business-actions.ts';
import type { ApiKeyRecord, Client } from '../domain/client.ts';
import type { Page, PageRequest } from './page.ts';

/**
 * Clients (tenants), unique by `nameKey`, and the API keys that act for them. A name taken by
 * another client is a ConflictError (ALREADY_EXISTS); a write from a stale read is a
 * VersionConflictError. A write given a business `action` records it in the same transaction.
 */
export interface ClientRepository {
  create(client: Client, action?: NewBusinessAction): Promise<void>;
  get(clientId: string): Promise<Client | null>;
  findByName(nameKey: string): Promise<Client | null>;
  /** In name order. */
  list(page: PageRequest): Promise<Page<Client>>;
  /** Replace the client if still at `before.version`; a rename moves the unique name with it. */
  save(before: Client, after: Client, action?: NewBusinessAction): Promise<void>;
  /** Delete the client (if still at its version) and free its name. */
  delete(client: Client, action?: NewBusinessAction): Promise<void>;

  /** A new key; its hash must be new. */
  putApiKey(record: ApiKeyRecord, action?: NewBusinessAction): Promise<void>;
  /** Create or replace: the platform admin key at start-up. */
  upsertApiKey(record: ApiKeyRecord): Promise<void>;
  findApiKey(keyHash: string): Promise<ApiKeyRecord | null>;
  /** Oldest first. */
  listApiKeys(clientId: string): Promise<ApiKeyRecord[]>;
  deleteApiKey(keyHash: string, action?: NewBusinessAction): Promise<void>;
}
