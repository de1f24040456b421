import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Context, withContext } from '../context.ts';
import { CliError } from '../errors.ts';
import {
  type Column,
  duration,
  present,
  printJson,
  printKeyValues,
  printTable,
  renderTable,
  text,
  timestamp,
} from '../format.ts';
import { type CliIO, type OutputStream, writeLine } from '../io.ts';
import { positiveNumber, wholeNumber } from '../options.ts';
import type { ReconcileFindingView, SyncJobResponse, SyncJobView, SyncJobsPage, SyncResponse } from '../types.ts';
import { lazySpinner, spinnerWanted } from '../wait.ts';
import { collectPages, moreHint } from './pages.ts';

/**
 * `sync` (POST /api/sync, optionally waiting for its jobs) and `sync-jobs` (GET /api/sync-jobs,
 * GET /api/sync-jobs/{id}). A sync is one job per target and resource type; the six catalog
 * kinds copy the provider's catalog into the table, `instances` reconciles recorded statuses
 * with the provider's machines (drift, orphans, ghosts).
 */

export const SYNC_TYPES = ['flavors', 'images', 'networks', 'subnets', 'securityGroups', 'keyPairs', 'instances'] as const;

/** The catalog's URL spellings are accepted too, so `--types security-groups` works like the catalog command. */
const TYPE_ALIASES: Record<string, string> = {
  'instance-types': 'flavors',
  'security-groups': 'securityGroups',
  'key-pairs': 'keyPairs',
};

/** Where a job stops changing. */
const JOB_DONE = ['SUCCEEDED', 'FAILED'];

interface SyncOptions {
  account?: string;
  local?: boolean;
  region?: string;
  types?: string[];
  wait?: boolean;
  timeout: number;
}

