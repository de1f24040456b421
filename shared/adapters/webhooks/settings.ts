import { DEFAULT_RETRY_SCHEDULE_MS } from '../../domain/webhooks.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A retry schedule written as durations, comma-separated: `0,5s,5m,30m,2h,5h,10h,10h` (the
 * default). The first entry is the delay of the first attempt (normally 0); there are as many
 * attempts as entries. Throws with the variable's name on anything else.
 */
export function parseRetrySchedule(text: string, name = 'HANGAR_WEBHOOK_RETRY_SCHEDULE'): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const schedule = parts.map((part) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(part);
    if (!match) throw new Error(`${name}: '${part}' is not a duration such as 500ms, 5s, 5m or 2h`);
    return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
  });
  if (schedule.length < 1 || schedule.length > 20) throw new Error(`${name}: give between 1 and 20 delays`);
  return schedule;
}

/** HANGAR_WEBHOOK_RETRY_SCHEDULE when set (development: watch retries in seconds), else the standard schedule. */
export function webhookRetryScheduleFromEnvironment(env: NodeJS.ProcessEnv = process.env): readonly number[] {
  const raw = env.HANGAR_WEBHOOK_RETRY_SCHEDULE;
  return raw ? parseRetrySchedule(raw) : DEFAULT_RETRY_SCHEDULE_MS;
}
