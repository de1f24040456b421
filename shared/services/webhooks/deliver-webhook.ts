import { VersionConflictError } from '../../domain/errors.ts';
import { SYSTEM_ACTOR } from '../../domain/events.ts';
import {
  type AttemptOutcome,
  DEFAULT_RETRY_SCHEDULE_MS,
  DELIVERY_TIMEOUT_MS,
  deliveryDecision,
  type DeliveryDecision,
  type WebhookDelivery,
  type WebhookEndpoint,
} from '../../domain/webhooks.ts';
import type { Clock } from '../../ports/clock.ts';
import type { NewInstanceEvent } from '../../ports/instance-repository.ts';
import type { SecretBox } from '../../ports/secret-box.ts';
import type { DeliveryJob, WebhookQueue } from '../../ports/webhook-queue.ts';
import type { WebhookRepository } from '../../ports/webhook-repository.ts';
import type { WebhookTransport } from '../../ports/webhook-transport.ts';
import { makeSigningSecrets } from './secrets.ts';

export interface DeliverWebhookDeps {
  webhooks: WebhookRepository;
  transport: Pick<WebhookTransport, 'post'>;
  queue: WebhookQueue;
  secretBox: SecretBox;
  clock: Clock;
  /** The Standard Webhooks headers for a body (node:crypto, in shared/adapters/webhooks/signature.ts). */
  sign: (secrets: readonly string[], id: string, timestampSeconds: number, body: string) => Record<string, string>;
  /** Writes an event about an endpoint (its id in `instanceId`): how "disabled after five days" reaches the client. */
  appendEvent: (subject: { id: string; clientId: string }, event: NewInstanceEvent) => Promise<unknown>;
  /** Delays before each attempt; the local runtime may shorten them. @default DEFAULT_RETRY_SCHEDULE_MS */
  retrySchedule?: readonly number[];
  /** @default 15 s */
  timeoutMs?: number;
}

/** What one run of the deliverer did with a job, for logs and tests. */
export type DeliveryRun = 'missing' | 'settled' | 'not-due' | 'skipped' | 'duplicate' | DeliveryDecision['kind'];

const ACTOR = SYSTEM_ACTOR('webhooks');
/** A job that arrives this early is still run: queues and timers are not exact. */
const EARLY_TOLERANCE_MS = 1000;

/**
 * One delivery attempt, the same on AWS (the SQS deliverer) and locally (the in-process queue):
 * sign the stored body with the endpoint's secret(s), POST it, record the attempt, and decide
 * (shared/domain/webhooks.ts#deliveryDecision): done, retry later through the queue, failed for
 * good, or disable the endpoint. Jobs arrive at least once; a settled or not-yet-due delivery is
 * left as it is (a not-yet-due one goes back to wait the rest of its delay).
 */
