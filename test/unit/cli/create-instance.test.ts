import { afterEach, describe, expect, it } from 'vitest';
import { createInstanceBody } from '../../../cli/commands/create-instance.ts';
import { type FakeApi, fail, instance, ok, runCli, startFakeApi } from './harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('hangar create instance', () => {
  it('POSTs the full body with Authorization, Idempotency-Key and JSON, and prints the id and status', async () => {
    api = await startFakeApi(() => ok({ instance: instance() }, 202));
    const result = await runCli([
      '--url', api.url, '--api-key', 'hk_test_123',
      'create', 'instance', 'web-server', 'vps',
      '--cpu', '2', '--memory', '4', '--disk', '40',
      '--provider', 'local', '--instance-type', 'local.small', '--region', 'local', '--image', 'ubuntu-24.04',
      '--auto-terminate', '60', '--tag', 'project=medical', '--tag', 'team=ml',
      '--client', 'acme', '--task', 'task-456', '--purpose', 'Medical Document Analysis',
    ]);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.requests).toHaveLength(1);
    const req = api.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/api/instances');
    expect(req.headers.authorization).toBe('Bearer hk_test_123');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['idempotency-key']).toMatch(UUID);
    expect(req.body).toEqual({
      name: 'web-server',
      type: 'vps',
      clientId: 'acme',
      taskId: 'task-456',
      purpose: 'Medical Document Analysis',
      resources: { cpu: 2, memory: 4, disk: 40 },
      config: {
        provider: 'LOCAL',
        instanceType: 'local.small',
        region: 'local',
        image: 'ubuntu-24.04',
        diskSizeGB: 40,
        autoTerminateMinutes: 60,
        tags: { project: 'medical', team: 'ml' },
      },
    });
    expect(result.stdout).toMatch(/^id:\s+vps-web-server-abc123$/m);
    expect(result.stdout).toMatch(/^status:\s+PENDING$/m);
  });

  it('sends the account, networks, key pair and security groups of a cloud instance', async () => {
    api = await startFakeApi(() => ok({ instance: instance() }, 202));
    const result = await runCli([
      '--url', api.url, 'create', 'instance', 'nova-box',
      '--provider', 'openstack', '--account', 'account-123', '--instance-type', 'm1.small', '--image', 'cirros',
      '--network', 'private', '--network', 'shared', '--key-pair', 'hangar-key', '--security-group', 'web',
    ]);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.body).toEqual({
      name: 'nova-box',
      config: {
        provider: 'OPENSTACK',
        accountId: 'account-123',
        instanceType: 'm1.small',
        image: 'cirros',
        networks: ['private', 'shared'],
        keyPair: 'hangar-key',
        securityGroups: ['web'],
      },
    });
  });

  it('leaves out every field the user did not give', async () => {
    api = await startFakeApi(() => ok({ instance: instance() }, 202));
    const result = await runCli(['--url', api.url, 'create', 'instance', 'tiny']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.body).toEqual({ name: 'tiny' });
    // No key configured: no Authorization header at all.
    expect(api.requests[0]!.headers.authorization).toBeUndefined();
    expect(createInstanceBody('x', undefined, { memory: 2 })).toEqual({ name: 'x', resources: { memory: 2 } });
  });

  it('uses a new Idempotency-Key for each invocation', async () => {
    api = await startFakeApi(() => ok({ instance: instance() }, 202));
    await runCli(['--url', api.url, 'create', 'instance', 'a']);
    await runCli(['--url', api.url, 'create', 'instance', 'a']);
    const [first, second] = api.requests.map((r) => r.headers['idempotency-key']);
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(first).not.toBe(second);
  });

  it('--json prints the payload as received', async () => {
    const payload = { success: true, instance: instance({ status: 'PROVISIONING' }) };
    api = await startFakeApi(() => ({ status: 202, body: payload }));
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web-server', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(payload);
  });

  it('rejects a malformed option before sending anything', async () => {
    api = await startFakeApi(() => ok({ instance: instance() }, 202));
    const result = await runCli(['--url', api.url, 'create', 'instance', 'w', '--cpu', 'two', '--tag', 'x=y']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--cpu must be a whole number');
    expect(api.requests).toHaveLength(0);
    const badTag = await runCli(['--url', api.url, 'create', 'instance', 'w', '--tag', 'novalue']);
    expect(badTag.code).toBe(1);
    expect(badTag.stderr).toContain("'novalue' is not key=value");
  });
});

