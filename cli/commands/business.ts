import type { Command } from 'commander';
import { type Context, withContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { duration, money, printJson, printKeyValues, printTable, text, timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { wholeNumber } from '../options.ts';
import { addCreateOptions, createInstanceBody, type CreateInstanceOptions } from './create-instance.ts';
import { collectPages, moreHint } from './pages.ts';

/**
 * The business commands: revenue, the audit log, the estimate, budgets and a cost report. The
 * API answers money exactly (to the micro); these round it for people, as `money()` does.
 */

type Json = Record<string, unknown>;
const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value ?? 0));
const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

export function registerBusiness(program: Command, io: CliIO): void {
  program
    .command('revenue')
    .summary("A client's revenue over a period")
    .description('Revenue of a client over [--from, --to), exact on the server, grouped by provider, instanceType, instance or day')
    .argument('<client>', 'client id (or name, as the platform admin)')
    .requiredOption('--from <date>', 'start, ISO 8601 (e.g. 2026-03-01 or 2026-03-01T00:00:00Z)')
    .requiredOption('--to <date>', 'end (excluded), ISO 8601')
    .option('--group-by <g>', 'provider | instanceType | instance | day')
    .action(withContext(io, revenue));

  program
    .command('audit')
    .summary('Business actions, newest first')
    .description("The business-action log: your client's, or (platform admin) every client's or --client's")
    .option('--client <client>', 'one client (platform admin), by id or name')
    .option('--action <action>', "an action or its prefix, e.g. instance.create or instance")
    .option('--actor <keyId>', 'only what this key did')
    .option('--from <date>', 'from this instant (ISO 8601)')
    .option('--to <date>', 'before this instant (ISO 8601)')
    .option('--limit <n>', 'page size', wholeNumber('--limit', 1))
    .option('--cursor <cursor>', 'start from this page cursor')
    .option('--all', 'follow nextCursor until every page is read')
    .action(withContext(io, audit));

  addCreateOptions(
    program
      .command('estimate')
      .summary('What an instance would cost, before creating it')
      .description('The cost of a create (same options as `create instance`), checked as a create is, without creating anything')
      .argument('[name]', 'a name (optional: the server takes one from --purpose, --task or the type)')
      .argument('[type]', 'what you call it (vps, gpu, database…)'),
  ).action(withContext(io, estimate));

  program
    .command('budget')
    .summary("A client's budget: spend, forecast, thresholds")
    .description("Show a client's month: spend, forecast, crossed thresholds; --set changes the budget or quotas (platform admin)")
    .argument('<client>', 'client id (or name, as the platform admin)')
    .option(
      '--set <key=value>',
      'limit=500 | thresholds=50,80,100 | action=notify|block|stop | quotas.instances=10 | quotas.vcpus=64 | quotas.gpus=4 | quotas.costPerHour=20 (repeatable)',
      collectSetting,
      [],
    )
    .action(withContext(io, budget));

  program
    .command('cost-report')
    .summary('Per instance: duration, price, compute, storage, total')
    .description('What every instance cost, terminated ones included: duration, hourly price, compute, storage and total')
    .option('--client <client>', 'a client (platform admin)')
    .action(withContext(io, costReport));
}

async function revenue(ctx: Context, o: { from: string; to: string; groupBy?: string }, client: string): Promise<void> {
  const payload = await ctx.client.get<{ revenue: Json }>(`/api/clients/${path(client)}/revenue`, { from: o.from, to: o.to, groupBy: o.groupBy });
  if (ctx.json) return printJson(ctx.stdout, payload);
  const r = payload.revenue;
  printKeyValues(ctx.stdout, [
    ['client', text(r.clientId)],
    ['period', `${timestamp(r.from)} → ${timestamp(r.to)}`],
    ['compute', money(r.compute)],
    ['storage', money(r.storage)],
    ['total', money(r.total)],
  ]);
  const groups = (r.groups as Json[] | undefined) ?? [];
  if (groups.length) {
    writeLine(ctx.stdout, '');
    printTable(
      ctx.stdout,
      [
        { header: String(o.groupBy ?? 'group').toUpperCase(), value: (g: Json) => text(g.key) },
        { header: 'HOURS', value: (g: Json) => num(g.hours).toFixed(2), align: 'right' },
        { header: 'TOTAL', value: (g: Json) => money(g.total), align: 'right' },
      ],
      groups,
    );
  }
}

