/**
 * WebSocket delay on the local runtime: from an event's write (its `at`, stamped when the change
 * is written) to the moment a socket opened with a ticket has it. The runtime runs in this process
 * with its real pieces: DynamoDB Local, the stream reader, the router, the `/ws` gateway. Events
 * are tag changes of one READY LOCAL instance, written one at a time (a latency figure, not a
 * throughput one). `npm run bench`, or `npx tsx bench/event-delay.ts` alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startLocalRuntime } from '../infra/local/runtime.ts';
import { apiCaller, eventLog, writeUpdatesOneByOne } from './event-rounds.ts';
import { median, percentile, table } from './figures.ts';

const EVENTS = Number(process.env.BENCH_SOCKET_EVENTS ?? 150);

export async function eventDelayFigures(): Promise<{ median: number; p95: number; n: number }> {
  const home = await mkdtemp(join(tmpdir(), 'hangar-bench-events-'));
  const runtime = await startLocalRuntime({ port: 0, home, adminKey: 'hgr_benchAdminKey000000000000000000000000000', workflowWaitMs: 50 });
  let socket: WebSocket | undefined;
  try {
    const call = apiCaller(runtime.url);
    const client = await call(runtime.adminKey, 'POST', '/api/clients', { name: 'Bench Sockets' });
    const key = (await call(runtime.adminKey, 'POST', `/api/clients/${client.client.id}/api-keys`, { name: 'bench', role: 'operator' })).apiKey.key as string;
    const { instance } = await call(key, 'POST', '/api/instances', { name: 'bench-sockets' });
    for (let i = 0; ; i++) {
      if ((await call(key, 'GET', `/api/instances/${instance.id}`)).instance.status === 'READY') break;
      if (i > 600) throw new Error('the bench instance never became READY');
      await new Promise((r) => setTimeout(r, 100));
    }

    // Subscribed to the client's channel on connect; every event of the instance arrives on it.
    const { ticket } = await call(key, 'POST', '/api/realtime/tickets');
    const arrivals = new Map<string, number>();
    socket = new WebSocket(ticket.url);
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'event' && message.event.type === 'instance.updated') arrivals.set(message.event.id, Date.now());
    });
    await new Promise((resolve, reject) => socket!.once('open', resolve).once('error', reject));

    await writeUpdatesOneByOne(call, key, instance.id, EVENTS, () => arrivals.size);
    const written = await eventLog(call, key, instance.id);
    const delays = written
      .filter((e) => e.type === 'instance.updated' && arrivals.has(e.eventId))
      .map((e) => arrivals.get(e.eventId)! - Date.parse(e.at));
    if (delays.length === 0) throw new Error('No event reached the socket');
    const figures = { median: median(delays), p95: percentile(delays, 95), n: delays.length };
    console.log('\nWebSocket delay, local runtime (event written → message on a subscribed socket)');
    table(
      ['events', 'median ms', 'p95 ms', 'max ms', 'not delivered'],
      [[String(figures.n), figures.median.toFixed(0), figures.p95.toFixed(0), Math.max(...delays).toFixed(0), String(EVENTS - delays.length)]],
    );
    return figures;
  } finally {
    socket?.terminate();
    await runtime.stop();
    await rm(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await eventDelayFigures();
