/** What every WebhookRepository must do: endpoints under their client, optimistic versions, an idempotent delivery log per endpoint. */
import { describe, expect, it } from 'vitest';
import { type RepositorySubject, repositoryUnderTest } from './repository-subject.ts';
import { ConflictError, ValidationError, VersionConflictError } from '../../shared/domain/errors.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../../shared/domain/webhooks.ts';
import type { WebhookRepository } from '../../shared/ports/webhook-repository.ts';
import { collectPages } from './instance-repository.contract.ts';

export type WebhookRepositorySubject = RepositorySubject<WebhookRepository>;

export function runWebhookRepositoryContract(name: string, makeSubject: () => Promise<WebhookRepositorySubject>): void {
  describe(`WebhookRepository contract: ${name}`, () => {
    const { repo } = repositoryUnderTest(makeSubject);

    let seq = 0;
    const unique = (prefix: string) => `${prefix}-${(seq++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const endpointOf = (clientId: string, overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
      webhookId: unique('wh'),
      clientId,
      url: 'https://hooks.example.com/in',
      events: ['instance.*'],
      description: 'ops',
      status: 'enabled',
      sealedSecret: { scheme: 'local-aes-256-gcm', keyId: 'k1', iv: 'aXY', ciphertext: 'Y3Q', tag: 'dGFn' },
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      version: 1,
      ...overrides,
    });
    const deliveryOf = (endpoint: WebhookEndpoint, deliveryId: string, overrides: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
      deliveryId,
      webhookId: endpoint.webhookId,
      clientId: endpoint.clientId,
      eventId: deliveryId.split('-')[1] ?? deliveryId,
      type: 'instance.ready',
      body: '{"type":"instance.ready"}',
      status: 'pending',
      attempts: [],
      nextAttemptAt: '2026-01-01T00:00:00.000Z',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      version: 1,
      ...overrides,
    });

    it('reads an endpoint back under its client only; an existing id is a ConflictError', async () => {
      const clientId = unique('client');
      const endpoint = endpointOf(clientId);
      await repo.createEndpoint(endpoint);
      expect(await repo.getEndpoint(clientId, endpoint.webhookId)).toEqual(endpoint);
      expect(await repo.getEndpoint(unique('client'), endpoint.webhookId)).toBeNull();
      const error = await repo.createEndpoint({ ...endpoint, url: 'https://other.example.com' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).code).toBe('ALREADY_EXISTS');
    });

    it("lists a client's endpoints in id order across pages, and only the enabled ones for the fan-out", async () => {
      const clientId = unique('client');
      const endpoints = ['wh-a1', 'wh-b2', 'wh-c3', 'wh-d4', 'wh-e5'].map((webhookId, i) =>
        endpointOf(clientId, { webhookId, status: i % 2 === 0 ? 'enabled' : 'disabled', ...(i % 2 ? { disabledReason: 'manual' as const } : {}) }),
      );
      for (const endpoint of [...endpoints].reverse()) await repo.createEndpoint(endpoint);
      await repo.createEndpoint(endpointOf(unique('client')));
      const { items } = await collectPages((cursor) => repo.listEndpoints(clientId, { limit: 2, ...(cursor ? { cursor } : {}) }), 2);
      expect(items.map((e) => e.webhookId)).toEqual(['wh-a1', 'wh-b2', 'wh-c3', 'wh-d4', 'wh-e5']);
      expect((await repo.enabledEndpoints(clientId)).map((e) => e.webhookId)).toEqual(['wh-a1', 'wh-c3', 'wh-e5']);
      expect(await repo.enabledEndpoints(unique('client'))).toEqual([]);
    });

    it('refuses a cursor it did not hand out as a ValidationError', async () => {
      const error = await repo.listEndpoints(unique('client'), { limit: 2, cursor: 'bm90LWEtY3Vyc29y' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
    });

    it('saves and deletes only at the version read', async () => {
      const clientId = unique('client');
      const endpoint = endpointOf(clientId);
      await repo.createEndpoint(endpoint);
      const changed = { ...endpoint, status: 'disabled' as const, disabledReason: 'gone' as const, updatedAt: '2026-01-02T00:00:00.000Z', version: 2 };
      await repo.saveEndpoint(endpoint, changed);
      expect(await repo.getEndpoint(clientId, endpoint.webhookId)).toEqual(changed);
      await expect(repo.saveEndpoint(endpoint, { ...changed, version: 2 })).rejects.toBeInstanceOf(VersionConflictError);
      await expect(repo.deleteEndpoint(endpoint)).rejects.toBeInstanceOf(VersionConflictError);
      await repo.deleteEndpoint(changed);
      expect(await repo.getEndpoint(clientId, endpoint.webhookId)).toBeNull();
    });

    it('records a delivery once: the same id again is refused without a write', async () => {
      const endpoint = endpointOf(unique('client'));
      await repo.createEndpoint(endpoint);
      const delivery = deliveryOf(endpoint, 'msg-01JA0000000000000000000000-x');
      expect(await repo.createDelivery(delivery)).toBe(true);
      expect(await repo.createDelivery({ ...delivery, body: '{"other":true}' })).toBe(false);
      expect(await repo.getDelivery(endpoint.clientId, delivery.deliveryId)).toEqual(delivery);
      expect(await repo.getDelivery(unique('client'), delivery.deliveryId)).toBeNull();
    });

    it('saves a delivery with its attempts only at the version read', async () => {
      const endpoint = endpointOf(unique('client'));
      const delivery = deliveryOf(endpoint, 'msg-01JB0000000000000000000000-y');
      await repo.createDelivery(delivery);
      const attempted: WebhookDelivery = {
        ...delivery,
        status: 'succeeded',
        attempts: [
          { attempt: 1, at: '2026-01-01T00:00:00.000Z', statusCode: 500, durationMs: 12, error: 'HTTP 500' },
          { attempt: 2, at: '2026-01-01T00:00:05.000Z', statusCode: 204, durationMs: 8 },
        ],
        updatedAt: '2026-01-01T00:00:05.000Z',
        version: 2,
      };
      delete attempted.nextAttemptAt;
      await repo.saveDelivery(delivery, attempted);
      expect(await repo.getDelivery(endpoint.clientId, delivery.deliveryId)).toEqual(attempted);
      await expect(repo.saveDelivery(delivery, { ...attempted, version: 2 })).rejects.toBeInstanceOf(VersionConflictError);
    });

    it("lists an endpoint's deliveries newest first across pages, and nobody else's", async () => {
      const endpoint = endpointOf(unique('client'));
      const other = endpointOf(endpoint.clientId);
      const ids = ['01JC1', '01JC2', '01JC3', '01JC4', '01JC5'].map((ulid) => `msg-${ulid}-${endpoint.webhookId}`);
      for (const id of ids) await repo.createDelivery(deliveryOf(endpoint, id));
      await repo.createDelivery(deliveryOf(other, `msg-01JC9-${other.webhookId}`));
      const { items } = await collectPages((cursor) => repo.listDeliveries(endpoint.clientId, endpoint.webhookId, { limit: 2, ...(cursor ? { cursor } : {}) }), 2);
      expect(items.map((d) => d.deliveryId)).toEqual([...ids].reverse());
      // The same endpoint id under another client shows nothing.
      expect((await repo.listDeliveries(unique('client'), endpoint.webhookId, { limit: 10 })).items).toEqual([]);
    });
  });
}