describe('hangar create instance --wait', () => {
  /**
   * The POST answers PENDING; each GET of the instance answers the next status of `path`; the
   * event log holds `events[0..n]` once the instance has been read n+1 times.
   */
  function lifecycle(path: string[], last: Record<string, unknown> = {}, events: Record<string, unknown>[][] = []) {
    let polls = 0;
    return startFakeApi((req) => {
      if (req.method === 'POST') return ok({ instance: instance() }, 202);
      if (req.path.endsWith('/events')) return ok({ events: events.slice(0, polls).flat(), nextCursor: null });
      const status = path[Math.min(polls, path.length - 1)]!;
      polls++;
      return ok({ instance: instance({ status, ...(polls >= path.length ? last : {}) }) });
    });
  }

  it('polls GET /api/instances/{id} once a second until READY, printing each status change', async () => {
    api = await lifecycle(['PENDING', 'PROVISIONING', 'PROVISIONING', 'CONFIGURING', 'READY'], {
      port: 41234,
      providerDetails: { pid: 4242 },
      totalCost: 0.01,
    });
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web-server', '--wait']);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const gets = api.requests.filter((r) => r.method === 'GET' && !r.path.endsWith('/events'));
    expect(gets).toHaveLength(5);
    expect(gets.every((r) => r.path === '/api/instances/vps-web-server-abc123')).toBe(true);
    expect(result.sleeps).toEqual([1000, 1000, 1000, 1000]);
    // Not a terminal: one line per change, in order, each status once.
    const changes = result.stdout
      .split('\n')
      .filter((l) => /^\d{4}-\d\d-\d\dT.*Z {2}vps-web-server-abc123 {2}[A-Z]+$/.test(l))
      .map((l) => l.split(/\s+/)[2]);
    expect(changes).toEqual(['PENDING', 'PROVISIONING', 'CONFIGURING', 'READY']);
    expect(result.stdout).toContain('Instance vps-web-server-abc123 is READY');
    expect(result.stdout).toMatch(/^port:\s+41234$/m);
    expect(result.stdout).toMatch(/^pid:\s+4242$/m);
  });

  it('shows each event of the provisioning workflow, from the creation on, as it appears', async () => {
    const at = (s: number) => `2025-03-01T10:00:0${s}.000Z`;
    api = await lifecycle(
      ['PENDING', 'PROVISIONING', 'READY'],
      {},
      [
        [
          { eventId: 'e1', at: '2025-03-01T09:59:58.123Z', type: 'instance.created', toStatus: 'PENDING', actor: 'key:k1', message: 'Instance created' },
          { eventId: 'e2', at: at(0), type: 'instance.status-changed', fromStatus: 'PENDING', toStatus: 'PROVISIONING', actor: 'system:workflow', message: 'Quota reserved' },
        ],
        [{ eventId: 'e3', at: at(1), type: 'provisioning.launch-requested', actor: 'system:workflow', message: 'Launching local.small' }],
        [{ eventId: 'e4', at: at(2), type: 'instance.status-changed', fromStatus: 'CONFIGURING', toStatus: 'READY', actor: 'system:workflow', message: 'Listening on port 41234' }],
      ],
    );
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web-server', '--wait']);
    expect(result.code).toBe(0);
    const events = result.stdout
      .split('\n')
      .filter((l) => l.includes('  vps-web-server-abc123  · '))
      .map((l) => l.split('  · ')[1]);
    expect(events).toEqual(['Instance created', 'Quota reserved', 'Launching local.small', 'Listening on port 41234']);
    expect(result.stdout).toContain('2025-03-01T09:59:58Z  vps-web-server-abc123  · Instance created\n');
    expect(result.stdout).toContain('Instance vps-web-server-abc123 is READY');
  });

  it('fails with exit 1 and the errorMessage when the instance reaches ERROR', async () => {
    api = await lifecycle(['PROVISIONING', 'ERROR'], { errorMessage: 'Launch failed: no capacity in local.small' });
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web-server', '--wait']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Instance vps-web-server-abc123 failed: Launch failed: no capacity in local.small');
    expect(result.stdout).toMatch(/vps-web-server-abc123 {2}ERROR$/m);
    expect(result.stdout).not.toContain('is READY');
  });

  it('gives up after --timeout seconds with the last status', async () => {
    api = await lifecycle(['PROVISIONING']);
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web-server', '--wait', '--timeout', '5']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Timed out after 5s waiting for vps-web-server-abc123 to reach READY or RUNNING');
    expect(result.stderr).toContain('last status: PROVISIONING');
    // The fake clock moved only by the poll sleeps: 5 s of 1 s polls.
    expect(result.sleeps.reduce((a, b) => a + b, 0)).toBe(5000);
  });

  it('--json --wait keeps stdout pure JSON (the final payload) and reports progress on stderr', async () => {
    api = await lifecycle(['PROVISIONING', 'READY']);
    const result = await runCli(['--url', api.url, '--json', 'create', 'instance', 'web-server', '--wait']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ success: true, instance: { status: 'READY' } });
    expect(result.stderr).toMatch(/PROVISIONING\n.*READY\n$/);
  });

  it('on a terminal shows an ora spinner that ends with the path taken', async () => {
    api = await lifecycle(['PROVISIONING', 'CONFIGURING', 'READY']);
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web-server', '--wait'], { tty: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('vps-web-server-abc123 is READY (PENDING → PROVISIONING → CONFIGURING → READY');
    // No per-change log lines on a terminal.
    expect(result.stdout).not.toMatch(/Z {2}vps-web-server-abc123 {2}PROVISIONING$/m);
  });

  it('propagates an API error met while polling', async () => {
    api = await startFakeApi((req) =>
      req.method === 'POST'
        ? ok({ instance: instance() }, 202)
        : fail(403, 'FORBIDDEN', "Role 'viewer' cannot read instances"),
    );
    const result = await runCli(['--url', api.url, 'create', 'instance', 'web-server', '--wait']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Error (FORBIDDEN): Role 'viewer' cannot read instances");
  });
});
