import { loadZod } from '../../../shared/domain/zod.ts';
import { describe, expect, it } from 'vitest';
import type { Client } from '../../../shared/domain/client.ts';
import { ValidationError } from '../../../shared/domain/errors.ts';
import { launchSpecOf } from '../../../shared/domain/instance.ts';
import { checkCreate, effectivePrice, listedPrice, planInstance } from '../../../shared/domain/instance-plan.ts';
import { createInstanceSchema } from '../../../shared/domain/schemas.ts';

// These tests use schemas directly rather than through parseInput, which would load zod itself.
await loadZod();

const client: Client = {
  clientId: 'c1',
  name: 'Acme',
  nameKey: 'acme',
  status: 'active',
  maxInstances: 5,
  maxAutoTerminateMinutes: 60,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
};
const request = (body: unknown) => createInstanceSchema.parse(body);
const now = new Date('2026-06-01T10:00:00.000Z');
const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
};

describe('checkCreate', () => {
  it('answers the region and the listed price', () => {
    expect(checkCreate(request({ name: 'web', config: { provider: 'LOCAL', instanceType: 'local.medium' } }), client)).toEqual({
      region: 'local',
      listed: { instanceType: 'local.medium', hourlyMicros: 40_000 },
    });
    expect(checkCreate(request({ name: 'gpu', config: { provider: 'AWS', instanceType: 'g4dn.xlarge', accountId: 'a' } }), client).region).toBe('us-east-1');
  });

  it('refuses what needs no I/O to refuse', () => {
    expect(refused(() => checkCreate(request({ name: 'x' }), { ...client, status: 'suspended' }))).toBe("Client 'Acme' is suspended");
    expect(refused(() => checkCreate(request({ name: 'x', config: { region: 'eu' } }), client))).toBe("Unknown region 'eu' for LOCAL; the only region is 'local'");
    expect(refused(() => checkCreate(request({ name: 'x', config: { autoTerminateMinutes: 61 } }), client))).toBe('autoTerminateMinutes must be at most 60 for this client');
    expect(refused(() => checkCreate(request({ name: 'x', config: { instanceType: 'local.huge' } }), client))).toMatch(/^Unknown LOCAL instance type 'local.huge'/);
    expect(refused(() => checkCreate(request({ name: 'x', resources: { cpu: 64 } }), client))).toMatch(/^No LOCAL instance type offers 64 cpu/);
    expect(checkCreate(request({ name: 'x', config: { autoTerminateMinutes: 60 } }), client).region).toBe('local');
  });
});

describe('prices', () => {
  it('picks the smallest fitting type, and prices an endpoint at nothing', () => {
    expect(listedPrice(request({ name: 'x', resources: { cpu: 2, memory: 4 } }))).toEqual({ instanceType: 'local.medium', hourlyMicros: 40_000 });
    expect(listedPrice(request({ name: 'x', config: { provider: 'EXTERNAL', endpoint: 'h:1' } }))).toEqual({ instanceType: 'endpoint', hourlyMicros: 0 });
  });

  it("takes the client's negotiated price first, then the table, then the synced catalog for a type the table lacks", () => {
    const listed = { instanceType: 'm9.large', hourlyMicros: 0 };
    expect(effectivePrice(listed, { hourlyMicros: 700 }, client, 'AWS')).toEqual({ instanceType: 'm9.large', hourlyMicros: 700 });
    expect(effectivePrice({ ...listed, hourlyMicros: 5 }, { hourlyMicros: 700 }, client, 'AWS').hourlyMicros).toBe(5);
    expect(effectivePrice(listed, { hourlyMicros: 700 }, { priceOverrides: { 'AWS:m9.large': 300 } }, 'AWS').hourlyMicros).toBe(300);
  });
});

describe('planInstance', () => {
  it('plans the PENDING instance: config from the schema less the instance fields, disk and tags kept', () => {
    const planned = planInstance({
      request: request({ name: 'Web Server', config: { provider: 'LOCAL', autoTerminateMinutes: 30, tags: { team: 'a' }, image: 'nginx', healthPath: '/h' }, resources: { disk: 40 } }),
      client,
      price: { instanceType: 'local.small', hourlyMicros: 10_000 },
      now,
      id: 'vps-web-server-abc123',
      userId: 'key-1',
    });
    expect(planned).toMatchObject({
      id: 'vps-web-server-abc123',
      clientId: 'c1',
      userId: 'key-1',
      name: 'Web Server',
      provider: 'LOCAL',
      region: 'local',
      status: 'PENDING',
      instanceType: 'local.small',
      costPerHourMicros: 10_000,
      autoTerminateMinutes: 30,
      tags: { team: 'a' },
      resources: { disk: 40 },
      createdAt: now.toISOString(),
      version: 1,
    });
    expect(planned.config).toEqual({ image: 'nginx', healthPath: '/h', diskSizeGB: 40 });
    expect(planned.autoTerminateAt).toBeUndefined();
    expect(launchSpecOf(planned)).toEqual({
      instanceId: 'vps-web-server-abc123',
      clientId: 'c1',
      name: 'Web Server',
      instanceType: 'local.small',
      region: 'local',
      resources: { disk: 40 },
      tags: { team: 'a' },
      image: 'nginx',
      healthPath: '/h',
      diskSizeGB: 40,
    });
  });

  it('names a create without a name from its purpose', () => {
    const planned = planInstance({ request: request({ purpose: 'Medical Document Analysis' }), client, price: { instanceType: 'local.small', hourlyMicros: 1 }, now, id: 'x', userId: 'u' });
    expect(planned.name).toBeTruthy();
    expect(planned.name.toLowerCase()).toContain('medical');
  });

  it('never plans from a request the client may not make', () => {
    expect(() =>
      planInstance({ request: request({ name: 'x', config: { autoTerminateMinutes: 90 } }), client, price: { instanceType: 'local.small', hourlyMicros: 1 }, now, id: 'x', userId: 'u' }),
    ).toThrow(ValidationError);
  });
});
