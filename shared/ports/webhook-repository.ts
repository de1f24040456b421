import type { WebhookDelivery, WebhookEndpoint } from '../domain/webhooks.ts';
import type { Page, PageRequest } from './page.ts';

/** A client's webhook endpoints and the log of what was delivered to each. */
export interface WebhookRepository {
  /** An existing id is a ConflictError (ALREADY_EXISTS). */
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(clientId: string, webhookId: string): Promise<WebhookEndpoint | null>;
  /** A client's endpoints in id order. */
  listEndpoints(clientId: string, page: PageRequest): Promise<Page<WebhookEndpoint>>;
  /** Every enabled endpoint of a client: what the fan-out reads for each event (one partition, no index). */
  enabledEndpoints(clientId: string): Promise<WebhookEndpoint[]>;
  /** Replace the endpoint if still at `before.version`, else VersionConflictError. */
  saveEndpoint(before: WebhookEndpoint, after: WebhookEndpoint): Promise<void>;
  /** Delete the endpoint if still at its version, else VersionConflictError. Its deliveries expire on their own. */
  deleteEndpoint(endpoint: WebhookEndpoint): Promise<void>;

  /** Record a new delivery; false (and nothing written) when one with this id exists already. */
  createDelivery(delivery: WebhookDelivery): Promise<boolean>;
  getDelivery(clientId: string, deliveryId: string): Promise<WebhookDelivery | null>;
  /** Replace the delivery if still at `before.version`, else VersionConflictError. */
  saveDelivery(before: WebhookDelivery, after: WebhookDelivery): Promise<void>;
  /** An endpoint's deliveries, newest first. */
  listDeliveries(clientId: string, webhookId: string, page: PageRequest): Promise<Page<WebhookDelivery>>;
}
