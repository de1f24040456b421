import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, instance, ok, runCli, startFakeApi } from './harness.ts';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const pages: Record<string, { instances: Record<string, unknown>[]; nextCursor: string | null }> = {
  first: {
    instances: [
      instance({ id: 'vps-a-000001', name: 'a', status: 'READY', costPerHour: 0.45, totalCost: 1.5 }),
      instance({ id: 'gpu-b-000002', name: 'b', status: 'RUNNING', provider: 'AWS', instanceType: 'g4dn.xlarge', costPerHour: 0.526, totalCost: 12.3 }),
    ],
    nextCursor: 'c2',
  },
  c2: { instances: [instance({ id: 'vps-c-000003', name: 'c', status: 'STOPPED' })], nextCursor: 'c3' },
  c3: { instances: [instance({ id: 'vps-d-000004', name: 'd', status: 'ERROR' })], nextCursor: null },
};

function pagedApi() {
  return startFakeApi((req) => {
    const page = pages[req.query.get('cursor') ?? 'first']!;
    return ok({ instances: page.instances, count: page.instances.length, nextCursor: page.nextCursor });
  });
}

describe('hangar list instances', () => {
  it('--all follows nextCursor until it is exhausted, keeping the filters on every page', async () => {
    api = await pagedApi();
    const result = await runCli([
      '--url', api.url, 'list', 'instances', '--all',
      '--status', 'ready', '--provider', 'aws', '--type', 'gpu', '--client', 'acme', '--tag', 'team=ml', '--limit', '2',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.requests.map((r) => r.query.get('cursor'))).toEqual([null, 'c2', 'c3']);
    for (const r of api.requests) {
      expect(r.method).toBe('GET');
      expect(r.path).toBe('/api/instances');
      expect(Object.fromEntries([...r.query].filter(([k]) => k !== 'cursor'))).toEqual({
        status: 'READY', provider: 'AWS', type: 'gpu', clientId: 'acme', tag: 'team=ml', limit: '2',
      });
    }
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+PROVIDER\s+TYPE\s+COST\/H\s+TOTAL\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([
      'vps-a-000001', 'gpu-b-000002', 'vps-c-000003', 'vps-d-000004',
    ]);
    expect(lines[1]).toContain('$0.45');
    expect(lines[1]).toContain('$1.50');
    expect(lines[2]).toContain('$0.526');
    expect(lines[2]).toContain('$12.30');
    expect(lines[1]).toContain('2025-03-01T09:59:58Z');
    // Columns are aligned: every row's STATUS starts where the header's does.
    const statusAt = lines[0]!.indexOf('STATUS');
    expect(lines.slice(1).every((l) => /^[A-Z]/.test(l.slice(statusAt)))).toBe(true);
    expect(result.stdout).not.toContain('More results');
  });

  it('without --all reads one page and says how to continue', async () => {
    api = await pagedApi();
    const result = await runCli(['--url', api.url, 'list', 'instances']);
    expect(result.code).toBe(0);
    expect(api.requests).toHaveLength(1);
    expect(result.stdout).toContain('hangar list instances --cursor c2');
  });

  it('--json --all prints one merged payload', async () => {
    api = await pagedApi();
    const result = await runCli(['--url', api.url, 'list', 'instances', '--all', '--json']);
    const payload = JSON.parse(result.stdout) as { instances: { id: string }[]; count: number; nextCursor: null };
    expect(payload.count).toBe(4);
    expect(payload.nextCursor).toBeNull();
    expect(payload.instances.map((i) => i.id)).toEqual(['vps-a-000001', 'gpu-b-000002', 'vps-c-000003', 'vps-d-000004']);
  });

  it('says so when there is nothing to list', async () => {
    api = await startFakeApi(() => ok({ instances: [], count: 0, nextCursor: null }));
    const result = await runCli(['--url', api.url, 'list', 'instances']);
    expect(result.stdout).toBe('No instances.\n');
  });
});

describe('hangar instance status / events', () => {
  it('prints key: value lines with health, port, pid and the error message', async () => {
    api = await startFakeApi(() =>
      ok({
        instance: instance({
          status: 'ERROR',
          errorMessage: 'process exited with code 1',
          health: { status: 'UNHEALTHY', checkedAt: '2025-03-01T10:00:05.000Z', error: 'connection refused' },
          port: 40001,
          providerDetails: { pid: 31337, dataDir: '/tmp/x' },
          totalCost: 0.2,
        }),
      }),
    );
    const result = await runCli(['--url', api.url, 'instance', 'status', 'vps-web-server-abc123']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.path).toBe('/api/instances/vps-web-server-abc123');
    const out = result.stdout;
    expect(out).toMatch(/^id:\s+vps-web-server-abc123$/m);
    expect(out).toMatch(/^status:\s+ERROR$/m);
    expect(out).toMatch(/^error:\s+process exited with code 1$/m);
    expect(out).toMatch(/^health:\s+UNHEALTHY \(checked 2025-03-01T10:00:05Z\) connection refused$/m);
    expect(out).toMatch(/^port:\s+40001$/m);
    expect(out).toMatch(/^pid:\s+31337$/m);
    expect(out).toMatch(/^costPerHour:\s+\$0\.45$/m);
    expect(out).toMatch(/^totalCost:\s+\$0\.20$/m);
    // Values line up.
    const starts = out.trimEnd().split('\n').map((l) => l.search(/(?<=:\s+)\S/));
    expect(new Set(starts).size).toBe(1);
  });

  it('lists events as a table with the state change', async () => {
    api = await startFakeApi(() =>
      ok({
        events: [
          { at: '2025-03-01T10:00:00.000Z', type: 'instance.created', toStatus: 'PENDING', actor: 'key:k1', message: 'Created' },
          { at: '2025-03-01T10:00:02.000Z', type: 'instance.status-changed', fromStatus: 'PENDING', toStatus: 'PROVISIONING', actor: 'system:provisioner', message: 'Launching' },
        ],
        nextCursor: null,
      }),
    );
    const result = await runCli(['--url', api.url, 'instance', 'events', 'vps-web-server-abc123']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.path).toBe('/api/instances/vps-web-server-abc123/events');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^AT\s+TYPE\s+CHANGE\s+ACTOR\s+MESSAGE$/);
    expect(lines[2]).toMatch(/instance\.status-changed\s+PENDING → PROVISIONING\s+system:provisioner\s+Launching$/);
  });
});

