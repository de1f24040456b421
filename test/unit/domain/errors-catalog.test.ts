import { loadZod } from '../../../shared/domain/zod.ts';
import { describe, it, expect } from 'vitest';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  IllegalTransitionError,
  NotFoundError,
  ProviderError,
  QuotaExceededError,
  UnauthorizedError,
  ValidationError,
  VersionConflictError,
} from '../../../shared/domain/errors.ts';
import { DEFAULT_REGION, PRICE_TABLE, PROVIDERS, findPrice, priceEntriesFor, smallestFitting } from '../../../shared/domain/catalog.ts';
import { createApiKeySchema, createClientSchema, createInstanceSchema, updateInstanceSchema } from '../../../shared/domain/schemas.ts';
import { parseInput } from '../../../shared/domain/validate.ts';

// These tests use schemas directly rather than through parseInput, which would load zod itself.
await loadZod();

describe('domain errors carry the HTTP status of DESIGN.md', () => {
  it.each([
    ['validation', new ValidationError('bad'), 400, 'VALIDATION_ERROR'],
    ['unauthorized', new UnauthorizedError('who?'), 401, 'UNAUTHORIZED'],
    ['forbidden', new ForbiddenError('no'), 403, 'FORBIDDEN'],
    ['not found', new NotFoundError('Instance', 'vps-a-abc123'), 404, 'NOT_FOUND'],
    ['conflict', new ConflictError('dup'), 409, 'CONFLICT'],
    ['lost race', new VersionConflictError('Instance', 'vps-a-abc123'), 409, 'VERSION_CONFLICT'],
    ['illegal transition', new IllegalTransitionError('STOPPED', 'reboot', ['READY', 'RUNNING']), 422, 'ILLEGAL_TRANSITION'],
    ['over quota', new QuotaExceededError('too many'), 400, 'QUOTA_EXCEEDED'],
    ['provider', new ProviderError('EC2 said no'), 502, 'PROVIDER_ERROR'],
  ] as const)('%s → %i %s', (_what, error, status, code) => {
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
    expect(error.name).toBe(error.constructor.name);
  });

  it('a lost race is a conflict', () => {
    expect(new VersionConflictError('Instance', 'x')).toBeInstanceOf(ConflictError);
  });

  it('messages name what they are about', () => {
    expect(new NotFoundError('Instance', 'vps-a-abc123').message).toContain("'vps-a-abc123'");
    const illegal = new IllegalTransitionError('STOPPED', 'reboot', ['READY', 'RUNNING']);
    expect(illegal.message).toContain('STOPPED');
    expect(illegal.message).toContain('reboot');
    expect(illegal.message).toContain('READY');
  });

  it('keeps validation details and a custom code', () => {
    const e = new ValidationError('bad body', [{ path: 'name', message: 'name is required' }], 'CANNOT_CONNECT');
    expect(e.details).toEqual([{ path: 'name', message: 'name is required' }]);
    expect(e.code).toBe('CANNOT_CONNECT');
    expect(new ValidationError('x').details).toEqual([]);
  });

  it('a provider error says whether it is worth retrying (no by default)', () => {
    expect(new ProviderError('x').retryable).toBe(false);
    expect(new ProviderError('x', true).retryable).toBe(true);
  });
});

