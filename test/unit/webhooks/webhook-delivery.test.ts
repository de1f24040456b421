/** The webhook use cases on in-memory adapters: management, the router's sink, and the deliverer's decisions. */
import { Webhook } from 'standardwebhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { LocalSecretBox } from '../../../shared/adapters/local/local-secret-box.ts';
import { MemoryClientRepository } from '../../../shared/adapters/memory/client-repository.ts';
import { MemoryWebhookRepository } from '../../../shared/adapters/memory/webhook-repository.ts';
import { generateWebhookSecret, signedHeaders } from '../../../shared/adapters/webhooks/signature.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../../shared/domain/errors.ts';
import type { InstanceEvent } from '../../../shared/domain/events.ts';
import { FAILING_ENDPOINT_DISABLE_MS } from '../../../shared/domain/webhooks.ts';
import type { NewInstanceEvent } from '../../../shared/ports/instance-repository.ts';
import type { DeliveryJob } from '../../../shared/ports/webhook-queue.ts';
import type { WebhookRequest, WebhookResponse } from '../../../shared/ports/webhook-transport.ts';
import { makeDeliverWebhook } from '../../../shared/services/webhooks/deliver-webhook.ts';
import { makeWebhookService } from '../../../shared/services/webhooks/manage-webhooks.ts';
import { makeWebhookSink } from '../../../shared/services/webhooks/webhook-sink.ts';
import { makeInstance, PLATFORM_ADMIN, principalFor } from '../../support/fakes.ts';
import { ManualClock } from '../../support/manual-clock.ts';

const CLIENT = 'client-acme';
const OTHER = 'client-other';
const admin = principalFor(CLIENT, 'admin');

function setup() {
  const clock = new ManualClock(new Date('2026-03-01T12:00:00.000Z'));
  const webhooks = new MemoryWebhookRepository();
  const clients = new MemoryClientRepository();
  const secretBox = LocalSecretBox.inMemory();
  const queued: { job: DeliveryJob; delayMs: number }[] = [];
  const queue = { enqueue: async (job: DeliveryJob, delayMs: number) => void queued.push({ job, delayMs }) };
  const answers: (WebhookResponse | ((r: WebhookRequest) => WebhookResponse))[] = [];
  const received: WebhookRequest[] = [];
  const refused = new Set<string>();
  const transport = {
    checkTarget: async (url: string) => {
      if (refused.has(url)) throw new ValidationError('Webhook url is not allowed', [], 'WEBHOOK_TARGET_REFUSED');
    },
    post: async (request: WebhookRequest): Promise<WebhookResponse> => {
      received.push(request);
      const answer = answers.shift() ?? { statusCode: 200, durationMs: 3 };
      return typeof answer === 'function' ? answer(request) : answer;
    },
  };
  const events: { subject: { id: string; clientId: string }; event: NewInstanceEvent }[] = [];
  const service = makeWebhookService({ webhooks, clients, secretBox, transport, queue, clock, generateSecret: generateWebhookSecret });
  const sink = makeWebhookSink({ webhooks, queue, clock });
  const deliver = makeDeliverWebhook({
    webhooks,
    transport,
    queue,
    secretBox,
    clock,
    sign: signedHeaders,
    appendEvent: async (subject, event) => void events.push({ subject, event }),
    retrySchedule: [0, 2_000, 4_000],
  });
  /** Run the queue like the local runtime does, advancing the clock by each delay. */
  const drain = async () => {
    const runs: string[] = [];
    while (queued.length) {
      const { job, delayMs } = queued.shift()!;
      clock.advance(delayMs);
      runs.push(await deliver(job));
    }
    return runs;
  };
  return { clock, webhooks, clients, service, sink, deliver, queued, answers, received, refused, events, drain, transport };
}

type Setup = ReturnType<typeof setup>;

