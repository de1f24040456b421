import { ForbiddenError, UnauthorizedError } from '../domain/errors.ts';
import type { Principal } from '../domain/roles.ts';
import type { ClientRepository } from '../ports/client-repository.ts';
import { PLATFORM_CLIENT_ID } from '../domain/roles.ts';
import { hashApiKey } from '../services/api-keys.ts';

// Key generation and hashing are the clients use case's; re-exported for the scripts that seed keys.
export { generateApiKey, hashApiKey } from '../services/api-keys.ts';

/** A key's answer: who it is, or why it is refused (no such key; its client is gone). */
type KeyAnswer = { principal: Principal } | { refused: 'unknown-key' | 'client-gone' };

/**
 * Resolves bearer keys to principals, remembering answers briefly so each request is not a read.
 * A client's key is only answered while its client exists, so a request authenticated here may
 * take its client's existence as given (it was read at most `ttlMs` ago, with the key).
 */
export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { answer: KeyAnswer; until: number }>();

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
    const answer = cached && cached.until > this.now() ? cached.answer : await this.lookup(hash);
    if ('principal' in answer) return answer.principal;
    if (answer.refused === 'client-gone') throw new ForbiddenError('The client this key belongs to no longer exists');
    throw new UnauthorizedError('Invalid API key');
  }

  /** Forget a key at once (revocation in this process). */
  forget(keyHash: string): void {
    this.cache.delete(keyHash);
  }

  private async lookup(hash: string): Promise<KeyAnswer> {
    const answer = await this.answerFor(hash);
    this.cache.set(hash, { answer, until: this.now() + this.ttlMs });
    return answer;
  }

  private async answerFor(hash: string): Promise<KeyAnswer> {
    const record = await this.clients.findApiKey(hash);
    if (!record) return { refused: 'unknown-key' };
    if (record.clientId === PLATFORM_CLIENT_ID) return { principal: { keyId: record.keyId, role: record.role, clientId: null } };
    if (!(await this.clients.get(record.clientId))) return { refused: 'client-gone' };
    return { principal: { keyId: record.keyId, role: record.role, clientId: record.clientId } };
  }
}