describe('catalog', () => {
  it('has a default region for every provider', () => {
    for (const provider of PROVIDERS) expect(DEFAULT_REGION[provider], provider).toMatch(/\S/);
  });

  it('lists each (provider, instance type) once, with a positive integer price in micros', () => {
    const keys = PRICE_TABLE.map((e) => `${e.provider}/${e.instanceType}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of PRICE_TABLE) {
      expect(Number.isSafeInteger(e.hourlyMicros) && e.hourlyMicros > 0, e.instanceType).toBe(true);
    }
  });

  it('prices the documented GPU machines exactly ($0.526, $3.912, $7.20 per hour)', () => {
    expect(findPrice('AWS', 'g4dn.xlarge')?.hourlyMicros).toBe(526_000);
    expect(findPrice('AWS', 'g4dn.12xlarge')?.hourlyMicros).toBe(3_912_000);
    expect(findPrice('AWS', 'p2.8xlarge')?.hourlyMicros).toBe(7_200_000);
  });

  it('finds nothing for an unknown type or the wrong provider', () => {
    expect(findPrice('AWS', 'nope.large')).toBeUndefined();
    expect(findPrice('LOCAL', 'g4dn.xlarge')).toBeUndefined();
  });

  it('priceEntriesFor returns only that provider', () => {
    for (const provider of PROVIDERS) {
      for (const e of priceEntriesFor(provider)) expect(e.provider).toBe(provider);
    }
  });

  it('smallestFitting picks the cheapest type that covers cpu and memory', () => {
    for (const provider of PROVIDERS) {
      for (const wanted of [{}, { cpu: 2 }, { memory: 10 }, { cpu: 4, memory: 16 }, { cpu: 30, memory: 100 }]) {
        const pick = smallestFitting(provider, wanted);
        const fitting = PRICE_TABLE.filter(
          (e) => e.provider === provider && e.vcpu >= (wanted.cpu ?? 0) && e.memoryGiB >= (wanted.memory ?? 0),
        );
        if (fitting.length === 0) {
          expect(pick).toBeUndefined();
        } else {
          expect(pick).toBeDefined();
          expect(pick!.vcpu).toBeGreaterThanOrEqual(wanted.cpu ?? 0);
          expect(pick!.memoryGiB).toBeGreaterThanOrEqual(wanted.memory ?? 0);
          expect(pick!.hourlyMicros).toBe(Math.min(...fitting.map((e) => e.hourlyMicros)));
        }
      }
    }
    expect(smallestFitting('LOCAL', { cpu: 1000 })).toBeUndefined();
  });
});

describe('other request schemas', () => {
  it('updateInstanceSchema needs at least one of name, tags, labels and nothing else', () => {
    expect(updateInstanceSchema.safeParse({}).success).toBe(false);
    expect(updateInstanceSchema.safeParse({ tags: { a: 'b' } }).success).toBe(true);
    expect(updateInstanceSchema.safeParse({ name: 'New Name' }).success).toBe(true);
    expect(updateInstanceSchema.safeParse({ name: '!!!' }).success).toBe(false);
    expect(updateInstanceSchema.safeParse({ status: 'READY' }).success).toBe(false);
  });

  it('createClientSchema requires a name and keeps the auto-terminate maximum within 5 minutes to a week', () => {
    expect(createClientSchema.safeParse({ name: 'Acme' }).success).toBe(true);
    expect(createClientSchema.safeParse({}).success).toBe(false);
    expect(createClientSchema.safeParse({ name: 'Acme', maxAutoTerminateMinutes: 4 }).success).toBe(false);
    expect(createClientSchema.safeParse({ name: 'Acme', maxAutoTerminateMinutes: 7 * 24 * 60 }).success).toBe(true);
    expect(createClientSchema.safeParse({ name: 'Acme', maxAutoTerminateMinutes: 7 * 24 * 60 + 1 }).success).toBe(false);
    expect(createClientSchema.safeParse({ name: 'Acme', contactEmail: 'not-an-email' }).success).toBe(false);
  });

  it('createApiKeySchema defaults to viewer and never issues a platform-admin key to a client', () => {
    expect(createApiKeySchema.parse({ name: 'ci' }).role).toBe('viewer');
    for (const role of ['admin', 'operator', 'viewer']) {
      expect(createApiKeySchema.safeParse({ name: 'ci', role }).success, role).toBe(true);
    }
    expect(createApiKeySchema.safeParse({ name: 'ci', role: 'platform-admin' }).success).toBe(false);
  });
});

describe('parseInput', () => {
  it('returns the parsed value when the input is valid', async () => {
    expect((await parseInput(createInstanceSchema, { name: 'web-server' })).config.provider).toBe('LOCAL');
  });

  it('throws a 400 ValidationError that lists every problem with its path', async () => {
    let thrown: unknown;
    try {
      await parseInput(createInstanceSchema, { name: '!!!', resources: { disk: 1 }, config: { autoTerminateMinutes: 1 } }, 'instance');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    const error = thrown as ValidationError;
    expect(error.status).toBe(400);
    expect(error.details.map((d) => d.path).sort()).toEqual(['config.autoTerminateMinutes', 'name', 'resources.disk']);
    expect(error.message).toContain('instance');
    expect(error.message).toContain('2 more');
  });
});