export function makeDeliverWebhook(deps: DeliverWebhookDeps) {
  const schedule = deps.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_MS;
  const signingSecrets = makeSigningSecrets(deps.secretBox);

  async function settleWithout(delivery: WebhookDelivery, note: string, now: Date): Promise<DeliveryRun> {
    const after: WebhookDelivery = { ...delivery, status: 'failed', note, updatedAt: now.toISOString(), version: delivery.version + 1 };
    delete after.nextAttemptAt;
    await deps.webhooks.saveDelivery(delivery, after).catch(ignoreLostRace);
    return 'skipped';
  }

  return async function deliver(job: DeliveryJob): Promise<DeliveryRun> {
    const delivery = await deps.webhooks.getDelivery(job.clientId, job.deliveryId);
    if (!delivery) return 'missing';
    if (delivery.status !== 'pending') return 'settled';
    const now = deps.clock.now();
    const due = delivery.nextAttemptAt ? Date.parse(delivery.nextAttemptAt) : now.getTime();
    if (due - now.getTime() > EARLY_TOLERANCE_MS) {
      await deps.queue.enqueue(job, due - now.getTime());
      return 'not-due';
    }

    const endpoint = await deps.webhooks.getEndpoint(delivery.clientId, delivery.webhookId);
    if (!endpoint) return settleWithout(delivery, 'The endpoint was deleted before this delivery', now);
    if (endpoint.status !== 'enabled' && !delivery.test) {
      return settleWithout(delivery, `The endpoint was disabled (${endpoint.disabledReason ?? 'manual'}) before this delivery`, now);
    }

    const secrets = await signingSecrets(endpoint, now);
    const headers = deps.sign(secrets, delivery.deliveryId, Math.floor(now.getTime() / 1000), delivery.body);
    const response = await deps.transport.post({ url: endpoint.url, headers, body: delivery.body, timeoutMs: deps.timeoutMs ?? DELIVERY_TIMEOUT_MS });
    const outcome: AttemptOutcome = 'statusCode' in response ? { statusCode: response.statusCode } : { error: response.error };
    const attempt = delivery.attempts.length + 1;
    const finished = deps.clock.now();
    const decision = deliveryDecision(outcome, attempt, endpoint.failingSince, finished, schedule);

    const after: WebhookDelivery = {
      ...delivery,
      attempts: [
        ...delivery.attempts,
        {
          attempt,
          at: now.toISOString(),
          ...('statusCode' in response ? { statusCode: response.statusCode } : {}),
          durationMs: response.durationMs,
          ...('error' in response ? { error: response.error } : response.statusCode >= 300 ? { error: `HTTP ${response.statusCode}` } : {}),
        },
      ],
      status: decision.kind === 'succeeded' ? 'succeeded' : decision.kind === 'retry' ? 'pending' : 'failed',
      updatedAt: finished.toISOString(),
      version: delivery.version + 1,
    };
    delete after.nextAttemptAt;
    if (decision.kind === 'retry') after.nextAttemptAt = new Date(finished.getTime() + decision.delayMs).toISOString();
    if (decision.kind === 'exhausted') after.note = `Gave up after ${attempt} attempts`;
    if (decision.kind === 'disable') after.note = disableMessage(decision.reason);
    try {
      await deps.webhooks.saveDelivery(delivery, after);
    } catch (error) {
      // Another run of the same job got there first (at-least-once queues): it recorded its own attempt.
      if (error instanceof VersionConflictError) return 'duplicate';
      throw error;
    }

    await recordOnEndpoint(endpoint, decision, finished);
    if (decision.kind === 'retry') await deps.queue.enqueue(job, decision.delayMs);
    return decision.kind;
  };

  /** Success clears the failure clock; a failure starts it; a disable decision disables, once, with an event. */
  async function recordOnEndpoint(endpoint: WebhookEndpoint, decision: DeliveryDecision, now: Date): Promise<void> {
    for (let current: WebhookEndpoint | null = endpoint, tries = 0; current && tries < 5; tries++) {
      const after = endpointAfter(current, decision, now);
      if (!after) return;
      try {
        await deps.webhooks.saveEndpoint(current, after);
        if (after.status === 'disabled' && current.status === 'enabled' && decision.kind === 'disable') {
          await deps.appendEvent(
            { id: current.webhookId, clientId: current.clientId },
            {
              type: 'webhook.disabled',
              actor: ACTOR,
              message: `Webhook ${current.webhookId} (${current.url}) was disabled: ${disableMessage(decision.reason)}`,
              data: { webhookId: current.webhookId, url: current.url, reason: decision.reason },
            },
          );
        }
        return;
      } catch (error) {
        if (!(error instanceof VersionConflictError)) throw error;
        current = await deps.webhooks.getEndpoint(endpoint.clientId, endpoint.webhookId);
      }
    }
  }
}

function endpointAfter(endpoint: WebhookEndpoint, decision: DeliveryDecision, now: Date): WebhookEndpoint | null {
  const bump = { updatedAt: now.toISOString(), version: endpoint.version + 1 };
  if (decision.kind === 'succeeded') {
    if (!endpoint.failingSince) return null;
    const after = { ...endpoint, ...bump };
    delete after.failingSince;
    return after;
  }
  if (decision.kind === 'disable') {
    if (endpoint.status === 'disabled') return null;
    return { ...endpoint, ...bump, status: 'disabled', disabledReason: decision.reason, failingSince: endpoint.failingSince ?? now.toISOString() };
  }
  return endpoint.failingSince ? null : { ...endpoint, ...bump, failingSince: now.toISOString() };
}

const disableMessage = (reason: 'gone' | 'failing') =>
  reason === 'gone' ? 'the receiver answered 410 Gone' : 'every attempt has failed for 5 days';

function ignoreLostRace(error: unknown): void {
  if (!(error instanceof VersionConflictError)) throw error;
}

export type DeliverWebhook = ReturnType<typeof makeDeliverWebhook>;
