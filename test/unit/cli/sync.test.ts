import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, type RecordedRequest, fail, ok, runCli, startFakeApi } from './harness.ts';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A sync job as the API presents it. */
function job(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'sync-flavors-1',
    resourceType: 'flavors',
    provider: 'LOCAL',
    region: 'local',
    clientId: null,
    trigger: 'request',
    requestedBy: 'key-1',
    status: 'QUEUED',
    queuedAt: '2025-03-01T10:00:00.000Z',
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    findings: [],
    errors: [],
    ...overrides,
  };
}

const DONE_AT = { startedAt: '2025-03-01T10:00:01.000Z', completedAt: '2025-03-01T10:00:03.500Z' };

const GHOST = {
  kind: 'ghost',
  outcome: 'marked-terminated',
  instanceId: 'vps-web-1',
  providerInstanceId: 'local-abc',
  clientId: 'acme',
  message: 'Marked terminated: the provider confirmed machine local-abc gone',
};
const DRIFT = {
  kind: 'drift',
  outcome: 'corrected',
  instanceId: 'vps-web-2',
  providerInstanceId: 'local-def',
  clientId: 'acme',
  message: 'The provider reports the machine stopped; it was recorded READY',
};

/**
 * POST /api/sync answers with `queued`; each GET /api/sync-jobs/{id} answers the job's next
 * scripted state (the last one repeats).
 */
function scriptedSync(queued: Record<string, unknown>[], script: Record<string, Record<string, unknown>[]>) {
  const polls = new Map<string, number>();
  return startFakeApi((req) => {
    if (req.method === 'POST') return ok({ jobs: queued, count: queued.length }, 202);
    const id = decodeURIComponent(req.path.split('/').at(-1)!);
    const steps = script[id];
    if (!steps) return fail(404, 'NOT_FOUND', `Sync job '${id}' was not found`);
    const n = polls.get(id) ?? 0;
    polls.set(id, n + 1);
    return ok({ job: steps[Math.min(n, steps.length - 1)] });
  });
}

const polled = (requests: RecordedRequest[]) => requests.filter((r) => r.method === 'GET').map((r) => r.path);

