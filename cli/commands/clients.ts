import { type Command, Option } from 'commander';
import { type Context, withContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { type Column, present, printJson, printKeyValues, printTable, text, timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { wholeNumber } from '../options.ts';
import type { ApiKeyResponse, ClientResponse, ClientView, ClientsResponse } from '../types.ts';

interface CreateClientOptions {
  contactEmail?: string;
  maxInstances?: number;
  maxAutoTerminate?: number;
  graceMinutes?: number;
  orphans?: string;
  ghosts?: string;
}

interface CreateKeyOptions {
  name: string;
  role?: string;
}

export function registerCreateClient(create: Command, io: CliIO): void {
  create
    .command('client')
    .summary('Create a client (platform admin)')
    .description('Create a client (tenant); platform admin only')
    .argument('<name>', 'client name')
    .option('--contact-email <email>', 'who to contact')
    .option('--max-instances <n>', 'quota of live instances', wholeNumber('--max-instances', 0))
    .option('--max-auto-terminate <minutes>', 'highest auto-terminate this client may ask for', wholeNumber('--max-auto-terminate', 1))
    .option('--grace-minutes <n>', 'reconciliation: how long an orphan or ghost must last before it is acted on (server default 30)', wholeNumber('--grace-minutes', 0))
    .addOption(new Option('--orphans <policy>', 'reconciliation: machines at the provider with no live record (server default report)').choices(['report', 'terminate']))
    .addOption(new Option('--ghosts <policy>', 'reconciliation: records whose machine is gone (server default mark-terminated)').choices(['report', 'mark-terminated']))
    .action(withContext(io, createClient));
}

export function registerListClients(list: Command, io: CliIO): void {
  list
    .command('clients')
    .summary('List clients (platform admin)')
    .alias('client')
    .description('List clients; platform admin only')
    .action(withContext(io, listClients));
}

export function registerCreateApiKey(create: Command, io: CliIO): void {
  create
    .command('api-key')
    .summary('Issue an API key for a client (secret shown once)')
    .description("Issue an API key for a client; the secret is shown only once")
    .argument('<client>', 'the client the key belongs to: its id, or its name (platform admin)')
    .requiredOption('--name <n>', 'what the key is for, e.g. ci-pipeline')
    .addOption(new Option('--role <role>', 'what it may do (the server defaults to viewer)').choices(['admin', 'operator', 'viewer']))
    .action(withContext(io, createApiKey));
}

async function createClient(ctx: Context, o: CreateClientOptions, name: string): Promise<void> {
  const body: Record<string, unknown> = { name };
  if (o.contactEmail !== undefined) body.contactEmail = o.contactEmail;
  if (o.maxInstances !== undefined) body.maxInstances = o.maxInstances;
  if (o.maxAutoTerminate !== undefined) body.maxAutoTerminateMinutes = o.maxAutoTerminate;
  const policy = reconcilePolicyBody(o);
  if (policy) body.reconcilePolicy = policy;
  const payload = await ctx.client.post<ClientResponse>('/api/clients', body);
  if (ctx.json) return printJson(ctx.stdout, payload);
  const c = payload.client;
  printKeyValues(ctx.stdout, [
    ['id', c.id],
    ['name', c.name],
    ['status', present(c.status)],
    ['contactEmail', present(c.contactEmail)],
    ['reconcilePolicy', describePolicy(c.reconcilePolicy)],
  ]);
  writeLine(ctx.stdout, `Issue it a key with: hangar create api-key ${c.id} --name <name> --role admin`);
}

/** Only the fields given: the server keeps its defaults for the others. */
function reconcilePolicyBody(o: Pick<CreateClientOptions, 'graceMinutes' | 'orphans' | 'ghosts'>) {
  const policy: Record<string, unknown> = {};
  if (o.graceMinutes !== undefined) policy.graceMinutes = o.graceMinutes;
  if (o.orphans !== undefined) policy.orphans = o.orphans;
  if (o.ghosts !== undefined) policy.ghosts = o.ghosts;
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/** `grace 30m, orphans report, ghosts mark-terminated`; undefined from a server that sends none. */
function describePolicy(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const p = value as { graceMinutes?: unknown; orphans?: unknown; ghosts?: unknown };
  return `grace ${text(p.graceMinutes)}m, orphans ${text(p.orphans)}, ghosts ${text(p.ghosts)}`;
}

const CLIENT_COLUMNS: readonly Column<ClientView>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'NAME', value: (c) => c.name },
  { header: 'STATUS', value: (c) => text(c.status) },
  { header: 'CONTACT', value: (c) => text(c.contactEmail) },
  { header: 'CREATED', value: (c) => timestamp(c.createdAt) },
];

async function listClients(ctx: Context): Promise<void> {
  const payload = await ctx.client.get<ClientsResponse>('/api/clients');
  if (ctx.json) return printJson(ctx.stdout, payload);
  const clients = payload.clients ?? [];
  if (clients.length === 0) return writeLine(ctx.stdout, 'No clients.');
  printTable(ctx.stdout, CLIENT_COLUMNS, clients);
}

async function createApiKey(ctx: Context, o: CreateKeyOptions, client: string): Promise<void> {
  const body: Record<string, unknown> = { name: o.name };
  if (o.role !== undefined) body.role = o.role;
  const issue = (clientId: string) => ctx.client.post<ApiKeyResponse>(`/api/clients/${encodeURIComponent(clientId)}/api-keys`, body);
  let clientId = client;
  let payload: ApiKeyResponse;
  try {
    payload = await issue(clientId);
  } catch (error) {
    // Not an id: perhaps the client's name, which the route does not take, so find its id.
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    const found = await clientIdByName(ctx, client);
    if (found === undefined) throw error;
    clientId = found;
    payload = await issue(clientId);
  }
  if (ctx.json) return printJson(ctx.stdout, payload);
  const k = payload.apiKey;
  writeLine(ctx.stdout, `API key ${k.id} (${k.name}, role ${k.role}) for client ${clientId}`);
  writeLine(ctx.stdout, '');
  writeLine(ctx.stdout, `    ${k.key ?? '(the server returned no secret)'}`);
  writeLine(ctx.stdout, '');
  writeLine(ctx.stdout, 'This key is shown only once: store it now. Hangar keeps only its hash.');
  writeLine(ctx.stdout, 'Use it with --api-key <key> or HANGAR_API_KEY=<key>.');
}

/**
 * The id of the client named `name` (case and surrounding spaces aside), from the client list,
 * which only the platform admin may read; undefined when there is none or the list is refused.
 */
async function clientIdByName(ctx: Context, name: string): Promise<string | undefined> {
  const wanted = name.trim().toLowerCase();
  let cursor: string | null | undefined;
  do {
    let page: ClientsResponse;
    try {
      page = await ctx.client.get<ClientsResponse>('/api/clients', cursor ? { cursor } : undefined);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 403 || error.status === 401)) return undefined;
      throw error;
    }
    const match = (page.clients ?? []).find((c) => c.name.trim().toLowerCase() === wanted);
    if (match) return match.id;
    cursor = page.nextCursor;
  } while (cursor);
  return undefined;
}
