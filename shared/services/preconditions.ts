import { PreconditionFailedError, VersionConflictError } from '../domain/errors.ts';

/**
 * A write the caller made conditional (HTTP If-Match): the versions it accepts the item to be
 * at. Absent, the write is unconditional; `*` arrives as absent too (the item must merely exist,
 * which loading it proves).
 */
export interface WriteConditions {
  ifMatch?: readonly number[];
}

/** Refuse (412) a conditional write to an item no longer at a version the caller named. */
export function requireVersion(kind: string, id: string, current: number, conditions: WriteConditions | undefined): void {
  const accepted = conditions?.ifMatch;
  if (accepted && !accepted.includes(current)) throw new PreconditionFailedError(kind, id, current);
}

/**
 * Read, check, change, write. An unconditional write that lost a race is done again on what
 * the winner wrote (a merge patch keeps both writers' keys); a conditional one is not retried:
 * the version it named is gone, so it is a 412.
 */
export async function writeWithRetry<T>(
  kind: string,
  id: string,
  conditions: WriteConditions | undefined,
  attempt: () => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      if (conditions?.ifMatch) throw new PreconditionFailedError(kind, id);
      if (tried >= attempts) throw error;
    }
  }
}
