/**
 * The backfill of index items, on DynamoDB Local: a table holding instances written before tag,
 * facet and due entries existed (the instance item alone) gets every entry it lacks, loses due
 * entries it should not have, and a second run changes nothing. The script runs it the same way.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BatchWriteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoInstanceRepository } from '../../shared/adapters/dynamodb/instance-repository.ts';
import { backfillIndexItemsOnce } from '../../infra/local/index-backfill.ts';
import { createDb, type Db } from '../../shared/db/db.ts';
import type { Instance } from '../../shared/domain/instance.ts';
import type { DueKind } from '../../shared/ports/instance-repository.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { makeInstance } from '../support/fakes.ts';

const run = promisify(execFile);
const NOW = new Date('2026-03-01T12:00:00.000Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

let table: TestTable;
let db: Db;
let repo: DynamoInstanceRepository;

beforeAll(async () => {
  table = await createTestTable('backfill');
  db = createDb({ tableName: table.tableName, client: table.client });
  repo = new DynamoInstanceRepository(db);
});
afterAll(async () => {
  await deleteTestTable(table);
});

/** Instances as an older release stored them: the instance item, no index entries. */
async function writeLegacy(instances: Instance[]): Promise<void> {
  for (let i = 0; i < instances.length; i += 25) {
    const items = await Promise.all(instances.slice(i, i + 25).map(async (instance) => (await repo.itemsOf(instance))[0]!));
    await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.tableName]: items.map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

async function dueIds(kind: DueKind, clientId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of repo.duePages(kind, NOW)) ids.push(...page.filter((e) => e.clientId === clientId).map((e) => e.id));
  return ids.sort();
}

/** Every item in one instance's own partition, by sort key. */
async function partitionOf(id: string): Promise<string[]> {
  const { Items } = await db.doc.send(
    new QueryCommand({ TableName: db.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `INSTANCE#${id}` } }),
  );
  return (Items ?? []).map((item) => item.sk as string).sort();
}

describe('backfill of index items', () => {
  const clientId = 'client-legacy';
  const instances = [
    makeInstance({ id: 'vps-legacy-due-000001', clientId, status: 'READY', autoTerminateAt: at(-5), tags: { env: 'prod' }, type: 'vps' }),
    makeInstance({ id: 'gpu-legacy-later-000002', clientId, status: 'RUNNING', autoTerminateAt: at(30), tags: { env: 'dev' }, type: 'gpu', provider: 'AWS' }),
    makeInstance({ id: 'vps-legacy-idle-000003', clientId, status: 'READY', idleSince: at(-30), config: { idleStopMinutes: 10 }, userId: 'user-2' }),
    makeInstance({ id: 'vps-legacy-gone-000004', clientId, status: 'TERMINATED', autoTerminateAt: at(-60), tags: { env: 'prod' } }),
    ...Array.from({ length: 6 }, (_, i) => makeInstance({ id: `vps-legacy-plain-00001${i}`, clientId, status: 'STOPPED' })),
  ];

  it('writes what every legacy instance lacks, removes a due entry left for a terminated one, and a second run changes nothing', async () => {
    await writeLegacy(instances);
    // A due entry an instance should not have (its deadline went with the terminate).
    const stale = { ...instances[3]!, status: 'READY' as const };
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: (await repo.itemsOf(stale)).find((item) => String(item.sk).startsWith('DUE#'))! }));
    expect(await dueIds('auto-terminate', clientId)).toEqual([instances[3]!.id]);
    expect((await repo.list(clientId, { tag: 'env=prod' }, { limit: 100 })).items).toEqual([]);

    const pages: number[] = [];
    const done = await repo.backfillIndexItems({ pageSize: 3, onPage: (progress) => pages.push(progress.instances) });
    expect(done).toMatchObject({ instances: instances.length, cursor: null });
    expect(pages.length).toBeGreaterThan(1);

    expect(await dueIds('auto-terminate', clientId)).toEqual([instances[0]!.id]);
    expect(await dueIds('idle-stop', clientId)).toEqual([instances[2]!.id]);
    const ids = async (filters: Parameters<DynamoInstanceRepository['list']>[1]) => (await repo.list(clientId, filters, { limit: 100 })).items.map((i) => i.id).sort();
    expect(await ids({ tag: 'env=prod' })).toEqual([instances[0]!.id, instances[3]!.id].sort());
    expect(await ids({ type: 'gpu' })).toEqual([instances[1]!.id]);
    expect(await ids({ provider: 'AWS' })).toEqual([instances[1]!.id]);
    expect(await ids({ userId: 'user-2' })).toEqual([instances[2]!.id]);

    const before = await Promise.all(instances.map((i) => partitionOf(i.id)));
    expect(before[0]).toEqual(['DUE#auto-terminate', 'FACETS', 'TAG#env']);
    expect(before[3]).toEqual(['FACETS', 'TAG#env']);
    const again = await repo.backfillIndexItems({ pageSize: 4 });
    expect(again.instances).toBe(instances.length);
    expect(await Promise.all(instances.map((i) => partitionOf(i.id)))).toEqual(before);
    expect(await dueIds('auto-terminate', clientId)).toEqual([instances[0]!.id]);
  });

  it('resumes from a cursor it reported, and the script runs it against the table', async () => {
    const cursors: (string | null)[] = [];
    await repo.backfillIndexItems({ pageSize: 4, onPage: (progress) => cursors.push(progress.cursor) });
    const resumed = await repo.backfillIndexItems({ pageSize: 4, cursor: cursors[0]! });
    expect(resumed.instances).toBe(instances.length - 4);

    const late = makeInstance({ id: 'vps-legacy-late-000020', clientId, status: 'READY', autoTerminateAt: at(-1) });
    await writeLegacy([late]);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'infra/scripts/backfill-index-items.ts', '--page-size', '5'], {
      env: { ...process.env, HANGAR_TABLE: table.tableName, HANGAR_DYNAMODB_ENDPOINT: table.endpoint },
    });
    expect(stdout).toMatch(/Index items of \d+ instance\(s\) in .* are complete/);
    expect(await dueIds('auto-terminate', clientId)).toEqual([instances[0]!.id, late.id].sort());
  });

  it('the local runtime backfills a table from before once, and marks its home so later starts do not read the table again', async () => {
    const home = await mkdtemp(join(tmpdir(), 'hangar-backfill-home-'));
    const legacy = makeInstance({ id: 'vps-legacy-local-000030', clientId: 'client-local-start', status: 'READY', tags: { team: 'ops' } });
    await writeLegacy([legacy]);
    const logged: string[] = [];

    expect(await backfillIndexItemsOnce(db, home, (line) => logged.push(line))).toBeGreaterThan(0);
    expect((await repo.list('client-local-start', { tag: 'team=ops' }, { limit: 10 })).items.map((i) => i.id)).toEqual([legacy.id]);
    expect(logged).toEqual([expect.stringMatching(/completed the index items of \d+ instance\(s\)/)]);
    expect(await readFile(join(home, 'index-items-v1'), 'utf8')).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    expect(await backfillIndexItemsOnce(db, home, (line) => logged.push(line))).toBeNull();
    expect(logged).toHaveLength(1);
    await rm(home, { recursive: true, force: true });
  });
});

