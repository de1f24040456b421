import type { Command } from 'commander';
import WebSocket from 'ws';
import { type Context, withContext } from '../context.ts';
import { ApiError, CliError } from '../errors.ts';
import { timestamp } from '../format.ts';
import { type CliIO, writeLine } from '../io.ts';
import { positiveNumber } from '../options.ts';
import type { InstanceResponse } from '../types.ts';

/** States after which nothing more will happen to an instance on its own. */
export const WATCH_FINAL = ['TERMINATED', 'ERROR'] as const;

interface WatchOptions {
  interval: number;
  client?: string;
  poll?: boolean;
}

interface Ticket {
  value: string;
  expiresAt: string;
  url: string;
}

/** An event as the WebSocket delivers it. */
interface EventMessage {
  type: 'event';
  channel: string;
  event: { id: string; type: string; instanceId: string; toStatus: string | null; message: string; at: string };
  instance: { status: string; errorMessage?: string | null } | null;
}

/** Reconnections in a row that may fail before watch falls back to polling. */
const MAX_RECONNECT_FAILURES = 5;

export function registerWatch(program: Command, io: CliIO): void {
  program
    .command('watch')
    .summary('Follow events as they happen (WebSocket), until TERMINATED or ERROR')
    .description(
      "Print each event of an instance as it happens, until TERMINATED or ERROR; without an id, every event of the key's client " +
        '(Ctrl-C to stop). Over the WebSocket, reconnecting with a fresh ticket when it drops; polls when the socket cannot open.',
    )
    .argument('[id]', 'instance id (default: every instance of your client)')
    .option('--client <id>', "platform admin: follow this client's events")
    .option('--interval <seconds>', 'poll period when polling', positiveNumber('--interval'), 1)
    .option('--poll', 'poll GET /api/instances/{id} instead of opening the WebSocket')
    .addHelpText('after', '\nWith an id, exits 0 when the instance is TERMINATED and 1 when it is in ERROR.')
    .action(withContext(io, watch));
}

async function watch(ctx: Context, options: WatchOptions, id?: string): Promise<void> {
  if (!options.poll) {
    const outcome = await watchLive(ctx, options, id);
    if (outcome === 'done') return;
    if (!id) throw new CliError('The WebSocket could not be opened, and only one instance can be followed by polling: name it');
    writeLine(ctx.stderr, `(the WebSocket is unavailable: polling every ${options.interval} s)`);
  }
  if (!id) throw new CliError('--poll follows one instance: name it');
  await poll(ctx, options, id);
}

/** What polling did before the WebSocket, and still does when it cannot open. */
async function poll(ctx: Context, options: WatchOptions, id: string): Promise<void> {
  const path = `/api/instances/${encodeURIComponent(id)}`;
  let last: string | undefined;
  for (;;) {
    const payload = await ctx.client.get<InstanceResponse>(path);
    const instance = payload.instance;
    if (instance.status !== last) {
      last = instance.status;
      printStatus(ctx, payload);
    }
    stopAtFinal(instance);
    if ((WATCH_FINAL as readonly string[]).includes(instance.status)) return;
    await ctx.sleep(options.interval * 1000);
  }
}

function printStatus(ctx: Context, payload: InstanceResponse): void {
  const instance = payload.instance;
  if (ctx.json) return writeLine(ctx.stdout, JSON.stringify(payload));
  const detail = instance.status === 'ERROR' && instance.errorMessage ? `  ${instance.errorMessage}` : '';
  writeLine(ctx.stdout, `${timestamp(ctx.now().toISOString())}  ${instance.id}  ${instance.status}${detail}`);
}

function stopAtFinal(instance: { id: string; status: string; errorMessage?: string | null }): void {
  if (instance.status === 'ERROR') throw new CliError(`Instance ${instance.id} is in ERROR${instance.errorMessage ? `: ${instance.errorMessage}` : ''}`);
}

/**
 * Over the WebSocket: a ticket, a socket, a subscription, events as they come. A dropped socket
 * is opened again with a fresh ticket (events are de-duplicated by id across reconnections); if
 * the very first socket cannot open, or reconnecting keeps failing, the caller polls instead.
 */