describe('hangar delete instance', () => {
  it('sends DELETE with an Idempotency-Key and --wait follows it to TERMINATED, showing its events', async () => {
    const path = ['TERMINATING', 'TERMINATING', 'TERMINATED'];
    const events = [
      { eventId: 'e1', at: '2025-03-01T09:00:00.000Z', type: 'instance.created', toStatus: 'PENDING', actor: 'key:k1', message: 'Instance created' },
      { eventId: 'e2', at: '2025-03-01T10:00:00.000Z', type: 'instance.status-changed', fromStatus: 'READY', toStatus: 'TERMINATING', actor: 'key:k1', message: 'Termination requested' },
      { eventId: 'e3', at: '2025-03-01T10:00:01.000Z', type: 'provisioning.terminate-requested', actor: 'system:workflow', message: 'Process 4242 stopped' },
      { eventId: 'e4', at: '2025-03-01T10:00:02.000Z', type: 'instance.status-changed', fromStatus: 'TERMINATING', toStatus: 'TERMINATED', actor: 'system:workflow', message: 'Instance terminated' },
    ];
    let polls = 0;
    api = await startFakeApi((req) => {
      if (req.method === 'DELETE') {
        return ok({ instance: instance({ status: 'TERMINATING', updatedAt: '2025-03-01T10:00:00.000Z' }) }, 202);
      }
      if (req.path.endsWith('/events')) return ok({ events: events.slice(0, polls + 1), nextCursor: null });
      const status = path[Math.min(polls++, path.length - 1)];
      return ok({ instance: instance({ status, totalCost: 3.2, terminatedAt: '2025-03-01T10:00:04Z' }) });
    });
    const result = await runCli(['--url', api.url, '--api-key', 'k', 'terminate', 'instance', 'vps-web-server-abc123', '--wait']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const del = api.requests[0]!;
    expect(del.method).toBe('DELETE');
    expect(del.path).toBe('/api/instances/vps-web-server-abc123');
    expect(del.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(api.requests.filter((r) => r.method === 'GET' && !r.path.endsWith('/events'))).toHaveLength(3);
    // Only what the termination caused: the creation is history.
    expect(result.stdout.split('\n').filter((l) => l.includes('  · '))).toEqual([
      '2025-03-01T10:00:00Z  vps-web-server-abc123  · Termination requested',
      '2025-03-01T10:00:01Z  vps-web-server-abc123  · Process 4242 stopped',
      '2025-03-01T10:00:02Z  vps-web-server-abc123  · Instance terminated',
    ]);
    expect(result.stdout).toContain('Instance vps-web-server-abc123 is TERMINATED');
    expect(result.stdout).toMatch(/^totalCost:\s+\$3\.20$/m);
  });

  it('without --wait prints the accepted state and stops', async () => {
    api = await startFakeApi(() => ok({ instance: instance({ status: 'TERMINATING' }) }, 202));
    const result = await runCli(['--url', api.url, 'delete', 'instance', 'vps-web-server-abc123']);
    expect(result.code).toBe(0);
    expect(api.requests).toHaveLength(1);
    expect(result.stdout).toBe('Terminating vps-web-server-abc123 (TERMINATING)\n');
  });
});

describe('hangar watch', () => {
  it('prints each status change with a timestamp and stops at TERMINATED', async () => {
    const path = ['READY', 'READY', 'RUNNING', 'TERMINATING', 'TERMINATED'];
    let polls = 0;
    // A server without the WebSocket: no ticket route, so watch polls.
    api = await startFakeApi((req) =>
      req.path === '/api/realtime/tickets'
        ? { status: 404, body: { success: false, error: 'No route for POST /api/realtime/tickets', code: 'ROUTE_NOT_FOUND', details: [] } }
        : ok({ instance: instance({ status: path[Math.min(polls++, path.length - 1)] }) }),
    );
    const result = await runCli(['--url', api.url, 'watch', 'vps-web-server-abc123']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('polling every 1 s');
    expect(result.sleeps).toEqual([1000, 1000, 1000, 1000]);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      '2025-03-01T10:00:00Z  vps-web-server-abc123  READY',
      '2025-03-01T10:00:02Z  vps-web-server-abc123  RUNNING',
      '2025-03-01T10:00:03Z  vps-web-server-abc123  TERMINATING',
      '2025-03-01T10:00:04Z  vps-web-server-abc123  TERMINATED',
    ]);
  });

  it('exits 1 with the error message when the instance reaches ERROR', async () => {
    api = await startFakeApi(() => ok({ instance: instance({ status: 'ERROR', errorMessage: 'disk full' }) }));
    const result = await runCli(['--url', api.url, 'watch', 'vps-web-server-abc123', '--interval', '2', '--poll']);
    expect(api.requests.map((r) => r.path)).toEqual(['/api/instances/vps-web-server-abc123']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('vps-web-server-abc123  ERROR  disk full');
    expect(result.stderr).toContain('Instance vps-web-server-abc123 is in ERROR: disk full');
  });
});

describe('hangar stats', () => {
  it('passes --client/--user and shows money as $, durations readably and breakdowns as nested lines', async () => {
    api = await startFakeApi(() =>
      ok({
        statistics: {
          clientId: 'acme',
          totalProvisioned: 12,
          currentlyRunning: 3,
          live: 4,
          finishedCount: 8,
          providerBreakdown: { LOCAL: 10, AWS: 2 },
          instanceTypeBreakdown: {},
          totalCost: 45.5,
          totalCostMicros: 45_500_000,
          averageCost: 0.45,
          averageCostMicros: 450_000,
          averageDuration: 93,
          averageDurationUnit: 'seconds',
        },
      }),
    );
    const result = await runCli(['--url', api.url, 'stats', '--client', 'acme', '--user', 'u1']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.path).toBe('/api/instances/stats');
    expect(api.requests[0]!.query.get('clientId')).toBe('acme');
    expect(api.requests[0]!.query.get('userId')).toBe('u1');
    expect(result.stdout).toMatch(/^totalProvisioned:\s+12$/m);
    expect(result.stdout).toMatch(/^totalCost:\s+\$45\.50$/m);
    expect(result.stdout).toMatch(/^averageCost:\s+\$0\.45$/m);
    expect(result.stdout).toMatch(/^averageDuration:\s+1m 33s$/m);
    // The exact twins and the unit are folded into the figures above.
    expect(result.stdout).not.toContain('Micros');
    expect(result.stdout).not.toContain('averageDurationUnit');
    expect(result.stdout).toContain('providerBreakdown:\n  LOCAL: 10\n  AWS: 2\n');
    expect(result.stdout).toContain('instanceTypeBreakdown:\n  (none)\n');
  });
});

describe('clients and API keys', () => {
  it('create client POSTs the name with an Idempotency-Key and prints the id', async () => {
    api = await startFakeApi(() => ok({ client: { id: 'acme', name: 'Acme Corp', status: 'active' } }, 201));
    const result = await runCli(['--url', api.url, 'create', 'client', 'Acme Corp', '--max-instances', '10']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.path).toBe('/api/clients');
    expect(api.requests[0]!.body).toEqual({ name: 'Acme Corp', maxInstances: 10 });
    expect(api.requests[0]!.headers['idempotency-key']).toBeTruthy();
    expect(result.stdout).toMatch(/^id:\s+acme$/m);
  });

  it('create client sends only the reconcile policy fields given, and prints the policy in force', async () => {
    api = await startFakeApi(() =>
      ok({ client: { id: 'acme', name: 'Acme Corp', status: 'active', reconcilePolicy: { graceMinutes: 10, orphans: 'terminate', ghosts: 'mark-terminated' } } }, 201),
    );
    const result = await runCli(['--url', api.url, 'create', 'client', 'Acme Corp', '--grace-minutes', '10', '--orphans', 'terminate']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.body).toEqual({ name: 'Acme Corp', reconcilePolicy: { graceMinutes: 10, orphans: 'terminate' } });
    expect(result.stdout).toMatch(/^reconcilePolicy:\s+grace 10m, orphans terminate, ghosts mark-terminated$/m);
  });

  it('create client refuses an unknown reconcile policy before any request', async () => {
    api = await startFakeApi(() => ok({}));
    const ghosts = await runCli(['--url', api.url, 'create', 'client', 'Acme', '--ghosts', 'terminate']);
    expect(ghosts.code).toBe(1);
    expect(ghosts.stderr).toContain('Allowed choices are report, mark-terminated');
    const grace = await runCli(['--url', api.url, 'create', 'client', 'Acme', '--grace-minutes', '-5']);
    expect(grace.code).toBe(1);
    expect(grace.stderr).toContain('--grace-minutes must be at least 0');
    expect(api.requests).toHaveLength(0);
  });

  it('list clients prints a table', async () => {
    api = await startFakeApi(() =>
      ok({ clients: [{ id: 'acme', name: 'Acme Corp', status: 'active', createdAt: '2025-01-01T00:00:00Z' }] }),
    );
    const result = await runCli(['--url', api.url, 'list', 'clients']);
    expect(result.stdout.split('\n')[1]).toMatch(/^acme\s+Acme Corp\s+active\s+-\s+2025-01-01T00:00:00Z$/);
  });

  it('create api-key sends name and role and prints the secret once, saying so', async () => {
    api = await startFakeApi(() =>
      ok({ apiKey: { id: 'key-1', name: 'ci', role: 'operator', key: 'hk_live_s3cr3t' } }, 201),
    );
    const result = await runCli(['--url', api.url, 'create', 'api-key', 'acme', '--name', 'ci', '--role', 'operator']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.path).toBe('/api/clients/acme/api-keys');
    expect(api.requests[0]!.body).toEqual({ name: 'ci', role: 'operator' });
    expect(result.stdout).toMatch(/^ {4}hk_live_s3cr3t$/m);
    expect(result.stdout.match(/hk_live_s3cr3t/g)).toHaveLength(1);
    expect(result.stdout).toContain('shown only once');
  });

  it('create api-key refuses an unknown role and a missing --name', async () => {
    api = await startFakeApi(() => ok({}));
    const badRole = await runCli(['--url', api.url, 'create', 'api-key', 'acme', '--name', 'ci', '--role', 'root']);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain('Allowed choices are admin, operator, viewer');
    const noName = await runCli(['--url', api.url, 'create', 'api-key', 'acme']);
    expect(noName.code).toBe(1);
    expect(noName.stderr).toContain("required option '--name <n>' not specified");
    expect(api.requests).toHaveLength(0);
  });
});
