import type { InstanceEvent } from '../../domain/events.ts';
import type { Instance } from '../../domain/instance.ts';
import { eventOfRecord, type StreamRecord } from '../../db/event-stream-records.ts';
import type { EventSink, OutboundEvent } from '../../ports/event-sink.ts';
import type { InstanceRepository } from '../../ports/instance-repository.ts';

export interface RouteEventsDeps {
  instances: Pick<InstanceRepository, 'get'>;
  /** Every destination of the stream: WebSockets, webhooks, the EventBridge bus. */
  sinks: readonly EventSink[];
  /** How many delivered event ids each sink remembers, so a retried batch does not repeat them. */
  rememberedPerSink?: number;
}

export interface RoutedBatch {
  /** Records in the batch. */
  records: number;
  /** Instance events among them, handed to the sinks. */
  events: number;
}

/** Some sinks failed: the batch must be retried (sinks that took it already are not given it again). */
export class SinkDeliveryError extends Error {
  constructor(readonly failures: { sink: string; error: unknown }[]) {
    super(`Event sinks failed: ${failures.map((f) => `${f.sink}: ${(f.error as Error)?.message ?? f.error}`).join('; ')}`);
    this.name = 'SinkDeliveryError';
  }
}

export type RouteEvents = (records: readonly StreamRecord[]) => Promise<RoutedBatch>;

/**
 * The one router of Hangar's events, fed by DynamoDB Streams on AWS and by the local stream
 * reader locally. It keeps the instance events of a batch (INSERTs of event items), attaches the
 * instance each concerns, and hands them to every sink in stream order, which is write order per
 * instance (an instance's events share a partition, so they share a shard, in order).
 *
 * The instance is read, not carried: one consistent read per instance per batch, after the
 * events were written, so it is at least as new as every event of the batch. Carrying it would
 * copy the whole instance into every event item, on every write and into the event log forever,
 * and progress events (appendEvent) are written without the instance at hand.
 *
 * Sinks run side by side, so a slow one does not hold back the others. If any fails the batch
 * fails, to be retried (bisected on AWS); each sink remembers the event ids it took, so a retry
 * gives it only what it has not had: once per sink while the process lives, and every event
 * carries its id for the rare repeat after a cold start.
 */
export function makeRouteEvents(deps: RouteEventsDeps): RouteEvents {
  const remembered = new Map(deps.sinks.map((sink) => [sink, new RecentIds(deps.rememberedPerSink ?? 10_000)]));

  return async (records) => {
    const events = records.map(eventOfRecord).filter((e): e is InstanceEvent => e !== null);
    if (events.length === 0) return { records: records.length, events: 0 };
    const instances = await loadInstances(deps.instances, events);
    const outbound: OutboundEvent[] = events.map((event) => ({ event, instance: instances.get(instanceKey(event)) ?? null }));

    const failures: { sink: string; error: unknown }[] = [];
    await Promise.all(
      deps.sinks.map(async (sink) => {
        const seen = remembered.get(sink)!;
        const fresh = outbound.filter((o) => !seen.has(o.event.eventId));
        if (fresh.length === 0) return;
        try {
          await sink.deliver(fresh);
          for (const o of fresh) seen.add(o.event.eventId);
        } catch (error) {
          failures.push({ sink: sink.name, error });
        }
      }),
    );
    if (failures.length) throw new SinkDeliveryError(failures);
    return { records: records.length, events: events.length };
  };
}

const instanceKey = (event: Pick<InstanceEvent, 'clientId' | 'instanceId'>) => `${event.clientId}/${event.instanceId}`;

/** One read per instance of the batch (events of a client that name no instance find none). */
async function loadInstances(repo: Pick<InstanceRepository, 'get'>, events: InstanceEvent[]): Promise<Map<string, Instance | null>> {
  const wanted = new Map<string, InstanceEvent>();
  for (const event of events) wanted.set(instanceKey(event), event);
  const loaded = await Promise.all([...wanted].map(async ([key, e]) => [key, await repo.get(e.clientId, e.instanceId)] as const));
  return new Map(loaded);
}

/** The last `capacity` ids added, oldest forgotten first. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }
}
