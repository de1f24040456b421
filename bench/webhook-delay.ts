/**
 * Webhook delay on the local runtime: from an event's write (its `at`, stamped when the change is
 * written) to the moment a receiver on 127.0.0.1 has the signed POST. The runtime runs in this
 * process with its real pieces: DynamoDB Local, the stream reader, the router, the in-process
 * delivery queue, the HTTP transport. Events are tag changes of one READY LOCAL instance, written
 * one at a time (a latency figure, not a throughput one).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startLocalRuntime } from '../infra/local/runtime.ts';
import { apiCaller, eventLog, writeUpdatesOneByOne } from './event-rounds.ts';
import { median, percentile, table } from './figures.ts';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 120);

export async function webhookDelayFigures(): Promise<{ median: number; p95: number; n: number }> {
  const home = await mkdtemp(join(tmpdir(), 'hangar-bench-webhooks-'));
  const arrivals = new Map<string, { at: number; body: string; headers: Record<string, string> }>();
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const event = JSON.parse(body).data.event as { id: string };
      arrivals.set(event.id, { at: Date.now(), body, headers: req.headers as Record<string, string> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const runtime = await startLocalRuntime({ port: 0, home, adminKey: 'hgr_benchAdminKey000000000000000000000000000', workflowWaitMs: 50 });
  try {
    const call = apiCaller(runtime.url);
    const client = await call(runtime.adminKey, 'POST', '/api/clients', { name: 'Bench Webhooks' });
    const key = (await call(runtime.adminKey, 'POST', `/api/clients/${client.client.id}/api-keys`, { name: 'bench', role: 'admin' })).apiKey.key as string;
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const { webhook } = await call(key, 'POST', '/api/webhooks', { url, events: ['instance.updated'] });
    const { instance } = await call(key, 'POST', '/api/instances', { name: 'bench-webhooks' });
    for (let i = 0; ; i++) {
      if ((await call(key, 'GET', `/api/instances/${instance.id}`)).instance.status === 'READY') break;
      if (i > 600) throw new Error('the bench instance never became READY');
      await new Promise((r) => setTimeout(r, 100));
    }

    await writeUpdatesOneByOne(call, key, instance.id, EVENTS, () => arrivals.size);
    const all = await eventLog(call, key, instance.id);
    const verifier = new Webhook(webhook.secret);
    const delays: number[] = [];
    for (const event of all.filter((e) => e.type === 'instance.updated')) {
      const arrival = arrivals.get(event.eventId);
      if (!arrival) continue;
      verifier.verify(arrival.body, arrival.headers);
      delays.push(arrival.at - Date.parse(event.at));
    }
    const missing = EVENTS - delays.length;
    if (delays.length === 0) throw new Error(`No webhook arrived (${arrivals.size} POSTs received)`);
    const figures = { median: median(delays), p95: percentile(delays, 95), n: delays.length };
    console.log('\nWebhook delay, local runtime (event written → signed POST received on 127.0.0.1)');
    table(
      ['events', 'median ms', 'p95 ms', 'max ms', 'not delivered'],
      [[String(figures.n), figures.median.toFixed(0), figures.p95.toFixed(0), Math.max(...delays).toFixed(0), String(missing)]],
    );
    return figures;
  } finally {
    await runtime.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await rm(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await webhookDelayFigures();
