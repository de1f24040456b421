import { ConflictError, VersionConflictError } from '../../domain/errors.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../../domain/webhooks.ts';
import type { Page, PageRequest } from '../../ports/page.ts';
import type { WebhookRepository } from '../../ports/webhook-repository.ts';
import { copy, pageOf, sortedBy } from './memory-page.ts';

/** Webhook endpoints and deliveries in memory, with the table's conditions. */
export class MemoryWebhookRepository implements WebhookRepository {
  private readonly endpoints = new Map<string, WebhookEndpoint>();
  private readonly deliveries = new Map<string, WebhookDelivery>();

  async createEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    const key = keyOf(endpoint.clientId, endpoint.webhookId);
    if (this.endpoints.has(key)) throw new ConflictError(`Webhook '${endpoint.webhookId}' already exists`, 'ALREADY_EXISTS');
    this.endpoints.set(key, copy(endpoint));
  }

  async getEndpoint(clientId: string, webhookId: string): Promise<WebhookEndpoint | null> {
    const stored = this.endpoints.get(keyOf(clientId, webhookId));
    return stored ? copy(stored) : null;
  }

  async listEndpoints(clientId: string, page: PageRequest): Promise<Page<WebhookEndpoint>> {
    const mine = sortedBy(this.of(clientId), (e) => e.webhookId);
    const result = pageOf(`webhooks/${clientId}`, mine, (e) => e.webhookId, page);
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  async enabledEndpoints(clientId: string): Promise<WebhookEndpoint[]> {
    return sortedBy(
      this.of(clientId).filter((e) => e.status === 'enabled'),
      (e) => e.webhookId,
    ).map(copy);
  }

  async saveEndpoint(before: WebhookEndpoint, after: WebhookEndpoint): Promise<void> {
    const stored = this.endpoints.get(keyOf(before.clientId, before.webhookId));
    if (!stored || stored.version !== before.version) throw new VersionConflictError('Webhook', before.webhookId);
    this.endpoints.set(keyOf(after.clientId, after.webhookId), copy(after));
  }

  async deleteEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    const key = keyOf(endpoint.clientId, endpoint.webhookId);
    const stored = this.endpoints.get(key);
    if (!stored || stored.version !== endpoint.version) throw new VersionConflictError('Webhook', endpoint.webhookId);
    this.endpoints.delete(key);
  }

  async createDelivery(delivery: WebhookDelivery): Promise<boolean> {
    const key = keyOf(delivery.clientId, delivery.deliveryId);
    if (this.deliveries.has(key)) return false;
    this.deliveries.set(key, copy(delivery));
    return true;
  }

  async getDelivery(clientId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    const stored = this.deliveries.get(keyOf(clientId, deliveryId));
    return stored ? copy(stored) : null;
  }

  async saveDelivery(before: WebhookDelivery, after: WebhookDelivery): Promise<void> {
    const stored = this.deliveries.get(keyOf(before.clientId, before.deliveryId));
    if (!stored || stored.version !== before.version) throw new VersionConflictError('Delivery', before.deliveryId);
    this.deliveries.set(keyOf(after.clientId, after.deliveryId), copy(after));
  }

  async listDeliveries(clientId: string, webhookId: string, page: PageRequest): Promise<Page<WebhookDelivery>> {
    const log = sortedBy(
      [...this.deliveries.values()].filter((d) => d.clientId === clientId && d.webhookId === webhookId),
      (d) => d.deliveryId,
      'desc',
    );
    const result = pageOf(`deliveries/${clientId}/${webhookId}`, log, (d) => d.deliveryId, page, 'desc');
    return { items: result.items.map(copy), cursor: result.cursor };
  }

  private of(clientId: string): WebhookEndpoint[] {
    return [...this.endpoints.values()].filter((e) => e.clientId === clientId);
  }
}

const keyOf = (clientId: string, id: string) => `${clientId}/${id}`;
