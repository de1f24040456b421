import type { InstanceEvent } from './events.ts';
import type { SealedSecret } from './sealed-secret.ts';

/**
 * Webhooks, as pure decisions: which public type an event goes out under, which endpoints want
 * it, and what a delivery attempt's outcome means for the delivery and its endpoint. The I/O
 * (signing, HTTP, queues) lives in shared/adapters/webhooks and shared/services/webhooks.
 */

export const WEBHOOK_STATUSES = ['enabled', 'disabled'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** Why an endpoint stopped receiving: a person, the receiver's 410, or five days of failures. */
export type DisabledReason = 'manual' | 'gone' | 'failing';

export interface WebhookEndpoint {
  webhookId: string;
  clientId: string;
  url: string;
  /** Exact types (`instance.ready`) or prefixes (`instance.*`); `*` is every event. */
  events: string[];
  description?: string;
  status: WebhookStatus;
  disabledReason?: DisabledReason;
  /** The `whsec_…` secret, sealed with the SecretBox under {clientId, webhookId, purpose}. */
  sealedSecret: SealedSecret;
  /**
   * After a rotation the previous secret keeps signing beside the new one until this time, so
   * receivers can switch without dropping deliveries (the spec allows several signatures).
   */
  previousSealedSecret?: SealedSecret;
  previousSecretExpiresAt?: string;
  /** When the first of the current run of failed attempts happened; cleared by any success. */
  failingSince?: string;
  createdAt: string;
  updatedAt: string;
  createdBy?: string;
  version: number;
}

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  /** The receiver's HTTP status; absent when no answer came (timeout, refused, DNS). */
  statusCode?: number;
  durationMs: number;
  error?: string;
}

/** One message to one endpoint: the body is fixed when it is made, so every retry sends the same bytes. */
export interface WebhookDelivery {
  /** Also the `webhook-id` header: the same on every attempt, so receivers can deduplicate. */
  deliveryId: string;
  webhookId: string;
  clientId: string;
  eventId: string;
  type: string;
  body: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  /** When the next attempt is due (pending deliveries only). */
  nextAttemptAt?: string;
  /** Why a delivery ended without a successful attempt when no attempt says it (endpoint deleted or disabled). */
  note?: string;
  /** A test event is sent even to a disabled endpoint: that is how one checks it before enabling. */
  test?: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/**
 * Delays before each attempt, counted from the previous one: immediately, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h (the Standard Webhooks reference schedule). Eight attempts over ~28 h.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** An endpoint whose attempts have all failed for this long is disabled. */
export const FAILING_ENDPOINT_DISABLE_MS = 5 * 24 * 60 * 60 * 1000;
/** How long a rotated-out secret keeps signing beside the new one. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;
/** A receiver has this long to answer. */
export const DELIVERY_TIMEOUT_MS = 15_000;

export type AttemptOutcome = { statusCode: number } | { error: string };

export type DeliveryDecision =
  | { kind: 'succeeded' }
  /** Try again after `delayMs`. */
  | { kind: 'retry'; delayMs: number }
  /** The schedule is spent: the delivery failed for good. */
  | { kind: 'exhausted' }
  /** The endpoint must stop receiving: the receiver said 410, or it has failed for five days. */
  | { kind: 'disable'; reason: 'gone' | 'failing' };

/**
 * What to do after attempt number `attempt` (1-based) ended with `outcome`. 2xx is success; 410
 * disables at once; anything else (other statuses, timeouts, refused connections) is retried on
 * the schedule, unless the endpoint has been failing since five days or more.
 */
export function deliveryDecision(
  outcome: AttemptOutcome,
  attempt: number,
  failingSince: string | undefined,
  now: Date,
  schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_MS,
): DeliveryDecision {
  if ('statusCode' in outcome && outcome.statusCode >= 200 && outcome.statusCode < 300) return { kind: 'succeeded' };
  if ('statusCode' in outcome && outcome.statusCode === 410) return { kind: 'disable', reason: 'gone' };
  const since = failingSince ? Date.parse(failingSince) : now.getTime();
  if (now.getTime() - since >= FAILING_ENDPOINT_DISABLE_MS) return { kind: 'disable', reason: 'failing' };
  if (attempt >= schedule.length) return { kind: 'exhausted' };
  return { kind: 'retry', delayMs: schedule[attempt]! };
}

/**
 * The public type an event goes out under (webhooks' `type`, documented in docs/events.md). A
 * status change is named after the status it reached (`instance.ready`, `instance.terminated`,
 * `instance.error`…); other events keep their own type, under `instance.` when they are about
 * an instance's provisioning or reconciliation.
 */
export function webhookTypeOf(event: Pick<InstanceEvent, 'type' | 'fromStatus' | 'toStatus'>): string {
  if (event.type === 'instance.status-changed' && event.toStatus) return `instance.${event.toStatus.toLowerCase()}`;
  if (event.type.startsWith('provisioning.') || event.type.startsWith('reconcile.')) return `instance.${event.type}`;
  return event.type;
}

/** `instance.*` matches every type that starts with `instance.`; `*` matches all; others exactly. */
export function subscribes(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))));
}

/** The types documented for subscriptions (patterns may also name types Hangar adds later). */
export const WEBHOOK_EVENT_TYPES = [
  'instance.created',
  'instance.provisioning',
  'instance.configuring',
  'instance.ready',
  'instance.running',
  'instance.stopping',
  'instance.stopped',
  'instance.starting',
  'instance.rebooting',
  'instance.terminating',
  'instance.terminated',
  'instance.error',
  'instance.updated',
  'instance.extend',
  'instance.health-changed',
  'instance.auto-terminate-warning',
  'instance.provisioning.launched',
  'instance.provisioning.configured',
  'instance.provisioning.compensated',
  'instance.provisioning.compensation-failed',
  'instance.reconcile.ghost-found',
  'instance.reconcile.orphan-terminated',
  'client.budget-threshold',
  'webhook.disabled',
  'webhook.test',
] as const;

/**
 * EventBridge `detail-type`s: stable, human-worded, few. Rules match on them and on
 * `detail.type` (the webhook type) for finer choices.
 */
export function eventBridgeDetailTypeOf(event: Pick<InstanceEvent, 'type' | 'fromStatus' | 'toStatus'>): string {
  if (event.type === 'instance.status-changed') return 'Instance Status Changed';
  if (event.type === 'instance.created') return 'Instance Created';
  if (event.type === 'instance.updated') return 'Instance Updated';
  if (event.type === 'instance.health-changed') return 'Instance Health Changed';
  if (event.type === 'instance.auto-terminate-warning') return 'Instance Auto-Terminate Warning';
  if (event.type.startsWith('provisioning.')) return 'Instance Provisioning Step';
  if (event.type.startsWith('reconcile.')) return 'Instance Reconciled';
  if (event.type === 'client.budget-threshold') return 'Budget Threshold Crossed';
  if (event.type.startsWith('webhook.')) return 'Webhook Endpoint Changed';
  if (event.type.startsWith('client.')) return 'Client Event';
  return 'Instance Event';
}

/** The `whsec_` secret format: a prefix and base64 of 24 random bytes (the spec allows 24–64). */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** The webhook-id of the delivery of one event to one endpoint: deterministic, so a retried batch makes no second delivery. */
export const deliveryIdOf = (eventId: string, webhookId: string) => `msg-${eventId}-${webhookId.replace(/^wh-/, '')}`;
