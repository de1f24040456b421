/**
 * The data path at scale, against DynamoDB Local (in memory): one client holding 1k, 10k and
 * 100k instances (BENCH_SCALES=1000,10000 to limit), seeded with BatchWriteItem in the items the
 * instance repository itself writes. Every figure is Hangar next to a raw SDK call doing the
 * least the same answer needs, interleaved call by call in one run, as medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { dynamoDbClientConfig, ensureTable, startDynamoDbLocal } from '../infra/local/dynamodb-local.ts';
import { lambdaContext, startGateway, type AreaHandler } from '../infra/local/gateway.ts';
import { DynamoInstanceRepository } from '../shared/adapters/dynamodb/instance-repository.ts';
import { LocalProvider } from '../shared/adapters/local/local-provider.ts';
import { composeHangar } from '../shared/config/composition.ts';
import { createDb } from '../shared/db/db.ts';
import { KEY_TEMPLATES, keyOf, keys } from '../shared/db/keys.ts';
import type { Instance } from '../shared/domain/instance.ts';
import type { InstanceStatus } from '../shared/domain/lifecycle.ts';
import type { Principal } from '../shared/domain/roles.ts';
import { httpApi } from '../shared/http/http-api.ts';
import { makeInstance } from '../test/support/fakes.ts';
import { median, table } from './figures.ts';
import { batchWrite, countReads } from './seed.ts';

const SCALES = (process.env.BENCH_SCALES ?? '1000,10000,100000').split(',').map(Number).filter((n) => n > 0);
const ADMIN: Principal = { keyId: 'key-bench', role: 'platform-admin', clientId: null };
const STATUSES: InstanceStatus[] = ['READY', 'RUNNING', 'STOPPED', 'TERMINATED'];

/** Medians (ms) of each named call, run in turn `rounds` times after a warm-up, rotating who goes first. */
async function interleaved(rounds: number, calls: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const names = Object.keys(calls);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const warmUp = Math.min(20, Math.ceil(rounds / 5));
  for (let round = 0; round < warmUp + rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      const start = performance.now();
      await calls[name]!();
      if (round >= warmUp) times[name]!.push(performance.now() - start);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n]!)]));
}

