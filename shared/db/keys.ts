/**
 * Key templates: the one place key strings are spelled. ElectroDB entities use the templates;
 * raw commands (statistics counters) use the builders.
 */
export const keys = {
  client: (clientId: string) => ({ pk: `CLIENT#${clientId}`, sk: 'META' }),
  clientName: (nameKey: string) => ({ pk: `CLIENTNAME#${nameKey}`, sk: 'META' }),
  apiKey: (keyHash: string) => ({ pk: `KEY#${keyHash}`, sk: 'META' }),
  clientStats: (clientId: string) => ({ pk: `CLIENT#${clientId}`, sk: 'STATS' }),
  userStats: (clientId: string, userId: string) => ({ pk: `CLIENT#${clientId}`, sk: `STATS#USER#${userId}` }),
};

/** Case- and space-insensitive form of a client name, so "Acme Inc" and "acme  inc" collide. */
export const clientNameKey = (name: string) => name.trim().toLowerCase().replace(/\s+/g, ' ');

/** The clientId stored on platform-admin keys, which belong to no client. */
export const PLATFORM_CLIENT_ID = 'PLATFORM';
