/**
 * EXTERNAL registrations in the table, as on AWS: providers built in different functions (here,
 * two objects on one DynamoDB Local table) see the same registrations, and a local runtime's
 * old registrations file moves into the table once, nothing lost.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoExternalRegistrationRepository } from '../../shared/adapters/dynamodb/external-registration-repository.ts';
import { ExternalProvider, externalProviderInstanceId } from '../../shared/adapters/external/external-provider.ts';
import { migrateRegistrationsFile } from '../../shared/adapters/external/registration-store.ts';
import { createDb } from '../../shared/db/db.ts';
import { ProviderError, ValidationError } from '../../shared/domain/errors.ts';
import type { LaunchSpec } from '../../shared/ports/compute-provider.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';

let table: TestTable;
let dir: string;
let http: Server;
let port: number;
const repo = () => new DynamoExternalRegistrationRepository(createDb({ tableName: table.tableName, client: table.client }));

beforeAll(async () => {
  table = await createTestTable('external');
  dir = await mkdtemp(join(tmpdir(), 'hangar-external-'));
  http = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
  await deleteTestTable(table);
  await rm(dir, { recursive: true, force: true });
});

const spec = (instanceId: string): LaunchSpec => ({
  instanceId,
  clientId: 'client-ext',
  name: 'api',
  instanceType: 'endpoint',
  region: 'external',
  resources: {},
  endpoint: `http://127.0.0.1:${port}`,
  healthPath: '/health',
  tags: { team: 'api' },
});

describe('EXTERNAL registrations in the table', () => {
  it('are seen by every provider on the table: one registers, another checks, a third forgets', async () => {
    const launcher = new ExternalProvider({ registrations: repo(), probeTimeoutMs: 1000 });
    const checker = new ExternalProvider({ registrations: repo(), probeTimeoutMs: 1000 });
    const forgetter = new ExternalProvider({ registrations: repo(), probeTimeoutMs: 1000 });

    const machine = await launcher.launch(spec('endpoint-api-aaa111'));
    const ref = { instanceId: 'endpoint-api-aaa111', providerInstanceId: machine.providerInstanceId, region: 'external' };

    expect(await checker.describe(ref)).toMatchObject({ state: 'running', instanceId: 'endpoint-api-aaa111' });
    expect((await checker.listOwned()).map((m) => m.instanceId)).toContain('endpoint-api-aaa111');
    await forgetter.terminate(ref);
    expect(await launcher.describe(ref)).toBeNull();
  });

  it("moves a local runtime's registrations file into the table once, keeping the file as .migrated", async () => {
    const file = join(dir, 'external-endpoints.json');
    const old = ['endpoint-old-bbb222', 'endpoint-old-ccc333'].map((instanceId) => ({
      instanceId,
      providerInstanceId: externalProviderInstanceId(instanceId),
      endpoint: `http://127.0.0.1:${port}`,
      healthPath: '/health',
      clientId: 'client-ext',
      name: 'old',
      region: 'external',
      tags: {},
      registeredAt: '2026-04-01T00:00:00.000Z',
    }));
    await writeFile(file, JSON.stringify({ version: 1, registrations: old }));
    const registrations = repo();

    expect(await migrateRegistrationsFile(file, registrations)).toBe(2);
    expect(await readdir(dir)).toEqual(['external-endpoints.json.migrated']);
    for (const registration of old) expect(await registrations.get(registration.instanceId)).toEqual(registration);
    // The next start finds no file and does nothing.
    expect(await migrateRegistrationsFile(file, registrations)).toBe(0);

    const provider = new ExternalProvider({ registrations, probeTimeoutMs: 1000 });
    const described = await provider.describe({ instanceId: old[0]!.instanceId, providerInstanceId: old[0]!.providerInstanceId, region: 'external' });
    expect(described).toMatchObject({ state: 'running' });
  });
});

describe('EXTERNAL endpoints on a deployed stage (public targets only)', () => {
  const resolveTo = (addresses: Record<string, string>) => async (host: string) =>
    addresses[host] ? [{ address: addresses[host]!, family: addresses[host]!.includes(':') ? 6 : 4 }] : Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));

  it('refuses a literal loopback, private or link-local address at create, with a 400', () => {
    const provider = new ExternalProvider({ registrations: repo(), publicTargetsOnly: { resolve: resolveTo({}) } });
    for (const endpoint of ['http://127.0.0.1:9001', '169.254.169.254:80', 'http://10.0.0.5/health', 'http://[::1]:8080']) {
      expect(() => provider.checkLaunchSpec({ ...spec('endpoint-x-ddd444'), endpoint, healthPath: undefined }), endpoint).toThrow(ValidationError);
    }
    expect(() => provider.checkLaunchSpec({ ...spec('endpoint-x-ddd444'), endpoint: 'https://api.example.com' })).not.toThrow();
  });

  it('never probes a name that resolves inside, and registers nothing for it', async () => {
    const registrations = repo();
    const provider = new ExternalProvider({
      registrations,
      probeTimeoutMs: 1000,
      publicTargetsOnly: { resolve: resolveTo({ 'sneaky.example.com': '127.0.0.1' }) },
    });
    const launch = provider.launch({ ...spec('endpoint-sneaky-eee555'), endpoint: `http://sneaky.example.com:${port}` });
    await expect(launch).rejects.toBeInstanceOf(ProviderError);
    await expect(launch).rejects.toThrow(/sneaky\.example\.com resolves to 127\.0\.0\.1, which is a loopback/);
    expect(await registrations.get('endpoint-sneaky-eee555')).toBeNull();
  });

  it('reports an already registered endpoint whose name now resolves inside as not checked', async () => {
    const registrations = repo();
    const local = new ExternalProvider({ registrations, probeTimeoutMs: 1000 });
    const machine = await local.launch(spec('endpoint-moved-fff666'));
    const deployed = new ExternalProvider({ registrations, publicTargetsOnly: { resolve: resolveTo({}) } });
    const described = await deployed.describe({ instanceId: 'endpoint-moved-fff666', providerInstanceId: machine.providerInstanceId, region: 'external' });
    expect(described).toMatchObject({ state: 'error' });
    expect(described?.reason).toMatch(/not checked: 127\.0\.0\.1 is a loopback/);
  });
});
