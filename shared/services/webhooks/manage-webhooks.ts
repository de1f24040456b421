import { ulid } from 'ulid';
import { NotFoundError } from '../../domain/errors.ts';
import type { InstanceEvent } from '../../domain/events.ts';
import { newId } from '../../domain/ids.ts';
import { type Principal, requireRole } from '../../domain/roles.ts';
import { LIMITS } from '../../domain/schemas.ts';
import { parseInput } from '../../domain/validate.ts';
import { createWebhookSchema, listWebhooksQuerySchema, updateWebhookSchema, webhookScopeQuerySchema } from '../../domain/webhook-schemas.ts';
import { deliveryIdOf, PREVIOUS_SECRET_GRACE_MS, type WebhookDelivery, type WebhookEndpoint } from '../../domain/webhooks.ts';
import type { ClientRepository } from '../../ports/client-repository.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Page } from '../../ports/page.ts';
import type { SecretBox } from '../../ports/secret-box.ts';
import type { WebhookQueue } from '../../ports/webhook-queue.ts';
import type { WebhookRepository } from '../../ports/webhook-repository.ts';
import type { WebhookTransport } from '../../ports/webhook-transport.ts';
import { requireVersion, writeWithRetry, type WriteConditions } from '../preconditions.ts';
import { resolveClient } from '../tenancy.ts';
import { webhookBody } from './payload.ts';
import { webhookSecretContext } from './secrets.ts';

export interface WebhookServiceDeps {
  webhooks: WebhookRepository;
  clients: ClientRepository;
  secretBox: SecretBox;
  /** Checks a URL before it is stored: scheme, and on deployed stages a public address. */
  transport: Pick<WebhookTransport, 'checkTarget'>;
  /** Where the test event goes to be delivered. */
  queue: WebhookQueue;
  clock: Clock;
  /** Makes a new `whsec_` secret (node:crypto, in the adapter). */
  generateSecret: () => string;
}

/** An endpoint with its secret, which only the create and a rotation answer. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpoint;
  secret?: string;
}

/**
 * A client's webhook endpoints (client admin, or the platform admin naming the client): create
 * with a secret shown once, read, change or rotate, delete, send a test event, read the log.
 * Another client's endpoint is a 404, like a missing one.
 */
