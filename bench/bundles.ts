/**
 * Cold-start figures per Lambda function: each handler is bundled exactly as the CDK app bundles
 * it (esbuild, ESM, minified, tree-shaken, SDK inside, cloud adapters split into chunks loaded on
 * first use), then its entry file is imported in a fresh Node process.
 * Import times are medians of interleaved runs, shown as a ratio to a bundle holding one bare
 * DynamoDB client — the least any function can carry — and to the stack's floor: the libraries
 * DESIGN.md chooses (middy, ElectroDB, zod, Powertools) with one entity and none of our services.
 * Work deferred from import to the first request is not hidden: each API function also answers
 * one authenticated GET (its first list route) against a stand-in DynamoDB that knows one client
 * and one of its keys and holds nothing else, so the answer is a 200 with an empty page; "first
 * response" is the time from the start of the import to that answer. The cold start script
 * checks the status, so a figure is never that of an error.
 * A third reference is the floor with its one read made through the DocumentClient instead of
 * ElectroDB: the difference is what ElectroDB alone adds to every cold start. The last columns
 * import each bundle again as deployed functions run, with source maps on.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { filesReadAtStart, functionBundleOptions, functionEntries, packagesIn } from '../infra/constructs/function-bundle.ts';
import { ROUTES, routeKey, type ApiArea } from '../shared/http/routes.ts';
import { median, table } from './figures.ts';
import { keys } from '../shared/db/keys.ts';
import { hashApiKey } from '../shared/services/api-keys.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const REFERENCE = 'bench/reference/one-dynamodb-client.ts';
const STACK_FLOOR = 'bench/reference/stack-floor.ts';
const FLOOR_WITHOUT_ELECTRODB = 'bench/reference/stack-floor-without-electrodb.ts';

/** Exactly as the CDK app bundles it (infra/constructs/function-bundle.ts), into a directory of its own. */
async function bundle(entry: string, outdir: string) {
  const dir = join(outdir, entry.replace(/[/.]/g, '_'));
  const { metafile } = await build(functionBundleOptions(entry, dir));
  const files = filesReadAtStart(metafile!);
  const sum = (list: string[]) => list.reduce((total, file) => total + metafile!.outputs[file]!.bytes, 0);
  const clients = sdkClients(packagesIn(metafile!, files.atStart));
  return {
    outfile: resolve(files.entry),
    bytes: sum(files.atStart),
    lazyBytes: sum(files.onUse),
    clients,
    lazyClients: sdkClients(packagesIn(metafile!, files.onUse)).filter((c) => !clients.includes(c)),
  };
}

/** The AWS SDK clients (and Azure packages) among packages, by short name. */
function sdkClients(packages: string[]): string[] {
  return packages
    .filter((name) => /^@aws-sdk\/client-|^@azure\/arm-/.test(name))
    .map((name) => name.replace('@aws-sdk/client-', '').replace('@azure/', 'azure:'));
}

/** The one request a cold start answers, per bundle: the references read one item; an API function gets an authenticated GET. */
function firstRequest(entry: string): unknown | undefined {
  if (entry === REFERENCE) return { table: 'hangar-bench', pk: 'CLIENT#bench' };
  if (entry === STACK_FLOOR || entry === FLOOR_WITHOUT_ELECTRODB) return { name: 'bench' };
  const area = /^functions\/api\/(\w+)\.ts$/.exec(entry)?.[1] as ApiArea | undefined;
  const route = area && ROUTES.find((r) => r.area === area && r.method === 'GET' && !r.path.includes('{'));
  if (!route) return undefined;
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: route.path,
    rawQueryString: '',
    headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
    requestContext: { http: { method: 'GET', path: route.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: 'bench', routeKey: routeKey(route), stage: '$default' },
    isBase64Encoded: false,
  };
}

const BENCH_KEY = 'hgr_bench_tenant_key';
const BENCH_CLIENT = 'bench-client';

/** An item in DynamoDB's wire format (strings and numbers are all these hold). */
const wireItem = (item: Record<string, string | number>) =>
  Object.fromEntries(Object.entries(item).map(([name, value]) => [name, typeof value === 'number' ? { N: String(value) } : { S: value }]));

/**
 * A stand-in DynamoDB endpoint that knows one client and one of its admin keys, as Hangar stores
 * them, and answers every other read empty: enough for an API function to authenticate a request
 * and answer it, without a table.
 */