interface SyncJobsOptions {
  type?: string;
  client?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

export function syncType(value: string): string {
  const trimmed = value.trim();
  const type = TYPE_ALIASES[trimmed] ?? trimmed;
  if (!(SYNC_TYPES as readonly string[]).includes(type)) {
    throw new InvalidArgumentError(`'${trimmed}' is not a sync type; expected ${SYNC_TYPES.join(', ')}.`);
  }
  return type;
}

/** `--types a,b`: a comma-separated list, each checked, duplicates dropped. */
export function syncTypes(value: string): string[] {
  const types = value.split(',').filter((t) => t.trim() !== '').map(syncType);
  if (types.length === 0) throw new InvalidArgumentError('give at least one type.');
  return [...new Set(types)];
}

export function registerSync(program: Command, io: CliIO): void {
  program
    .command('sync')
    .summary('Sync catalogs and reconcile statuses now (--wait for the outcome)')
    .description(
      'Queue a catalog sync and status reconciliation for one account (--account), the LOCAL provider (--local), or every account you can see',
    )
    .option('--account <accountId>', 'sync this provider account')
    .addOption(new Option('--local', 'sync the LOCAL provider').conflicts('account'))
    .option('--region <r>', "with --account: a region other than the account's own")
    .option('--types <list>', `comma-separated, from ${SYNC_TYPES.join(', ')} (default: all)`, syncTypes)
    .option('--wait', 'wait until every job SUCCEEDED or FAILED, then show counts, findings and errors')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', positiveNumber('--timeout'), 300)
    .addHelpText('after', '\nWith --wait, exits 1 if any job FAILED.')
    .action(withContext(io, sync));
}

export function registerSyncJobs(program: Command, io: CliIO): void {
  program
    .command('sync-jobs')
    .summary('List sync jobs, or show one with its findings and errors')
    .description('List sync jobs, newest first; with an id, show that job in full: counts, findings and errors')
    .argument('[id]', 'a sync job id')
    .option('--type <t>', `only this type: ${SYNC_TYPES.join(', ')}`, syncType)
    .option('--client <clientId>', "only this client's (platform admin)")
    .option('--limit <n>', 'jobs per page', wholeNumber('--limit', 1))
    .option('--cursor <cursor>', 'start from this page cursor')
    .option('--all', 'follow nextCursor until every page is read')
    .action(withContext(io, syncJobs));
}

async function sync(ctx: Context, o: SyncOptions): Promise<void> {
  const body: Record<string, unknown> = {};
  if (o.account !== undefined) body.accountId = o.account;
  if (o.local) body.provider = 'LOCAL';
  if (o.region !== undefined) body.region = o.region;
  if (o.types !== undefined) body.types = o.types;
  const accepted = await ctx.client.post<SyncResponse>('/api/sync', body);
  const queued = accepted.jobs ?? [];

  if (!o.wait) {
    if (ctx.json) return printJson(ctx.stdout, accepted);
    writeLine(ctx.stdout, `Queued ${plural(queued.length, 'sync job')}:`);
    printTable(ctx.stdout, QUEUED_COLUMNS, queued);
    if (queued[0]) writeLine(ctx.stdout, `Follow them with: hangar sync-jobs ${queued[0].id}  (or run the sync with --wait)`);
    return;
  }

  if (!ctx.json) writeLine(ctx.stdout, `Queued ${plural(queued.length, 'sync job')}`);
  const jobs = await waitForJobs(ctx, queued, o.timeout * 1000);
  if (ctx.json) {
    printJson(ctx.stdout, { ...accepted, jobs, count: jobs.length });
  } else {
    printTable(ctx.stdout, JOB_COLUMNS, jobs);
    printJobNotes(ctx.stdout, jobs);
  }
  const failed = jobs.filter((j) => j.status === 'FAILED');
  if (failed.length > 0) {
    throw new CliError(
      `${failed.length} of ${plural(jobs.length, 'sync job')} FAILED: ${failed.map((j) => `${j.resourceType} on ${target(j)}`).join(', ')}`,
      [`Details: hangar sync-jobs ${failed[0]!.id}`],
    );
  }
}

/**
 * Poll GET /api/sync-jobs/{id} for every job not yet SUCCEEDED or FAILED until none is left,
 * reporting each status change. Returns the jobs in the order they were queued.
 */
async function waitForJobs(ctx: Context, queued: readonly SyncJobView[], timeoutMs: number): Promise<SyncJobView[]> {
  const started = ctx.now().getTime();
  const elapsed = () => ctx.now().getTime() - started;
  const latest = new Map(queued.map((j) => [j.id, j]));
  const progress = spinnerWanted(ctx.progress, ctx.io.env)
    ? spinnerProgress(ctx.progress, latest)
    : lineProgress(ctx.progress, ctx.now);
  const pending = () => [...latest.values()].filter((j) => !JOB_DONE.includes(j.status));

  for (;;) {
    for (const job of pending()) {
      let fresh: SyncJobView;
      try {
        fresh = (await ctx.client.get<SyncJobResponse>(`/api/sync-jobs/${encodeURIComponent(job.id)}`)).job;
      } catch (error) {
        progress.fail('Stopped waiting for the sync');
        throw error;
      }
      latest.set(job.id, fresh);
      if (fresh.status !== job.status) progress.change(fresh, elapsed());
    }
    progress.tick(elapsed());
    const left = pending();
    if (left.length === 0) {
      const failed = [...latest.values()].filter((j) => j.status === 'FAILED').length;
      const summary = `${plural(latest.size, 'sync job')} done in ${duration(elapsed())}${failed ? `, ${failed} FAILED` : ''}`;
      if (failed) progress.fail(summary);
      else progress.succeed(summary);
      return queued.map((j) => latest.get(j.id)!);
    }
    const remaining = timeoutMs - elapsed();
    if (remaining <= 0) {
      progress.fail(`${plural(left.length, 'sync job')} still going`);
      throw new CliError(
        `Timed out after ${duration(timeoutMs)} waiting for ${plural(left.length, 'sync job')}: ${left.map((j) => `${j.id} ${j.status}`).join(', ')}.`,
        [`They carry on without us: check them with \`hangar sync-jobs ${left[0]!.id}\`.`],
      );
    }
    await ctx.sleep(Math.min(ctx.pollIntervalMs, remaining));
  }
}

interface Progress {
  change(job: SyncJobView, elapsedMs: number): void;
  tick(elapsedMs: number): void;
  succeed(text: string): void;
  fail(text: string): void;
}

function lineProgress(stream: OutputStream, now: () => Date): Progress {
  return {
    change(job) {
      writeLine(stream, `${timestamp(now().toISOString())}  ${job.id}  ${job.resourceType}  ${job.status}`);
    },
    tick() {},
    succeed() {},
    fail() {},
  };
}

function spinnerProgress(stream: OutputStream, jobs: ReadonlyMap<string, SyncJobView>): Progress {
  const spinner = lazySpinner(stream, 'Syncing', (elapsedMs) => {
    const all = [...jobs.values()];
    const count = (status: string) => all.filter((j) => j.status === status).length;
    const done = all.filter((j) => JOB_DONE.includes(j.status)).length;
    return `Syncing: ${done}/${all.length} done, ${count('RUNNING')} running, ${count('QUEUED')} queued (${duration(elapsedMs)})`;
  });
  return { change: (_job, elapsedMs) => spinner.show(elapsedMs), tick: spinner.tick, succeed: spinner.succeed, fail: spinner.fail };
}

async function syncJobs(ctx: Context, o: SyncJobsOptions, id: string | undefined): Promise<void> {
  if (id !== undefined) return showJob(ctx, id);
  const query = { type: o.type, clientId: o.client, limit: o.limit };
  const pages = await collectPages<SyncJobsPage>(
    (cursor) => ctx.client.get<SyncJobsPage>('/api/sync-jobs', { ...query, cursor }),
    { all: o.all === true, cursor: o.cursor },
  );
  const jobs = pages.flatMap((p) => p.jobs ?? []);
  const nextCursor = pages.at(-1)?.nextCursor ?? null;
  if (ctx.json) {
    return printJson(ctx.stdout, pages.length === 1 ? pages[0] : { success: true, jobs, count: jobs.length, nextCursor });
  }
  if (jobs.length === 0) writeLine(ctx.stdout, 'No sync jobs.');
  else printTable(ctx.stdout, LIST_COLUMNS, jobs);
  if (nextCursor) moreHint(ctx.stdout, 'hangar sync-jobs', nextCursor);
}

async function showJob(ctx: Context, id: string): Promise<void> {
  const payload = await ctx.client.get<SyncJobResponse>(`/api/sync-jobs/${encodeURIComponent(id)}`);
  if (ctx.json) return printJson(ctx.stdout, payload);
  const job = payload.job;
  printKeyValues(ctx.stdout, jobDetails(job));
  printJobNotes(ctx.stdout, [job]);
}

/** The `key: value` lines of one job. Counts mean something only once it has finished. */
export function jobDetails(j: SyncJobView): Array<readonly [string, string | undefined]> {
  const finished = JOB_DONE.includes(j.status);
  const took =
    j.startedAt && j.completedAt ? duration(Date.parse(j.completedAt) - Date.parse(j.startedAt)) : undefined;
  const when = (v: string | null | undefined) => (v ? timestamp(v) : undefined);
  return [
    ['id', j.id],
    ['type', j.resourceType],
    ['status', j.status],
    ['target', target(j)],
    ['clientId', present(j.clientId)],
    ['trigger', present(j.trigger)],
    ['requestedBy', present(j.requestedBy)],
    ['incremental', j.incremental == null ? undefined : j.incremental ? 'yes (changes since the last run)' : 'no (full listing)'],
    ['queuedAt', when(j.queuedAt)],
    ['startedAt', when(j.startedAt)],
    ['completedAt', when(j.completedAt)],
    ['took', took],
    ['created', finished ? text(j.created) : undefined],
    ['updated', finished ? text(j.updated) : undefined],
    ['deleted', finished ? text(j.deleted) : undefined],
    ['unchanged', finished ? text(j.unchanged) : undefined],
  ];
}

/** Each job's findings as an indented table and its errors as lines, under a heading naming the job. */
export function printJobNotes(out: OutputStream, jobs: readonly SyncJobView[]): void {
  for (const job of jobs) {
    const findings = job.findings ?? [];
    const errors = job.errors ?? [];
    const about = `${job.id}, ${job.resourceType} on ${target(job)}`;
    if (findings.length > 0) {
      writeLine(out, '');
      writeLine(out, `Findings (${about}):`);
      for (const line of renderTable(FINDING_COLUMNS, findings)) writeLine(out, `  ${line}`);
    }
    if (errors.length > 0) {
      writeLine(out, '');
      writeLine(out, `Errors (${about}):`);
      for (const error of errors) writeLine(out, `  ${error.replace(/\s*\n\s*/g, ' ')}`);
    }
  }
}

/** `LOCAL (local)`, `OPENSTACK acc-123 (RegionOne)`. */
function target(j: SyncJobView): string {
  return `${j.provider ?? '?'}${j.accountId ? ` ${j.accountId}` : ''} (${j.region ?? '?'})`;
}

const count = (field: 'created' | 'updated' | 'deleted' | 'unchanged', header: string): Column<SyncJobView> => ({
  header,
  value: (j) => (JOB_DONE.includes(j.status) ? text(j[field]) : '-'),
  align: 'right',
});

const QUEUED_COLUMNS: readonly Column<SyncJobView>[] = [
  { header: 'ID', value: (j) => j.id },
  { header: 'TYPE', value: (j) => j.resourceType },
  { header: 'TARGET', value: target },
  { header: 'STATUS', value: (j) => j.status },
];

const JOB_COLUMNS: readonly Column<SyncJobView>[] = [
  ...QUEUED_COLUMNS,
  count('created', 'CREATED'),
  count('updated', 'UPDATED'),
  count('deleted', 'DELETED'),
  count('unchanged', 'UNCHANGED'),
  { header: 'FINDINGS', value: (j) => String(j.findings?.length ?? 0), align: 'right' },
  { header: 'ERRORS', value: (j) => String(j.errors?.length ?? 0), align: 'right' },
];

const LIST_COLUMNS: readonly Column<SyncJobView>[] = [
  ...JOB_COLUMNS,
  { header: 'TRIGGER', value: (j) => text(j.trigger) },
  { header: 'QUEUED', value: (j) => timestamp(j.queuedAt) },
];

const FINDING_COLUMNS: readonly Column<ReconcileFindingView>[] = [
  { header: 'KIND', value: (f) => f.kind },
  { header: 'OUTCOME', value: (f) => f.outcome },
  { header: 'INSTANCE', value: (f) => text(f.instanceId) },
  { header: 'PROVIDER ID', value: (f) => f.providerInstanceId },
  { header: 'MESSAGE', value: (f) => f.message },
];

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
