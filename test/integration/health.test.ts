import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { provisionToReady } from '../support/provisioning.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../support/fakes.ts';

describe('health checks', () => {
  let table: TestTable;
  let deps: AppDependencies;
  const provider = new FakeProvider({ name: 'LOCAL' });
  const clock = new ManualClock(new Date('2026-07-01T08:00:00.000Z'));

  beforeAll(async () => {
    table = await createTestTable('health');
    deps = buildAppDependencies({
      db: createDb({ tableName: table.tableName, client: table.client }),
      providers: [provider],
      workflows: () => new RecordingWorkflows(),
      clock,
    });
  });
  afterAll(async () => deleteTestTable(table));

  async function readyInstance(name: string) {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: `${name} Ltd` });
    const operator = principalFor(client.clientId, 'operator');
    const created = await deps.services.instances.create(operator, { name });
    const ref = { clientId: created.clientId, instanceId: created.id };
    return { ready: await provisionToReady(deps.services.provisioning, ref), operator, viewer: principalFor(client.clientId, 'viewer') };
  }

  it('records every check, and writes the instance and an event only when health changes', async () => {
    const { ready, operator, viewer } = await readyInstance('watched-box');
    const versionBefore = ready.version;

    clock.advance(60_000);
    const healthy = await deps.services.health.checkNow(operator, ready.id);
    expect(healthy.health?.status).toBe('HEALTHY');
    expect(healthy.version).toBe(versionBefore);

    provider.setState(ready.id, 'error', 'kernel panic');
    clock.advance(60_000);
    const failing = await deps.services.health.checkNow(operator, ready.id);
    expect(failing.health).toMatchObject({ status: 'ERROR', error: 'kernel panic', checkedAt: clock.now().toISOString() });
    expect(failing.version).toBe(versionBefore + 1);

    const history = await deps.services.health.history(viewer, ready.id, {});
    expect(history.items.map((h) => h.status)).toEqual(['ERROR', 'HEALTHY']);
    const events = (await deps.instances.events(ready.id, { limit: 100 })).items.filter((e) => e.type === 'instance.health-changed');
    expect(events).toHaveLength(1);
    expect(events[0]!.message).toContain('kernel panic');
    await expect(deps.services.health.checkNow(viewer, ready.id)).rejects.toThrow(/operator/);
  });

  it('sets checkedAt on every check, the same health too, without a new version or event', async () => {
    const { ready, operator } = await readyInstance('fresh-box');
    const eventsBefore = (await deps.instances.events(ready.id, { limit: 100 })).items.length;

    clock.advance(60_000);
    const first = await deps.services.health.checkNow(operator, ready.id);
    clock.advance(60_000);
    const second = await deps.services.health.checkNow(operator, ready.id);

    expect(first.health).toMatchObject({ status: 'HEALTHY' });
    expect(second.health).toEqual({ status: 'HEALTHY', checkedAt: clock.now().toISOString() });
    expect((await deps.services.instances.get(operator, ready.id)).health?.checkedAt).toBe(clock.now().toISOString());
    // A refreshed time is not a change: a client's If-Match on the version stays good.
    expect(second.version).toBe(ready.version);
    expect((await deps.instances.events(ready.id, { limit: 100 })).items).toHaveLength(eventsBefore);
  });

  it('checks every up instance in bulk', async () => {
    const { ready } = await readyInstance('bulk-box');
    provider.setState(ready.id, 'stopped');
    const checked = await deps.services.health.checkAll(2);
    expect(checked).toBeGreaterThanOrEqual(1);
    const after = await deps.instances.get(ready.clientId, ready.id);
    expect(after!.health).toMatchObject({ status: 'UNHEALTHY', error: 'The machine is stopped' });
  });
});
