/**
 * No silent overwrite, over DynamoDB Local and the HTTP stack: GET and PATCH answer an ETag
 * from the item's version; a PATCH or DELETE whose If-Match names a version that is gone is a
 * 412; tags change as a JSON merge patch, so concurrent writers of different keys all keep theirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes as clientRoutes } from '../../functions/api/clients.ts';
import { routes as instanceRoutes } from '../../functions/api/instances.ts';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { buildOpenApiDocument } from '../../shared/http/openapi.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows } from '../support/fakes.ts';
import { areaCaller } from '../support/http-event.ts';

let table: TestTable;
let deps: AppDependencies;
let instances: ReturnType<typeof areaCaller<AppDependencies>>;
let clients: ReturnType<typeof areaCaller<AppDependencies>>;
let key: string;
let adminKey: string;
let clientId: string;

beforeAll(async () => {
  table = await createTestTable('conditional');
  deps = buildAppDependencies({
    db: createDb({ tableName: table.tableName, client: table.client }),
    providers: [new FakeProvider({ name: 'LOCAL' })],
    workflows: () => new RecordingWorkflows(),
  });
  instances = areaCaller('instances', instanceRoutes, () => deps);
  clients = areaCaller('clients', clientRoutes, () => deps);
  const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Conditional Tenant', maxInstances: 50 });
  clientId = client.clientId;
  key = (await deps.services.clients.issueApiKey(PLATFORM_ADMIN, clientId, { name: 'ops', role: 'admin' })).key;
  adminKey = (await deps.services.clients.issueApiKey(PLATFORM_ADMIN, clientId, { name: 'admin', role: 'admin' })).key;
});

afterAll(async () => {
  await deleteTestTable(table);
});

async function newInstance(tags: Record<string, string> = {}): Promise<{ id: string; etag: string }> {
  const created = await instances('POST', '/api/instances', { key, body: { name: 'tagged', config: { provider: 'LOCAL', tags } } });
  expect(created.status).toBe(202);
  const read = await instances('GET', `/api/instances/${created.body.instance.id}`, { key });
  return { id: created.body.instance.id, etag: read.headers.etag! };
}

describe('ETag', () => {
  it('is the instance version, on GET and on PATCH', async () => {
    const { id, etag } = await newInstance();
    const read = await instances('GET', `/api/instances/${id}`, { key });
    expect(etag).toBe(`"${read.body.instance.version}"`);

    const changed = await instances('PATCH', `/api/instances/${id}`, { key, body: { name: 'renamed' } });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).toBe(`"${changed.body.instance.version}"`);
    expect(changed.headers.etag).not.toBe(etag);
  });
});

describe('tags as a JSON merge patch', () => {
  it('sets and removes the keys named and keeps the others', async () => {
    const { id } = await newInstance({ keep: 'k', drop: 'd' });
    const changed = await instances('PATCH', `/api/instances/${id}`, { key, body: { tags: { added: '1', drop: null }, labels: { team: 'web' } } });
    expect(changed.status).toBe(200);
    expect(changed.body.instance.tags).toEqual({ keep: 'k', added: '1' });
    const read = await instances('GET', `/api/instances/${id}`, { key });
    expect(read.body.instance.tags).toEqual({ keep: 'k', added: '1' });
  });

  it('keeps every tag when clients add different tags concurrently without If-Match', async () => {
    const { id } = await newInstance({ base: 'b' });
    const writers = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

    const answers = await Promise.all(writers.map((name) => instances('PATCH', `/api/instances/${id}`, { key, body: { tags: { [name]: name } } })));

    expect(answers.map((a) => a.status)).toEqual(writers.map(() => 200));
    const read = await instances('GET', `/api/instances/${id}`, { key });
    expect(read.body.instance.tags).toEqual({ base: 'b', ...Object.fromEntries(writers.map((name) => [name, name])) });
    // One write each, none lost, none doubled.
    expect(read.body.instance.version).toBe(1 + writers.length);
  });

  it('refuses a change that would leave more than 50 tags', async () => {
    const { id } = await newInstance(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, 'x'])));
    const refused = await instances('PATCH', `/api/instances/${id}`, { key, body: { tags: { one: 'too many' } } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/at most 50 tags/);
  });
});

describe('If-Match', () => {
  it('lets a PATCH through at the version named, and answers 412 to a stale one without writing', async () => {
    const { id, etag } = await newInstance({ a: '1' });
    const first = await instances('PATCH', `/api/instances/${id}`, { key, body: { tags: { b: '2' } }, headers: { 'if-match': etag } });
    expect(first.status).toBe(200);

    const stale = await instances('PATCH', `/api/instances/${id}`, { key, body: { tags: { c: '3' } }, headers: { 'if-match': etag } });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ success: false, code: 'PRECONDITION_FAILED' });
    const read = await instances('GET', `/api/instances/${id}`, { key });
    expect(read.body.instance.tags).toEqual({ a: '1', b: '2' });
    expect(read.headers.etag).toBe(first.headers.etag);
  });

  it('gives one of two writers at the same version its change and the other a 412, never a retry', async () => {
    const { id, etag } = await newInstance();
    const answers = await Promise.all(
      ['x', 'y'].map((name) => instances('PATCH', `/api/instances/${id}`, { key, body: { tags: { [name]: '1' } }, headers: { 'if-match': etag } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 412]);
    const read = await instances('GET', `/api/instances/${id}`, { key });
    expect(Object.keys(read.body.instance.tags)).toHaveLength(1);
  });

  it('answers 412 to a DELETE at a stale version and leaves the instance running', async () => {
    const { id, etag } = await newInstance();
    await instances('PATCH', `/api/instances/${id}`, { key, body: { name: 'moved-on' } });
    const refused = await instances('DELETE', `/api/instances/${id}`, { key, headers: { 'if-match': etag } });
    expect(refused.status).toBe(412);
    expect((await instances('GET', `/api/instances/${id}`, { key })).body.instance.status).not.toBe('TERMINATING');

    const current = (await instances('GET', `/api/instances/${id}`, { key })).headers.etag!;
    expect((await instances('DELETE', `/api/instances/${id}`, { key, headers: { 'if-match': current } })).status).toBe(202);
  });

  it('treats * and a missing header as unconditional, and a tag that names no version as never matching', async () => {
    const { id } = await newInstance();
    expect((await instances('PATCH', `/api/instances/${id}`, { key, body: { tags: { s: '1' } }, headers: { 'if-match': '*' } })).status).toBe(200);
    expect((await instances('PATCH', `/api/instances/${id}`, { key, body: { tags: { s: '2' } }, headers: { 'if-match': '"not-a-version"' } })).status).toBe(412);
  });

  it('guards clients the same way', async () => {
    const read = await clients('GET', `/api/clients/${clientId}`, { key: adminKey });
    const version: number = read.body.client.version;
    expect(read.headers.etag).toBe(`"${version}"`);

    await expect(deps.services.clients.update(PLATFORM_ADMIN, clientId, { maxInstances: 60 }, { ifMatch: [version - 1] })).rejects.toMatchObject({
      status: 412,
      code: 'PRECONDITION_FAILED',
    });
    const updated = await deps.services.clients.update(PLATFORM_ADMIN, clientId, { maxInstances: 60 }, { ifMatch: [version] });
    expect(updated.version).toBe(version + 1);
    expect((await clients('GET', `/api/clients/${clientId}`, { key: adminKey })).headers.etag).toBe(`"${version + 1}"`);
  });
});

describe('the API description', () => {
  it('shows ETag on versioned reads and writes, If-Match and 412 on PATCH and DELETE', async () => {
    const doc = (await buildOpenApiDocument()) as { paths: Record<string, Record<string, any>> };
    for (const path of ['/api/instances/{id}', '/api/clients/{id}', '/api/webhooks/{id}']) {
      const item = doc.paths[path]!;
      expect(item.get.responses['200'].headers.ETag).toBeDefined();
      expect(item.patch.responses['200'].headers.ETag).toBeDefined();
      for (const method of ['patch', 'delete']) {
        expect(item[method].parameters.some((p: { in: string; name: string }) => p.in === 'header' && p.name === 'if-match')).toBe(true);
        expect(item[method].responses['412']).toBeDefined();
      }
    }
    expect(doc.paths['/api/accounts/{id}']!.delete.responses['412']).toBeDefined();
  });
});