async function standInDynamoDb(): Promise<{ url: string; close(): void }> {
  const createdAt = '2026-01-01T00:00:00.000Z';
  const keyHash = hashApiKey(BENCH_KEY);
  const known = [
    { ...keys.apiKey(keyHash), entityType: 'apiKey', keyHash, keyId: 'bench', clientId: BENCH_CLIENT, name: 'bench', role: 'admin', prefix: 'hgr_benc', createdAt, version: 1 },
    { ...keys.client(BENCH_CLIENT), entityType: 'client', clientId: BENCH_CLIENT, name: 'Bench', nameKey: 'bench', status: 'active', maxInstances: 10, maxAutoTerminateMinutes: 1440, createdAt, updatedAt: createdAt, version: 1 },
  ];
  const answer = (target: string, request: { Key?: { pk?: { S?: string }; sk?: { S?: string } }; RequestItems?: Record<string, unknown> }) => {
    const operation = target.split('.').pop();
    if (operation === 'GetItem') {
      const item = known.find((k) => k.pk === request.Key?.pk?.S && k.sk === request.Key?.sk?.S);
      return item ? { Item: wireItem(item) } : {};
    }
    if (operation === 'Query' || operation === 'Scan') return { Items: [], Count: 0, ScannedCount: 0 };
    if (operation === 'BatchGetItem') return { Responses: Object.fromEntries(Object.keys(request.RequestItems ?? {}).map((table) => [table, []])), UnprocessedKeys: {} };
    return {};
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(answer(String(req.headers['x-amz-target'] ?? ''), request)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const run = promisify(execFile);

/**
 * In a fresh process: milliseconds to import the bundle (module evaluation included), and, when
 * the bundle has a first request, from the start of the import to its answer. `sourceMaps` runs
 * Node as the CDK app runs every function, with --enable-source-maps (readable stack traces),
 * which makes Node read and parse each bundle's .map file as it loads.
 */
async function coldStart(file: string, event: unknown, dynamoDbUrl: string, sourceMaps = false): Promise<{ importMs: number; firstResponseMs?: number }> {
  const script = [
    `const t = performance.now();`,
    `const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});`,
    `const importMs = performance.now() - t;`,
    `const event = ${JSON.stringify(event ?? null)};`,
    `const answer = event ? await handler(event, { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 29000 }) : undefined;`,
    `if (typeof answer?.statusCode === 'number' && answer.statusCode !== 200) throw new Error('Error: the first request answered ' + answer.statusCode + ' ' + answer.body);`,
    `process.stdout.write(JSON.stringify({ importMs, firstResponseMs: event ? performance.now() - t : undefined }));`,
  ].join('\n');
  try {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_ENDPOINT_URL_DYNAMODB: dynamoDbUrl,
        TABLE_NAME: 'hangar-bench',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        NODE_NO_WARNINGS: '1',
        ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      encoding: 'utf8',
    });
    return JSON.parse(stdout) as { importMs: number; firstResponseMs?: number };
  } catch (error) {
    const firstLine = String((error as { stderr?: string }).stderr ?? error).split('\n').find((l) => /Error/.test(l)) ?? 'failed';
    throw new Error(`Cold start of ${file} failed: ${firstLine.slice(0, 300)}`);
  }
}

const REFERENCE_NAMES: Record<string, string> = {
  [REFERENCE]: 'reference: one DynamoDB client',
  [STACK_FLOOR]: 'reference: the stack floor',
  [FLOOR_WITHOUT_ELECTRODB]: 'reference: the floor without ElectroDB',
};


export async function bundleFigures(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'hangar-bench-'));
  const dynamo = await standInDynamoDb();
  try {
    const entries = [REFERENCE, STACK_FLOOR, FLOOR_WITHOUT_ELECTRODB, ...functionEntries()];
    const bundles = new Map<string, Awaited<ReturnType<typeof bundle>>>();
    for (const entry of entries) bundles.set(entry, await bundle(entry, outdir));
    const imports = new Map<string, number[]>(entries.map((e) => [e, []]));
    const firsts = new Map<string, number[]>(entries.map((e) => [e, []]));
    const withMaps = new Map<string, number[]>(entries.map((e) => [e, []]));
    // Interleaved: every round starts each bundle once, so machine noise hits all alike.
    for (let round = 0; round < RUNS; round++) {
      for (const entry of entries) {
        const { importMs, firstResponseMs } = await coldStart(bundles.get(entry)!.outfile, firstRequest(entry), dynamo.url);
        imports.get(entry)!.push(importMs);
        if (firstResponseMs !== undefined) firsts.get(entry)!.push(firstResponseMs);
        withMaps.get(entry)!.push((await coldStart(bundles.get(entry)!.outfile, undefined, dynamo.url, true)).importMs);
      }
    }
    const reference = median(imports.get(REFERENCE)!);
    const floor = median(imports.get(STACK_FLOOR)!);
    const referenceFirst = median(firsts.get(REFERENCE)!);
    const referenceWithMaps = median(withMaps.get(REFERENCE)!);
    console.log(`\nFunction bundles (medians of ${RUNS} interleaved fresh-process cold starts)\n`);
    table(
      ['function', 'KiB read at start', 'SDK clients at start', 'KiB loaded on use', 'SDK clients on use', 'import ms', 'vs one DynamoDB client', 'vs stack floor', 'first response ms', 'vs one DynamoDB client', 'import ms, source maps on', 'vs one DynamoDB client'],
      entries.map((entry) => {
        const b = bundles.get(entry)!;
        const ms = median(imports.get(entry)!);
        const first = firsts.get(entry)!.length ? median(firsts.get(entry)!) : undefined;
        return [
          REFERENCE_NAMES[entry] ?? entry,
          (b.bytes / 1024).toFixed(0),
          b.clients.join(' ') || '—',
          (b.lazyBytes / 1024).toFixed(0),
          b.lazyClients.join(' ') || '—',
          ms.toFixed(1),
          `${(ms / reference).toFixed(2)}×`,
          `${(ms / floor).toFixed(2)}×`,
          first === undefined ? '—' : first.toFixed(1),
          first === undefined ? '—' : `${(first / referenceFirst).toFixed(2)}×`,
          median(withMaps.get(entry)!).toFixed(1),
          `${(median(withMaps.get(entry)!) / referenceWithMaps).toFixed(2)}×`,
        ];
      }),
    );
  } finally {
    dynamo.close();
    rmSync(outdir, { recursive: true, force: true });
  }
}