async function audit(ctx: Context, o: { client?: string; action?: string; actor?: string; from?: string; to?: string; limit?: number; cursor?: string; all?: boolean }): Promise<void> {
  const query = { clientId: o.client, action: o.action, actor: o.actor, from: o.from, to: o.to, limit: o.limit };
  type ActionsPage = { actions?: Json[]; nextCursor?: string | null };
  const pages = await collectPages<ActionsPage>((cursor) => ctx.client.get<ActionsPage>('/api/audit', { ...query, cursor }), { all: o.all === true, cursor: o.cursor });
  const actions = pages.flatMap((p) => p.actions ?? []);
  const nextCursor = pages.at(-1)?.nextCursor ?? null;
  if (ctx.json) return printJson(ctx.stdout, pages.length === 1 ? pages[0] : { success: true, actions, count: actions.length, nextCursor });
  if (actions.length === 0) writeLine(ctx.stdout, 'No business actions.');
  else
    printTable(
      ctx.stdout,
      [
        { header: 'AT', value: (a: Json) => timestamp(a.at) },
        { header: 'ACTOR', value: (a: Json) => `${text(a.actor)}${(a.details as Json | undefined)?.onBehalfOf ? ' (for client)' : ''}` },
        { header: 'CLIENT', value: (a: Json) => text(a.clientId) },
        { header: 'ACTION', value: (a: Json) => text(a.action) },
        { header: 'TARGET', value: (a: Json) => text(a.target) },
      ],
      actions,
    );
  if (nextCursor) moreHint(ctx.stdout, 'hangar audit', nextCursor);
}

async function estimate(ctx: Context, o: Omit<CreateInstanceOptions, 'wait' | 'timeout'>, name?: string, type?: string): Promise<void> {
  const body = createInstanceBody(name as string, type, o);
  if (!name) delete body.name;
  const payload = await ctx.client.post<{ estimate: Json }>('/api/instances/estimate', body, { idempotent: false });
  if (ctx.json) return printJson(ctx.stdout, payload);
  const e = payload.estimate;
  const b = (e.budget as Json | undefined) ?? {};
  printKeyValues(ctx.stdout, [
    ['instanceType', text(e.instanceType)],
    ['costPerHour', money(e.costPerHour)],
    ['storageCostPerHour', money(e.storageCostPerHour)],
    ['untilAutoTerminate', e.untilAutoTerminate === null ? undefined : `${money(e.untilAutoTerminate)} (${text(e.autoTerminateMinutes)} min)`],
    ['perDay', money(e.perDay)],
    ['perMonth', money(e.perMonth)],
    ['billingCycle', text(e.billingCycle)],
    ['budget', b.monthlyLimit === null || b.monthlyLimit === undefined ? 'none' : `${money(b.spent)} spent of ${money(b.monthlyLimit)}; forecast ${money(b.forecastAfter)}`],
    ['allowed', b.allowed === false ? 'no: the budget would refuse this create' : 'yes'],
  ]);
}

const SETTINGS = ['limit', 'thresholds', 'action', 'quotas.instances', 'quotas.vcpus', 'quotas.gpus', 'quotas.costPerHour'];

function collectSetting(value: string, previous: [string, string][] = []): [string, string][] {
  const at = value.indexOf('=');
  const key = at < 0 ? value : value.slice(0, at);
  if (at < 0 || !SETTINGS.includes(key)) throw new CliError(`--set takes key=value with key one of ${SETTINGS.join(', ')}; got '${value}'`);
  return [...previous, [key, value.slice(at + 1)]];
}

