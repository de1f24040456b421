import { describe, expect, it } from 'vitest';
import type { Instance } from '../../../../shared/domain/instance.ts';
import type { EventSink, OutboundEvent } from '../../../../shared/ports/event-sink.ts';
import { makeRouteEvents, SinkDeliveryError } from '../../../../shared/services/events/route-events.ts';
import { makeInstance } from '../../domain/fixtures.ts';
import { eventRecord, makeEvent, otherRecord } from './stream-records.ts';

/** A sink that records what it was handed, and can be told to fail its next deliveries. */
function recordingSink(name: string) {
  const batches: OutboundEvent[][] = [];
  let failures = 0;
  const sink: EventSink & { batches: OutboundEvent[][]; failNext(times: number): void } = {
    name,
    batches,
    failNext: (times) => void (failures = times),
    async deliver(events) {
      if (failures > 0) {
        failures--;
        throw new Error(`${name} is down`);
      }
      batches.push(events);
    },
  };
  return sink;
}

function instanceStore(instances: Instance[]) {
  const reads: string[] = [];
  return {
    reads,
    async get(clientId: string, id: string) {
      reads.push(`${clientId}/${id}`);
      return instances.find((i) => i.clientId === clientId && i.id === id) ?? null;
    },
  };
}

describe('the event router', () => {
  const a = makeInstance({ id: 'vps-a-aaaaaa', status: 'READY' });
  const b = makeInstance({ id: 'vps-b-bbbbbb', status: 'PROVISIONING' });

  it('keeps only inserted event items, in stream order, each with its instance', async () => {
    const store = instanceStore([a, b]);
    const sink = recordingSink('one');
    const route = makeRouteEvents({ instances: store, sinks: [sink] });
    const e1 = makeEvent({ eventId: '01A', instanceId: a.id, toStatus: 'PROVISIONING' });
    const e2 = makeEvent({ eventId: '01B', instanceId: b.id });
    const e3 = makeEvent({ eventId: '01C', instanceId: a.id, fromStatus: 'PROVISIONING', toStatus: 'READY' });
    const routed = await route([
      otherRecord(`CLIENT#${a.clientId}`, `INSTANCE#${a.id}`, 'MODIFY'),
      eventRecord(e1),
      otherRecord(`INSTANCE#${a.id}`, 'HEALTH#2026-01-01T00:00:00.000Z'),
      eventRecord(e2),
      eventRecord(makeEvent({ eventId: '01X' }), 'REMOVE'),
      eventRecord(e3),
    ]);
    expect(routed).toEqual({ records: 6, events: 3 });
    expect(sink.batches).toHaveLength(1);
    expect(sink.batches[0]!.map((o) => o.event)).toEqual([e1, e2, e3]);
    expect(sink.batches[0]!.map((o) => o.instance?.id)).toEqual([a.id, b.id, a.id]);
    // One read per instance per batch, however many of its events the batch holds.
    expect(store.reads.sort()).toEqual([`${a.clientId}/${a.id}`, `${b.clientId}/${b.id}`]);
  });

  it('hands an event that names no instance on with a null instance', async () => {
    const sink = recordingSink('one');
    const { fromStatus: _from, toStatus: _to, ...budget } = makeEvent({ eventId: '01D', instanceId: 'client-1', type: 'client.budget-threshold' });
    await makeRouteEvents({ instances: instanceStore([]), sinks: [sink] })([eventRecord(budget)]);
    expect(sink.batches[0]).toEqual([{ event: budget, instance: null }]);
  });

  it('calls no sink and reads nothing for a batch without events', async () => {
    const store = instanceStore([a]);
    const sink = recordingSink('one');
    expect(await makeRouteEvents({ instances: store, sinks: [sink] })([otherRecord('CLIENT#c', 'STATS', 'MODIFY')])).toEqual({ records: 1, events: 0 });
    expect(sink.batches).toEqual([]);
    expect(store.reads).toEqual([]);
  });

  it('hands every event to every sink; a failed sink fails the batch, and its retry repeats nothing to the sinks that took it', async () => {
    const steady = recordingSink('websocket');
    const flaky = recordingSink('webhooks');
    const route = makeRouteEvents({ instances: instanceStore([a]), sinks: [steady, flaky] });
    const batch = [eventRecord(makeEvent({ eventId: '01E', instanceId: a.id })), eventRecord(makeEvent({ eventId: '01F', instanceId: a.id }))];

    flaky.failNext(1);
    const failed = await route(batch).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(SinkDeliveryError);
    expect((failed as SinkDeliveryError).failures.map((f) => f.sink)).toEqual(['webhooks']);
    expect((failed as Error).message).toContain('webhooks is down');

    await route(batch);
    expect(steady.batches.map((b) => b.map((o) => o.event.eventId))).toEqual([['01E', '01F']]);
    expect(flaky.batches.map((b) => b.map((o) => o.event.eventId))).toEqual([['01E', '01F']]);

    // A batch overlapping the last one (a bisected retry): only what each sink has not had.
    await route([batch[1]!, eventRecord(makeEvent({ eventId: '01G', instanceId: a.id }))]);
    expect(steady.batches.at(-1)!.map((o) => o.event.eventId)).toEqual(['01G']);
  });

  it('forgets the oldest ids beyond what it is told to remember', async () => {
    const sink = recordingSink('one');
    const route = makeRouteEvents({ instances: instanceStore([a]), sinks: [sink], rememberedPerSink: 2 });
    const records = ['01H', '01I', '01J'].map((eventId) => eventRecord(makeEvent({ eventId, instanceId: a.id })));
    for (const record of records) await route([record]);
    await route([records[0]!, records[2]!]);
    expect(sink.batches.at(-1)!.map((o) => o.event.eventId)).toEqual(['01H']);
  });
});