export function makeWebhookService(deps: WebhookServiceDeps) {
  async function clientOf(principal: Principal, clientId: string | undefined, doing: string): Promise<string> {
    requireRole(principal, 'admin', doing);
    return (await resolveClient(deps, principal, clientId)).clientId;
  }

  async function load(principal: Principal, webhookId: string, query: unknown, doing: string): Promise<WebhookEndpoint> {
    const { clientId } = await parseInput(webhookScopeQuerySchema, query ?? {}, 'query');
    const owner = await clientOf(principal, clientId, doing);
    const endpoint = await deps.webhooks.getEndpoint(owner, webhookId);
    if (!endpoint) throw new NotFoundError('Webhook', webhookId);
    return endpoint;
  }

  async function create(principal: Principal, body: unknown): Promise<EndpointWithSecret> {
    const request = await parseInput(createWebhookSchema, body ?? {}, 'webhook');
    const clientId = await clientOf(principal, request.clientId, 'manage webhooks');
    await deps.transport.checkTarget(request.url);
    const webhookId = newId('wh');
    const secret = deps.generateSecret();
    const now = deps.clock.now().toISOString();
    const endpoint: WebhookEndpoint = {
      webhookId,
      clientId,
      url: request.url,
      events: [...new Set(request.events)],
      ...(request.description ? { description: request.description } : {}),
      status: 'enabled',
      sealedSecret: await deps.secretBox.seal(secret, webhookSecretContext({ clientId, webhookId })),
      createdAt: now,
      updatedAt: now,
      createdBy: principal.keyId,
      version: 1,
    };
    await deps.webhooks.createEndpoint(endpoint);
    return { endpoint, secret };
  }

  async function list(principal: Principal, query: unknown): Promise<Page<WebhookEndpoint>> {
    const request = await parseInput(listWebhooksQuerySchema, query ?? {}, 'query');
    const clientId = await clientOf(principal, request.clientId, 'read webhooks');
    return deps.webhooks.listEndpoints(clientId, { limit: request.limit, ...(request.cursor ? { cursor: request.cursor } : {}) });
  }

  const get = (principal: Principal, webhookId: string, query?: unknown) => load(principal, webhookId, query, 'read webhooks');

  /** url, events, description, status; `rotateSecret` answers the new secret once and keeps the old one signing for 24 h. */
  async function update(principal: Principal, webhookId: string, body: unknown, query?: unknown, conditions?: WriteConditions): Promise<EndpointWithSecret> {
    const request = await parseInput(updateWebhookSchema, body ?? {}, 'webhook update');
    const before = await load(principal, webhookId, query, 'manage webhooks');
    requireVersion('Webhook', webhookId, before.version, conditions);
    if (request.url !== undefined && request.url !== before.url) await deps.transport.checkTarget(request.url);
    const now = deps.clock.now();
    const after: WebhookEndpoint = {
      ...before,
      ...(request.url !== undefined ? { url: request.url } : {}),
      ...(request.events !== undefined ? { events: [...new Set(request.events)] } : {}),
      ...(request.description !== undefined ? { description: request.description } : {}),
      updatedAt: now.toISOString(),
      version: before.version + 1,
    };
    if (request.status === 'enabled' && before.status !== 'enabled') {
      // A fresh start: the five-day failure clock begins again.
      after.status = 'enabled';
      delete after.disabledReason;
      delete after.failingSince;
    } else if (request.status === 'disabled' && before.status !== 'disabled') {
      after.status = 'disabled';
      after.disabledReason = 'manual';
    }
    let secret: string | undefined;
    if (request.rotateSecret) {
      secret = deps.generateSecret();
      after.previousSealedSecret = before.sealedSecret;
      after.previousSecretExpiresAt = new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS).toISOString();
      after.sealedSecret = await deps.secretBox.seal(secret, webhookSecretContext(before));
    }
    await writeWithRetry('Webhook', webhookId, conditions, () => deps.webhooks.saveEndpoint(before, after), 1);
    return { endpoint: after, ...(secret ? { secret } : {}) };
  }

  async function remove(principal: Principal, webhookId: string, query?: unknown, conditions?: WriteConditions): Promise<WebhookEndpoint> {
    const endpoint = await load(principal, webhookId, query, 'manage webhooks');
    requireVersion('Webhook', webhookId, endpoint.version, conditions);
    await writeWithRetry('Webhook', webhookId, conditions, () => deps.webhooks.deleteEndpoint(endpoint), 1);
    return endpoint;
  }

  /** A `webhook.test` event, through the same queue and deliverer as real ones (even to a disabled endpoint). */
  async function sendTest(principal: Principal, webhookId: string, query?: unknown): Promise<WebhookDelivery> {
    const endpoint = await load(principal, webhookId, query, 'test webhooks');
    const now = deps.clock.now().toISOString();
    const event: InstanceEvent = {
      // Time-ordered with real events' ULIDs, so the test shows in its place in the delivery log.
      eventId: ulid(deps.clock.now().getTime()),
      instanceId: endpoint.webhookId,
      clientId: endpoint.clientId,
      type: 'webhook.test',
      actor: `key:${principal.keyId}`,
      message: 'A test event: if you can read this, the endpoint receives and verifies Hangar webhooks',
      at: now,
    };
    const delivery: WebhookDelivery = {
      deliveryId: deliveryIdOf(event.eventId, endpoint.webhookId),
      webhookId: endpoint.webhookId,
      clientId: endpoint.clientId,
      eventId: event.eventId,
      type: 'webhook.test',
      body: webhookBody('webhook.test', { event, instance: null }),
      status: 'pending',
      attempts: [],
      nextAttemptAt: now,
      test: true,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await deps.webhooks.createDelivery(delivery);
    await deps.queue.enqueue({ clientId: delivery.clientId, deliveryId: delivery.deliveryId }, 0);
    return delivery;
  }

  /** The endpoint's deliveries, newest first, each with its attempts. */
  async function deliveries(principal: Principal, webhookId: string, query: unknown): Promise<Page<WebhookDelivery>> {
    const request = await parseInput(listWebhooksQuerySchema, query ?? {}, 'query');
    const endpoint = await load(principal, webhookId, { clientId: request.clientId }, 'read webhook deliveries');
    return deps.webhooks.listDeliveries(endpoint.clientId, endpoint.webhookId, {
      limit: request.limit ?? LIMITS.defaultPageSize,
      ...(request.cursor ? { cursor: request.cursor } : {}),
    });
  }

  return { create, list, get, update, remove, sendTest, deliveries };
}

export type WebhookService = ReturnType<typeof makeWebhookService>;