async function budget(ctx: Context, o: { set: [string, string][] }, client: string): Promise<void> {
  const read = () => ctx.client.get<{ budget: Json }>(`/api/clients/${path(client)}/budget`);
  let payload = await read();
  if (o.set.length) {
    const current = payload.budget;
    const budgetChange: Json = {};
    const quotas: Json = {};
    for (const [key, value] of o.set) {
      if (key === 'limit') budgetChange.monthlyLimit = value;
      else if (key === 'thresholds') budgetChange.thresholds = value.split(',').map((t) => Number(t.trim()));
      else if (key === 'action') budgetChange.action = value;
      else if (key === 'quotas.costPerHour') quotas.costPerHour = value;
      else quotas[key.slice('quotas.'.length)] = Number(value);
    }
    const patch: Json = {};
    if (Object.keys(budgetChange).length) {
      // A budget is replaced whole: keep what --set does not name.
      const limit = budgetChange.monthlyLimit ?? (current.monthlyLimit === null ? undefined : String(current.monthlyLimit));
      if (limit === undefined) throw new CliError('This client has no budget yet: give --set limit=<amount> too');
      patch.budget = { thresholds: current.thresholds, ...(current.action ? { action: current.action } : {}), ...budgetChange, monthlyLimit: limit };
      if (!(patch.budget as Json).thresholds || ((patch.budget as Json).thresholds as unknown[]).length === 0) delete (patch.budget as Json).thresholds;
    }
    if (Object.keys(quotas).length) patch.quotas = quotas;
    await ctx.client.request('PATCH', `/api/clients/${path(String(current.clientId))}`, { body: patch });
    payload = await read();
  }
  if (ctx.json) return printJson(ctx.stdout, payload);
  const b = payload.budget;
  printKeyValues(ctx.stdout, [
    ['client', text(b.clientId)],
    ['month', text(b.month)],
    ['monthlyLimit', b.monthlyLimit === null ? 'none' : money(b.monthlyLimit)],
    ['spent', money(b.spent)],
    ['forecast', money(b.forecast)],
    ['thresholds', ((b.thresholds as number[]) ?? []).map((t) => `${t}%`).join(', ') || '-'],
    ['crossed', ((b.crossed as number[]) ?? []).map((t) => `${t}%`).join(', ') || 'none'],
    ['action', text(b.action)],
  ]);
}

async function costReport(ctx: Context, o: { client?: string }): Promise<void> {
  type InstancesPage = { instances?: Json[]; nextCursor?: string | null };
  const pages = await collectPages<InstancesPage>((cursor) => ctx.client.get<InstancesPage>('/api/instances', { clientId: o.client, limit: 100, cursor }), { all: true });
  const instances = pages.flatMap((p) => p.instances ?? []);
  const now = ctx.now().getTime();
  const lifeMs = (i: Json) => (i.terminatedAt ? Date.parse(String(i.terminatedAt)) : now) - Date.parse(String(i.createdAt));
  if (ctx.json) return printJson(ctx.stdout, { success: true, instances: instances.map((i) => ({ id: i.id, name: i.name, status: i.status, durationMs: lifeMs(i), costPerHour: i.costPerHour, computeCost: i.computeCost, storageCost: i.storageCost, totalCost: i.totalCost })) });
  if (instances.length === 0) return writeLine(ctx.stdout, 'No instances.');
  const total = instances.reduce((sum, i) => sum + Math.round(num(i.totalCostMicros ?? num(i.totalCost) * 1_000_000)), 0);
  printTable(
    ctx.stdout,
    [
      { header: 'ID', value: (i: Json) => text(i.id) },
      { header: 'STATUS', value: (i: Json) => text(i.status) },
      { header: 'DURATION', value: (i: Json) => duration(lifeMs(i)), align: 'right' },
      { header: 'PRICE/H', value: (i: Json) => money(i.costPerHour), align: 'right' },
      { header: 'COMPUTE', value: (i: Json) => money(i.computeCost), align: 'right' },
      { header: 'STORAGE', value: (i: Json) => money(i.storageCost), align: 'right' },
      { header: 'TOTAL', value: (i: Json) => money(i.totalCost), align: 'right' },
    ],
    instances,
  );
  writeLine(ctx.stdout, '');
  writeLine(ctx.stdout, `${instances.length} instance(s), total ${money(total / 1_000_000)}`);
}
