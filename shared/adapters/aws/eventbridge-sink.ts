import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { requireEnv } from '../../config/env.ts';
import { eventBridgeDetailTypeOf } from '../../domain/webhooks.ts';
import type { EventSink, OutboundEvent } from '../../ports/event-sink.ts';
import { outboundDetail } from '../../services/webhooks/payload.ts';

/** PutEvents takes at most 10 entries and 256 KB per request. */
export const MAX_ENTRIES_PER_PUT = 10;
export const MAX_PUT_BYTES = 256 * 1024;
/** Every Hangar event's `source`. */
export const EVENT_SOURCE = 'hangar';
/** The variable the CDK app sets on the router: the stage's bus, `hangar-<stage>`. */
export const EVENT_BUS_VARIABLE = 'EVENT_BUS_NAME';

let sharedClient: EventBridgeClient | undefined;
const defaultClient = () => (sharedClient ??= new EventBridgeClient({}));

export interface EventBridgeSinkOptions {
  busName: string;
  client?: EventBridgeClient;
  /** Rounds of resending the entries PutEvents failed (throttling, internal errors). @default 3 */
  retries?: number;
  /** Pause before the first resend, doubled each round. @default 100 ms */
  backoffMs?: number;
}

/**
 * Every event onto the stage's bus: `source` hangar, a stable `detail-type`, `detail` the event
 * and the instance (the same `data` a webhook carries). Batched within PutEvents' limits; entries
 * PutEvents reports failed are resent, and still-failing ones raise, so the router retries the batch.
 */
export class EventBridgeSink implements EventSink {
  readonly name = 'eventbridge';
  private readonly client: EventBridgeClient;

  constructor(private readonly options: EventBridgeSinkOptions) {
    this.client = options.client ?? defaultClient();
  }

  static fromEnvironment(): EventBridgeSink {
    return new EventBridgeSink({ busName: requireEnv(EVENT_BUS_VARIABLE) });
  }

  async deliver(events: OutboundEvent[]): Promise<void> {
    const entries = events.map((outbound) => this.entryOf(outbound));
    for (const batch of batchesOf(entries)) await this.put(batch);
  }

  private entryOf(outbound: OutboundEvent): PutEventsRequestEntry {
    const entry = {
      EventBusName: this.options.busName,
      Source: EVENT_SOURCE,
      DetailType: eventBridgeDetailTypeOf(outbound.event),
      Time: new Date(outbound.event.at),
      Resources: [],
      Detail: JSON.stringify(outboundDetail(outbound)),
    } satisfies PutEventsRequestEntry;
    // An instance with enormous tags could pass the limit on its own: the event still goes, without it.
    if (entrySize(entry) > MAX_PUT_BYTES) entry.Detail = JSON.stringify({ ...outboundDetail({ ...outbound, instance: null }), instanceOmitted: true });
    return entry;
  }

  private async put(batch: PutEventsRequestEntry[]): Promise<void> {
    const retries = this.options.retries ?? 3;
    let pending = batch;
    for (let round = 0; ; round++) {
      const result = await this.client.send(new PutEventsCommand({ Entries: pending }));
      if (!result.FailedEntryCount) return;
      // Results are positional: the entries with an ErrorCode are the ones to send again.
      const failed = (result.Entries ?? []).flatMap((r, i) => (r.ErrorCode ? [{ entry: pending[i]!, error: `${r.ErrorCode}: ${r.ErrorMessage ?? ''}` }] : []));
      if (failed.length === 0) return;
      if (round >= retries) {
        throw new Error(`EventBridge refused ${failed.length} event(s) on ${this.options.busName} after ${retries + 1} tries: ${failed[0]!.error}`);
      }
      pending = failed.map((f) => f.entry);
      await new Promise((resolve) => setTimeout(resolve, (this.options.backoffMs ?? 100) * 2 ** round));
    }
  }
}

/** PutEvents' own size rule: Time counts 14 bytes; Source, DetailType, Detail and Resources their UTF-8 bytes. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text ? Buffer.byteLength(text, 'utf8') : 0);
  return (entry.Time ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0);
}

/** Consecutive runs of entries (order kept) of at most 10 entries and 256 KB. */
export function batchesOf(entries: PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const batches: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let size = 0;
  for (const entry of entries) {
    const bytes = entrySize(entry);
    if (current.length > 0 && (current.length >= MAX_ENTRIES_PER_PUT || size + bytes > MAX_PUT_BYTES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
