import type { Command } from 'commander';
import { type Context, withContext } from '../context.ts';
import { type Column, money, printJson, printTable, text, timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { upper, wholeNumber } from '../options.ts';
import type { InstanceView, InstancesPage } from '../types.ts';
import { collectPages, moreHint } from './pages.ts';

interface ListOptions {
  status?: string;
  provider?: string;
  type?: string;
  client?: string;
  user?: string;
  tag?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

export const INSTANCE_COLUMNS: readonly Column<InstanceView>[] = [
  { header: 'ID', value: (i) => i.id },
  { header: 'NAME', value: (i) => text(i.name) },
  { header: 'STATUS', value: (i) => i.status },
  { header: 'PROVIDER', value: (i) => text(i.provider) },
  { header: 'TYPE', value: (i) => text(i.instanceType) },
  { header: 'COST/H', value: (i) => money(i.costPerHour), align: 'right' },
  { header: 'TOTAL', value: (i) => money(i.totalCost), align: 'right' },
  { header: 'CREATED', value: (i) => timestamp(i.createdAt) },
];

export function registerListInstances(list: Command, io: CliIO): void {
  list
    .command('instances')
    .summary('List instances (filters, --all pages)')
    .alias('instance')
    .description('List instances, newest first, with filters and cursor pages')
    .option('--status <status>', 'only this status, e.g. READY', upper)
    .option('--provider <name>', 'only this provider, e.g. LOCAL', upper)
    .option('--type <type>', 'only this kind: vps | gpu | cpu | worker | endpoint')
    .option('--client <clientId>', "only this client's (platform admin)")
    .option('--user <userId>', "only this user's")
    .option('--tag <key[=value]>', 'only instances with this tag')
    .option('--limit <n>', 'instances per page', wholeNumber('--limit', 1))
    .option('--cursor <cursor>', 'start from this page cursor')
    .option('--all', 'follow nextCursor until every page is read')
    .action(withContext(io, listInstances));
}

async function listInstances(ctx: Context, o: ListOptions): Promise<void> {
  const query = {
    status: o.status,
    provider: o.provider,
    type: o.type,
    clientId: o.client,
    userId: o.user,
    tag: o.tag,
    limit: o.limit,
  };
  const pages = await collectPages<InstancesPage>(
    (cursor) => ctx.client.get<InstancesPage>('/api/instances', { ...query, cursor }),
    { all: o.all === true, cursor: o.cursor },
  );
  const instances = pages.flatMap((p) => p.instances ?? []);
  const nextCursor = pages.at(-1)?.nextCursor ?? null;
  if (ctx.json) {
    return printJson(
      ctx.stdout,
      pages.length === 1 ? pages[0] : { success: true, instances, count: instances.length, nextCursor },
    );
  }
  if (instances.length === 0) {
    writeLine(ctx.stdout, 'No instances.');
  } else {
    printTable(ctx.stdout, INSTANCE_COLUMNS, instances);
  }
  if (nextCursor) moreHint(ctx.stdout, 'hangar list instances', nextCursor);
}
