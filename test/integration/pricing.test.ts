import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { findPrice } from '../../shared/domain/catalog.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../support/fakes.ts';

/** Prices come from the shipped table unless the client negotiated its own. */
describe('instance prices', () => {
  let table: TestTable;
  let deps: AppDependencies;

  beforeAll(async () => {
    table = await createTestTable('pricing');
    deps = buildAppDependencies({
      db: createDb({ tableName: table.tableName, client: table.client }),
      providers: [new FakeProvider({ name: 'LOCAL' }), new FakeProvider({ name: 'AWS' })],
      workflows: () => new RecordingWorkflows(),
      clock: new ManualClock(),
    });
  });
  afterAll(async () => deleteTestTable(table));

  it('uses the price table, and a client override where one exists', async () => {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, {
      name: 'Negotiated Ltd',
      priceOverrides: { 'AWS:g4dn.xlarge': '0.45' },
    });
    const operator = principalFor(client.clientId, 'operator');
    const overridden = await deps.services.instances.create(operator, {
      name: 'gpu-box',
      type: 'gpu',
      config: { provider: 'AWS', instanceType: 'g4dn.xlarge', image: 'ami-1' },
    });
    expect(overridden.costPerHourMicros).toBe(450_000);
    const listed = await deps.services.instances.create(operator, {
      name: 'big-gpu-box',
      type: 'gpu',
      config: { provider: 'AWS', instanceType: 'p3.2xlarge', image: 'ami-1' },
    });
    expect(listed.costPerHourMicros).toBe(findPrice('AWS', 'p3.2xlarge')!.hourlyMicros);
  });

  it('refuses malformed overrides with a message naming the format', async () => {
    await expect(deps.services.clients.create(PLATFORM_ADMIN, { name: 'Bad Prices', priceOverrides: { g4dn: 'cheap' } })).rejects.toThrow(
      ValidationError,
    );
  });
});
