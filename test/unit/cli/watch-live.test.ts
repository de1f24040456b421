import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { fail, instance, ok, runCli, startFakeApi, type FakeApi } from './harness.ts';

const ID = 'vps-web-server-abc123';

/** A WebSocket server playing the Hangar socket: `script` runs for each connection, in turn. */
async function startFakeSocket(scripts: ((ws: WebSocket) => void)[]) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const received: unknown[] = [];
  let connections = 0;
  server.on('connection', (ws) => {
    const script = scripts[Math.min(connections++, scripts.length - 1)]!;
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      received.push(message);
      if (message.action === 'subscribe') ws.send(JSON.stringify({ type: 'subscribed', channel: message.channel }));
    });
    script(ws);
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
  return { url, received, connections: () => connections, close: () => new Promise((resolve) => server.close(resolve)) };
}

const event = (id: string, toStatus: string, status = toStatus) =>
  JSON.stringify({
    type: 'event',
    channel: `instance.${ID}`,
    event: { id, type: 'instance.status-changed', instanceId: ID, clientId: 'acme', fromStatus: null, toStatus, actor: 'system:workflow', message: `now ${toStatus}`, at: `2025-03-01T10:00:0${id.slice(-1)}.000Z` },
    instance: { id: ID, status },
  });

let api: FakeApi | undefined;
let socket: Awaited<ReturnType<typeof startFakeSocket>> | undefined;
afterEach(async () => {
  await api?.close();
  await socket?.close();
  api = socket = undefined;
});

describe('hangar watch over the WebSocket', () => {
  it('subscribes to the instance, prints each event once, reconnects with a fresh ticket when dropped, and stops at TERMINATED', async () => {
    socket = await startFakeSocket([
      // First socket: two events (after the subscription), then the connection drops.
      (ws) => ws.once('message', () => setTimeout(() => {
        ws.send(event('e1', 'PROVISIONING'));
        ws.send(event('e2', 'READY'));
        setTimeout(() => ws.terminate(), 30);
      }, 30)),
      // Second socket: READY again (already printed), then TERMINATED.
      (ws) => ws.once('message', () => setTimeout(() => {
        ws.send(event('e2', 'READY'));
        ws.send(event('e3', 'TERMINATED'));
      }, 30)),
    ]);
    let tickets = 0;
    api = await startFakeApi((req) =>
      req.path === '/api/realtime/tickets'
        ? ok({ ticket: { value: `t${++tickets}`, expiresAt: '2025-03-01T10:01:00.000Z', url: `${socket!.url}?ticket=t${tickets}` } }, 201)
        : ok({ instance: instance({ status: tickets > 1 ? 'READY' : 'PENDING' }) }),
    );
    const result = await runCli(['--url', api.url, 'watch', ID]);
    expect(result.stderr).toContain('reconnecting');
    expect(result.code).toBe(0);
    expect(tickets).toBe(2);
    expect(socket.received).toEqual([
      { action: 'subscribe', channel: `instance.${ID}` },
      { action: 'subscribe', channel: `instance.${ID}` },
    ]);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `2025-03-01T10:00:00Z  ${ID}  PENDING`,
      `2025-03-01T10:00:01Z  ${ID}  PROVISIONING  now PROVISIONING`,
      `2025-03-01T10:00:02Z  ${ID}  READY  now READY`,
      `2025-03-01T10:00:03Z  ${ID}  TERMINATED  now TERMINATED`,
    ]);
  });

  it('exits 1 when the instance reaches ERROR', async () => {
    socket = await startFakeSocket([(ws) => ws.once('message', () => setTimeout(() => ws.send(event('e1', 'ERROR')), 30))]);
    api = await startFakeApi((req) =>
      req.path === '/api/realtime/tickets' ? ok({ ticket: { value: 't', expiresAt: 'x', url: socket!.url } }, 201) : ok({ instance: instance({ status: 'PENDING' }) }),
    );
    const result = await runCli(['--url', api.url, 'watch', ID]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Instance ${ID} is in ERROR`);
  });

  it("says so when the instance is not the caller's (NOT_FOUND on subscribe)", async () => {
    const refusing = await startFakeSocketRefusingSubscriptions();
    try {
      api = await startFakeApi((req) => (req.path === '/api/realtime/tickets' ? ok({ ticket: { value: 't', expiresAt: 'x', url: refusing.url } }, 201) : fail(404, 'NOT_FOUND', 'gone')));
      const result = await runCli(['--url', api.url, 'watch', ID]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Instance ${ID} not found`);
    } finally {
      await refusing.close();
    }
  });

  it("without an id, prints every event of the client's channel, and gives up when reconnecting keeps failing", async () => {
    const other = (id: string, instanceId: string) =>
      JSON.stringify({ type: 'event', channel: 'client.acme', event: { id, type: 'instance.created', instanceId, clientId: 'acme', fromStatus: null, toStatus: 'PENDING', actor: 'key:k', message: 'Created', at: '2025-03-01T10:00:05.000Z' }, instance: null });
    socket = await startFakeSocket([
      (ws) => setTimeout(() => {
        ws.send(other('e1', 'vps-a-aaaaaa'));
        ws.send(other('e2', 'vps-b-bbbbbb'));
        setTimeout(() => ws.terminate(), 30);
      }, 30),
    ]);
    let tickets = 0;
    api = await startFakeApi(() =>
      ++tickets === 1 ? ok({ ticket: { value: 't', expiresAt: 'x', url: socket!.url } }, 201) : fail(503, 'UNAVAILABLE', 'down for maintenance'),
    );
    const result = await runCli(['--url', api.url, 'watch']);
    // No subscription: a client's socket hears its client's channel from the start.
    expect(socket.received).toEqual([]);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      '2025-03-01T10:00:05Z  vps-a-aaaaaa  PENDING  Created',
      '2025-03-01T10:00:05Z  vps-b-bbbbbb  PENDING  Created',
    ]);
    expect(result.stderr).toContain("your client's events");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('only one instance can be followed by polling');
  });

  it('polls when the socket refuses the handshake', async () => {
    api = await startFakeApi((req) =>
      req.path === '/api/realtime/tickets' ? ok({ ticket: { value: 't', expiresAt: 'x', url: 'ws://127.0.0.1:9/ws' } }, 201) : ok({ instance: instance({ status: 'TERMINATED' }) }),
    );
    const result = await runCli(['--url', api.url, 'watch', ID]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('polling');
    expect(result.stdout).toContain(`${ID}  TERMINATED`);
  });
});

async function startFakeSocketRefusingSubscriptions() {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (ws) =>
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      ws.send(JSON.stringify({ type: 'error', code: 'NOT_FOUND', error: `Instance not found`, channel: message.channel }));
    }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, close: () => new Promise((resolve) => server.close(resolve)) };
}
