/**
 * The sync path's writes, against DynamoDB Local (in memory): one client with BENCH_SYNC_SCALE
 * (default 10,000) live instances on one AWS account whose provider (a double) reports exactly
 * what the table says, and a catalog of half as many flavors. The promise measured: a sync pass
 * over an unchanged world writes no data item — only the job's own bookkeeping (its job record
 * and the target's state) — and one changed machine writes just what that one change needs.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { dynamoDbClientConfig, ensureTable, startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { DynamoInstanceRepository } from '../shared/adapters/dynamodb/instance-repository.ts';
import { LocalSecretBox } from '../shared/adapters/local/local-secret-box.ts';
import { composeHangar } from '../shared/config/composition.ts';
import { createDb } from '../shared/db/db.ts';
import { KEY_TEMPLATES, keyOf } from '../shared/db/keys.ts';
import type { Instance } from '../shared/domain/instance.ts';
import type { InstanceStatus } from '../shared/domain/lifecycle.ts';
import type { Principal } from '../shared/domain/roles.ts';
import type { SyncJob, SyncResourceType, SyncTarget } from '../shared/domain/sync.ts';
import type { CatalogItem, CatalogKind } from '../shared/ports/compute-provider.ts';
import { FakeProvider, makeInstance } from '../test/support/fakes.ts';
import { median, table } from './figures.ts';
import { batchWrite } from './seed.ts';

const SCALE = Math.max(1, Number(process.env.BENCH_SYNC_SCALE ?? 10_000) || 10_000);
const FLAVORS = Math.max(1, Math.round(SCALE / 2));
const ROUNDS = 3;
const REGION = 'us-east-1';
const ADMIN: Principal = { keyId: 'key-bench', role: 'platform-admin', clientId: null };
/** Settled statuses and the machine state the provider reports for each when all agrees. */
const AGREEING: [InstanceStatus, 'running' | 'stopped'][] = [
  ['READY', 'running'],
  ['RUNNING', 'running'],
  ['STOPPED', 'stopped'],
];

/** A provider double whose catalog the bench sets; machines are FakeProvider's. */
class SyncDouble extends FakeProvider {
  catalog: Partial<Record<CatalogKind, CatalogItem[]>> = {};

  override async listCatalog(kind: CatalogKind): Promise<CatalogItem[]> {
    return structuredClone(this.catalog[kind] ?? []);
  }
}

type Key = { pk: string; sk: string };
const str = (v: unknown): string => (typeof v === 'string' ? v : ((v as { S?: string } | undefined)?.S ?? '?'));
const keyFrom = (record: Record<string, unknown> | undefined): Key => ({ pk: str(record?.pk), sk: str(record?.sk) });
/** The sync job's own records: its job item (and index copies) and the target's state. */
const isBookkeeping = (key: Key) => key.pk.startsWith('SYNCJOB') || key.pk.startsWith('SYNCSTATE#') || key.pk.endsWith('#SYNCJOBS');
/** What a written item is, for the printout: its key with the ids taken out. */
const shapeOf = (key: Key) => `${key.pk.split('#')[0]}/${key.sk.split('#')[0]}`;

/** Items written and read through `client`; writes split into data and the job's bookkeeping. */
function countItems(client: DynamoDBClient) {
  const tally = { data: 0, bookkeeping: 0, read: 0, shapes: [] as string[] };
  const wrote = (key: Key) => {
    if (isBookkeeping(key)) tally.bookkeeping++;
    else {
      tally.data++;
      tally.shapes.push(shapeOf(key));
    }
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const name = context.commandName ?? '';
      const input = args.input as Record<string, any>;
      if (/^Put(Item)?Command$/.test(name)) wrote(keyFrom(input.Item));
      else if (/^(Update|Delete)(Item)?Command$/.test(name)) wrote(keyFrom(input.Key));
      else if (/^BatchWrite(Item)?Command$/.test(name)) {
        for (const requests of Object.values(input.RequestItems ?? {}) as Record<string, any>[][]) {
          for (const r of requests) wrote(keyFrom(r.PutRequest?.Item ?? r.DeleteRequest?.Key));
        }
      } else if (/^TransactWrite(Items)?Command$/.test(name)) {
        for (const item of input.TransactItems ?? []) {
          if (item.Put) wrote(keyFrom(item.Put.Item));
          else if (item.Update) wrote(keyFrom(item.Update.Key));
          else if (item.Delete) wrote(keyFrom(item.Delete.Key));
        }
      }
      const output = (result.output ?? {}) as { ScannedCount?: number; Item?: unknown; Responses?: unknown };
      tally.read += output.ScannedCount ?? 0;
      if (output.Item) tally.read++;
      if (Array.isArray(output.Responses)) tally.read += output.Responses.filter((r: { Item?: unknown }) => r?.Item).length;
      else for (const items of Object.values(output.Responses ?? {}) as unknown[][]) tally.read += items.length;
      return result;
    },
    { step: 'initialize', name: 'benchCountItems' },
  );
  return {
    /** What `run` wrote and read. */
    async during<T>(run: () => Promise<T>): Promise<{ value: T; ms: number; data: number; bookkeeping: number; read: number; shapes: string[] }> {
      const before = { ...tally, shapes: tally.shapes.length };
      const start = performance.now();
      const value = await run();
      const ms = performance.now() - start;
      return {
        value,
        ms,
        data: tally.data - before.data,
        bookkeeping: tally.bookkeeping - before.bookkeeping,
        read: tally.read - before.read,
        shapes: tally.shapes.slice(before.shapes),
      };
    },
  };
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const counted = (shapes: string[]) =>
  Object.entries(shapes.reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {}))
    .map(([shape, n]) => `${n} ${shape}`)
    .join(', ');

