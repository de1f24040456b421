import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchesOf, EventBridgeSink, entrySize, MAX_PUT_BYTES } from '../../../shared/adapters/aws/eventbridge-sink.ts';
import type { InstanceEvent } from '../../../shared/domain/events.ts';
import { makeInstance } from '../../support/fakes.ts';

const eventbridge = mockClient(EventBridgeClient);

let seq = 0;
const eventOf = (overrides: Partial<InstanceEvent> = {}): InstanceEvent => ({
  eventId: `01JQ${String(++seq).padStart(22, '0')}`,
  instanceId: 'vps-web-abc123',
  clientId: 'client-acme',
  type: 'instance.status-changed',
  fromStatus: 'CONFIGURING',
  toStatus: 'READY',
  actor: 'system:provisioning',
  message: 'Ready',
  at: '2026-03-01T12:00:00.000Z',
  ...overrides,
});

describe('EventBridgeSink', () => {
  beforeEach(() => {
    eventbridge.reset();
    eventbridge.on(PutEventsCommand).callsFake((input) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `e${i}` })) }));
  });
  const sink = () => new EventBridgeSink({ busName: 'hangar-test', client: new EventBridgeClient({ region: 'us-east-1' }), backoffMs: 1 });

  it('puts every event on the stage bus with source hangar, a stable detail-type and the event and instance as detail', async () => {
    const instance = makeInstance({ id: 'vps-web-abc123', clientId: 'client-acme', status: 'READY' });
    await sink().deliver([
      { event: eventOf(), instance },
      { event: eventOf({ type: 'instance.created', fromStatus: undefined, toStatus: undefined }), instance },
      { event: eventOf({ type: 'client.budget-threshold', instanceId: 'client-acme', fromStatus: undefined, toStatus: undefined }), instance: null },
    ]);
    const [call] = eventbridge.commandCalls(PutEventsCommand);
    const entries = call!.args[0].input.Entries!;
    expect(entries.map((e) => [e.EventBusName, e.Source, e.DetailType])).toEqual([
      ['hangar-test', 'hangar', 'Instance Status Changed'],
      ['hangar-test', 'hangar', 'Instance Created'],
      ['hangar-test', 'hangar', 'Budget Threshold Crossed'],
    ]);
    const detail = JSON.parse(entries[0]!.Detail!);
    expect(detail).toMatchObject({ type: 'instance.ready', event: { type: 'instance.status-changed', toStatus: 'READY' }, instance: { id: 'vps-web-abc123', status: 'READY' } });
    expect(JSON.parse(entries[2]!.Detail!).instance).toBeNull();
    expect(entries[0]!.Time).toEqual(new Date('2026-03-01T12:00:00.000Z'));
  });

  it('sends at most 10 entries and 256 KB per PutEvents, in order', async () => {
    const events = Array.from({ length: 23 }, () => ({ event: eventOf(), instance: null }));
    await sink().deliver(events);
    const calls = eventbridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(calls.flat().map((e) => JSON.parse(e.Detail!).event.id)).toEqual(events.map((e) => e.event.eventId));

    const big = (kb: number) => ({ Source: 'hangar', DetailType: 'x', Detail: 'y'.repeat(kb * 1024) });
    const batches = batchesOf([big(100), big(100), big(100), big(10)]);
    expect(batches.map((b) => b.length)).toEqual([2, 2]);
    for (const batch of batches) expect(batch.reduce((n, e) => n + entrySize(e), 0)).toBeLessThanOrEqual(MAX_PUT_BYTES);
  });

  it('resends only the entries PutEvents failed, and raises when they keep failing', async () => {
    eventbridge.reset();
    eventbridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    const second = eventOf();
    await sink().deliver([{ event: eventOf(), instance: null }, { event: second, instance: null }]);
    const calls = eventbridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).event.id)).toEqual([second.eventId]);

    eventbridge.reset();
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    await expect(sink().deliver([{ event: eventOf(), instance: null }])).rejects.toThrow(/refused 1 event\(s\) on hangar-test after 4 tries: InternalFailure/);
  });

  it('sends an event whose instance alone passes the size limit without the instance', async () => {
    const instance = makeInstance({ tags: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`tag${i}`, 'v'.repeat(1000)])) });
    await sink().deliver([{ event: eventOf(), instance }]);
    const entry = eventbridge.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(JSON.parse(entry.Detail!)).toMatchObject({ instance: null, instanceOmitted: true, event: { toStatus: 'READY' } });
  });
});
