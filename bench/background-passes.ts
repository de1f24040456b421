/**
 * Background passes at scale, against DynamoDB Local (in memory): 1k and 10k live instances
 * (BENCH_PASS_SCALES=1000 to limit), seeded with BatchWriteItem in the items the instance
 * repository itself writes, 20 of them past their deadline. Printed: the sweeper's deadline and
 * idle-stop passes (time, and items DynamoDB read) next to what reading every live instance
 * costs (what a pass read before the due index), and how late the local scheduler terminates
 * 20 deadlines (median and max).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDbClientConfig, ensureTable, startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { LocalScheduler } from '../infra/local/local-scheduler.ts';
import { DynamoInstanceRepository } from '../shared/adapters/dynamodb/instance-repository.ts';
import { LocalProvider } from '../shared/adapters/local/local-provider.ts';
import { composeHangar } from '../shared/config/composition.ts';
import { createDb } from '../shared/db/db.ts';
import type { Instance } from '../shared/domain/instance.ts';
import { LIVE_STATUSES, type InstanceStatus } from '../shared/domain/lifecycle.ts';
import type { DeadlinePayload } from '../shared/services/automations.ts';
import { makeInstance } from '../test/support/fakes.ts';
import { median, table } from './figures.ts';
import { batchWrite, countReads } from './seed.ts';

const SCALES = (process.env.BENCH_PASS_SCALES ?? '1000,10000').split(',').map(Number).filter((n) => n > 0);
const DUE = 20;
const CLIENTS = 50;
const SEEDED: InstanceStatus[] = ['READY', 'RUNNING', 'STOPPED'];
const MINUTE = 60_000;

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

export async function backgroundPassFigures(): Promise<void> {
  console.log(`\nBackground passes at scale (DynamoDB Local in memory; ${DUE} deadlines due; scales ${SCALES.join(', ')})\n`);
  const dynamo = await startDynamoDbLocal({});
  const home = mkdtempSync(join(tmpdir(), 'hangar-bench-passes-'));
  try {
    const client = new DynamoDBClient(dynamoDbClientConfig(dynamo.endpoint));
    const reads = countReads(client);
    const passRows: string[][] = [];
    const latenessRows: string[][] = [];
    for (const scale of SCALES) {
      const tableName = `hangar-bench-passes-${scale}`;
      await ensureTable(client, tableName);
      const db = createDb({ tableName, client });
      const repo = new DynamoInstanceRepository(db);
      const scheduler = new LocalScheduler(db, { log: () => undefined });
      const deps = composeHangar({
        db,
        providers: [new LocalProvider({ rootDir: join(home, `instances-${scale}`) })],
        workflows: () => ({ start: async () => {} }),
        scheduler,
      });
      const automations = deps.services.automations!;

      // Live instances across clients, every one with a deadline and READY ones with an idle
      // stop; the first DUE past their deadline, every other deadline and idle stop hours away.
      const now = Date.now();
      const instances: Instance[] = [];
      for (let i = 0; i < scale; i++) {
        const status = SEEDED[i % SEEDED.length]!;
        const createdAt = new Date(now - 2 * 60 * MINUTE + i).toISOString();
        instances.push(
          makeInstance({
            id: `vps-pass-${scale}-${i.toString(36).padStart(6, '0')}`,
            clientId: `client-bench-${i % CLIENTS}`,
            status,
            createdAt,
            updatedAt: createdAt,
            autoTerminateAt: new Date(i < DUE ? now - MINUTE - i * 1000 : now + 60 * MINUTE + i * 1000).toISOString(),
            ...(status === 'READY' ? { idleSince: new Date(now - 10 * MINUTE).toISOString(), config: { idleStopMinutes: 120 } } : {}),
          }),
        );
      }
      const seeding = performance.now();
      await batchWrite(db, (await Promise.all(instances.map((instance) => repo.itemsOf(instance)))).flat());
      console.log(`  seeded ${scale} live instances in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);

      const measure = async (pass: () => Promise<unknown>) => {
        const before = { ...reads };
        const start = performance.now();
        const result = await pass();
        return { ms: performance.now() - start, items: reads.items - before.items, requests: reads.requests - before.requests, result };
      };
      // What a pass read before the due index: every instance of every live status.
      const everyLive = await measure(async () => {
        let n = 0;
        for (const status of LIVE_STATUSES) n += (await repo.listByStatus(status)).length;
        return n;
      });
      const everyReady = await measure(async () => (await repo.listByStatus('READY')).length);
      // Warm-up: the first query of a table builds entities and connections.
      await automations.stopIdle();
      const sweep = await measure(() => automations.sweep());
      const idle = await measure(() => automations.stopIdle());
      const nothingDue = await measure(() => automations.sweep());
      if (sweep.result !== DUE) throw new Error(`the sweeper terminated ${String(sweep.result)} of ${DUE} due instances`);
      passRows.push(
        [`deadlines pass, ${DUE} due`, `${scale}`, fmt(sweep.ms), `${sweep.items}`, `${sweep.result}`, fmt(everyLive.ms), `${everyLive.items}`],
        [`deadlines pass, none due`, `${scale}`, fmt(nothingDue.ms), `${nothingDue.items}`, `${nothingDue.result}`, fmt(everyLive.ms), `${everyLive.items}`],
        [`idle-stop pass, none due`, `${scale}`, fmt(idle.ms), `${idle.items}`, `${idle.result}`, fmt(everyReady.ms), `${everyReady.items}`],
      );

      // Auto-terminate through the local runtime's path: one-time schedules in the table, the
      // scheduler waking at each due time, each firing terminating its instance.
      const deadlines = new Map<string, number>();
      const lateness: number[] = [];
      const start = Date.now() + 1500;
      const timed: Instance[] = Array.from({ length: DUE }, (_, i) => {
        const at = new Date(start + i * 137).toISOString();
        return makeInstance({ id: `vps-deadline-${scale}-${i.toString(36).padStart(4, '0')}`, clientId: 'client-bench-deadlines', status: 'READY', autoTerminateAt: at });
      });
      await batchWrite(db, (await Promise.all(timed.map((instance) => repo.itemsOf(instance)))).flat());
      for (const instance of timed) {
        deadlines.set(instance.id, Date.parse(instance.autoTerminateAt!));
        await automations.syncDeadline(instance);
      }
      const allFired = new Promise<void>((resolve) => {
        scheduler.start(async (payload) => {
          const deadline = payload as unknown as DeadlinePayload;
          const after = await automations.terminateIfDue(deadline, 'schedule');
          if (after?.status === 'TERMINATING') lateness.push(Date.now() - deadlines.get(deadline.instanceId)!);
          if (lateness.length === DUE) resolve();
        });
      });
      await Promise.race([allFired, new Promise((resolve) => setTimeout(resolve, 30_000))]);
      await scheduler.stop();
      latenessRows.push([`${scale}`, `${lateness.length}/${DUE}`, fmt(median(lateness)), fmt(Math.max(...lateness))]);
    }
    console.log('');
    table(['pass', 'live', 'ms', 'items read', 'acted on', 'read every live ms', 'items'], passRows);
    console.log('');
    table(['auto-terminate lateness (local scheduler: wakes at each due time)', 'terminated', 'median ms', 'max ms'], latenessRows.map((row) => [`live ${row[0]}`, row[1]!, row[2]!, row[3]!]));
    client.destroy();
  } finally {
    await dynamo.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
