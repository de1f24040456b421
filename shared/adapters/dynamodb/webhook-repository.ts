import type { Db } from '../../db/db.ts';
import { WEBHOOK_ENDPOINT_ATTRIBUTES } from '../../db/attributes.ts';
import { getItem, itemReader, partitionQuery, queryPage } from '../../db/item-pages.ts';
import { KEY_TEMPLATES, keyOf } from '../../db/keys.ts';
import { paged, pageOptions } from '../../db/pagination.ts';
import { isConditionFailure } from '../../db/transactions.ts';
import { ConflictError, VersionConflictError } from '../../domain/errors.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../../domain/webhooks.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import type { WebhookRepository } from '../../ports/webhook-repository.ts';

/** Webhook endpoints and deliveries under their client's partition (shared/db/webhook-entities.ts). */
export class DynamoWebhookRepository implements WebhookRepository {
  constructor(private readonly db: Db) {}

  private async entities() {
    return (await this.db.entities()).webhooks;
  }

  async createEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    try {
      await (await this.entities()).endpoint.create(endpoint).go();
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`Webhook '${endpoint.webhookId}' already exists`, 'ALREADY_EXISTS');
      throw error;
    }
  }

  async getEndpoint(clientId: string, webhookId: string): Promise<WebhookEndpoint | null> {
    return getItem(this.db, keyOf(KEY_TEMPLATES.webhook, { clientId, webhookId }), readEndpoint);
  }

  async listEndpoints(clientId: string, page: PageRequest): Promise<Page<WebhookEndpoint>> {
    return queryPage(this.db, partitionQuery(this.db, KEY_TEMPLATES.webhook, { clientId }), page, readEndpoint);
  }

  async enabledEndpoints(clientId: string): Promise<WebhookEndpoint[]> {
    const { data } = await (await this.entities()).endpoint.query
      .byClient({ clientId })
      .where(({ status }, { eq }) => eq(status, 'enabled'))
      .go({ pages: 'all' });
    return (data as WebhookEndpoint[]).map(endpointOf);
  }

  async saveEndpoint(before: WebhookEndpoint, after: WebhookEndpoint): Promise<void> {
    try {
      await (await this.entities()).endpoint
        .put(after)
        .where(({ version }, { eq }) => eq(version, before.version))
        .go();
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError('Webhook', before.webhookId);
      throw error;
    }
  }

  async deleteEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    try {
      await (await this.entities()).endpoint
        .delete({ clientId: endpoint.clientId, webhookId: endpoint.webhookId })
        .where(({ version }, { eq }) => eq(version, endpoint.version))
        .go();
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError('Webhook', endpoint.webhookId);
      throw error;
    }
  }

  async createDelivery(delivery: WebhookDelivery): Promise<boolean> {
    try {
      await (await this.entities()).delivery.create({ ...delivery, ttl: ttlOf(delivery) }).go();
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getDelivery(clientId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    const { data } = await (await this.entities()).delivery.get({ clientId, deliveryId }).go({ consistent: true });
    return data ? deliveryOf(data) : null;
  }

  async saveDelivery(before: WebhookDelivery, after: WebhookDelivery): Promise<void> {
    try {
      await (await this.entities()).delivery
        .put({ ...after, ttl: ttlOf(after) })
        .where(({ version }, { eq }) => eq(version, before.version))
        .go();
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflictError('Delivery', before.deliveryId);
      throw error;
    }
  }

  async listDeliveries(clientId: string, webhookId: string, page: PageRequest): Promise<Page<WebhookDelivery>> {
    const result = await paged<WebhookDelivery>(async () =>
      (await this.entities()).delivery.query
        .byWebhook({ webhookId })
        // The index is shared by every client's endpoints: ids are unique, but the owner is checked all the same.
        .where(({ clientId: owner }, { eq }) => eq(owner, clientId))
        .go({ ...pageOptions(page), order: 'desc' }),
    );
    return { items: result.items.map(deliveryOf), cursor: result.cursor };
  }
}

/** A delivery log entry is kept 30 days. */
export const DELIVERY_RETENTION_SECONDS = 30 * 24 * 60 * 60;

const ttlOf = (delivery: WebhookDelivery) => Math.floor(Date.parse(delivery.createdAt) / 1000) + DELIVERY_RETENTION_SECONDS;

/** The domain's shape: the table's bookkeeping (entity type, ttl) stays in the table. */
function endpointOf(item: object): WebhookEndpoint {
  const { entityType: _type, ...endpoint } = item as WebhookEndpoint & { entityType?: string };
  return endpoint;
}

function deliveryOf(item: object): WebhookDelivery {
  const { entityType: _type, ttl: _ttl, ...delivery } = item as WebhookDelivery & { entityType?: string; ttl?: number };
  return delivery;
}

/** An endpoint item read raw (the reads an API request most often makes skip ElectroDB: ../../db/item-pages.ts). */
const endpointAttributes = itemReader<WebhookEndpoint>(WEBHOOK_ENDPOINT_ATTRIBUTES);
const readEndpoint = (item: Record<string, unknown>) => endpointOf(endpointAttributes(item));