describe('hangar sync', () => {
  it('POSTs the target and types with an Idempotency-Key and prints the queued jobs', async () => {
    api = await scriptedSync([job(), job({ id: 'sync-sg-1', resourceType: 'securityGroups' })], {});
    const result = await runCli(['--url', api.url, 'sync', '--local', '--types', 'flavors, security-groups,flavors']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.requests).toHaveLength(1);
    const [post] = api.requests;
    expect(post!.method).toBe('POST');
    expect(post!.path).toBe('/api/sync');
    // The catalog's spelling is accepted and sent as the API's; the duplicate is dropped.
    expect(post!.body).toEqual({ provider: 'LOCAL', types: ['flavors', 'securityGroups'] });
    expect(post!.headers['idempotency-key']).toBeTruthy();
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Queued 2 sync jobs:');
    expect(lines[1]).toMatch(/^ID\s+TYPE\s+TARGET\s+STATUS$/);
    expect(lines[2]).toMatch(/^sync-flavors-1\s+flavors\s+LOCAL \(local\)\s+QUEUED$/);
    expect(lines[3]).toMatch(/^sync-sg-1\s+securityGroups\s+LOCAL \(local\)\s+QUEUED$/);
    expect(lines[4]).toContain('hangar sync-jobs sync-flavors-1');
    expect(result.sleeps).toEqual([]);
  });

  it('sends an account and region, and nothing else when no types are given', async () => {
    api = await scriptedSync([job({ provider: 'OPENSTACK', accountId: 'acc-1', region: 'RegionTwo', clientId: 'acme' })], {});
    const result = await runCli(['--url', api.url, 'sync', '--account', 'acc-1', '--region', 'RegionTwo']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.body).toEqual({ accountId: 'acc-1', region: 'RegionTwo' });
    expect(result.stdout).toContain('OPENSTACK acc-1 (RegionTwo)');
  });

  it('with no target POSTs an empty body: the server syncs every account the key can see', async () => {
    api = await scriptedSync([job()], {});
    const result = await runCli(['--url', api.url, 'sync']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.body).toEqual({});
  });

  it('refuses --account with --local, and an unknown type, before any request', async () => {
    api = await scriptedSync([job()], {});
    const both = await runCli(['--url', api.url, 'sync', '--account', 'acc-1', '--local']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("option '--local' cannot be used with option '--account <accountId>'");
    const unknown = await runCli(['--url', api.url, 'sync', '--types', 'flavors,volumes']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("'volumes' is not a sync type");
    expect(api.requests).toHaveLength(0);
  });

  it('reports an API refusal with its code, exit 1', async () => {
    api = await startFakeApi(() =>
      fail(400, 'NOTHING_TO_SYNC', 'Nothing to sync: register an account with POST /api/accounts, or give provider=LOCAL'),
    );
    const result = await runCli(['--url', api.url, 'sync']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error (NOTHING_TO_SYNC): Nothing to sync');
  });

  it('--wait polls each job until it is done, then prints counts and findings', async () => {
    api = await scriptedSync(
      [job(), job({ id: 'sync-inst-1', resourceType: 'instances' })],
      {
        'sync-flavors-1': [
          job({ status: 'RUNNING', startedAt: DONE_AT.startedAt }),
          job({ status: 'RUNNING', startedAt: DONE_AT.startedAt }),
          job({ status: 'SUCCEEDED', ...DONE_AT, created: 3, updated: 1, deleted: 2, unchanged: 7 }),
        ],
        'sync-inst-1': [
          job({
            id: 'sync-inst-1',
            resourceType: 'instances',
            status: 'SUCCEEDED',
            ...DONE_AT,
            updated: 2,
            unchanged: 4,
            incremental: false,
            findings: [DRIFT, GHOST],
          }),
        ],
      },
    );
    const result = await runCli(['--url', api.url, 'sync', '--local', '--wait']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // A finished job is not asked about again.
    expect(polled(api.requests)).toEqual([
      '/api/sync-jobs/sync-flavors-1',
      '/api/sync-jobs/sync-inst-1',
      '/api/sync-jobs/sync-flavors-1',
      '/api/sync-jobs/sync-flavors-1',
    ]);
    expect(result.sleeps).toEqual([1000, 1000]);

    const out = result.stdout;
    expect(out).toContain('Queued 2 sync jobs\n');
    // One progress line per status change, not per poll.
    expect(out.match(/sync-flavors-1 {2}flavors {2}RUNNING$/gm)).toHaveLength(1);
    expect(out).toMatch(/sync-flavors-1 {2}flavors {2}SUCCEEDED$/m);
    expect(out).toMatch(/sync-inst-1 {2}instances {2}SUCCEEDED$/m);

    const table = out.slice(out.indexOf('ID '));
    const rows = table.split('\n');
    expect(rows[0]).toMatch(/^ID\s+TYPE\s+TARGET\s+STATUS\s+CREATED\s+UPDATED\s+DELETED\s+UNCHANGED\s+FINDINGS\s+ERRORS$/);
    expect(rows[1]).toMatch(/^sync-flavors-1\s+flavors\s+LOCAL \(local\)\s+SUCCEEDED\s+3\s+1\s+2\s+7\s+0\s+0$/);
    expect(rows[2]).toMatch(/^sync-inst-1\s+instances\s+LOCAL \(local\)\s+SUCCEEDED\s+0\s+2\s+0\s+4\s+2\s+0$/);
    expect(out).toContain('Findings (sync-inst-1, instances on LOCAL (local)):');
    expect(out).toMatch(/^ {2}KIND\s+OUTCOME\s+INSTANCE\s+PROVIDER ID\s+MESSAGE$/m);
    expect(out).toMatch(/^ {2}drift\s+corrected\s+vps-web-2\s+local-def\s+The provider reports the machine stopped; it was recorded READY$/m);
    expect(out).toMatch(/^ {2}ghost\s+marked-terminated\s+vps-web-1\s+local-abc\s+Marked terminated: /m);
    expect(out).not.toContain('Errors (');
  });

  it('--wait exits 1 when a job FAILED, printing its errors and where to read more', async () => {
    api = await scriptedSync(
      [job(), job({ id: 'sync-img-1', resourceType: 'images' })],
      {
        'sync-flavors-1': [job({ status: 'SUCCEEDED', ...DONE_AT, unchanged: 5 })],
        'sync-img-1': [
          job({ id: 'sync-img-1', resourceType: 'images', status: 'RUNNING' }),
          job({ id: 'sync-img-1', resourceType: 'images', status: 'FAILED', ...DONE_AT, errors: ['Glance answered 503:\nservice unavailable'] }),
        ],
      },
    );
    const result = await runCli(['--url', api.url, 'sync', '--local', '--wait']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^sync-img-1\s+images\s+LOCAL \(local\)\s+FAILED\s+.*\s1$/m);
    expect(result.stdout).toContain('Errors (sync-img-1, images on LOCAL (local)):\n  Glance answered 503: service unavailable\n');
    expect(result.stderr).toBe(
      'Error: 1 of 2 sync jobs FAILED: images on LOCAL (local)\n  Details: hangar sync-jobs sync-img-1\n',
    );
  });

  it('--wait --json prints only the final jobs on stdout and the progress on stderr', async () => {
    api = await scriptedSync([job()], {
      'sync-flavors-1': [job({ status: 'RUNNING' }), job({ status: 'SUCCEEDED', ...DONE_AT, created: 4 })],
    });
    const result = await runCli(['--url', api.url, '--json', 'sync', '--local', '--types', 'flavors', '--wait']);
    expect(result.code).toBe(0);
    const payload = JSON.parse(result.stdout) as { success: boolean; count: number; jobs: { id: string; status: string; created: number }[] };
    expect(payload).toMatchObject({ success: true, count: 1 });
    expect(payload.jobs).toEqual([expect.objectContaining({ id: 'sync-flavors-1', status: 'SUCCEEDED', created: 4 })]);
    expect(result.stderr).toMatch(/sync-flavors-1 {2}flavors {2}RUNNING\n/);
    expect(result.stderr).toMatch(/sync-flavors-1 {2}flavors {2}SUCCEEDED\n/);
  });

  it('--wait --json still exits 1 on a FAILED job, after printing the payload', async () => {
    api = await scriptedSync([job()], {
      'sync-flavors-1': [job({ status: 'FAILED', ...DONE_AT, errors: ['boom'] })],
    });
    const result = await runCli(['--url', api.url, '--json', 'sync', '--local', '--wait']);
    expect(result.code).toBe(1);
    const payload = JSON.parse(result.stdout) as { jobs: { status: string; errors: string[] }[] };
    expect(payload.jobs[0]).toMatchObject({ status: 'FAILED', errors: ['boom'] });
    expect(result.stderr).toContain('1 of 1 sync job FAILED');
  });

  it('--wait on a terminal shows one spinner with the tally instead of a line per change', async () => {
    api = await scriptedSync([job(), job({ id: 'sync-img-1', resourceType: 'images' })], {
      'sync-flavors-1': [job({ status: 'RUNNING' }), job({ status: 'SUCCEEDED', ...DONE_AT })],
      'sync-img-1': [job({ id: 'sync-img-1', resourceType: 'images', status: 'SUCCEEDED', ...DONE_AT })],
    });
    const result = await runCli(['--url', api.url, 'sync', '--local', '--wait'], { tty: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Syncing: 1/2 done, 1 running, 0 queued');
    expect(result.stdout).toContain('2 sync jobs done in 1s');
    expect(result.stdout).not.toMatch(/Z {2}sync-flavors-1 {2}flavors {2}RUNNING$/m);
    expect(result.stdout).toMatch(/^sync-img-1\s+images\s+LOCAL \(local\)\s+SUCCEEDED/m);
  });

  it('--wait gives up at --timeout, naming the jobs still going', async () => {
    api = await scriptedSync([job()], { 'sync-flavors-1': [job({ status: 'RUNNING' })] });
    const result = await runCli(['--url', api.url, 'sync', '--local', '--wait', '--timeout', '3']);
    expect(result.code).toBe(1);
    expect(result.sleeps.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(result.stderr).toContain('Timed out after 3s waiting for 1 sync job: sync-flavors-1 RUNNING.');
    expect(result.stderr).toContain('hangar sync-jobs sync-flavors-1');
  });
});

describe('hangar sync-jobs', () => {
  it('lists jobs with the filters in the query; counts show only for finished jobs', async () => {
    api = await startFakeApi(() =>
      ok({
        jobs: [
          job({ id: 'sync-inst-2', resourceType: 'instances', status: 'RUNNING' }),
          job({ id: 'sync-inst-1', resourceType: 'instances', status: 'SUCCEEDED', trigger: 'schedule', unchanged: 9, findings: [GHOST] }),
        ],
        count: 2,
        nextCursor: 'c2',
      }),
    );
    const result = await runCli([
      '--url', api.url, 'sync-jobs', '--type', 'instances', '--client', 'acme', '--limit', '2',
    ]);
    expect(result.code).toBe(0);
    const [req] = api.requests;
    expect(req!.method).toBe('GET');
    expect(req!.path).toBe('/api/sync-jobs');
    expect(Object.fromEntries(req!.query)).toEqual({ type: 'instances', clientId: 'acme', limit: '2' });
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+TARGET\s+STATUS\s+CREATED\s+UPDATED\s+DELETED\s+UNCHANGED\s+FINDINGS\s+ERRORS\s+TRIGGER\s+QUEUED$/);
    expect(lines[1]).toMatch(/^sync-inst-2\s+instances\s+LOCAL \(local\)\s+RUNNING\s+-\s+-\s+-\s+-\s+0\s+0\s+request\s+2025-03-01T10:00:00Z$/);
    expect(lines[2]).toMatch(/^sync-inst-1\s+instances\s+LOCAL \(local\)\s+SUCCEEDED\s+0\s+0\s+0\s+9\s+1\s+0\s+schedule\s+2025-03-01T10:00:00Z$/);
    expect(result.stdout).toContain('continue with: hangar sync-jobs --cursor c2');
  });

  it('--type takes the catalog spelling too', async () => {
    api = await startFakeApi(() => ok({ jobs: [], count: 0, nextCursor: null }));
    const result = await runCli(['--url', api.url, 'sync-jobs', '--type', 'key-pairs']);
    expect(result.stdout).toBe('No sync jobs.\n');
    expect(api.requests[0]!.query.get('type')).toBe('keyPairs');
  });

  it('<id> shows the job in full: counts, findings and errors', async () => {
    api = await startFakeApi(() =>
      ok({
        job: job({
          id: 'sync-inst-1',
          resourceType: 'instances',
          provider: 'OPENSTACK',
          accountId: 'acc-1',
          region: 'RegionOne',
          clientId: 'acme',
          status: 'SUCCEEDED',
          ...DONE_AT,
          updated: 1,
          unchanged: 3,
          incremental: true,
          findings: [DRIFT],
          errors: ['could not describe local-zzz'],
        }),
      }),
    );
    const result = await runCli(['--url', api.url, 'sync-jobs', 'sync-inst-1']);
    expect(result.code).toBe(0);
    expect(api.requests[0]!.path).toBe('/api/sync-jobs/sync-inst-1');
    const out = result.stdout;
    expect(out).toMatch(/^id:\s+sync-inst-1$/m);
    expect(out).toMatch(/^type:\s+instances$/m);
    expect(out).toMatch(/^status:\s+SUCCEEDED$/m);
    expect(out).toMatch(/^target:\s+OPENSTACK acc-1 \(RegionOne\)$/m);
    expect(out).toMatch(/^incremental:\s+yes/m);
    expect(out).toMatch(/^took:\s+3s$/m);
    expect(out).toMatch(/^updated:\s+1$/m);
    expect(out).toMatch(/^unchanged:\s+3$/m);
    expect(out).toContain('Findings (sync-inst-1, instances on OPENSTACK acc-1 (RegionOne)):');
    expect(out).toMatch(/^ {2}drift\s+corrected\s+vps-web-2\s+local-def\s+The provider reports/m);
    expect(out).toContain('Errors (sync-inst-1, instances on OPENSTACK acc-1 (RegionOne)):\n  could not describe local-zzz\n');
  });

  it('<id> --json prints the payload as received', async () => {
    const body = { job: job({ status: 'QUEUED' }) };
    api = await startFakeApi(() => ok(body));
    const result = await runCli(['--url', api.url, '--json', 'sync-jobs', 'sync-flavors-1']);
    expect(JSON.parse(result.stdout)).toEqual({ success: true, ...body });
  });

  it('an unknown job is the API 404, exit 1', async () => {
    api = await startFakeApi(() => fail(404, 'NOT_FOUND', "Sync job 'sync-nope' was not found"));
    const result = await runCli(['--url', api.url, 'sync-jobs', 'sync-nope']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("Error (NOT_FOUND): Sync job 'sync-nope' was not found\n");
  });
});
