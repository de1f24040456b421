import { afterEach, describe, expect, it } from 'vitest';
import { type FakeApi, fail, instance, ok, runCli, startFakeApi } from './harness.ts';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('hangar revenue', () => {
  it('asks for the period and grouping, and rounds the exact figures for people', async () => {
    api = await startFakeApi(() =>
      ok({
        revenue: {
          clientId: 'acme', from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z', currency: 'USD',
          total: 12.345678, compute: 12.3, storage: 0.045678,
          groups: [{ key: 'AWS', total: 12.345678, hours: 23.5 }],
        },
      }),
    );
    const result = await runCli(['--url', api.url, 'revenue', 'Acme Inc', '--from', '2026-03-01', '--to', '2026-04-01', '--group-by', 'provider']);
    expect(result.stderr).toBe('');
    expect(api.requests[0]!.path).toBe('/api/clients/Acme%20Inc/revenue');
    expect(Object.fromEntries(api.requests[0]!.query)).toEqual({ from: '2026-03-01', to: '2026-04-01', groupBy: 'provider' });
    expect(result.stdout).toMatch(/^total:\s+\$12\.3457$/m);
    expect(result.stdout).toMatch(/^AWS\s+23\.50\s+\$12\.3457$/m);
  });

  it('needs --from and --to', async () => {
    const result = await runCli(['--url', 'http://127.0.0.1:9', 'revenue', 'acme', '--to', '2026-04-01']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--from/);
  });
});

describe('hangar audit', () => {
  it('filters by client and action and shows who acted for whom', async () => {
    api = await startFakeApi(() =>
      ok({
        actions: [{ id: '01J', at: '2026-03-01T10:00:00.000Z', actor: 'key:key-platform', clientId: 'client-1', action: 'instance.create', target: 'instance:database-production-db-abc123', details: { onBehalfOf: 'client-1' } }],
        count: 1,
        nextCursor: null,
      }),
    );
    const result = await runCli(['--url', api.url, 'audit', '--client', 'acme', '--action', 'instance']);
    expect(Object.fromEntries(api.requests[0]!.query)).toEqual({ clientId: 'acme', action: 'instance' });
    expect(result.stdout).toMatch(/key:key-platform \(for client\)\s+client-1\s+instance\.create\s+instance:database-production-db-abc123/);
  });
});

describe('hangar estimate', () => {
  it('sends the create options to the estimate route, with no name when none is given', async () => {
    api = await startFakeApi(() =>
      ok({
        estimate: {
          costPerHour: 0.526, storageCostPerHour: 0.010959, untilAutoTerminate: 0.268479, autoTerminateMinutes: 30,
          perDay: 12.887, perMonth: 391.98, billingCycle: 'hourly', instanceType: 'g4dn.xlarge', provider: 'AWS',
          budget: { monthlyLimit: 500, spent: 120.5, forecastAfter: 480.25, allowed: true },
        },
      }),
    );
    const result = await runCli(['--url', api.url, 'estimate', '--provider', 'aws', '--instance-type', 'g4dn.xlarge', '--auto-terminate', '30', '--purpose', 'Medical Document Analysis', '--billing-cycle', 'monthly']);
    expect(result.stderr).toBe('');
    expect(api.requests[0]!.method).toBe('POST');
    expect(api.requests[0]!.path).toBe('/api/instances/estimate');
    expect(api.requests[0]!.body).toEqual({ purpose: 'Medical Document Analysis', config: { provider: 'AWS', instanceType: 'g4dn.xlarge', autoTerminateMinutes: 30, billingCycle: 'monthly' } });
    expect(result.stdout).toMatch(/^costPerHour:\s+\$0\.526$/m);
    expect(result.stdout).toMatch(/^untilAutoTerminate:\s+\$0\.2685 \(30 min\)$/m);
    expect(result.stdout).toMatch(/^allowed:\s+yes$/m);
  });
});

describe('hangar budget', () => {
  const view = (over: Record<string, unknown> = {}) =>
    ok({ budget: { clientId: 'client-1', month: '2026-03', monthlyLimit: 500, spent: 410.123456, forecast: 612.5, thresholds: [50, 80, 100], crossed: [50, 80], action: 'notify', ...over } });

  it('shows the month', async () => {
    api = await startFakeApi(() => view());
    const result = await runCli(['--url', api.url, 'budget', 'acme']);
    expect(result.stdout).toMatch(/^spent:\s+\$410\.1235$/m);
    expect(result.stdout).toMatch(/^crossed:\s+50%, 80%$/m);
  });

  it('--set patches the budget whole (keeping what it does not name) and the quotas', async () => {
    api = await startFakeApi((req) => (req.method === 'PATCH' ? ok({ client: {} }) : view({ action: 'block' })));
    const result = await runCli(['--url', api.url, 'budget', 'acme', '--set', 'action=block', '--set', 'quotas.vcpus=64', '--set', 'quotas.costPerHour=20']);
    expect(result.stderr).toBe('');
    const patch = api.requests.find((r) => r.method === 'PATCH')!;
    expect(patch.path).toBe('/api/clients/client-1');
    expect(patch.body).toEqual({ budget: { monthlyLimit: '500', thresholds: [50, 80, 100], action: 'block' }, quotas: { vcpus: 64, costPerHour: '20' } });
    expect(result.stdout).toMatch(/^action:\s+block$/m);
  });

  it('refuses an unknown setting', async () => {
    const result = await runCli(['--url', 'http://127.0.0.1:9', 'budget', 'acme', '--set', 'colour=red']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--set takes key=value/);
  });
});

describe('hangar cost-report', () => {
  it('lists every instance, terminated ones included, with duration, price, compute, storage and total', async () => {
    api = await startFakeApi((req) =>
      req.query.get('cursor') === 'p2'
        ? ok({ instances: [instance({ id: 'vps-b-000002', status: 'TERMINATED', createdAt: '2025-03-01T08:00:00Z', terminatedAt: '2025-03-01T08:30:00Z', costPerHour: 0.526, computeCost: 0.263, storageCost: 0.000685, totalCost: 0.263685, totalCostMicros: 263_685 })], nextCursor: null })
        : ok({ instances: [instance({ id: 'vps-a-000001', status: 'READY', createdAt: '2025-03-01T09:00:00Z', costPerHour: 0.01, computeCost: 0.01, storageCost: 0.000001, totalCost: 0.010001, totalCostMicros: 10_001 })], nextCursor: 'p2' }),
    );
    const result = await runCli(['--url', api.url, 'cost-report']);
    expect(result.stderr).toBe('');
    expect(api.requests).toHaveLength(2);
    expect(result.stdout).toMatch(/vps-a-000001\s+READY\s+1h 0m\s+\$0\.01\s+\$0\.01\s+\$0\.00\s+\$0\.01/);
    expect(result.stdout).toMatch(/vps-b-000002\s+TERMINATED\s+30m 0s\s+\$0\.526\s+\$0\.263\s+\$0\.0007\s+\$0\.2637/);
    expect(result.stdout).toMatch(/2 instance\(s\), total \$0\.2737/);
  });

  it('says why when the server refuses', async () => {
    api = await startFakeApi(() => fail(404, 'NOT_FOUND', "Client 'x' not found"));
    const result = await runCli(['--url', api.url, 'cost-report', '--client', 'x']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/not found/);
  });
});