async function watchLive(ctx: Context, options: WatchOptions, id: string | undefined): Promise<'done' | 'unavailable'> {
  const seen = new Set<string>();
  let failures = 0;
  let connectedOnce = false;
  for (;;) {
    let ticket: Ticket;
    try {
      ticket = (await ctx.client.post<{ ticket: Ticket }>('/api/realtime/tickets', undefined, { idempotent: false })).ticket;
      if (!ticket?.url) throw new CliError('The server answered no ticket');
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) throw error;
      if (!connectedOnce || ++failures >= MAX_RECONNECT_FAILURES) return 'unavailable';
      await ctx.sleep(Math.min(30_000, 500 * 2 ** failures));
      continue;
    }
    const outcome = await session(ctx, ticket.url, options, id, seen, () => {
      connectedOnce = true;
      failures = 0;
    });
    if (outcome === 'done') return 'done';
    if (outcome === 'refused' && !connectedOnce) return 'unavailable';
    if (outcome === 'refused' && ++failures >= MAX_RECONNECT_FAILURES) return 'unavailable';
    if (!ctx.json) writeLine(ctx.stderr, '(connection lost: reconnecting)');
    await ctx.sleep(Math.min(30_000, 250 * 2 ** failures));
  }
}

/** One socket, until the instance is final ('done'), the socket drops ('closed') or cannot open ('refused'). */
function session(
  ctx: Context,
  url: string,
  options: WatchOptions,
  id: string | undefined,
  seen: Set<string>,
  onOpen: () => void,
): Promise<'done' | 'closed' | 'refused'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let opened = false;
    let settled = false;
    const finish = (outcome: 'done' | 'closed' | 'refused' | Error) => {
      if (settled) return;
      settled = true;
      clearInterval(keepAlive);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    // API Gateway closes a socket idle for 10 minutes.
    const keepAlive = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ action: 'ping' })), 5 * 60_000);
    keepAlive.unref();

    const channel = id ? `instance.${id}` : options.client ? `client.${options.client}` : undefined;
    ws.on('open', () => {
      if (!opened && !id && !ctx.json) {
        // A client's key hears its client at once; the platform admin's hears nothing unless it names one.
        writeLine(ctx.stderr, `(following ${options.client ? `client ${options.client}` : "your client's events (platform admin: --client <id>)"}; Ctrl-C to stop)`);
      }
      opened = true;
      onOpen();
      if (channel) ws.send(JSON.stringify({ action: 'subscribe', channel }));
    });
    ws.on('message', (data) => {
      let message: { type?: string; code?: string; error?: string; event?: EventMessage['event']; instance?: EventMessage['instance'] };
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (message.type === 'error') {
        const what = id ? `Instance ${id}` : `Client ${options.client}`;
        finish(new CliError(message.code === 'NOT_FOUND' ? `${what} not found` : `The WebSocket refused: ${message.error}`));
        return;
      }
      if (message.type === 'subscribed' && id) {
        // Anything that happened before the subscription: where the instance stands now.
        catchUp(ctx, id, seen).then((final) => final && finish('done'), (error) => finish(error as Error));
        return;
      }
      if (message.type !== 'event' || !message.event) return;
      const { event, instance } = message as EventMessage;
      if (id && event.instanceId !== id) return;
      if (seen.has(event.id)) return;
      seen.add(event.id);
      if (ctx.json) writeLine(ctx.stdout, JSON.stringify(message));
      else writeLine(ctx.stdout, `${timestamp(event.at)}  ${event.instanceId}  ${event.toStatus ?? event.type}  ${event.message}`);
      // The event's own status decides: the instance attached may already be further along (the
      // router reads it when it routes), and stopping on it would skip the final event itself.
      const status = event.toStatus;
      if (id && status && (WATCH_FINAL as readonly string[]).includes(status)) {
        try {
          stopAtFinal({ id, status, errorMessage: instance?.errorMessage });
          finish('done');
        } catch (error) {
          finish(error as Error);
        }
      }
    });
    ws.on('unexpected-response', () => finish('refused'));
    ws.on('error', () => finish(opened ? 'closed' : 'refused'));
    ws.on('close', () => finish(opened ? 'closed' : 'refused'));
  });
}

/** The instance's status when nothing has been printed yet for it; true when it is already final. */
async function catchUp(ctx: Context, id: string, seen: Set<string>): Promise<boolean> {
  const payload = await ctx.client.get<InstanceResponse>(`/api/instances/${encodeURIComponent(id)}`);
  if (seen.size === 0) printStatus(ctx, payload);
  stopAtFinal(payload.instance);
  return (WATCH_FINAL as readonly string[]).includes(payload.instance.status);
}
