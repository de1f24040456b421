/**
 * The Idempotency-Key contract over the instances API on DynamoDB Local: duplicates that arrive
 * while the first request runs wait for its answer, bodies compare canonically, and a key reused
 * with another body is a 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes as instanceRoutes } from '../../functions/api/instances.ts';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows } from '../support/fakes.ts';
import { areaCaller } from '../support/http-event.ts';

let table: TestTable;
let deps: AppDependencies;
let workflows: RecordingWorkflows;
let call: ReturnType<typeof areaCaller<AppDependencies>>;
let key: string;
let clientId: string;

beforeAll(async () => {
  table = await createTestTable('idempotency');
  workflows = new RecordingWorkflows();
  deps = buildAppDependencies({ db: createDb({ tableName: table.tableName, client: table.client }), providers: [new FakeProvider({ name: 'LOCAL' })], workflows: () => workflows });
  const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Idempotent Inc', maxInstances: 500 });
  clientId = client.clientId;
  key = (await deps.services.clients.issueApiKey(PLATFORM_ADMIN, clientId, { name: 'ops', role: 'operator' })).key;
  call = areaCaller('instances', instanceRoutes, () => deps);
});
afterAll(async () => {
  await deleteTestTable(table);
});

const body = { name: 'batch-worker', type: 'worker', config: { provider: 'LOCAL', instanceType: 'local.small', tags: { team: 'data', run: '42' } } };
const create = (idempotencyKey: string, payload: unknown = body) =>
  call('POST', '/api/instances', { key, body: payload, headers: { 'idempotency-key': idempotencyKey } });

describe('Idempotency-Key', () => {
  it('answers 100 concurrent duplicates with the first answer: one instance, one workflow', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => create('batch-1')));

    expect(answers.map((a) => a.status).filter((s) => s < 200 || s > 299)).toEqual([]);
    const ids = new Set(answers.map((a) => a.body.instance?.id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(id).toMatch(/^worker-batch-worker-[a-z0-9]{6}$/);
    const listed = await deps.services.instances.list(PLATFORM_ADMIN, { clientId, limit: 100 });
    expect(listed.items.filter((i) => i.name === 'batch-worker').map((i) => i.id)).toEqual([id]);
    expect(workflows.callsFor(id).filter((c) => c.workflow === 'provision')).toHaveLength(1);
  });

  it('treats the same body with its keys in another order as the same request', async () => {
    const first = await create('batch-2');
    const reordered = { config: { tags: { run: '42', team: 'data' }, instanceType: 'local.small', provider: 'LOCAL' }, type: 'worker', name: 'batch-worker' };
    const again = await create('batch-2', reordered);

    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.instance.id).toBe(first.body.instance.id);
  });

  it('refuses the same key with another body: 409, and the first instance stands alone', async () => {
    const first = await create('batch-3');
    const other = await create('batch-3', { ...body, name: 'another-worker' });

    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ success: false, code: 'IDEMPOTENCY_KEY_REUSED' });
    const listed = await deps.services.instances.list(PLATFORM_ADMIN, { clientId, limit: 100 });
    expect(listed.items.some((i) => i.name === 'another-worker')).toBe(false);
    expect(listed.items.some((i) => i.id === first.body.instance.id)).toBe(true);
  });
});
