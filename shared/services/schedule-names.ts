import { createHash } from 'node:crypto';

export const SCHEDULE_NAME_MAX_LENGTH = 64;
const DEADLINE_PREFIX = 'terminate-';
const HASH_LENGTH = 16;

/**
 * The name of an instance's auto-terminate schedule: `terminate-<instanceId>`. Instance ids are
 * at most 64 characters, so one longer than 54 would overflow the 64-character limit: it is then
 * cut to fit and ended with 16 hex characters of the full id's SHA-256 (`terminate-<first 37>-<hash>`),
 * which keeps the name deterministic (replace and cancel find it again) and distinct for ids that
 * share their first 37 characters. The full id travels in the schedule's payload, not its name.
 */
export function deadlineScheduleName(instanceId: string): string {
  const plain = `${DEADLINE_PREFIX}${instanceId}`;
  if (plain.length <= SCHEDULE_NAME_MAX_LENGTH) return plain;
  const hash = createHash('sha256').update(instanceId).digest('hex').slice(0, HASH_LENGTH);
  const keep = SCHEDULE_NAME_MAX_LENGTH - DEADLINE_PREFIX.length - 1 - HASH_LENGTH;
  return `${DEADLINE_PREFIX}${instanceId.slice(0, keep)}-${hash}`;
}