export async function syncPathFigures(): Promise<void> {
  console.log(`\nSync path writes (DynamoDB Local in memory; ${SCALE} machines, ${FLAVORS} flavors on one account; times are medians of ${ROUNDS})\n`);
  const dynamo = await startDynamoDbLocal({});
  try {
    const client = new DynamoDBClient(dynamoDbClientConfig(dynamo.endpoint));
    const counter = countItems(client);
    const tableName = 'hangar-bench-sync';
    await ensureTable(client, tableName);
    const db = createDb({ tableName, client });
    const repo = new DynamoInstanceRepository(db);
    const provider = new SyncDouble({ name: 'AWS' });
    const deps = composeHangar({
      db,
      providerFactory: () => provider,
      cloudProviders: ['AWS'],
      secretBox: LocalSecretBox.inMemory(),
      workflows: () => ({ start: async () => {} }),
      // The bench runs each queued job itself, so the pass alone is timed.
      syncDispatcher: () => ({ dispatch: async () => {} }),
    });
    const owner = await deps.services.clients.create(ADMIN, { name: 'bench-sync', maxInstances: Math.min(10_000, SCALE) });
    const clientId = owner.clientId;
    const account = await deps.services.accounts.create(ADMIN, {
      clientId,
      provider: 'AWS',
      name: 'bench account',
      region: REGION,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    });
    const target: SyncTarget = { provider: 'AWS', region: REGION, accountId: account.accountId, clientId };

    // Machines first (the double names them), then one record on each, in the repository's own items.
    const seeded = performance.now();
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const instances: Instance[] = [];
    for (let i = 0; i < SCALE; i++) {
      const id = `vps-sync-${i.toString(36).padStart(6, '0')}`;
      const [status, state] = AGREEING[i % AGREEING.length]!;
      const machine = await provider.launch({ instanceId: id, clientId, name: id, instanceType: 't3.micro', region: REGION, resources: {}, tags: {} });
      if (state !== 'running') provider.setState(id, state);
      const at = new Date(base + i * 1000).toISOString();
      instances.push(
        makeInstance({
          id,
          clientId,
          name: id,
          provider: 'AWS',
          instanceType: 't3.micro',
          region: REGION,
          status,
          config: { accountId: account.accountId },
          providerInstanceId: machine.providerInstanceId,
          tags: { env: i % 2 ? 'prod' : 'dev' },
          createdAt: at,
          updatedAt: at,
        }),
      );
    }
    // One through the repository, so the client's counters exist as a running client's would.
    const [first, ...rest] = instances;
    await batchWrite(db, (await Promise.all(rest.map((instance) => repo.itemsOf(instance)))).flat());
    await repo.create(first!, { type: 'instance.created', actor: 'key:bench', message: 'seeded' });
    provider.catalog = {
      flavors: Array.from({ length: FLAVORS }, (_, i) => ({
        kind: 'flavors' as const,
        id: `bench.f${i}`,
        name: `bench.f${i}`,
        region: REGION,
        hourlyMicros: 1_000 + i,
        attributes: { vcpus: 1 + (i % 64), memoryMiB: 512 * (1 + (i % 32)), gpus: i % 7 === 0 ? 1 : 0, family: `f${i % 13}` },
      })),
    };
    console.log(`  seeded ${SCALE} instances and machines in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

    /** Queue one job (not counted), then run it: the pass. */
    const pass = async (type: SyncResourceType) => {
      const [queued] = await deps.services.sync.request(ADMIN, { accountId: account.accountId, types: [type] });
      const measured = await counter.during(() => deps.services.sync.run(target, [queued!.jobId]));
      const job: SyncJob = measured.value[0]!;
      if (job.status !== 'SUCCEEDED') throw new Error(`${type} sync ${job.status}: ${job.errors.join('; ')}`);
      return { ...measured, job };
    };
    /** `rounds` passes: the median time, and the largest counts any of them had. */
    const passes = async (type: SyncResourceType, rounds = ROUNDS) => {
      const runs = [];
      for (let r = 0; r < rounds; r++) runs.push(await pass(type));
      return {
        ms: median(runs.map((r) => r.ms)),
        data: Math.max(...runs.map((r) => r.data)),
        bookkeeping: Math.max(...runs.map((r) => r.bookkeeping)),
        read: Math.max(...runs.map((r) => r.read)),
        shapes: runs.flatMap((r) => r.shapes),
        job: runs.at(-1)!.job,
      };
    };
    const rawQuery = async (pk: string, sk: string) => {
      const times: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const start = performance.now();
        let cursor: Record<string, any> | undefined;
        do {
          const page = await client.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
              ExpressionAttributeValues: marshall({ ':pk': pk, ':sk': sk }),
              ...(cursor ? { ExclusiveStartKey: cursor } : {}),
            }),
          );
          cursor = page.LastEvaluatedKey;
        } while (cursor);
        times.push(performance.now() - start);
      }
      return median(times);
    };

    const rows: string[][] = [];
    const row = (figure: string, r: { ms: number; data: number; bookkeeping: number; read: number }, raw: string, ratio: string) =>
      rows.push([figure, fmt(r.ms), `${r.data}`, `${r.bookkeeping}`, `${r.read}`, raw, ratio]);
    const clientPartition = keyOf(KEY_TEMPLATES.instance, { clientId, id: '' });
    const rawInstances = await rawQuery(clientPartition.pk, clientPartition.sk);

    // 1. Status sync over an unchanged world: the first pass ever, then passes with state.
    const firstStatus = await pass('instances');
    row(`status sync, ${SCALE} unchanged, first pass`, firstStatus, `Query ${fmt(rawInstances)}`, `${(firstStatus.ms / rawInstances).toFixed(2)}×`);
    const status = await passes('instances');
    row(`status sync, ${SCALE} unchanged`, status, `Query ${fmt(rawInstances)}`, `${(status.ms / rawInstances).toFixed(2)}×`);

    // 2. Catalog sync: the first run writes every flavor; an identical second one none.
    const firstCatalog = await pass('flavors');
    row(`catalog sync, ${FLAVORS} flavors, first run`, firstCatalog, '', '');
    const catalogPartition = keyOf(KEY_TEMPLATES.catalogItem, { provider: 'AWS', scope: account.accountId, region: REGION, kind: 'flavors', itemId: '' });
    const rawCatalog = await rawQuery(catalogPartition.pk, catalogPartition.sk);
    const catalog = await passes('flavors');
    row(`catalog sync, ${FLAVORS} flavors, unchanged`, catalog, `Query ${fmt(rawCatalog)}`, `${(catalog.ms / rawCatalog).toFixed(2)}×`);

    // 3. One machine among them stops behind Hangar's back: that drift and nothing else is written.
    const changed = instances.find((i) => i.status === 'READY')!;
    provider.setState(changed.id, 'stopped');
    const drift = await pass('instances');
    row(`status sync, 1 of ${SCALE} changed`, drift, `Query ${fmt(rawInstances)}`, `${(drift.ms / rawInstances).toFixed(2)}×`);
    const after = await pass('instances');
    row(`status sync, unchanged again`, after, `Query ${fmt(rawInstances)}`, `${(after.ms / rawInstances).toFixed(2)}×`);

    console.log('');
    table(['figure', 'ms', 'data items written', 'job bookkeeping written', 'items read', 'raw ms', 'ratio'], rows);
    const { job } = status;
    console.log(`  unchanged status job: updated ${job.updated}, unchanged ${job.unchanged}, findings ${job.findings?.length ?? 0}`);
    console.log(`  unchanged catalog job: created ${catalog.job.created}, updated ${catalog.job.updated}, deleted ${catalog.job.deleted}, unchanged ${catalog.job.unchanged}`);
    console.log(`  the changed machine's pass wrote: ${counted(drift.shapes) || 'nothing'} (findings: ${drift.job.findings?.map((f) => `${f.kind} ${f.outcome}`).join(', ')})`);
    if (status.data || catalog.data || after.data) console.log(`  unexpected data writes: ${counted([...status.shapes, ...catalog.shapes, ...after.shapes])}`);
    client.destroy();
  } finally {
    await dynamo.stop();
  }
}
