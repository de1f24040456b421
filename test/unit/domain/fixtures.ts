import type { Instance } from '../../../shared/domain/instance.ts';

/** A freshly created (PENDING) instance; every test states the fields it cares about. */
export function makeInstance(overrides: Partial<Instance> = {}): Instance {
  return {
    id: 'vps-web-server-abc123',
    clientId: 'client-1',
    userId: 'user-1',
    name: 'web-server',
    type: 'vps',
    provider: 'LOCAL',
    instanceType: 'local.small',
    region: 'local',
    status: 'PENDING',
    resources: { cpu: 1, memory: 1, disk: 30 },
    config: { diskSizeGB: 30 },
    tags: { project: 'test' },
    labels: {},
    costPerHourMicros: 450_000,
    priceVersion: '2026-11-01',
    accruedCostMicros: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    version: 1,
    ...overrides,
  };
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** `base` shifted by `ms`. */
export const after = (base: Date, ms: number) => new Date(base.getTime() + ms);
