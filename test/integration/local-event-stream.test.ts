import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbClientConfig } from '../../infra/local/dynamodb-local.ts';
import { LocalEventStream } from '../../infra/local/local-event-stream.ts';
import { DynamoInstanceRepository } from '../../shared/adapters/dynamodb/instance-repository.ts';
import { createDb, type Db } from '../../shared/db/db.ts';
import { eventOfRecord, type StreamRecord } from '../../shared/db/event-stream-records.ts';
import { makeInstance } from '../unit/domain/fixtures.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';

/** The local stream reader on DynamoDB Local: what it hands the router, in what order, and where it resumes. */
describe('the local event stream', () => {
  let table: TestTable;
  let db: Db;
  let repo: DynamoInstanceRepository;
  let home: string;

  beforeAll(async () => {
    table = await createTestTable('event-stream');
    db = createDb({ tableName: table.tableName, client: table.client });
    repo = new DynamoInstanceRepository(db);
    home = await mkdtemp(join(tmpdir(), 'hangar-stream-'));
  });
  afterAll(async () => {
    await deleteTestTable(table);
  });

  function reader(route: (records: StreamRecord[]) => Promise<unknown>, checkpointFile = join(home, 'stream.json')) {
    return new LocalEventStream({
      dynamo: table.client,
      streams: new DynamoDBStreamsClient(dynamoDbClientConfig(table.endpoint)),
      tableName: table.tableName,
      route,
      checkpointFile,
      pollMs: 50,
    });
  }
  const until = async (what: string, done: () => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const eventIds = (batches: StreamRecord[][]) => batches.flat().map(eventOfRecord).filter(Boolean).map((e) => e!.eventId);

  it('hands every event written after start to the router once, in write order', async () => {
    const batches: StreamRecord[][] = [];
    const stream = reader(async (records) => void batches.push(records));
    await stream.start();
    const instance = makeInstance({ id: 'vps-stream-aaaaaa' });
    const written: string[] = [];
    for (let i = 0; i < 20; i++) written.push((await repo.appendEvent(instance, { type: 'instance.note', actor: 'system:test', message: `note ${i}` })).eventId);
    await until('20 events', () => eventIds(batches).length >= 20);
    await stream.stop();
    expect(eventIds(batches)).toEqual(written);
  });

  it('retries a batch the router failed, and resumes after a restart from where routing stopped', async () => {
    const checkpoint = join(home, 'resume.json');
    const routed: StreamRecord[][] = [];
    let failures = 2;
    const first = reader(async (records) => {
      if (failures-- > 0) throw new Error('a sink is down');
      routed.push(records);
    }, checkpoint);
    await first.start();
    const instance = makeInstance({ id: 'vps-stream-bbbbbb' });
    const before = (await repo.appendEvent(instance, { type: 'instance.note', actor: 'system:test', message: 'before the restart' })).eventId;
    await until('the retried batch', () => eventIds(routed).includes(before));
    await first.stop();
    expect(JSON.parse(await readFile(checkpoint, 'utf8')).shards).not.toEqual({});

    // Written while no reader runs: the next one starts from the checkpoint, not from the latest record.
    const during = (await repo.appendEvent(instance, { type: 'instance.note', actor: 'system:test', message: 'while stopped' })).eventId;
    const again: StreamRecord[][] = [];
    const second = reader(async (records) => void again.push(records), checkpoint);
    await second.start();
    await until('the event written while stopped', () => eventIds(again).includes(during));
    await second.stop();
    expect(eventIds(again)).not.toContain(before);
  });
});
