import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type RuntimeProcess, startRuntimeProcess, waitFor } from '../support/local-runtime.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

/** A webhook receiver on 127.0.0.1 that answers with the statuses it is given, then 204. */
async function receiver(statuses: number[] = []) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const status = statuses.shift() ?? 204;
      received.push({ headers: req.headers, body, status, at: Date.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

type Receiver = Awaited<ReturnType<typeof receiver>>;
const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

/** Signed webhooks from a LOCAL instance's life, as a receiver on this machine gets them. */
describe('webhooks on the local runtime', () => {
  let runtime: RuntimeProcess;
  let api: ReturnType<typeof apiClient>;
  let other: ReturnType<typeof apiClient>;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    runtime = await startRuntimeProcess({ env: { HANGAR_WORKFLOW_WAIT_MS: '100', HANGAR_WEBHOOK_RETRY_SCHEDULE: '0,300ms,300ms,300ms' } });
    const admin = apiClient(runtime.url, runtime.adminKey);
    const keyFor = async (name: string) => {
      const client = await admin('POST', '/api/clients', { name });
      const issued = await admin('POST', `/api/clients/${client.body.client.id}/api-keys`, { name: 'admin', role: 'admin' });
      return apiClient(runtime.url, issued.body.apiKey.key);
    };
    api = await keyFor('Hooks Inc');
    other = await keyFor('Other Hooks Inc');
  });

  afterAll(async () => {
    await runtime?.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function endpoint(events: string[], statuses: number[] = []) {
    const target = await receiver(statuses);
    receivers.push(target);
    const created = await api('POST', '/api/webhooks', { url: target.url, events, description: `receiver ${receivers.length}` });
    expect(created.status).toBe(201);
    return { target, webhook: created.body.webhook as { id: string; secret: string; status: string } };
  }

  it('delivers every status of a LOCAL instance, signed so that standardwebhooks verifies them, and retries a failing receiver with the same webhook-id', async () => {
    const all = await endpoint(['instance.*']);
    expect(all.webhook).toMatchObject({ url: all.target.url, events: ['instance.*'], status: 'enabled', secret: expect.stringMatching(/^whsec_/) });
    const flaky = await endpoint(['instance.ready'], [500, 500]);
    // The secret is shown once.
    expect((await api('GET', `/api/webhooks/${all.webhook.id}`)).body.webhook.secret).toBeUndefined();

    const created = await api('POST', '/api/instances', { name: 'hooked' });
    const id = created.body.instance.id as string;
    await waitFor('READY', async () => ((await api('GET', `/api/instances/${id}`)).body.instance.status === 'READY' ? true : undefined), 60_000);
    expect((await api('DELETE', `/api/instances/${id}`)).status).toBe(202);
    const bodies = await waitFor(
      'instance.terminated at the receiver',
      async () => {
        const parsed = all.target.received.map((r) => JSON.parse(r.body));
        return parsed.some((b) => b.type === 'instance.terminated') ? parsed : undefined;
      },
      60_000,
    );

    const verifier = new Webhook(all.webhook.secret);
    for (const request of all.target.received) expect(verifier.verify(request.body, headersOf(request))).toEqual(JSON.parse(request.body));
    // Another secret does not verify them.
    expect(() => new Webhook(flaky.webhook.secret).verify(all.target.received[0]!.body, headersOf(all.target.received[0]!))).toThrow();

    // In the order written (event ids are ULIDs), every status from creation to TERMINATED.
    const mine = bodies.filter((b) => b.data.event.instanceId === id).sort((a, b) => (a.data.event.id < b.data.event.id ? -1 : 1));
    const statuses = mine.map((b) => b.type).filter((t: string) => !t.startsWith('instance.provisioning.') && t !== 'instance.health-changed');
    expect(statuses).toEqual(['instance.created', 'instance.provisioning', 'instance.configuring', 'instance.ready', 'instance.terminating', 'instance.terminated']);
    const terminated = mine.find((b) => b.type === 'instance.terminated');
    expect(terminated.data.instance).toMatchObject({ id, status: 'TERMINATED', totalCost: expect.any(Number) });
    expect(terminated.data.event).toMatchObject({ fromStatus: 'TERMINATING', toStatus: 'TERMINATED', clientId: created.body.instance.clientId });
    expect(new Set(all.target.received.map((r) => r.headers['webhook-id'])).size).toBe(all.target.received.length);

    // 500, 500, then 204: the third attempt gets it, with the webhook-id of the first.
    await waitFor('the third attempt', async () => (flaky.target.received.length >= 3 ? true : undefined), 20_000);
    expect(flaky.target.received.map((r) => r.status)).toEqual([500, 500, 204]);
    expect(new Set(flaky.target.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(JSON.parse(flaky.target.received[2]!.body).type).toBe('instance.ready');
    const flakyVerifier = new Webhook(flaky.webhook.secret);
    for (const request of flaky.target.received) expect(flakyVerifier.verify(request.body, headersOf(request))).toBeTruthy();

    const log = await waitFor('the delivery log', async () => {
      const { body } = await api('GET', `/api/webhooks/${flaky.webhook.id}/deliveries`);
      return body.deliveries?.[0]?.status === 'succeeded' ? body : undefined;
    });
    expect(log.deliveries).toHaveLength(1);
    expect(log.deliveries[0]).toMatchObject({ id: flaky.target.received[0]!.headers['webhook-id'], type: 'instance.ready', status: 'succeeded' });
    expect(log.deliveries[0].attempts.map((a: { status: number; error: string | null }) => [a.status, a.error])).toEqual([
      [500, 'HTTP 500'],
      [500, 'HTTP 500'],
      [204, null],
    ]);
    for (const attempt of log.deliveries[0].attempts) expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('disables an endpoint whose receiver answers 410 Gone, and shows why', async () => {
    const gone = await endpoint(['*'], [410]);
    expect((await api('POST', `/api/webhooks/${gone.webhook.id}/test`)).status).toBe(202);
    const disabled = await waitFor('the endpoint to be disabled', async () => {
      const { body } = await api('GET', `/api/webhooks/${gone.webhook.id}`);
      return body.webhook.status === 'disabled' ? body.webhook : undefined;
    });
    expect(disabled).toMatchObject({ disabledReason: 'gone' });
    expect(gone.target.received).toHaveLength(1);
    const { body } = await api('GET', `/api/webhooks/${gone.webhook.id}/deliveries`);
    expect(body.deliveries[0]).toMatchObject({ type: 'webhook.test', status: 'failed', attempts: [{ status: 410 }] });
    // Enabled again by its owner, it receives again.
    expect((await api('PATCH', `/api/webhooks/${gone.webhook.id}`, { status: 'enabled' })).body.webhook).toMatchObject({ status: 'enabled', disabledReason: null });
  });

  it('sends a test event, rotates the secret, and keeps endpoints to their client', async () => {
    const target = await endpoint(['instance.ready']);
    const rotated = await api('PATCH', `/api/webhooks/${target.webhook.id}`, { rotateSecret: true });
    expect(rotated.body.webhook.secret).toMatch(/^whsec_/);
    expect(rotated.body.webhook.secret).not.toBe(target.webhook.secret);
    await api('POST', `/api/webhooks/${target.webhook.id}/test`);
    const request = await waitFor('the test event', async () => target.target.received[0]);
    expect(JSON.parse(request.body)).toMatchObject({ type: 'webhook.test', data: { instance: null } });
    expect(new Webhook(rotated.body.webhook.secret).verify(request.body, headersOf(request))).toBeTruthy();
    expect(new Webhook(target.webhook.secret).verify(request.body, headersOf(request))).toBeTruthy();

    expect((await other('GET', `/api/webhooks/${target.webhook.id}`)).status).toBe(404);
    expect((await other('DELETE', `/api/webhooks/${target.webhook.id}`)).status).toBe(404);
    expect((await other('GET', '/api/webhooks')).body.webhooks).toEqual([]);
    const listed = await api('GET', '/api/webhooks?limit=2');
    expect(listed.body).toMatchObject({ count: 2, nextCursor: expect.any(String) });
  });

  it('refuses private targets and bad input with 400s, loopback being allowed only because this is the local runtime', async () => {
    for (const url of ['http://10.0.0.1/hooks', 'http://169.254.169.254/latest', 'http://[fd00::1]/', 'ftp://127.0.0.1/']) {
      const refused = await api('POST', '/api/webhooks', { url, events: ['instance.*'] });
      expect(refused.status, url).toBe(400);
      expect(refused.body.success).toBe(false);
    }
    expect((await api('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/', events: ['not an event'] })).status).toBe(400);
    expect((await api('POST', '/api/webhooks', '{"url":')).status).toBe(400);
    expect((await api('PATCH', '/api/webhooks/wh-missing000000', { status: 'enabled' })).status).toBe(404);
  });
});
