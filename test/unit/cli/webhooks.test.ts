import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, fail, ok, runCli, startFakeApi } from './harness.ts';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const webhook = (overrides: Record<string, unknown> = {}) => ({
  id: 'wh-abc123def456',
  clientId: 'acme',
  url: 'https://hooks.example.com/hangar',
  events: ['instance.ready', 'instance.terminated'],
  description: null,
  status: 'enabled',
  disabledReason: null,
  createdAt: '2025-03-01T10:00:00.000Z',
  ...overrides,
});

const delivery = (overrides: Record<string, unknown> = {}) => ({
  id: 'msg-01JQ-abc123def456',
  webhookId: 'wh-abc123def456',
  type: 'instance.ready',
  status: 'succeeded',
  attempts: [
    { attempt: 1, at: '2025-03-01T10:00:00.000Z', status: 500, durationMs: 12, error: 'HTTP 500' },
    { attempt: 2, at: '2025-03-01T10:00:05.000Z', status: 204, durationMs: 8, error: null },
  ],
  nextAttemptAt: null,
  note: null,
  createdAt: '2025-03-01T10:00:00.000Z',
  ...overrides,
});

const env = () => ({ HANGAR_URL: api!.url, HANGAR_API_KEY: 'hgr_test' });

describe('hangar webhooks', () => {
  it('creates an endpoint for the given events and prints the secret once', async () => {
    api = await startFakeApi(() => ok({ webhook: webhook({ secret: 'whsec_c2VjcmV0' }) }, 201));
    const result = await runCli(['webhooks', 'create', 'https://hooks.example.com/hangar', '--events', 'instance.ready,instance.terminated', '--description', 'ops'], { env: env() });
    expect(result.code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', path: '/api/webhooks', body: { url: 'https://hooks.example.com/hangar', events: ['instance.ready', 'instance.terminated'], description: 'ops' } });
    expect(result.stdout).toContain('whsec_c2VjcmV0');
    expect(result.stdout).toMatch(/not shown again/);
  });

  it('defaults to instance.* and names the client for the platform admin', async () => {
    api = await startFakeApi(() => ok({ webhook: webhook({ events: ['instance.*'], secret: 'whsec_x' }) }, 201));
    await runCli(['webhooks', 'create', 'https://hooks.example.com/hangar', '--client', 'acme'], { env: env() });
    expect(api.requests[0]!.body).toEqual({ url: 'https://hooks.example.com/hangar', events: ['instance.*'], clientId: 'acme' });
  });

  it('lists endpoints as a table, and as JSON with --json', async () => {
    api = await startFakeApi(() => ok({ webhooks: [webhook(), webhook({ id: 'wh-gone00000000', status: 'disabled', disabledReason: 'gone' })], count: 2, nextCursor: null }));
    const table = await runCli(['webhooks', 'list'], { env: env() });
    expect(table.stdout).toMatch(/wh-abc123def456\s+enabled\s+instance\.ready,instance\.terminated\s+https:\/\/hooks\.example\.com\/hangar/);
    expect(table.stdout).toMatch(/wh-gone00000000\s+disabled \(gone\)/);
    const json = await runCli(['--json', 'webhooks', 'list'], { env: env() });
    expect(JSON.parse(json.stdout).webhooks).toHaveLength(2);
  });

  it('shows every attempt of every delivery', async () => {
    api = await startFakeApi(() => ok({ deliveries: [delivery()], count: 1, nextCursor: 'next-page' }));
    const result = await runCli(['webhooks', 'deliveries', 'wh-abc123def456', '--limit', '5'], { env: env() });
    expect(api.requests[0]).toMatchObject({ path: '/api/webhooks/wh-abc123def456/deliveries' });
    expect(api.requests[0]!.query.get('limit')).toBe('5');
    const lines = result.stdout.split('\n');
    expect(lines.filter((l) => l.includes('msg-01JQ-abc123def456'))).toHaveLength(2);
    expect(result.stdout).toMatch(/1\s+\S.*500\s+12\s+HTTP 500/);
    expect(result.stdout).toMatch(/2\s+\S.*204\s+8/);
    expect(result.stdout).toContain('--cursor next-page');
  });

  it('sends a test event and waits for its first attempt', async () => {
    let polls = 0;
    api = await startFakeApi((req) => {
      if (req.method === 'POST') return ok({ delivery: delivery({ type: 'webhook.test', status: 'pending', attempts: [] }) }, 202);
      polls++;
      return ok({ deliveries: [delivery({ type: 'webhook.test', attempts: polls < 2 ? [] : [{ attempt: 1, at: '2025-03-01T10:00:01.000Z', status: 204, durationMs: 9, error: null }] })] });
    });
    const result = await runCli(['webhooks', 'test', 'wh-abc123def456'], { env: env() });
    expect(result.code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'POST', path: '/api/webhooks/wh-abc123def456/test' });
    expect(result.stdout).toMatch(/answer:\s+HTTP 204 in 9 ms/);
  });

  it('deletes an endpoint, and reports a missing one as the API does', async () => {
    api = await startFakeApi((req) => (req.path.endsWith('wh-abc123def456') ? ok({ webhook: webhook() }) : fail(404, 'NOT_FOUND', "Webhook 'wh-nope' was not found")));
    expect((await runCli(['webhooks', 'delete', 'wh-abc123def456'], { env: env() })).stdout).toContain('Deleted webhook wh-abc123def456');
    const missing = await runCli(['webhooks', 'delete', 'wh-nope'], { env: env() });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("Webhook 'wh-nope' was not found");
  });
});
