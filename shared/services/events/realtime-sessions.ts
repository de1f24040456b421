import { createHash, randomBytes } from 'node:crypto';
import { DomainError, NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.ts';
import type { Instance } from '../../domain/instance.ts';
import {
  clientChannel,
  CONNECTION_TTL_SECONDS,
  parseChannel,
  TICKET_TTL_SECONDS,
  type Channel,
  type RealtimeConnection,
} from '../../domain/realtime.ts';
import { isPlatformAdmin, type Principal } from '../../domain/roles.ts';
import { builtOnFirstUse } from '../../domain/built-on-first-use.ts';
import { loadZod, z } from '../../domain/zod.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ClientRepository } from '../../ports/client-repository.ts';
import type { RealtimeRepository } from '../../ports/realtime-repository.ts';

export interface RealtimeSessionsDeps {
  realtime: RealtimeRepository;
  /** Reads an instance exactly as GET /api/instances/{id} does: another client's is a NotFoundError. */
  readInstance: (principal: Principal, id: string) => Promise<Instance>;
  clients: Pick<ClientRepository, 'get'>;
  clock: Clock;
  /** The URL sockets open (the stage's WebSocket API on AWS); without it, the caller's gateway's `/ws`. */
  webSocketUrl?: string;
  /** @default TICKET_TTL_SECONDS */
  ticketTtlSeconds?: number;
}

/** How many channels one socket may listen on. */
export const MAX_SUBSCRIPTIONS = 100;

const clientMessage = builtOnFirstUse(() =>
  z.union([
    z.object({ action: z.literal('subscribe'), channel: z.string() }),
    z.object({ action: z.literal('unsubscribe'), channel: z.string() }),
    z.object({ action: z.literal('ping') }),
  ]),
);

export type ServerMessage =
  | { type: 'subscribed' | 'unsubscribed'; channel: string }
  | { type: 'pong' }
  | { type: 'error'; code: 'NOT_FOUND' | 'FORBIDDEN' | 'BAD_REQUEST'; error: string; channel?: string };

export const hashTicket = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * The WebSocket's sessions: tickets (POST /api/realtime/tickets), the handshake that spends one,
 * and the messages a socket sends. A ticket is the only credential a socket carries (API keys
 * never travel in URLs): it names the key that asked for it, and the connection acts as that key.
 */
export function makeRealtimeSessions(deps: RealtimeSessionsDeps) {
  /** A 60-second, single-use ticket; only its hash is stored. */
  async function issueTicket(principal: Principal, gatewayUrl: string) {
    const value = `hwt_${randomBytes(32).toString('base64url')}`;
    const issuedAt = deps.clock.now();
    const expiresAt = new Date(issuedAt.getTime() + (deps.ticketTtlSeconds ?? TICKET_TTL_SECONDS) * 1000).toISOString();
    await deps.realtime.saveTicket({
      ticketHash: hashTicket(value),
      keyId: principal.keyId,
      role: principal.role,
      clientId: principal.clientId,
      issuedAt: issuedAt.toISOString(),
      expiresAt,
    });
    const url = new URL(deps.webSocketUrl ?? gatewayUrl);
    url.searchParams.set('ticket', value);
    return { value, expiresAt, url: url.toString() };
  }

  /** The handshake: a missing, used or expired ticket is refused; a client's socket hears its client at once. */
  async function connect(connectionId: string, ticketValue: string | undefined): Promise<RealtimeConnection> {
    if (!ticketValue) throw new UnauthorizedError('Missing ticket: get one from POST /api/realtime/tickets');
    const now = deps.clock.now();
    const ticket = await deps.realtime.consumeTicket(hashTicket(ticketValue), now);
    if (!ticket) throw new UnauthorizedError('Invalid ticket: it was used already, has expired, or was never issued');
    const expiresAt = new Date(now.getTime() + CONNECTION_TTL_SECONDS * 1000).toISOString();
    const connection: RealtimeConnection = {
      connectionId,
      keyId: ticket.keyId,
      role: ticket.role,
      clientId: ticket.clientId,
      connectedAt: now.toISOString(),
      expiresAt,
    };
    await deps.realtime.saveConnection(connection);
    // The platform admin belongs to no client: it hears nothing until it subscribes.
    if (connection.clientId) {
      await deps.realtime.subscribe({ connectionId, channel: clientChannel(connection.clientId), clientId: connection.clientId, expiresAt });
    }
    return connection;
  }

  async function disconnect(connectionId: string): Promise<void> {
    await deps.realtime.deleteConnection(connectionId);
  }

  /** One message from a socket, answered with one message. */
  async function receive(connectionId: string, raw: string | undefined): Promise<ServerMessage> {
    let channel: string | undefined;
    try {
      const message = await parseMessage(raw);
      if (message.action === 'ping') return { type: 'pong' };
      channel = message.channel;
      const connection = await deps.realtime.getConnection(connectionId, deps.clock.now());
      if (!connection) throw new UnauthorizedError('This connection has expired: open a new one with a fresh ticket');
      const parsed = parseChannel(message.channel);
      if (!parsed) throw new ValidationError(`Unknown channel '${message.channel}': use client.<id> or instance.<id>`);
      const name = message.channel as Channel;
      if (message.action === 'unsubscribe') {
        await deps.realtime.unsubscribe(connectionId, name);
        return { type: 'unsubscribed', channel: name };
      }
      await authorize(connection, parsed);
      const existing = await deps.realtime.subscriptionsOf(connectionId, deps.clock.now());
      if (existing.length >= MAX_SUBSCRIPTIONS && !existing.some((s) => s.channel === name)) {
        throw new ValidationError(`A socket listens on at most ${MAX_SUBSCRIPTIONS} channels; unsubscribe from one first`);
      }
      await deps.realtime.subscribe({ connectionId, channel: name, clientId: connection.clientId, expiresAt: connection.expiresAt });
      return { type: 'subscribed', channel: name };
    } catch (error) {
      return errorMessage(error, channel);
    }
  }

  /** Exactly the HTTP API's rule: another client's instance or channel does not exist for this key. */
  async function authorize(connection: RealtimeConnection, channel: NonNullable<ReturnType<typeof parseChannel>>): Promise<void> {
    const principal: Principal = { keyId: connection.keyId, role: connection.role, clientId: connection.clientId };
    if (channel.kind === 'instance') {
      await deps.readInstance(principal, channel.id);
      return;
    }
    if (isPlatformAdmin(principal)) {
      if (!(await deps.clients.get(channel.id))) throw new NotFoundError('Client', channel.id);
      return;
    }
    if (channel.id !== principal.clientId) throw new NotFoundError('Client', channel.id);
  }

  return { issueTicket, connect, disconnect, receive };
}

export type RealtimeSessions = ReturnType<typeof makeRealtimeSessions>;

async function parseMessage(raw: string | undefined) {
  let json: unknown;
  try {
    json = JSON.parse(raw ?? '');
  } catch {
    throw new ValidationError('Messages are JSON: {"action":"subscribe"|"unsubscribe","channel":"…"} or {"action":"ping"}');
  }
  await loadZod();
  const parsed = clientMessage.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError('Unknown message: send {"action":"subscribe"|"unsubscribe","channel":"…"} or {"action":"ping"}');
  }
  return parsed.data;
}

/** NOT_FOUND and FORBIDDEN as over HTTP; everything else the socket sent wrong is BAD_REQUEST. */
function errorMessage(error: unknown, channel: string | undefined): ServerMessage {
  const code = error instanceof NotFoundError ? 'NOT_FOUND' : error instanceof ValidationError ? 'BAD_REQUEST' : error instanceof DomainError ? 'FORBIDDEN' : undefined;
  if (!code) throw error;
  return { type: 'error', code, error: (error as Error).message, ...(channel ? { channel } : {}) };
}
