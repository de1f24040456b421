import { describe, expect, it } from 'vitest';
import { MemoryClientRepository } from '../../../shared/adapters/memory/client-repository.ts';
import type { ApiKeyRecord, Client } from '../../../shared/domain/client.ts';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../../../shared/domain/errors.ts';
import { PLATFORM_CLIENT_ID } from '../../../shared/domain/roles.ts';
import { ApiKeyAuthenticator, hashApiKey } from '../../../shared/http/auth.ts';
import { readForClient } from '../../../shared/services/tenancy.ts';

const AT = '2026-01-01T00:00:00.000Z';
const client = (clientId: string): Client => ({
  clientId,
  name: clientId,
  nameKey: clientId,
  status: 'active',
  maxInstances: 10,
  maxAutoTerminateMinutes: 60,
  createdAt: AT,
  updatedAt: AT,
  version: 1,
});
const keyRecord = (key: string, clientId: string): ApiKeyRecord => ({
  keyHash: hashApiKey(key),
  keyId: `key-${key}`,
  clientId,
  name: key,
  role: 'admin',
  prefix: key.slice(0, 4),
  createdAt: AT,
  version: 1,
});

/** A client repository that counts the reads the authenticator and the tenancy make. */
function countingClients() {
  const repo = new MemoryClientRepository();
  const reads = { keys: 0, clients: 0 };
  const findApiKey = repo.findApiKey.bind(repo);
  const get = repo.get.bind(repo);
  repo.findApiKey = (hash) => (reads.keys++, findApiKey(hash));
  repo.get = (clientId) => (reads.clients++, get(clientId));
  return { repo, reads };
}

describe('ApiKeyAuthenticator', () => {
  it("answers a client's key with its principal, reading the key and its client once per cache period", async () => {
    const { repo, reads } = countingClients();
    await repo.create(client('acme'));
    await repo.putApiKey(keyRecord('secret-acme', 'acme'));
    let now = 0;
    const auth = new ApiKeyAuthenticator(repo, 30_000, () => now);

    expect(await auth.authenticate('Bearer secret-acme')).toEqual({ keyId: 'key-secret-acme', role: 'admin', clientId: 'acme' });
    expect(await auth.authenticate('bearer secret-acme')).toEqual({ keyId: 'key-secret-acme', role: 'admin', clientId: 'acme' });
    expect(reads).toEqual({ keys: 1, clients: 1 });

    now = 30_001;
    await auth.authenticate('Bearer secret-acme');
    expect(reads).toEqual({ keys: 2, clients: 2 });
  });

  it("refuses a key whose client no longer exists with 403, and an unknown or missing key with 401", async () => {
    const { repo } = countingClients();
    const acme = client('acme');
    await repo.create(acme);
    await repo.putApiKey(keyRecord('secret-acme', 'acme'));
    const auth = new ApiKeyAuthenticator(repo);
    await repo.delete(acme);

    await expect(auth.authenticate('Bearer secret-acme')).rejects.toThrow(ForbiddenError);
    await expect(auth.authenticate('Bearer secret-acme')).rejects.toThrow('The client this key belongs to no longer exists');
    await expect(auth.authenticate('Bearer nobody')).rejects.toThrow(UnauthorizedError);
    await expect(auth.authenticate(undefined)).rejects.toThrow('Missing API key');
  });

  it("answers the platform admin's key without reading any client", async () => {
    const { repo, reads } = countingClients();
    await repo.putApiKey(keyRecord('secret-platform', PLATFORM_CLIENT_ID));
    const auth = new ApiKeyAuthenticator(repo);
    expect(await auth.authenticate('Bearer secret-platform')).toEqual({ keyId: 'key-secret-platform', role: 'admin', clientId: null });
    expect(reads.clients).toBe(0);
  });

  it('forgets a revoked key at once', async () => {
    const { repo } = countingClients();
    await repo.create(client('acme'));
    const record = keyRecord('secret-acme', 'acme');
    await repo.putApiKey(record);
    const auth = new ApiKeyAuthenticator(repo);
    await auth.authenticate('Bearer secret-acme');
    await repo.deleteApiKey(record.keyHash);
    auth.forget(record.keyHash);
    await expect(auth.authenticate('Bearer secret-acme')).rejects.toThrow(UnauthorizedError);
  });
});

describe('readForClient', () => {
  it("runs a tenant's read for its own client without reading the client's record", async () => {
    const { repo, reads } = countingClients();
    const tenant = { keyId: 'k', role: 'admin' as const, clientId: 'acme' };
    expect(await readForClient({ clients: repo }, tenant, undefined, async (id) => `read ${id}`)).toEqual({ clientId: 'acme', result: 'read acme' });
    expect(await readForClient({ clients: repo }, tenant, 'acme', async (id) => `read ${id}`)).toEqual({ clientId: 'acme', result: 'read acme' });
    expect(reads.clients).toBe(0);
  });

  it("answers a tenant naming another client with 404, running nothing", async () => {
    const { repo } = countingClients();
    let ran = false;
    const tenant = { keyId: 'k', role: 'admin' as const, clientId: 'acme' };
    await expect(readForClient({ clients: repo }, tenant, 'other', async () => (ran = true))).rejects.toThrow(NotFoundError);
    expect(ran).toBe(false);
  });

  it('resolves the client the platform admin names, by id or by name, before reading', async () => {
    const { repo } = countingClients();
    await repo.create({ ...client('c-1'), name: 'Acme', nameKey: 'acme' });
    const admin = { keyId: 'p', role: 'platform-admin' as const, clientId: null };
    expect(await readForClient({ clients: repo }, admin, 'c-1', async (id) => id)).toEqual({ clientId: 'c-1', result: 'c-1' });
    expect(await readForClient({ clients: repo }, admin, 'Acme', async (id) => id)).toEqual({ clientId: 'c-1', result: 'c-1' });
    await expect(readForClient({ clients: repo }, admin, 'nobody', async (id) => id)).rejects.toThrow(NotFoundError);
    await expect(readForClient({ clients: repo }, admin, undefined, async (id) => id)).rejects.toThrow('clientId is required');
  });
});
