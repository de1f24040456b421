/**
 * Provisioning latency on the local runtime: a LOCAL create (POST /api/instances) until the
 * write that makes it READY, next to the reference — the same workload spawned bare and probed
 * until it answers its health check. Also the DynamoDB transactions (TransactWriteItems) each
 * provisioned instance costs from create to READY. Instances are created one at a time (a
 * latency figure, not a throughput one), on the runtime's own Wait settings, as `npm start` runs.
 * `npm run bench`, or `npx tsx bench/provisioning.ts` alone.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalRuntime } from '../infra/local/runtime.ts';
import { probeHealth } from '../shared/adapters/local/health-probe.ts';
import { resolveLocalImage } from '../shared/adapters/local/images.ts';
import { buildLaunchCommand } from '../shared/adapters/local/launch-command.ts';
import { instancePaths } from '../shared/adapters/local/machine-file.ts';
import { allocateFreePort } from '../shared/adapters/local/ports.ts';
import { signalWorkload, spawnWorkload, waitForExit } from '../shared/adapters/local/process-control.ts';
import { apiCaller } from './event-rounds.ts';
import { median, table } from './figures.ts';

const ROUNDS = Number(process.env.BENCH_PROVISION_ROUNDS ?? 20);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every TransactWriteItems through `client`, by the instance ids it mentions, with when it was acknowledged. */
function watchTransactions(client: DynamoDBClient) {
  const writes: { input: string; sentAt: number; doneAt: number; ready: boolean }[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const sentAt = performance.now();
      const result = await next(args);
      if (context.commandName === 'TransactWriteItemsCommand') {
        const input = JSON.stringify(args.input, (_, v) => (typeof v === 'bigint' ? String(v) : v));
        writes.push({ input, sentAt, doneAt: performance.now(), ready: input.includes('"status":"READY"') });
      }
      return result;
    },
    { step: 'initialize', name: 'benchCountTransactions' },
  );
  return { of: (instanceId: string) => writes.filter((w) => w.input.includes(instanceId)) };
}

/** The instance's transactions up to the one that made it READY, watched in process (no reads that would compete). */
async function untilReady(transactions: ReturnType<typeof watchTransactions>, instanceId: string) {
  for (let waited = 0; waited < 30_000; waited += 2) {
    const writes = transactions.of(instanceId);
    const ready = writes.findIndex((w) => w.ready);
    if (ready >= 0) return writes.slice(0, ready + 1);
    await sleep(2);
  }
  throw new Error(`${instanceId} never became READY`);
}

/** The reference: the LOCAL workload started bare (its port and data directory, then the process), probed back to back until GET /health answers. */
async function bareSpawn(root: string, n: number): Promise<number> {
  const image = resolveLocalImage();
  const paths = instancePaths(root, `vps-bare-${n}`);
  const start = performance.now();
  await mkdir(paths.dataDir, { recursive: true });
  const port = await allocateFreePort();
  const { child, pid } = spawnWorkload(
    buildLaunchCommand({ instanceId: `vps-bare-${n}`, clientId: 'bench', name: 'bare', image, port, dataDir: paths.dataDir }),
    paths,
  );
  while (!(await probeHealth(port, image.healthPath, 1000))) await sleep(1);
  const elapsed = performance.now() - start;
  signalWorkload(pid, 'SIGTERM');
  await waitForExit(pid, `vps-bare-${n}`, 5000, child);
  return elapsed;
}

export async function provisioningFigures(): Promise<{ ratio: number; transactions: number }> {
  const home = await mkdtemp(join(tmpdir(), 'hangar-bench-provision-'));
  const runtime = await startLocalRuntime({ port: 0, home, adminKey: 'hgr_benchAdminKey000000000000000000000000000' });
  try {
    const transactions = watchTransactions(runtime.deps.db.client);
    const call = apiCaller(runtime.url);
    const client = await call(runtime.adminKey, 'POST', '/api/clients', { name: 'Bench Provisioning', maxInstances: 1000 });
    const key = (await call(runtime.adminKey, 'POST', `/api/clients/${client.client.id}/api-keys`, { name: 'bench', role: 'operator' })).apiKey.key as string;

    const latencies: number[] = [];
    const answers: number[] = [];
    const references: number[] = [];
    const counts: number[] = [];
    const inTransactions: number[] = [];
    // One warm-up of each (module loading, first connections), then alternate so drift hits both alike.
    for (let round = -1; round < ROUNDS; round++) {
      const reference = await bareSpawn(join(home, 'bare'), round + 1);
      const start = performance.now();
      const { instance } = await call(key, 'POST', '/api/instances', { name: `bench-provision-${round + 1}` });
      const answered = performance.now() - start;
      // READY when the write that made it so was acknowledged.
      const writes = await untilReady(transactions, instance.id);
      // Let the execution end (deadline, budget) before the next round.
      await sleep(100);
      if (round < 0) continue;
      latencies.push(writes.at(-1)!.doneAt - start);
      answers.push(answered);
      references.push(reference);
      counts.push(writes.length);
      inTransactions.push(writes.reduce((total, w) => total + (w.doneAt - w.sentAt), 0));
    }

    const figures = {
      latency: median(latencies),
      answered: median(answers),
      reference: median(references),
      transactions: median(counts),
      inTransactions: median(inTransactions),
    };
    const ratio = figures.latency / figures.reference;
    console.log(`\nProvisioning latency, local runtime (LOCAL create → READY written; ${ROUNDS} instances one at a time; medians)`);
    table(
      ['create → READY ms', 'of which the 202 ms', 'of which in its transactions ms', 'bare spawn → answers ms', 'ratio', 'transactions / instance'],
      [
        [
          figures.latency.toFixed(0),
          figures.answered.toFixed(0),
          figures.inTransactions.toFixed(0),
          figures.reference.toFixed(0),
          `${ratio.toFixed(2)}×`,
          `${figures.transactions} (max ${Math.max(...counts)})`,
        ],
      ],
    );
    return { ratio, transactions: figures.transactions };
  } finally {
    await runtime.stop();
    await rm(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await provisioningFigures();
