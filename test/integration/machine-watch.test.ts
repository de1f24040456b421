import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { makeMachineWatch } from '../../shared/services/machine-watch.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { provisionToReady } from '../support/provisioning.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../support/fakes.ts';

describe('machine watch at runtime start', () => {
  let table: TestTable;
  let deps: AppDependencies;
  const workflows = new RecordingWorkflows();
  const local = new FakeProvider({ name: 'LOCAL' });
  const cloud = new FakeProvider({ name: 'OPENSTACK' });

  beforeAll(async () => {
    table = await createTestTable('machine-watch');
    deps = buildAppDependencies({ db: createDb({ tableName: table.tableName, client: table.client }), providers: [local, cloud], workflows: () => workflows });
  });
  afterAll(async () => deleteTestTable(table));

  async function readyOn(provider: 'LOCAL' | 'OPENSTACK', name: string) {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name });
    const created = await deps.services.instances.create(principalFor(client.clientId, 'operator'), {
      name: 'node',
      config: { provider, instanceType: provider === 'LOCAL' ? 'local.small' : 'm1.small' },
    });
    const ref = { clientId: created.clientId, instanceId: created.id };
    return provisionToReady(deps.services.provisioning, ref);
  }

  it('resumes a cloud stop that the shutdown cut short, and judges only its own machines as not running', async () => {
    const stopping = await readyOn('OPENSTACK', 'Cloud Stop Inc');
    await deps.services.instances.act(principalFor(stopping.clientId, 'operator'), stopping.id, 'stop', {});
    const downCloud = await readyOn('OPENSTACK', 'Cloud Quiet Inc');
    cloud.setState(downCloud.id, 'stopped'); // the sync's business, not the runtime's
    const deadLocal = await readyOn('LOCAL', 'Local Dead Inc');
    await local.terminate({ instanceId: deadLocal.id, providerInstanceId: deadLocal.providerInstanceId!, region: 'local' });
    workflows.calls.length = 0;

    const tally = await makeMachineWatch(deps, deps.services.provisioning).reconcileOnStart('LOCAL');

    expect(workflows.callsFor(stopping.id).map((c) => c.workflow)).toEqual(['stop']);
    expect(tally).toEqual({ resumed: 1, restarted: 0, failed: 1 });
    expect((await deps.instances.findById(deadLocal.id))?.status).toBe('ERROR');
    expect((await deps.instances.findById(downCloud.id))?.status).toBe('READY');
  });
});
