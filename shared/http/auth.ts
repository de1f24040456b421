import { UnauthorizedError } from '../domain/errors.ts';
import type { Principal } from '../domain/roles.ts';
import type { ClientRepository } from '../ports/client-repository.ts';
import { PLATFORM_CLIENT_ID } from '../domain/roles.ts';
import { hashApiKey } from '../services/api-keys.ts';

// Key generation and hashing are the clients use case's; re-exported for the scripts that seed keys.
export { generateApiKey, hashApiKey } from '../services/api-keys.ts';

/** Resolves bearer keys to principals, remembering answers briefly so each request is not a read. */
export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly clients: ClientRepository,
    private readonly ttlMs = 30_000,
    private readonly now = () => Date.now(),
  ) {}

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new UnauthorizedError('Missing API key: send "Authorization: Bearer <key>"');
    const hash = hashApiKey(match[1]!);
    const cached = this.cache.get(hash);
    const principal = cached && cached.until > this.now() ? cached.principal : await this.lookup(hash);
    if (!principal) throw new UnauthorizedError('Invalid API key');
    return principal;
  }

  /** Forget a key at once (revocation in this process). */
  forget(keyHash: string): void {
    this.cache.delete(keyHash);
  }

  private async lookup(hash: string): Promise<Principal | null> {
    const record = await this.clients.findApiKey(hash);
    const principal: Principal | null = record
      ? { keyId: record.keyId, role: record.role, clientId: record.clientId === PLATFORM_CLIENT_ID ? null : record.clientId }
      : null;
    this.cache.set(hash, { principal, until: this.now() + this.ttlMs });
    return principal;
  }
}
