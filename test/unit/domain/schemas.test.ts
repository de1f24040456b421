import { loadZod } from '../../../shared/domain/zod.ts';
import { describe, it, expect } from 'vitest';
import type { z } from 'zod';
import { PROVIDERS } from '../../../shared/domain/catalog.ts';
import { createInstanceSchema, listInstancesQuerySchema } from '../../../shared/domain/schemas.ts';

// These tests use schemas directly rather than through parseInput, which would load zod itself.
await loadZod();

/** The create body of DESIGN.md, with provider LOCAL instead of AWS. */
const designBody = () => ({
  name: 'gpu-worker',
  type: 'gpu',
  clientId: '…(platform admin only)',
  taskId: 'task-456',
  purpose: 'Medical Document Analysis',
  resources: { cpu: 4, memory: 16, disk: 100 },
  config: {
    provider: 'LOCAL',
    instanceType: 'g4dn.xlarge',
    region: 'us-east-1',
    image: '…',
    diskSizeGB: 100,
    autoTerminateMinutes: 60,
    tags: { project: 'medical-analysis' },
    accountId: '…',
    keyPair: '…',
    securityGroups: [],
    networks: [],
    userData: '…',
  },
});

/** The issues of a rejected parse; fails the test if the input was accepted. */
function issuesOf(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  expect(result.success, `expected ${JSON.stringify(input)} to be rejected`).toBe(false);
  return result.success ? [] : result.error.issues;
}

const messages = (schema: z.ZodType, input: unknown) => issuesOf(schema, input).map((i) => i.message).join(' | ');
const paths = (schema: z.ZodType, input: unknown) => issuesOf(schema, input).map((i) => i.path.join('.'));

describe('createInstanceSchema: accepted bodies', () => {
  it('accepts the create body of DESIGN.md (provider LOCAL) and keeps every field', () => {
    const body = designBody();
    const parsed = createInstanceSchema.parse(body);
    expect(parsed).toEqual(body);
  });

  it('accepts the minimal body and fills in the defaults', () => {
    const parsed = createInstanceSchema.parse({ name: 'web-server' });
    expect(parsed.name).toBe('web-server');
    expect(parsed.type).toBe('vps');
    expect(parsed.config.provider).toBe('LOCAL');
    expect(parsed.resources).toEqual({});
  });

  it('accepts every known provider, and any lowercase kebab word of 1 to 20 characters as the type', () => {
    for (const provider of PROVIDERS) {
      expect(createInstanceSchema.safeParse({ name: 'a', config: { provider } }).success, provider).toBe(true);
    }
    for (const type of ['vps', 'gpu', 'database', 'container', 'external', 'gpu-worker', 'db2', 'x', 'a'.repeat(20)]) {
      expect(createInstanceSchema.safeParse({ name: 'a', type }).success, type).toBe(true);
    }
  });

  it('accepts a body without a name (the provisioner request shape): the service names it', () => {
    const parsed = createInstanceSchema.parse({ type: 'gpu', taskId: 'task-456', purpose: 'Medical Document Analysis' });
    expect(parsed.name).toBeUndefined();
  });

  it('accepts the boundaries: disk of exactly 30 GB and auto-terminate of exactly 5 minutes', () => {
    expect(createInstanceSchema.safeParse({ name: 'a', resources: { disk: 30 }, config: { diskSizeGB: 30, autoTerminateMinutes: 5 } }).success).toBe(true);
    expect(createInstanceSchema.safeParse({ name: 'a', config: { autoTerminateMinutes: 120 } }).success).toBe(true);
  });

  it('trims the name', () => {
    expect(createInstanceSchema.parse({ name: '  Web Server  ' }).name).toBe('Web Server');
  });
});

