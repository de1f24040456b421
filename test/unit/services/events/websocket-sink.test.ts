import { describe, expect, it } from 'vitest';
import { MemoryRealtimeRepository } from '../../../../shared/adapters/memory/realtime-repository.ts';
import type { Channel } from '../../../../shared/domain/realtime.ts';
import type { WebSocketPublisher } from '../../../../shared/ports/websocket-publisher.ts';
import { makeWebSocketSink } from '../../../../shared/services/events/websocket-sink.ts';
import { ManualClock } from '../../../support/manual-clock.ts';
import { makeInstance } from '../../domain/fixtures.ts';
import { makeEvent } from './stream-records.ts';

const LATER = '2026-01-01T02:00:00.000Z';

/** A publisher that records what each socket got; `gone` sockets answer as API Gateway's 410. */
function publisher(gone: string[] = [], failing: string[] = []) {
  const sent: { connectionId: string; message: any }[] = [];
  const port: WebSocketPublisher = {
    async send(connectionId, message) {
      if (failing.includes(connectionId)) throw new Error('throttled');
      if (gone.includes(connectionId)) return 'gone';
      sent.push({ connectionId, message });
      return 'sent';
    },
  };
  return { port, sent };
}

async function listen(repo: MemoryRealtimeRepository, connectionId: string, clientId: string | null, channels: Channel[], connectedAt = '2026-01-01T00:00:00.000Z') {
  await repo.saveConnection({ connectionId, keyId: 'k', role: 'viewer', clientId, connectedAt, expiresAt: LATER });
  for (const channel of channels) await repo.subscribe({ connectionId, channel, clientId, expiresAt: LATER });
}

describe('the WebSocket sink', () => {
  const instance = makeInstance({ id: 'vps-a-aaaaaa', clientId: 'client-1', status: 'READY' });
  const e1 = makeEvent({ eventId: '01A', instanceId: instance.id, toStatus: 'PROVISIONING' });
  const e2 = makeEvent({ eventId: '01B', instanceId: instance.id, fromStatus: 'PROVISIONING', toStatus: 'READY' });

  it('sends each event to the subscribers of its client and instance channels, in order, with the instance as the API shows it', async () => {
    const repo = new MemoryRealtimeRepository();
    const clock = new ManualClock(new Date('2026-01-01T00:01:00.000Z'));
    await listen(repo, 'client-socket', 'client-1', ['client.client-1']);
    await listen(repo, 'instance-socket', 'client-1', [`instance.${instance.id}`]);
    await listen(repo, 'other-instance', 'client-1', ['instance.vps-z-zzzzzz']);
    const { port, sent } = publisher();
    await makeWebSocketSink({ realtime: repo, publisher: port, clock }).deliver([
      { event: e1, instance },
      { event: e2, instance },
    ]);
    expect(sent.map((s) => `${s.connectionId} ${s.message.channel} ${s.message.event.id}`)).toEqual([
      'client-socket client.client-1 01A',
      `instance-socket instance.${instance.id} 01A`,
      'client-socket client.client-1 01B',
      `instance-socket instance.${instance.id} 01B`,
    ]);
    expect(sent[0]!.message).toEqual({
      type: 'event',
      channel: 'client.client-1',
      event: { id: '01A', type: e1.type, instanceId: instance.id, clientId: 'client-1', fromStatus: 'PENDING', toStatus: 'PROVISIONING', actor: e1.actor, message: e1.message, at: e1.at },
      instance: expect.objectContaining({ id: instance.id, status: 'READY', costPerHour: 0.45 }),
    });
  });

  it("never sends a client's event to another client's socket, whatever it subscribed", async () => {
    const repo = new MemoryRealtimeRepository();
    // A subscription that should never have been made: it is still refused at delivery.
    await listen(repo, 'intruder', 'client-2', [`instance.${instance.id}`, 'client.client-1']);
    await listen(repo, 'admin', null, ['client.client-1']);
    const { port, sent } = publisher();
    await makeWebSocketSink({ realtime: repo, publisher: port, clock: new ManualClock() }).deliver([{ event: e1, instance }]);
    expect(sent.map((s) => s.connectionId)).toEqual(['admin']);
  });

  it('forgets sockets found gone (unless still in their handshake), and reports other failures without failing the batch', async () => {
    const repo = new MemoryRealtimeRepository();
    const clock = new ManualClock(new Date('2026-01-01T00:10:00.000Z'));
    await listen(repo, 'gone', 'client-1', ['client.client-1']);
    await listen(repo, 'just-connecting', 'client-1', ['client.client-1'], '2026-01-01T00:09:59.000Z');
    await listen(repo, 'throttled', 'client-1', ['client.client-1']);
    await listen(repo, 'fine', 'client-1', ['client.client-1']);
    const errors: string[] = [];
    const { port, sent } = publisher(['gone', 'just-connecting'], ['throttled']);
    await makeWebSocketSink({ realtime: repo, publisher: port, clock, onSendError: (id) => errors.push(id) }).deliver([
      { event: e1, instance },
      { event: e2, instance },
    ]);
    expect(sent.map((s) => `${s.connectionId} ${s.message.event.id}`)).toEqual(['fine 01A', 'fine 01B']);
    expect(errors).toEqual(['throttled', 'throttled']);
    expect(await repo.getConnection('gone', clock.now())).toBeNull();
    expect(await repo.subscriptionsOf('gone', clock.now())).toEqual([]);
    expect(await repo.getConnection('just-connecting', clock.now())).not.toBeNull();
  });
});
