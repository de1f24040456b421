import type { Command } from 'commander';
import { type Context, withContext } from '../context.ts';
import { duration, money, printJson, printKeyValues } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import type { StatisticsResponse } from '../types.ts';

interface StatsOptions {
  client?: string;
  user?: string;
}

export function registerStats(program: Command, io: CliIO): void {
  program
    .command('stats')
    .summary('Instance statistics: counts, cost, averages')
    .description('Instance statistics for your client (or --client / --user): counts, cost, averages, breakdowns')
    .option('--client <clientId>', 'statistics of this client (platform admin)')
    .option('--user <userId>', 'statistics of this user')
    .action(withContext(io, stats));
}

async function stats(ctx: Context, o: StatsOptions): Promise<void> {
  const payload = await ctx.client.get<StatisticsResponse>('/api/instances/stats', {
    clientId: o.client,
    userId: o.user,
  });
  if (ctx.json) return printJson(ctx.stdout, payload);
  const statistics = payload.statistics ?? {};
  printKeyValues(ctx.stdout, statisticsPairs(statistics));
  for (const [key, value] of Object.entries(statistics)) {
    if (typeof value !== 'object' || value === null) continue;
    writeLine(ctx.stdout, `${key}:`);
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) writeLine(ctx.stdout, '  (none)');
    for (const [k, v] of entries) writeLine(ctx.stdout, `  ${k}: ${statValue(k, v)}`);
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, milliseconds: 1, s: 1000, seconds: 1000, minutes: 60_000 };

/**
 * The scalar statistics as `key: value` pairs. Exact `…Micros` twins of a decimal amount and
 * the `…Unit` companions of a duration are folded into the figure they describe.
 */
export function statisticsPairs(statistics: Record<string, unknown>): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  for (const [key, value] of Object.entries(statistics)) {
    if (typeof value === 'object' && value !== null) continue;
    if (key.endsWith('Micros') && key.slice(0, -'Micros'.length) in statistics) continue;
    if (key.endsWith('Unit') && key.slice(0, -'Unit'.length) in statistics) continue;
    const unit = statistics[`${key}Unit`];
    const scale = typeof unit === 'string' ? DURATION_UNITS[unit] : undefined;
    if (typeof value === 'number' && scale !== undefined) {
      pairs.push([key, duration(value * scale)]);
    } else {
      pairs.push([key, value === null ? '-' : statValue(key, value)]);
    }
  }
  return pairs;
}

/** Money shown as $, durations in ms as `1m 5s`, everything else as is. */
export function statValue(key: string, value: unknown): string {
  if (typeof value !== 'number') return String(value);
  if (/micros$/i.test(key)) return money(value / 1_000_000);
  if (/cost|revenue|price/i.test(key)) return money(value);
  if (/Ms$/.test(key)) return duration(value);
  if (/Seconds$/.test(key)) return duration(value * 1000);
  return String(value);
}
