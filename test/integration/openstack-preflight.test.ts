/**
 * The OpenStack pre-flight through the create use case and its HTTP route, over DynamoDB Local
 * and the OpenStack double: on a cloud whose catalog has no volume service, a disk larger than
 * the flavor's is refused at create (400, naming a flavor that holds it) and nothing is written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes as instanceRoutes } from '../../functions/api/instances.ts';
import { LocalSecretBox } from '../../shared/adapters/local/local-secret-box.ts';
import { OpenStackProvider, toOpenStackCredentials } from '../../shared/adapters/openstack/openstack-provider.ts';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { PLATFORM_ADMIN, RecordingWorkflows } from '../support/fakes.ts';
import { areaCaller } from '../support/http-event.ts';
import { OpenStackDouble } from '../support/openstack-double.ts';

let table: TestTable;
let home: string;
let cloud: OpenStackDouble;
let workflows: RecordingWorkflows;
let deps: AppDependencies;

beforeAll(async () => {
  table = await createTestTable('preflight');
  home = await mkdtemp(join(tmpdir(), 'hangar-preflight-'));
  cloud = await OpenStackDouble.start({ volumeService: false });
  workflows = new RecordingWorkflows();
  deps = buildAppDependencies({
    db: createDb({ tableName: table.tableName, client: table.client }),
    workflows: () => workflows,
    secretBox: new LocalSecretBox({ keyFile: join(home, 'secret.key') }),
    providerFactory: (_provider, { region, credentials }) => new OpenStackProvider({ region, credentials: toOpenStackCredentials(credentials) }),
  });
});

afterAll(async () => {
  await cloud?.close();
  await deleteTestTable(table);
  await rm(home, { recursive: true, force: true });
});

describe('creating an OPENSTACK instance on a cloud without a volume service', () => {
  it('answers 400 naming a flavor whose disk holds the size asked for, and writes nothing', async () => {
    const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: 'Preflight Tenant' });
    const { key } = await deps.services.clients.issueApiKey(PLATFORM_ADMIN, client.clientId, { name: 'admin', role: 'admin' });
    const admin = { keyId: 'x', role: 'admin' as const, clientId: client.clientId };
    const account = await deps.services.accounts.create(admin, { provider: 'OPENSTACK', name: 'No cinder', region: cloud.region, credentials: cloud.passwordCredentials() });
    const call = areaCaller('instances', instanceRoutes, () => deps);
    const before = await partition(client.clientId);
    cloud.clearRequests();

    const refused = await call('POST', '/api/instances', {
      key,
      body: {
        name: 'big-disk',
        config: { provider: 'OPENSTACK', accountId: account.accountId, instanceType: 'm1.small', image: 'cirros-0.6.2-x86_64-disk', diskSizeGB: 60 },
      },
    });

    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ success: false, code: 'DISK_EXCEEDS_FLAVOR' });
    expect(refused.body.error).toMatch(/no volume service/);
    expect(refused.body.error).toMatch(/m1\.large \(80 GB/);
    expect(await partition(client.clientId)).toEqual(before);
    expect(workflows.calls).toEqual([]);
    expect(cloud.requestsTo('compute', 'POST')).toEqual([]);

    // The flavor it suggests is accepted.
    const accepted = await call('POST', '/api/instances', {
      key,
      body: {
        name: 'big-disk',
        config: { provider: 'OPENSTACK', accountId: account.accountId, instanceType: 'm1.large', image: 'cirros-0.6.2-x86_64-disk', diskSizeGB: 60 },
      },
    });
    expect(accepted.status).toBe(202);
  });
});

async function partition(clientId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await deps.db.doc.send(
    new QueryCommand({ TableName: deps.db.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `CLIENT#${clientId}` } }),
  );
  return Items ?? [];
}
