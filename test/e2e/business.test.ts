import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type RuntimeProcess, startRuntimeProcess } from '../support/local-runtime.ts';

/** The business routes of the local runtime over HTTP, as a client of the API sees them. */
describe('business over HTTP', () => {
  let runtime: RuntimeProcess;
  let admin: ReturnType<typeof apiClient>;
  let clientAdmin: ReturnType<typeof apiClient>;
  let stranger: ReturnType<typeof apiClient>;
  let clientId: string;

  beforeAll(async () => {
    runtime = await startRuntimeProcess({});
    admin = apiClient(runtime.url, runtime.adminKey);
    const client = await admin('POST', '/api/clients', { name: 'Registry Business', priceOverrides: { 'LOCAL:local.small': '0.526' }, quotas: { instances: 3 } });
    expect(client.status).toBe(201);
    clientId = client.body.client.id;
    expect(client.body.client.quotas).toEqual({ instances: 3 });
    const key = await admin('POST', `/api/clients/${clientId}/api-keys`, { name: 'admin', role: 'admin' });
    clientAdmin = apiClient(runtime.url, key.body.apiKey.key);
    const other = await admin('POST', '/api/clients', { name: 'Someone Else' });
    const otherKey = await admin('POST', `/api/clients/${other.body.client.id}/api-keys`, { name: 'admin', role: 'admin' });
    stranger = apiClient(runtime.url, otherKey.body.apiKey.key);
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('a database named production-db, created by the platform admin for the client by name, shows in its audit log', async () => {
    const created = await admin('POST', '/api/instances', { clientId: 'registry business', type: 'database', name: 'production-db', config: { instanceType: 'local.small', autoTerminateMinutes: 30 } });
    expect(created.status).toBe(202);
    expect(created.body.instance.id).toMatch(/^database-production-db-[a-z0-9]{6}$/);
    expect(created.body.instance.costPerHour).toBe(0.526);
    const audit = await clientAdmin('GET', '/api/audit?action=instance.create');
    expect(audit.status).toBe(200);
    expect(audit.body.actions[0]).toMatchObject({ clientId, action: 'instance.create', target: `instance:${created.body.instance.id}`, details: { onBehalfOf: clientId } });
    expect(audit.body.actions[0].actor).toMatch(/^key:/);
    expect((await admin('GET', `/api/audit?clientId=${clientId}`)).body.count).toBeGreaterThan(1);
    expect((await clientAdmin('GET', '/api/audit?from=yesterday')).status).toBe(400);
  });

  it('a create without a name takes one from its purpose', async () => {
    const created = await admin('POST', '/api/instances', { clientId, type: 'gpu', taskId: 'task-456', purpose: 'Medical Document Analysis' });
    expect(created.status).toBe(202);
    expect(created.body.instance.id).toMatch(/^gpu-medical-document-analysis-[a-z0-9]{6}$/);
  });

  it('answers revenue, budget and the estimate, tenant-scoped, with clear 4xx', async () => {
    const revenue = await clientAdmin('GET', `/api/clients/${clientId}/revenue?from=2026-06-01&to=2027-06-01&groupBy=instanceType`);
    expect(revenue.status).toBe(200);
    expect(revenue.body.revenue).toMatchObject({ clientId, currency: 'USD' });
    expect(typeof revenue.body.revenue.total).toBe('number');
    expect((await clientAdmin('GET', `/api/clients/${clientId}/revenue?from=2030-01-01&to=2020-01-01`)).status).toBe(400);
    expect((await stranger('GET', `/api/clients/${clientId}/revenue?from=2020-01-01&to=2021-01-01`)).status).toBe(404);

    const patched = await admin('PATCH', `/api/clients/${clientId}`, { budget: { monthlyLimit: 0.000001, action: 'block' } });
    expect(patched.status).toBe(200);
    expect(patched.body.client.budget).toEqual({ monthlyLimit: 0.000001, thresholds: [50, 80, 100], action: 'block' });
    const budget = await clientAdmin('GET', `/api/clients/${clientId}/budget`);
    expect(budget.body.budget).toMatchObject({ monthlyLimit: 0.000001, action: 'block', thresholds: [50, 80, 100] });

    const estimate = await admin('POST', '/api/instances/estimate', { clientId, name: 'e', config: { instanceType: 'local.small', autoTerminateMinutes: 60 } });
    expect(estimate.status).toBe(200);
    expect(estimate.body.estimate).toMatchObject({ costPerHour: 0.526, billingCycle: 'hourly', budget: { allowed: false } });
    expect(estimate.body.estimate.untilAutoTerminate).toBeGreaterThanOrEqual(0.526);

    const refused = await admin('POST', '/api/instances', { clientId, name: 'over', config: { instanceType: 'local.small', autoTerminateMinutes: 60 } });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('BUDGET_EXCEEDED');
    expect(refused.body.error).toMatch(/by \$/);
    expect((await admin('POST', '/api/instances/estimate', { clientId, name: 'x', type: 'Not Kebab' })).status).toBe(400);
  });
});
