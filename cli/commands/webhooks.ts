import { type Command, Option } from 'commander';
import { type Context, withContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { type Column, present, printJson, printKeyValues, printTable, text, timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { positiveNumber, wholeNumber } from '../options.ts';
import { collectPages, moreHint } from './pages.ts';

/**
 * `webhooks create|list|delete|test|deliveries`: a client's signed webhook endpoints
 * (POST/GET/DELETE /api/webhooks, POST …/test, GET …/deliveries). The secret is printed once, at
 * create; receivers verify deliveries with any Standard Webhooks library.
 */

interface WebhookView {
  id: string;
  url: string;
  events: string[];
  status: string;
  disabledReason: string | null;
  description: string | null;
  secret?: string;
  createdAt: string;
}

interface DeliveryView {
  id: string;
  type: string;
  status: string;
  attempts: { attempt: number; at: string; status: number | null; durationMs: number; error: string | null }[];
  nextAttemptAt: string | null;
  note: string | null;
  createdAt: string;
}

interface ScopeOptions {
  client?: string;
}

interface CreateOptions extends ScopeOptions {
  events: string[];
  description?: string;
}

interface PageOptions extends ScopeOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

interface TestOptions extends ScopeOptions {
  wait?: boolean;
  timeout: number;
}

const clientOption = () => new Option('--client <clientId>', 'the client the endpoint belongs to (platform admin only)');
const scope = (o: ScopeOptions) => (o.client ? { clientId: o.client } : undefined);
const scopedPath = (path: string, o: ScopeOptions) => (o.client ? `${path}?clientId=${encodeURIComponent(o.client)}` : path);
const commaList = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function registerWebhooks(program: Command, io: CliIO): void {
  const webhooks = program.command('webhooks').description('Signed webhook endpoints: where Hangar POSTs its events');

  webhooks
    .command('create')
    .summary('Register an endpoint; prints its whsec_ secret once')
    .description('Register an endpoint for events such as instance.ready, instance.terminated, or instance.* (all instance events). See docs/events.md.')
    .argument('<url>', 'where to POST (https; a deployed Hangar refuses private addresses)')
    .option('--events <types>', 'comma-separated types or prefixes (default instance.*)', commaList)
    .option('--description <text>', 'what the endpoint is for')
    .addOption(clientOption())
    .action(withContext(io, createWebhook));

  webhooks
    .command('list')
    .summary("List a client's endpoints")
    .option('--limit <n>', 'page size', positiveNumber('--limit'))
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--all', 'follow every page')
    .addOption(clientOption())
    .action(withContext(io, listWebhooks));

  webhooks.command('delete').summary('Delete an endpoint').argument('<id>', 'the webhook id').addOption(clientOption()).action(withContext(io, deleteWebhook));

  webhooks
    .command('test')
    .summary('Send a webhook.test event (also to a disabled endpoint)')
    .argument('<id>', 'the webhook id')
    .option('--no-wait', 'answer once the test is queued, without waiting for the first attempt')
    .option('--timeout <seconds>', 'how long to wait for the first attempt', wholeNumber('--timeout', 1), 30)
    .addOption(clientOption())
    .action(withContext(io, testWebhook));

  webhooks
    .command('deliveries')
    .summary("An endpoint's deliveries, newest first, with every attempt")
    .argument('<id>', 'the webhook id')
    .option('--limit <n>', 'page size', positiveNumber('--limit'))
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--all', 'follow every page')
    .addOption(clientOption())
    .action(withContext(io, listDeliveries));
}

async function createWebhook(ctx: Context, o: CreateOptions, url: string): Promise<void> {
  const body: Record<string, unknown> = { url, events: o.events?.length ? o.events : ['instance.*'], ...scope(o) };
  if (o.description) body.description = o.description;
  const created = await ctx.client.post<{ webhook: WebhookView }>('/api/webhooks', body);
  if (ctx.json) return printJson(ctx.stdout, created);
  const { webhook } = created;
  printKeyValues(ctx.stdout, [
    ['id', webhook.id],
    ['url', webhook.url],
    ['events', webhook.events.join(', ')],
    ['status', webhook.status],
    ['secret', webhook.secret],
  ]);
  writeLine(ctx.stdout, 'Keep the secret now: it is not shown again (rotate it with PATCH /api/webhooks/{id} {"rotateSecret": true}).');
}

const WEBHOOK_COLUMNS: Column<WebhookView>[] = [
  { header: 'ID', value: (w) => w.id },
  { header: 'STATUS', value: (w) => (w.disabledReason ? `${w.status} (${w.disabledReason})` : w.status) },
  { header: 'EVENTS', value: (w) => w.events.join(',') },
  { header: 'URL', value: (w) => w.url },
  { header: 'DESCRIPTION', value: (w) => text(w.description) },
];

async function listWebhooks(ctx: Context, o: PageOptions): Promise<void> {
  const pages = await collectPages(
    (cursor) => ctx.client.get<{ webhooks: WebhookView[]; nextCursor: string | null }>('/api/webhooks', { limit: o.limit, cursor, clientId: o.client }),
    { all: o.all === true, cursor: o.cursor },
  );
  if (ctx.json) return printJson(ctx.stdout, o.all ? { webhooks: pages.flatMap((p) => p.webhooks), count: pages.reduce((n, p) => n + p.webhooks.length, 0), nextCursor: null } : pages[0]);
  const rows = pages.flatMap((p) => p.webhooks);
  if (rows.length === 0) return writeLine(ctx.stdout, 'No webhook endpoints. Add one with: hangar webhooks create <url> --events instance.*');
  printTable(ctx.stdout, WEBHOOK_COLUMNS, rows);
  const next = pages.at(-1)!.nextCursor;
  if (next) moreHint(ctx.stdout, 'hangar webhooks list', next);
}

async function deleteWebhook(ctx: Context, o: ScopeOptions, id: string): Promise<void> {
  const deleted = await ctx.client.delete<{ webhook: WebhookView }>(scopedPath(`/api/webhooks/${encodeURIComponent(id)}`, o));
  if (ctx.json) return printJson(ctx.stdout, deleted);
  writeLine(ctx.stdout, `Deleted webhook ${deleted.webhook.id} (${deleted.webhook.url})`);
}

async function testWebhook(ctx: Context, o: TestOptions, id: string): Promise<void> {
  const path = `/api/webhooks/${encodeURIComponent(id)}`;
  const queued = await ctx.client.post<{ delivery: DeliveryView }>(scopedPath(`${path}/test`, o), undefined);
  let delivery = queued.delivery;
  if (o.wait !== false) {
    const deadline = ctx.now().getTime() + o.timeout * 1000;
    while (delivery.attempts.length === 0) {
      if (ctx.now().getTime() > deadline) throw new CliError(`No attempt of test delivery ${delivery.id} within ${o.timeout} s; see: hangar webhooks deliveries ${id}`);
      await ctx.sleep(ctx.pollIntervalMs);
      const log = await ctx.client.get<{ deliveries: DeliveryView[] }>(`${path}/deliveries`, { limit: 20, clientId: o.client });
      delivery = log.deliveries.find((d) => d.id === delivery.id) ?? delivery;
    }
  }
  if (ctx.json) return printJson(ctx.stdout, { delivery });
  const last = delivery.attempts.at(-1);
  printKeyValues(ctx.stdout, [
    ['delivery', delivery.id],
    ['status', delivery.status],
    ['answer', last ? (last.status ? `HTTP ${last.status} in ${last.durationMs} ms` : `${last.error} after ${last.durationMs} ms`) : 'queued'],
    ['next attempt', present(delivery.nextAttemptAt ? timestamp(delivery.nextAttemptAt) : undefined)],
  ]);
}

const DELIVERY_COLUMNS: Column<DeliveryView & { attempt?: DeliveryView['attempts'][number] }>[] = [
  { header: 'DELIVERY', value: (d) => d.id },
  { header: 'TYPE', value: (d) => d.type },
  { header: 'STATUS', value: (d) => d.status },
  { header: 'ATTEMPT', value: (d) => (d.attempt ? String(d.attempt.attempt) : '-'), align: 'right' },
  { header: 'AT', value: (d) => (d.attempt ? timestamp(d.attempt.at) : '-') },
  { header: 'ANSWER', value: (d) => (d.attempt ? (d.attempt.status ? String(d.attempt.status) : 'none') : '-') },
  { header: 'MS', value: (d) => (d.attempt ? String(d.attempt.durationMs) : '-'), align: 'right' },
  { header: 'ERROR', value: (d) => text(d.attempt?.error ?? d.note) },
];

async function listDeliveries(ctx: Context, o: PageOptions, id: string): Promise<void> {
  const path = `/api/webhooks/${encodeURIComponent(id)}/deliveries`;
  const pages = await collectPages(
    (cursor) => ctx.client.get<{ deliveries: DeliveryView[]; nextCursor: string | null }>(path, { limit: o.limit, cursor, clientId: o.client }),
    { all: o.all === true, cursor: o.cursor },
  );
  if (ctx.json) return printJson(ctx.stdout, o.all ? { deliveries: pages.flatMap((p) => p.deliveries), count: pages.reduce((n, p) => n + p.deliveries.length, 0), nextCursor: null } : pages[0]);
  const deliveries = pages.flatMap((p) => p.deliveries);
  if (deliveries.length === 0) return writeLine(ctx.stdout, 'No deliveries yet. Send one with: hangar webhooks test ' + id);
  // One line per attempt: what the receiver answered each time, and how long it took.
  const rows = deliveries.flatMap((d) => (d.attempts.length ? d.attempts.map((attempt) => ({ ...d, attempt })) : [{ ...d }]));
  printTable(ctx.stdout, DELIVERY_COLUMNS, rows);
  const next = pages.at(-1)!.nextCursor;
  if (next) moreHint(ctx.stdout, `hangar webhooks deliveries ${id}`, next);
}
