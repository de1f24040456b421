import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalRegistration, ExternalRegistrationRepository } from '../../shared/ports/external-registration-repository.ts';

let seq = 0;
export function registration(overrides: Partial<ExternalRegistration> = {}): ExternalRegistration {
  seq += 1;
  const instanceId = overrides.instanceId ?? `endpoint-contract-${String(seq).padStart(4, '0')}${Math.random().toString(36).slice(2, 6)}`;
  return {
    instanceId,
    providerInstanceId: `ext-${seq.toString(16).padStart(10, '0')}`,
    endpoint: 'http://127.0.0.1:8080',
    healthPath: '/health',
    clientId: 'client-contract',
    name: 'contract',
    region: 'external',
    tags: { team: 'web' },
    registeredAt: '2026-05-01T09:00:00.000Z',
    ...overrides,
  };
}

/** One contract, run against every adapter of the EXTERNAL registration port. */
export function runExternalRegistrationRepositoryContract(
  name: string,
  setup: () => Promise<{ repo: ExternalRegistrationRepository; cleanup: () => Promise<void> }>,
): void {
  describe(`ExternalRegistrationRepository contract: ${name}`, () => {
    let repo: ExternalRegistrationRepository;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ repo, cleanup } = await setup());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('stores a registration and reads it back whole', async () => {
      const r = registration();
      expect(await repo.register(r)).toEqual(r);
      expect(await repo.get(r.instanceId)).toEqual(r);
      expect(await repo.get('endpoint-never-registered')).toBeNull();
    });

    it('keeps the first registration of an instance id, even when two arrive at once', async () => {
      const first = registration({ endpoint: 'http://127.0.0.1:1111' });
      const second = { ...first, endpoint: 'http://127.0.0.1:2222' };
      expect(await repo.register(first)).toEqual(first);
      expect(await repo.register(second)).toEqual(first);

      const racing = registration();
      const answers = await Promise.all([repo.register(racing), repo.register({ ...racing, endpoint: 'http://127.0.0.1:3333' })]);
      expect(answers[0]).toEqual(answers[1]);
      expect(await repo.get(racing.instanceId)).toEqual(answers[0]);
    });

    it('lists every registration and forgets a removed one; removing twice is fine', async () => {
      const a = registration();
      const b = registration({ healthPath: undefined });
      delete b.healthPath;
      await repo.register(a);
      await repo.register(b);
      const listed = await repo.list();
      expect(listed).toEqual(expect.arrayContaining([a, b]));

      await repo.remove(a.instanceId);
      await repo.remove(a.instanceId);
      expect(await repo.get(a.instanceId)).toBeNull();
      const after = await repo.list();
      expect(after.map((r) => r.instanceId)).not.toContain(a.instanceId);
      expect(after).toContainEqual(b);
    });
  });
}