describe('createInstanceSchema: rejected bodies', () => {
  it('rejects config.diskSizeGB below 30 GB, naming the field and 30', () => {
    const input = { name: 'a', config: { diskSizeGB: 29 } };
    expect(paths(createInstanceSchema, input)).toEqual(['config.diskSizeGB']);
    expect(messages(createInstanceSchema, input)).toContain('30');
  });

  it('rejects resources.disk below 30 GB, naming the field and 30', () => {
    const input = { name: 'a', resources: { disk: 10 } };
    expect(paths(createInstanceSchema, input)).toEqual(['resources.disk']);
    expect(messages(createInstanceSchema, input)).toContain('30');
  });

  it('rejects autoTerminateMinutes 4 with a message mentioning 5', () => {
    const input = { name: 'a', config: { autoTerminateMinutes: 4 } };
    expect(paths(createInstanceSchema, input)).toEqual(['config.autoTerminateMinutes']);
    expect(messages(createInstanceSchema, input)).toContain('5');
  });

  it('rejects an empty name with a message saying the name is required', () => {
    expect(messages(createInstanceSchema, { name: '   ' })).toMatch(/name is required/);
  });

  it.each(['!!!', '---', '__', '#'])('rejects the name %j, which has no letters or digits', (name) => {
    expect(paths(createInstanceSchema, { name })).toEqual(['name']);
    expect(messages(createInstanceSchema, { name })).toMatch(/letters or digits/);
  });

  it('rejects an unknown provider, listing the known ones', () => {
    const input = { name: 'a', config: { provider: 'GCP' } };
    expect(paths(createInstanceSchema, input)).toEqual(['config.provider']);
    const message = messages(createInstanceSchema, input);
    expect(message).toContain('GCP');
    for (const provider of ['LOCAL', 'AWS', 'OPENSTACK', 'AZURE', 'EXTERNAL']) expect(message).toContain(provider);
  });

  it.each(['Database', 'web server', 'db_1', '-db', 'db-', '2fa', 'a'.repeat(21), ''])('rejects the type %j, which is not a lowercase kebab word of 1 to 20', (type) => {
    expect(paths(createInstanceSchema, { name: 'a', type })).toEqual(['type']);
    expect(messages(createInstanceSchema, { name: 'a', type })).toMatch(/type must/);
  });

  it.each([
    [{ name: 'a', colour: 'red' }, ''],
    [{ name: 'a', config: { provider: 'LOCAL', flavour: 'x' } }, 'config'],
    [{ name: 'a', resources: { gpu: 1 } }, 'resources'],
  ])('rejects unknown fields (strict): %j', (input, where) => {
    const issues = issuesOf(createInstanceSchema, input);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.code).toBe('unrecognized_keys');
    expect(issues[0]!.path.join('.')).toBe(where);
  });

  it('rejects a fractional disk size and non-numbers', () => {
    expect(paths(createInstanceSchema, { name: 'a', resources: { disk: 30.5 } })).toEqual(['resources.disk']);
    expect(paths(createInstanceSchema, { name: 'a', config: { diskSizeGB: '100' } })).toEqual(['config.diskSizeGB']);
  });
});

describe('listInstancesQuerySchema', () => {
  it('defaults limit to 25', () => {
    expect(listInstancesQuerySchema.parse({}).limit).toBe(25);
  });

  it('coerces a query-string limit', () => {
    expect(listInstancesQuerySchema.parse({ limit: '10' }).limit).toBe(10);
    expect(listInstancesQuerySchema.parse({ limit: '100' }).limit).toBe(100);
    expect(listInstancesQuerySchema.parse({ limit: '1' }).limit).toBe(1);
  });

  it('caps limit at 100', () => {
    expect(listInstancesQuerySchema.parse({ limit: '101' }).limit).toBe(100);
    expect(listInstancesQuerySchema.parse({ limit: '5000' }).limit).toBe(100);
  });

  it.each(['0', '-1', 'abc', '2.5'])('rejects limit %j', (limit) => {
    expect(paths(listInstancesQuerySchema, { limit })).toEqual(['limit']);
  });

  it('accepts the filters of the route and rejects unknown enum values', () => {
    const parsed = listInstancesQuerySchema.parse({ status: 'READY', provider: 'AWS', type: 'gpu', tag: 'project=x', cursor: 'abc' });
    expect(parsed).toMatchObject({ status: 'READY', provider: 'AWS', type: 'gpu', tag: 'project=x', cursor: 'abc', limit: 25 });
    expect(paths(listInstancesQuerySchema, { status: 'BROKEN' })).toEqual(['status']);
    expect(paths(listInstancesQuerySchema, { provider: 'GCP' })).toEqual(['provider']);
  });
});