/** Calls per second with `inFlight` callers running back to back for `ms`. */
async function throughput(inFlight: number, ms: number, call: (n: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  let seq = 0;
  const until = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) {
        await call(seq++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** One keep-alive HTTP client for every call over HTTP, as the SDK keeps its connections to DynamoDB. */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
function httpCall(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

export async function dataPathFigures(): Promise<void> {
  console.log(`\nData path at scale (DynamoDB Local in memory; scales ${SCALES.join(', ')}): Hangar / raw reference, interleaved medians\n`);
  const dynamo = await startDynamoDbLocal({});
  const home = mkdtempSync(join(tmpdir(), 'hangar-bench-'));
  try {
    const client = new DynamoDBClient(dynamoDbClientConfig(dynamo.endpoint));
    const reads = countReads(client);
    const tableName = 'hangar-bench';
    await ensureTable(client, tableName);
    const db = createDb({ tableName, client });
    const repo = new DynamoInstanceRepository(db);
    const deps = composeHangar({
      db,
      providers: [new LocalProvider({ rootDir: join(home, 'instances') })],
      workflows: () => ({ start: async () => {} }),
    });
    const { routes } = await import('../functions/api/instances.ts');
    const handler = httpApi('instances', routes, () => deps) as unknown as AreaHandler;
    const gateway = await startGateway({ port: 0, handlers: { instances: handler } as never });
    const url = gateway.url.replace('localhost', '127.0.0.1');
    // What HTTP itself costs here: a bare Node server answering a stored JSON body.
    let bareBody = '{}';
    const bare = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(bareBody);
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;

    const rows: string[][] = [];
    const readRows: string[][] = [];
    let lastScale: { key: string; clientId: string; ids: string[] } | undefined;
    const listsByScale = new Map<number, Record<string, number>>();
    for (const scale of SCALES) {
      const owner = await deps.services.clients.create(ADMIN, { name: `bench-${scale}`, maxInstances: 10_000 });
      const { key } = await deps.services.clients.issueApiKey(ADMIN, owner.clientId, { name: 'bench', role: 'admin' });
      const clientId = owner.clientId;
      const seeded = performance.now();
      const base = Date.parse('2026-01-01T00:00:00.000Z');
      const instances: Instance[] = [];
      for (let i = 0; i < scale; i++) {
        const at = new Date(base + i * 1000).toISOString();
        instances.push(
          makeInstance({
            id: `vps-bench-${scale}-${i.toString(36).padStart(6, '0')}`,
            clientId,
            status: STATUSES[i % STATUSES.length]!,
            tags: { env: i % 2 ? 'prod' : 'dev', team: `t${i % 10}` },
            createdAt: at,
            updatedAt: at,
          }),
        );
      }
      await batchWrite(db, (await Promise.all(instances.map((instance) => repo.itemsOf(instance)))).flat());
      // One instance through the repository, so the counters item exists as a running client's would.
      const last = makeInstance({ id: `vps-bench-${scale}-zzzzzz`, clientId, status: 'READY', tags: { env: 'prod', team: 't0' } });
      await repo.create(last, { type: 'instance.created', actor: 'key:bench', message: 'seeded' });
      const seedSeconds = (performance.now() - seeded) / 1000;
      console.log(`  seeded ${scale} instances in ${seedSeconds.toFixed(1)} s`);

      const auth = { authorization: `Bearer ${key}` };
      const id = instances[Math.floor(scale / 2)]!.id;
      const event = (path: string, query?: Record<string, string>, params?: Record<string, string>): APIGatewayProxyEventV2 =>
        ({
          version: '2.0',
          routeKey: '$default',
          rawPath: path,
          rawQueryString: new URLSearchParams(query).toString(),
          headers: { ...auth },
          ...(query ? { queryStringParameters: query } : {}),
          ...(params ? { pathParameters: params } : {}),
          requestContext: { http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: 'bench' },
          isBase64Encoded: false,
        }) as unknown as APIGatewayProxyEventV2;
      const inProcess = async (e: APIGatewayProxyEventV2) => {
        const result = await handler(e, lambdaContext('instances'));
        if (result.statusCode !== 200) throw new Error(`${e.rawPath}: ${result.statusCode} ${result.body}`);
        return result;
      };
      const overHttp = async (path: string) => {
        const { status, text } = await httpCall(`${url}${path}`, { headers: auth });
        if (status !== 200) throw new Error(`${path}: ${status} ${text}`);
        return text;
      };
      bareBody = await overHttp(`/api/instances/${id}`);
      const rawGet = (k: { pk: string; sk: string }) => () =>
        client.send(new GetItemCommand({ TableName: tableName, Key: marshall(k), ConsistentRead: true }));
      const rawQuery = () =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
            ExpressionAttributeValues: marshall({ ':pk': `CLIENT#${clientId}`, ':sk': 'INSTANCE#' }),
            Limit: 100,
          }),
        );
      // A tag page at the least: the tag's index entries (one Query), then their instances (one BatchGetItem).
      const rawTagPage = async () => {
        const entries = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :pk',
            ExpressionAttributeValues: marshall({ ':pk': keyOf(KEY_TEMPLATES.instancesByTag, { clientId, tagKey: 'team', tagValue: 't3', id: '' }).pk }),
            Limit: 100,
          }),
        );
        const ids = (entries.Items ?? []).map((item) => item.id!.S!);
        await client.send(
          new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: ids.map((entryId) => marshall(keyOf(KEY_TEMPLATES.instance, { clientId, id: entryId }))), ConsistentRead: true } },
          }),
        );
      };
      const instanceKey = keyOf(KEY_TEMPLATES.instance, { clientId, id });
      const list = (query: Record<string, string>) => () => inProcess(event('/api/instances', { limit: '100', ...query }));

      const gets = await interleaved(300, {
        inProcess: () => inProcess(event(`/api/instances/${id}`, undefined, { id })),
        http: () => overHttp(`/api/instances/${id}`),
        raw: rawGet(instanceKey),
        bareHttp: () => httpCall(`${bareUrl}/api/instances/${id}`),
        stats: () => overHttp('/api/instances/stats'),
        rawStats: rawGet(keys.clientStats(clientId)),
      });
      const lists = await interleaved(40, {
        plain: list({}),
        status: list({ status: 'STOPPED' }),
        tag: list({ tag: 'team=t3' }),
        raw: rawQuery,
        rawTag: rawTagPage,
      });
      listsByScale.set(scale, lists);
      rows.push(
        [`GET one instance, in process`, `${scale}`, fmt(gets.inProcess!), `GetItem ${fmt(gets.raw!)}`, ratio(gets.inProcess!, gets.raw!)],
        [`GET one instance, over HTTP`, `${scale}`, fmt(gets.http!), `GetItem ${fmt(gets.raw!)}`, ratio(gets.http!, gets.raw!)],
        [`  a bare Node server, same body`, `${scale}`, fmt(gets.bareHttp!), `GetItem ${fmt(gets.raw!)}`, ratio(gets.bareHttp!, gets.raw!)],
        [`stats, over HTTP`, `${scale}`, fmt(gets.stats!), `GetItem ${fmt(gets.rawStats!)}`, ratio(gets.stats!, gets.rawStats!)],
        [`list page of 100`, `${scale}`, fmt(lists.plain!), `Query ${fmt(lists.raw!)}`, ratio(lists.plain!, lists.raw!)],
        [`list page of 100 by status`, `${scale}`, fmt(lists.status!), `Query ${fmt(lists.raw!)}`, ratio(lists.status!, lists.raw!)],
        [`list page of 100 by tag`, `${scale}`, fmt(lists.tag!), `Query+BatchGet ${fmt(lists.rawTag!)}`, ratio(lists.tag!, lists.rawTag!)],
      );
      for (const [name, query] of [
        ['plain', {}],
        ['by status', { status: 'STOPPED' }],
        ['by tag', { tag: 'team=t3' }],
        ['by tag key', { tag: 'team' }],
        ['by type', { type: 'vps' }],
      ] as const) {
        const before = { ...reads };
        const page = JSON.parse((await list(query)()).body as string) as { instances: unknown[] };
        readRows.push([`page of 100 ${name}`, `${scale}`, `${page.instances.length}`, `${reads.items - before.items}`, `${reads.scans - before.scans}`]);
      }
      lastScale = { key, clientId, ids: instances.map((i) => i.id) };
    }

    console.log('');
    table(['figure', 'instances', 'Hangar ms', 'raw ms', 'ratio'], rows);
    console.log('');
    table(['items read', 'instances', 'returned', 'items read', 'scans'], readRows);
    if (SCALES.length > 1) {
      // Flat with the data: what a page costs at the largest scale against the smallest.
      const [small, large] = [listsByScale.get(SCALES[0]!)!, listsByScale.get(SCALES.at(-1)!)!];
      console.log('');
      table(
        ['list page of 100', `ms at ${SCALES[0]}`, `ms at ${SCALES.at(-1)}`, 'growth', 'raw growth'],
        [
          ['plain', fmt(small.plain!), fmt(large.plain!), ratio(large.plain!, small.plain!), ratio(large.raw!, small.raw!)],
          ['by status', fmt(small.status!), fmt(large.status!), ratio(large.status!, small.status!), ratio(large.raw!, small.raw!)],
          ['by tag', fmt(small.tag!), fmt(large.tag!), ratio(large.tag!, small.tag!), ratio(large.rawTag!, small.rawTag!)],
        ],
      );
    }

    if (lastScale) {
      const { key, clientId, ids } = lastScale;
      const auth = { authorization: `Bearer ${key}` };
      const creator = await deps.services.clients.create(ADMIN, { name: 'bench-creates', maxInstances: 10_000 });
      const { key: createKey } = await deps.services.clients.issueApiKey(ADMIN, creator.clientId, { name: 'bench', role: 'admin' });
      const body = JSON.stringify({ type: 'vps', config: { provider: 'LOCAL', instanceType: 'local.small' } });
      let created = 0;
      const sustained: string[][] = [];
      for (const inFlight of [16, 64]) {
        const hangarGets = await throughput(inFlight, 2000, async (n) => {
          await httpCall(`${url}/api/instances/${ids[n % ids.length]}`, { headers: auth });
        });
        const rawGets = await throughput(inFlight, 2000, (n) =>
          client.send(new GetItemCommand({ TableName: tableName, Key: marshall(keyOf(KEY_TEMPLATES.instance, { clientId, id: ids[n % ids.length]! })), ConsistentRead: true })),
        );
        const hangarCreates = await throughput(inFlight, 2000, async (n) => {
          const { status, text } = await httpCall(`${url}/api/instances`, {
            method: 'POST',
            headers: { authorization: `Bearer ${createKey}`, 'content-type': 'application/json' },
            body: body.replace('"type"', `"name":"bench-${inFlight}-${n}","type"`),
          });
          if (status !== 202) throw new Error(`create: ${status} ${text}`);
          created++;
        });
        const rawPuts = await throughput(inFlight, 2000, (n) =>
          client.send(new PutItemCommand({ TableName: tableName, Item: marshall({ pk: `BENCH#${inFlight}`, sk: `${n}`, payload: 'x'.repeat(800) }) })),
        );
        // What a create must write at the least, raw: one transaction of the instance, its event
        // and index items, and the client's and user's counters, the client's guarded by a quota.
        // Every create of one client moves the same counters, so transactions collide; a collided
        // one is retried at once (Hangar backs off with jitter).
        const rawTransactions = await throughput(inFlight, 2000, async (n) => {
          const counter = (sk: string, guarded: boolean) => ({
            Update: {
              TableName: tableName,
              Key: marshall({ pk: `BENCHTX#${inFlight}`, sk }),
              UpdateExpression: 'ADD live :one',
              ...(guarded ? { ConditionExpression: 'attribute_not_exists(live) OR live < :max' } : {}),
              ExpressionAttributeValues: marshall(guarded ? { ':one': 1, ':max': 1_000_000 } : { ':one': 1 }),
            },
          });
          const put = (sk: string, bytes: number) => ({ Put: { TableName: tableName, Item: marshall({ pk: `BENCHTX#${inFlight}#${n}`, sk, payload: 'x'.repeat(bytes) }) } });
          const items = [put('INSTANCE', 800), put('EVENT', 200), counter('STATS', true), counter('STATS#USER', false), put('ACTION', 200), put('FACETS', 100)];
          for (;;) {
            try {
              await client.send(new TransactWriteItemsCommand({ TransactItems: items }));
              return;
            } catch (error) {
              if (!(error instanceof TransactionCanceledException)) throw error;
            }
          }
        });
        sustained.push(
          [`GETs/s over HTTP`, `${inFlight}`, hangarGets.toFixed(0), `GetItem ${rawGets.toFixed(0)}`, (hangarGets / rawGets).toFixed(2)],
          [`creates/s over HTTP`, `${inFlight}`, hangarCreates.toFixed(0), `PutItem ${rawPuts.toFixed(0)}`, (hangarCreates / rawPuts).toFixed(2)],
          [`creates/s over HTTP`, `${inFlight}`, hangarCreates.toFixed(0), `TransactWriteItems ${rawTransactions.toFixed(0)}`, (hangarCreates / rawTransactions).toFixed(2)],
        );
      }
      console.log('');
      table(['sustained', 'in flight', 'Hangar /s', 'raw /s', 'ratio'], sustained);
      console.log(`  (${created} instances created; creates start no workflow here)`);
    }
    await gateway.close();
    bare.close();
    agent.destroy();
    client.destroy();
  } finally {
    await dynamo.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
