import type { Command } from 'commander';
import { type Context, withContext } from '../context.ts';
import { type Column, money, present, printJson, printKeyValues, printTable, tagList, text, timestamp } from '../format.ts';
import type { CliIO } from '../io.ts';
import { wholeNumber } from '../options.ts';
import type { EventsPage, InstanceEventView, InstanceResponse, InstanceView } from '../types.ts';
import { collectPages, moreHint } from './pages.ts';

/** `instance status <id>` and `instance events <id>`. */
export function registerInstanceCommands(instance: Command, io: CliIO): void {
  instance
    .command('status')
    .summary('Show one instance')
    .description('Show one instance: status, health, address, port, pid, cost, errors')
    .argument('<id>', 'instance id, e.g. vps-web-server-abc123')
    .action(withContext(io, showStatus));

  instance
    .command('events')
    .summary("Show an instance's event log")
    .description("Show an instance's event log (who changed what, from which state to which)")
    .argument('<id>', 'instance id')
    .option('--limit <n>', 'events per page', wholeNumber('--limit', 1))
    .option('--cursor <cursor>', 'start from this page cursor')
    .option('--all', 'follow nextCursor until every event is read')
    .action(withContext(io, showEvents));
}

async function showStatus(ctx: Context, _options: unknown, id: string): Promise<void> {
  const payload = await ctx.client.get<InstanceResponse>(`/api/instances/${encodeURIComponent(id)}`);
  if (ctx.json) return printJson(ctx.stdout, payload);
  printKeyValues(ctx.stdout, instanceDetails(payload.instance));
}

/** The `key: value` lines that describe one instance; absent (null) optional fields are left out. */
export function instanceDetails(i: InstanceView): Array<readonly [string, string | undefined]> {
  const r = i.resources ?? {};
  const resources = [
    r.cpu != null ? `${r.cpu} cpu` : undefined,
    r.memory != null ? `${r.memory} GiB` : undefined,
    r.disk != null ? `${r.disk} GB disk` : undefined,
  ].filter(Boolean);
  const health = i.health
    ? [i.health.status, i.health.checkedAt ? `(checked ${timestamp(i.health.checkedAt)})` : '', i.health.error ?? '']
        .filter(Boolean)
        .join(' ')
    : '-';
  const when = (v: string | null | undefined) => (v ? timestamp(v) : undefined);
  const cost = (v: number | null | undefined) => (v != null ? money(v) : undefined);
  return [
    ['id', i.id],
    ['name', present(i.name)],
    ['type', present(i.type)],
    ['status', i.status],
    ['error', present(i.errorMessage)],
    ['health', health],
    ['provider', present(i.provider)],
    ['instanceType', present(i.instanceType)],
    ['region', present(i.region)],
    ['resources', resources.length ? resources.join(', ') : undefined],
    ['publicIp', present(i.publicIp)],
    ['privateIp', present(i.privateIp)],
    ['port', present(i.port)],
    ['pid', present(i.providerDetails?.pid)],
    ['providerInstanceId', present(i.providerInstanceId)],
    ['clientId', present(i.clientId)],
    ['taskId', present(i.taskId)],
    ['purpose', present(i.purpose)],
    ['tags', tagList(i.tags)],
    ['costPerHour', cost(i.costPerHour)],
    ['totalCost', cost(i.totalCost)],
    ['autoTerminateAt', when(i.autoTerminateAt)],
    ['createdAt', when(i.createdAt)],
    ['updatedAt', when(i.updatedAt)],
    ['terminatedAt', when(i.terminatedAt)],
  ];
}

interface EventsOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

const EVENT_COLUMNS: readonly Column<InstanceEventView>[] = [
  { header: 'AT', value: (e) => timestamp(e.at) },
  { header: 'TYPE', value: (e) => e.type },
  {
    header: 'CHANGE',
    value: (e) => (e.fromStatus || e.toStatus ? `${e.fromStatus ?? '∅'} → ${e.toStatus ?? e.fromStatus}` : '-'),
  },
  { header: 'ACTOR', value: (e) => text(e.actor) },
  { header: 'MESSAGE', value: (e) => text(e.message) },
];

async function showEvents(ctx: Context, options: EventsOptions, id: string): Promise<void> {
  const path = `/api/instances/${encodeURIComponent(id)}/events`;
  const pages = await collectPages<EventsPage>(
    (cursor) => ctx.client.get<EventsPage>(path, { limit: options.limit, cursor }),
    { all: options.all === true, cursor: options.cursor },
  );
  const events = pages.flatMap((p) => p.events ?? []);
  const nextCursor = pages.at(-1)?.nextCursor ?? null;
  if (ctx.json) {
    return printJson(ctx.stdout, pages.length === 1 ? pages[0] : { success: true, events, nextCursor });
  }
  if (events.length === 0) {
    ctx.stdout.write(`No events for ${id}.\n`);
  } else {
    printTable(ctx.stdout, EVENT_COLUMNS, events);
  }
  if (nextCursor) moreHint(ctx.stdout, `hangar instance events ${id}`, nextCursor);
}
