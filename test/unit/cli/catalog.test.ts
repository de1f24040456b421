import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, fail, ok, runCli, startFakeApi } from './harness.ts';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const SYNCED_AT = '2025-03-01T09:55:00.123Z';

function item(kind: string, id: string, attributes: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: id,
    kind,
    region: 'RegionOne',
    attributes,
    firstSeenAt: '2025-03-01T09:00:00.000Z',
    updatedAt: '2025-03-01T09:00:00.000Z',
    ...extra,
  };
}

const FLAVORS = [
  item('flavors', 'm1.small', { vcpus: 1, memoryMiB: 2048, diskGB: 20, gpus: 0 }, { pricePerHour: 0.02 }),
  item('flavors', 'g1.large', { vcpus: 8, memoryMiB: 65536, diskGB: 200, gpus: 1 }, { pricePerHour: 1.5 }),
  item('flavors', 'm1.tiny', { vcpus: 1, memoryMiB: 512, diskGB: 1 }, { deletedAt: '2025-03-01T09:50:00.000Z' }),
];

describe('hangar catalog', () => {
  it("reads an account's synced flavors with the filters in the query and marks deleted items", async () => {
    api = await startFakeApi(() => ok({ flavors: FLAVORS, count: 3, nextCursor: null, source: 'synced', syncedAt: SYNCED_AT }));
    const result = await runCli([
      '--url', api.url, 'catalog', 'flavors', '--account', 'acc-1', '--region', 'RegionOne', '--all',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [req] = api.requests;
    expect(req!.method).toBe('GET');
    expect(req!.path).toBe('/api/catalog/flavors');
    expect(Object.fromEntries(req!.query)).toEqual({ accountId: 'acc-1', region: 'RegionOne', includeDeleted: 'true' });
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+VCPUS\s+MEMORY MIB\s+DISK GB\s+GPUS\s+PRICE\/H\s+DELETED$/);
    expect(lines[1]).toMatch(/^m1\.small\s+m1\.small\s+1\s+2048\s+20\s+0\s+\$0\.02$/);
    expect(lines[2]).toMatch(/^g1\.large\s+g1\.large\s+8\s+65536\s+200\s+1\s+\$1\.50$/);
    expect(lines[3]).toMatch(/^m1\.tiny\s+m1\.tiny\s+1\s+512\s+1\s+-\s+-\s+2025-03-01T09:50:00Z$/);
    expect(result.stdout).toContain('Synced copy, last synced 2025-03-01T09:55:00Z.');
  });

  it('leaves the DELETED column out when nothing is deleted', async () => {
    api = await startFakeApi(() => ok({ flavors: FLAVORS.slice(0, 2), count: 2, nextCursor: null, source: 'synced', syncedAt: SYNCED_AT }));
    const result = await runCli(['--url', api.url, 'catalog', 'instance-types', '--local']);
    expect(api.requests[0]!.path).toBe('/api/catalog/instance-types');
    expect(Object.fromEntries(api.requests[0]!.query)).toEqual({ provider: 'LOCAL' });
    expect(result.stdout.split('\n')[0]).not.toContain('DELETED');
  });

  it('prefers exact micros to the rounded price when the server sends them', async () => {
    api = await startFakeApi(() =>
      ok({ flavors: [item('flavors', 't3.micro', { vcpus: 2 }, { pricePerHour: 0.01, pricePerHourMicros: 10_400 })], count: 1, nextCursor: null, source: 'synced', syncedAt: SYNCED_AT }),
    );
    const result = await runCli(['--url', api.url, 'catalog', 'flavors', '--account', 'acc-aws']);
    expect(result.stdout.split('\n')[1]).toMatch(/\$0\.0104$/);
  });

  it('--live reads the provider now and says so; images show status, size and OS', async () => {
    api = await startFakeApi(() =>
      ok({
        images: [
          { id: 'img-1', name: 'ubuntu-24.04', kind: 'images', region: 'RegionOne', attributes: { status: 'active', sizeBytes: 13_287_936, osDistro: 'ubuntu', osVersion: '24.04' } },
          { id: 'ami-1', name: 'al2023', kind: 'images', region: 'us-east-1', attributes: { status: 'available', diskGB: 8, platform: 'Linux/UNIX' } },
        ],
        count: 2,
        nextCursor: null,
        source: 'live',
        syncedAt: null,
      }),
    );
    const result = await runCli(['--url', api.url, 'catalog', 'images', '--account', 'acc-1', '--live']);
    expect(Object.fromEntries(api.requests[0]!.query)).toEqual({ accountId: 'acc-1', source: 'live' });
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+SIZE\s+OS$/);
    expect(lines[1]).toMatch(/^img-1\s+ubuntu-24\.04\s+active\s+12\.7 MiB\s+ubuntu 24\.04$/);
    expect(lines[2]).toMatch(/^ami-1\s+al2023\s+available\s+8 GB\s+Linux\/UNIX$/);
    expect(result.stdout).toContain('Read live from the provider.');
  });

  it('shows subnets with their CIDR and network, and takes the camelCase kind too', async () => {
    api = await startFakeApi((req) =>
      req.path.endsWith('/subnets')
        ? ok({ subnets: [item('subnets', 'sub-1', { cidr: '10.0.0.0/24', networkId: 'net-1' })], count: 1, nextCursor: null, source: 'synced', syncedAt: SYNCED_AT })
        : ok({ securityGroups: [item('securityGroups', 'sg-1', { description: 'ssh and http' })], count: 1, nextCursor: null, source: 'synced', syncedAt: SYNCED_AT }),
    );
    const subnets = await runCli(['--url', api.url, 'catalog', 'subnets', '--account', 'acc-1']);
    expect(subnets.stdout.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^ID\s+NAME\s+CIDR\s+NETWORK$/),
      expect.stringMatching(/^sub-1\s+sub-1\s+10\.0\.0\.0\/24\s+net-1$/),
    ]);
    const groups = await runCli(['--url', api.url, 'catalog', 'securityGroups', '--account', 'acc-1']);
    expect(api.requests[1]!.path).toBe('/api/catalog/security-groups');
    expect(groups.stdout.split('\n')[1]).toMatch(/^sg-1\s+sg-1\s+ssh and http$/);
  });

  it('reads every page, and --json merges them into one payload', async () => {
    const pages: Record<string, { keyPairs: unknown[]; nextCursor: string | null }> = {
      first: { keyPairs: [item('keyPairs', 'alice', { type: 'ssh', fingerprint: 'aa:bb' })], nextCursor: 'c2' },
      c2: { keyPairs: [item('keyPairs', 'bob', { keyType: 'ed25519', fingerprint: 'cc:dd' })], nextCursor: null },
    };
    api = await startFakeApi((req) => {
      const page = pages[req.query.get('cursor') ?? 'first']!;
      return ok({ ...page, count: page.keyPairs.length, source: 'synced', syncedAt: SYNCED_AT });
    });
    const human = await runCli(['--url', api.url, 'catalog', 'key-pairs', '--local']);
    expect(api.requests.map((r) => r.query.get('cursor'))).toEqual([null, 'c2']);
    expect(human.stdout).toMatch(/^alice\s+alice\s+ssh\s+aa:bb$/m);
    expect(human.stdout).toMatch(/^bob\s+bob\s+ed25519\s+cc:dd$/m);

    const json = await runCli(['--url', api.url, '--json', 'catalog', 'key-pairs', '--local']);
    const payload = JSON.parse(json.stdout) as { keyPairs: { id: string }[]; count: number; nextCursor: null; syncedAt: string };
    expect(payload.keyPairs.map((k) => k.id)).toEqual(['alice', 'bob']);
    expect(payload).toMatchObject({ success: true, count: 2, nextCursor: null, source: 'synced', syncedAt: SYNCED_AT });
  });

  it('an empty catalog that never synced says how to sync it', async () => {
    api = await startFakeApi(() => ok({ networks: [], count: 0, nextCursor: null, source: 'synced', syncedAt: null }));
    const result = await runCli(['--url', api.url, 'catalog', 'networks', '--account', 'acc-1', '--region', 'RegionTwo']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'No networks.\n\nSynced copy: not synced yet. Sync it with: hangar sync --account acc-1 --region RegionTwo --types networks --wait\n',
    );
  });

  it('refuses a missing target, both targets and an unknown kind before any request', async () => {
    api = await startFakeApi(() => ok({}));
    const none = await runCli(['--url', api.url, 'catalog', 'flavors']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('Error: Say whose catalog: --account <accountId> or --local.\n');
    const both = await runCli(['--url', api.url, 'catalog', 'flavors', '--local', '--account', 'acc-1']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('cannot be used with');
    const unknown = await runCli(['--url', api.url, 'catalog', 'volumes', '--local']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('expected one of flavors, instance-types, images, networks, subnets, security-groups, key-pairs');
    expect(api.requests).toHaveLength(0);
  });

  it("reports the API's refusal, e.g. another client's account", async () => {
    api = await startFakeApi(() => fail(404, 'NOT_FOUND', "Account 'acc-x' was not found"));
    const result = await runCli(['--url', api.url, 'catalog', 'flavors', '--account', 'acc-x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("Error (NOT_FOUND): Account 'acc-x' was not found\n");
  });
});
