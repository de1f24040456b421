/**
 * What a newcomer hits over HTTP, against DynamoDB Local: a DELETE repeated after the end
 * answers 200 with the instance (idempotent) instead of 422, and an empty create says what to send.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes as instanceRoutes } from '../../functions/api/instances.ts';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { buildOpenApiDocument } from '../../shared/http/openapi.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows } from '../support/fakes.ts';
import { areaCaller } from '../support/http-event.ts';
import { provisionToReady } from '../support/provisioning.ts';

let table: TestTable;
let deps: AppDependencies;
let workflows: RecordingWorkflows;
let call: ReturnType<typeof areaCaller<AppDependencies>>;
let key: string;

beforeAll(async () => {
  table = await createTestTable('requests');
  workflows = new RecordingWorkflows();
  deps = buildAppDependencies({
    db: createDb({ tableName: table.tableName, client: table.client }),
    providers: [new FakeProvider({ name: 'LOCAL' })],
    workflows: () => workflows,
  });
  call = areaCaller('instances', instanceRoutes, () => deps);
  const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Requests Tenant' });
  key = (await deps.services.clients.issueApiKey(PLATFORM_ADMIN, client.clientId, { name: 'ops', role: 'operator' })).key;
});

afterAll(async () => {
  await deleteTestTable(table);
});

describe('DELETE /api/instances/{id}', () => {
  it('answers 202 while terminating and 200 with the instance once it is TERMINATED, starting nothing more', async () => {
    const created = await call('POST', '/api/instances', { key, body: { name: 'short-lived' } });
    const ref = { clientId: created.body.instance.clientId, instanceId: created.body.instance.id };
    await provisionToReady(deps.services.provisioning, ref);

    const first = await call('DELETE', `/api/instances/${ref.instanceId}`, { key });
    expect(first.status).toBe(202);
    expect(first.body.instance.status).toBe('TERMINATING');
    await deps.services.provisioning.release(ref);
    for (let polls = 0; !(await deps.services.provisioning.confirmTerminated(ref)).done; polls++) expect(polls).toBeLessThan(20);
    const terminated = await call('GET', `/api/instances/${ref.instanceId}`, { key });
    expect(terminated.body.instance.status).toBe('TERMINATED');
    const starts = workflows.callsFor(ref.instanceId).length;

    const again = await call('DELETE', `/api/instances/${ref.instanceId}`, { key });

    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ success: true, instance: { id: ref.instanceId, status: 'TERMINATED', version: terminated.body.instance.version } });
    expect(workflows.callsFor(ref.instanceId)).toHaveLength(starts);
  });
});

describe('POST /api/instances with nothing in it', () => {
  it.each([
    ['no body', { rawBody: '' }],
    ['an empty object', { body: {} }],
  ])('is a 400 that says what to send (%s), and creates nothing', async (_what, options) => {
    const before = (await call('GET', '/api/instances', { key })).body.count;
    const refused = await call('POST', '/api/instances', { key, ...options });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ success: false, code: 'BODY_REQUIRED' });
    expect(refused.body.error).toMatch(/Send a JSON body with config\.provider.*GET \/api\/openapi\.json/);
    expect((await call('GET', '/api/instances', { key })).body.count).toBe(before);
  });

  it('is described as required in the OpenAPI document', async () => {
    const doc = (await buildOpenApiDocument()) as { paths: Record<string, Record<string, any>> };
    expect(doc.paths['/api/instances']!.post.requestBody.required).toBe(true);
  });
});
