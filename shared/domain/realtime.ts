import type { Role } from './roles.ts';

/**
 * The WebSocket contract's pure parts: channel names, how long tickets and connections live,
 * and which channels an event is published on.
 */

/** A ticket opens one socket, once, within this many seconds of being issued. */
export const TICKET_TTL_SECONDS = 60;
/** API Gateway closes a WebSocket after two hours; connections and subscriptions are kept as long. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60;

export type Channel = `client.${string}` | `instance.${string}`;

export interface ParsedChannel {
  kind: 'client' | 'instance';
  id: string;
}

const CHANNEL = /^(client|instance)\.([A-Za-z0-9][A-Za-z0-9._:-]{0,127})$/;

/** `client.<id>` or `instance.<id>`; anything else is null. */
export function parseChannel(channel: string): ParsedChannel | null {
  const match = CHANNEL.exec(channel);
  return match ? { kind: match[1] as ParsedChannel['kind'], id: match[2]! } : null;
}

export const clientChannel = (clientId: string): Channel => `client.${clientId}`;
export const instanceChannel = (instanceId: string): Channel => `instance.${instanceId}`;

/** Every channel an event is published on: its client's and its instance's. */
export const channelsOf = (event: { clientId: string; instanceId: string }): Channel[] => [clientChannel(event.clientId), instanceChannel(event.instanceId)];

/** A ticket as stored: never its value, only the hash. */
export interface RealtimeTicket {
  ticketHash: string;
  keyId: string;
  role: Role;
  /** null for the platform admin. */
  clientId: string | null;
  issuedAt: string;
  expiresAt: string;
}

/** An open socket and whose it is (what the ticket that opened it said). */
export interface RealtimeConnection {
  connectionId: string;
  keyId: string;
  role: Role;
  clientId: string | null;
  connectedAt: string;
  expiresAt: string;
}

export interface RealtimeSubscription {
  connectionId: string;
  channel: Channel;
  /** The connection's client (null: the platform admin), checked again on every delivery. */
  clientId: string | null;
  expiresAt: string;
}

/** Whether a connection may hear an event of `eventClientId`: its own client's, or any for the platform admin. */
export const mayHear = (connectionClientId: string | null, eventClientId: string) => connectionClientId === null || connectionClientId === eventClientId;