async function addClients(s: Setup) {
  for (const clientId of [CLIENT, OTHER]) {
    await s.clients.create({ clientId, name: clientId, nameKey: clientId, status: 'active', maxInstances: 10, maxAutoTerminateMinutes: 120, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', version: 1 });
  }
}

let eventSeq = 0;
function statusEvent(toStatus: InstanceEvent['toStatus'], clientId = CLIENT): InstanceEvent {
  eventSeq++;
  return {
    eventId: `01JQ${String(eventSeq).padStart(22, '0')}`,
    instanceId: 'vps-web-abc123',
    clientId,
    type: 'instance.status-changed',
    fromStatus: 'CONFIGURING',
    toStatus,
    actor: 'system:provisioning',
    message: 'Ready',
    at: '2026-03-01T12:00:00.000Z',
  };
}

describe('webhook endpoints', () => {
  let s: Setup;
  beforeEach(async () => {
    s = setup();
    await addClients(s);
  });

  it('creates an endpoint with a whsec_ secret that only the create answers, sealed at rest', async () => {
    const { endpoint, secret } = await s.service.create(admin, { url: 'https://hooks.example.com/in', events: ['instance.ready'], description: 'ops' });
    expect(secret).toMatch(/^whsec_/);
    expect(endpoint).toMatchObject({ clientId: CLIENT, url: 'https://hooks.example.com/in', events: ['instance.ready'], status: 'enabled' });
    expect(JSON.stringify(await s.webhooks.getEndpoint(CLIENT, endpoint.webhookId))).not.toContain(secret!.slice(6));
    const read = await s.service.get(admin, endpoint.webhookId);
    expect(read.webhookId).toBe(endpoint.webhookId);
  });

  it('defaults to every instance event, and refuses bad input and private targets with 400s', async () => {
    expect((await s.service.create(admin, { url: 'https://hooks.example.com/a' })).endpoint.events).toEqual(['instance.*']);
    await expect(s.service.create(admin, { url: 'https://hooks.example.com/a', events: [] })).rejects.toThrow(/at least one/);
    await expect(s.service.create(admin, { url: 'https://hooks.example.com/a', events: ['Instance Ready'] })).rejects.toThrow(/each event must be/);
    await expect(s.service.create(admin, { events: ['instance.*'] })).rejects.toThrow(/url/);
    await expect(s.service.create(admin, { url: 'https://hooks.example.com/a', extra: 1 })).rejects.toBeInstanceOf(ValidationError);
    s.refused.add('http://10.0.0.1/');
    await expect(s.service.create(admin, { url: 'http://10.0.0.1/' })).rejects.toMatchObject({ status: 400, code: 'WEBHOOK_TARGET_REFUSED' });
  });

  it("is the client admin's: lower roles are refused, another client's endpoint is a 404, the platform admin names the client", async () => {
    const { endpoint } = await s.service.create(admin, { url: 'https://hooks.example.com/in' });
    await expect(s.service.create(principalFor(CLIENT, 'operator'), { url: 'https://hooks.example.com/in' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.service.get(principalFor(OTHER, 'admin'), endpoint.webhookId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.service.remove(principalFor(OTHER, 'admin'), endpoint.webhookId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.service.get(PLATFORM_ADMIN, endpoint.webhookId)).rejects.toThrow(/clientId is required/);
    expect((await s.service.get(PLATFORM_ADMIN, endpoint.webhookId, { clientId: CLIENT })).webhookId).toBe(endpoint.webhookId);
    expect((await s.service.create(PLATFORM_ADMIN, { url: 'https://hooks.example.com/x', clientId: OTHER })).endpoint.clientId).toBe(OTHER);
    expect((await s.service.list(principalFor(OTHER, 'admin'), {})).items.map((e) => e.url)).toEqual(['https://hooks.example.com/x']);
  });

  it('changes url, events and status, and rotates the secret, answering the new one once', async () => {
    const { endpoint, secret } = await s.service.create(admin, { url: 'https://hooks.example.com/in' });
    const changed = await s.service.update(admin, endpoint.webhookId, { url: 'https://hooks.example.com/v2', events: ['instance.terminated'], status: 'disabled' });
    expect(changed.endpoint).toMatchObject({ url: 'https://hooks.example.com/v2', events: ['instance.terminated'], status: 'disabled', disabledReason: 'manual', version: 2 });
    expect(changed.secret).toBeUndefined();
    const rotated = await s.service.update(admin, endpoint.webhookId, { rotateSecret: true, status: 'enabled' });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.endpoint.status).toBe('enabled');
    expect(rotated.endpoint.disabledReason).toBeUndefined();
    await expect(s.service.update(admin, endpoint.webhookId, {})).rejects.toThrow(/nothing to change/);
  });

  it('changes or deletes an endpoint with If-Match only at the version named: a stale one is a 412 and changes nothing', async () => {
    const { endpoint } = await s.service.create(admin, { url: 'https://hooks.example.com/in' });
    const changed = await s.service.update(admin, endpoint.webhookId, { description: 'first' }, undefined, { ifMatch: [endpoint.version] });
    expect(changed.endpoint.version).toBe(endpoint.version + 1);

    await expect(s.service.update(admin, endpoint.webhookId, { description: 'stale' }, undefined, { ifMatch: [endpoint.version] })).rejects.toMatchObject({
      status: 412,
      code: 'PRECONDITION_FAILED',
    });
    await expect(s.service.remove(admin, endpoint.webhookId, undefined, { ifMatch: [endpoint.version] })).rejects.toMatchObject({ status: 412 });
    expect((await s.service.get(admin, endpoint.webhookId)).description).toBe('first');
    await s.service.remove(admin, endpoint.webhookId, undefined, { ifMatch: [changed.endpoint.version] });
    await expect(s.service.get(admin, endpoint.webhookId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('signs with both the new and the old secret for a day after a rotation', async () => {
    const { endpoint, secret: old } = await s.service.create(admin, { url: 'https://hooks.example.com/in' });
    const { secret: fresh } = await s.service.update(admin, endpoint.webhookId, { rotateSecret: true });
    await s.sink.deliver([{ event: statusEvent('READY'), instance: null }]);
    await s.drain();
    const request = s.received.at(-1)!;
    const stamp = (r: WebhookRequest) => ({ ...r.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) });
    // Re-sign at the real time: standardwebhooks checks the timestamp against the wall clock.
    const resigned = signedHeaders([fresh!, old!], request.headers['webhook-id']!, Number(stamp(request)['webhook-timestamp']), request.body);
    expect(request.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(fresh!).verify(request.body, resigned)).toBeTruthy();
    expect(new Webhook(old!).verify(request.body, resigned)).toBeTruthy();
    s.clock.advance(25 * 3_600_000);
    await s.sink.deliver([{ event: statusEvent('RUNNING'), instance: null }]);
    await s.drain();
    expect(s.received.at(-1)!.headers['webhook-signature']!.split(' ')).toHaveLength(1);
  });
});

describe('delivering events', () => {
  let s: Setup;
  beforeEach(async () => {
    s = setup();
    await addClients(s);
  });

  it('sends each event once to each subscribed endpoint of its client, with a Standard Webhooks body and headers', async () => {
    const ready = await s.service.create(admin, { url: 'https://a.example.com/', events: ['instance.ready'] });
    await s.service.create(admin, { url: 'https://b.example.com/', events: ['instance.terminated'] });
    await s.service.create(principalFor(OTHER, 'admin'), { url: 'https://other.example.com/', events: ['*'] });
    const event = statusEvent('READY');
    const instance = makeInstance({ id: 'vps-web-abc123', clientId: CLIENT, status: 'READY' });
    await s.sink.deliver([{ event, instance }]);
    // The router retried the batch: no second delivery (the job queued again finds it settled).
    await s.sink.deliver([{ event, instance }]);
    expect(await s.drain()).toEqual(['succeeded', 'settled']);
    expect(s.received).toHaveLength(1);
    const [request] = s.received;
    expect(request!.url).toBe('https://a.example.com/');
    const body = JSON.parse(request!.body);
    expect(body).toMatchObject({ type: 'instance.ready', timestamp: event.at, data: { event: { id: event.eventId, toStatus: 'READY' }, instance: { id: 'vps-web-abc123', status: 'READY' } } });
    expect(request!.headers['webhook-id']).toBe(`msg-${event.eventId}-${ready.endpoint.webhookId.slice(3)}`);
    expect(request!.headers['webhook-timestamp']).toBe(String(Math.floor(s.clock.now().getTime() / 1000)));
    expect(request!.timeoutMs).toBe(15_000);
  });

  it('retries a failing receiver on the schedule with the same webhook-id, and logs every attempt', async () => {
    const { endpoint } = await s.service.create(admin, { url: 'https://a.example.com/' });
    s.answers.push({ statusCode: 500, durationMs: 5 }, { error: 'No answer within 15 s', durationMs: 15_000 }, { statusCode: 204, durationMs: 4 });
    await s.sink.deliver([{ event: statusEvent('READY'), instance: null }]);
    expect(await s.drain()).toEqual(['retry', 'retry', 'succeeded']);
    expect(new Set(s.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const [delivery] = (await s.service.deliveries(admin, endpoint.webhookId, {})).items;
    expect(delivery!.status).toBe('succeeded');
    expect(delivery!.attempts.map((a) => [a.statusCode, a.error])).toEqual([
      [500, 'HTTP 500'],
      [undefined, 'No answer within 15 s'],
      [204, undefined],
    ]);
    expect(delivery!.attempts.map((a) => a.at)).toEqual(['2026-03-01T12:00:00.000Z', '2026-03-01T12:00:02.000Z', '2026-03-01T12:00:06.000Z']);
    // Success cleared the failure clock.
    expect((await s.webhooks.getEndpoint(CLIENT, endpoint.webhookId))!.failingSince).toBeUndefined();
  });

  it('gives up when the schedule is spent, and keeps the endpoint enabled with its failure clock running', async () => {
    const { endpoint } = await s.service.create(admin, { url: 'https://a.example.com/' });
    s.answers.push(...[1, 2, 3].map(() => ({ statusCode: 503, durationMs: 1 })));
    await s.sink.deliver([{ event: statusEvent('READY'), instance: null }]);
    expect(await s.drain()).toEqual(['retry', 'retry', 'exhausted']);
    const [delivery] = (await s.service.deliveries(admin, endpoint.webhookId, {})).items;
    expect(delivery).toMatchObject({ status: 'failed', note: 'Gave up after 3 attempts' });
    expect(await s.webhooks.getEndpoint(CLIENT, endpoint.webhookId)).toMatchObject({ status: 'enabled', failingSince: '2026-03-01T12:00:00.000Z' });
  });

  it('disables the endpoint at once when the receiver answers 410, and skips its pending deliveries', async () => {
    const { endpoint } = await s.service.create(admin, { url: 'https://a.example.com/' });
    s.answers.push({ statusCode: 410, durationMs: 2 });
    await s.sink.deliver([{ event: statusEvent('READY'), instance: null }, { event: statusEvent('RUNNING'), instance: null }]);
    expect(await s.drain()).toEqual(['disable', 'skipped']);
    expect(await s.webhooks.getEndpoint(CLIENT, endpoint.webhookId)).toMatchObject({ status: 'disabled', disabledReason: 'gone' });
    expect(s.events).toEqual([
      expect.objectContaining({ subject: { id: endpoint.webhookId, clientId: CLIENT }, event: expect.objectContaining({ type: 'webhook.disabled', data: expect.objectContaining({ reason: 'gone' }) }) }),
    ]);
    const log = (await s.service.deliveries(admin, endpoint.webhookId, {})).items;
    expect(log.map((d) => [d.status, d.note])).toEqual([
      ['failed', 'The endpoint was disabled (gone) before this delivery'],
      ['failed', 'the receiver answered 410 Gone'],
    ]);
    // A disabled endpoint gets no new deliveries.
    await s.sink.deliver([{ event: statusEvent('STOPPED'), instance: null }]);
    expect(s.queued).toHaveLength(0);
  });

  it('disables an endpoint that has failed for five days, with a webhook.disabled event', async () => {
    const { endpoint } = await s.service.create(admin, { url: 'https://a.example.com/' });
    s.answers.push(...Array.from({ length: 10 }, () => ({ statusCode: 500, durationMs: 1 })));
    await s.sink.deliver([{ event: statusEvent('READY'), instance: null }]);
    await s.drain();
    s.clock.advance(FAILING_ENDPOINT_DISABLE_MS);
    await s.sink.deliver([{ event: statusEvent('RUNNING'), instance: null }]);
    expect(await s.drain()).toEqual(['disable']);
    expect(await s.webhooks.getEndpoint(CLIENT, endpoint.webhookId)).toMatchObject({ status: 'disabled', disabledReason: 'failing' });
    expect(s.events.map((e) => e.event.data?.reason)).toEqual(['failing']);
  });

  it('waits out a job that arrives before its attempt is due, and ignores one whose delivery is settled', async () => {
    await s.service.create(admin, { url: 'https://a.example.com/' });
    s.answers.push({ statusCode: 500, durationMs: 1 });
    await s.sink.deliver([{ event: statusEvent('READY'), instance: null }]);
    const { job } = s.queued[0]!;
    await s.deliver(s.queued.shift()!.job);
    // The retry is due in 2 s: a duplicate job now goes back to wait.
    expect(await s.deliver(job)).toBe('not-due');
    expect(s.queued.at(-1)!.delayMs).toBe(2_000);
    expect(await s.drain()).toEqual(['succeeded', 'settled']);
    expect(s.received).toHaveLength(2);
  });

  it('sends a test event even to a disabled endpoint', async () => {
    const { endpoint } = await s.service.create(admin, { url: 'https://a.example.com/' });
    await s.service.update(admin, endpoint.webhookId, { status: 'disabled' });
    const delivery = await s.service.sendTest(admin, endpoint.webhookId);
    expect(delivery).toMatchObject({ type: 'webhook.test', status: 'pending', test: true });
    expect(await s.drain()).toEqual(['succeeded']);
    expect(JSON.parse(s.received[0]!.body)).toMatchObject({ type: 'webhook.test', data: { event: { type: 'webhook.test' }, instance: null } });
  });
});
