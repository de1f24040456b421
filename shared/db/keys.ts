/**
 * The one place key strings are spelled. Templates use ElectroDB's `${attribute}` syntax:
 * entities (./entities.ts) pass them as index templates, and raw commands fill them through
 * `keyOf`, so an entity's keys and a hand-built key cannot differ. A template on a secondary
 * index names it, for the entity and for the raw queries (./item-pages.ts) alike.
 */
export const KEY_TEMPLATES = {
  client: { pk: 'CLIENT#${clientId}', sk: 'META' },
  /** Every client, in name order (gsi2). */
  clientsByName: { pk: 'CLIENTS', sk: '${nameKey}#${clientId}' },
  /** The uniqueness marker: a client name is taken while this item exists. */
  clientName: { pk: 'CLIENTNAME#${nameKey}', sk: 'META' },
  apiKey: { pk: 'KEY#${keyHash}', sk: 'META' },
  apiKeysByClient: { pk: 'CLIENT#${clientId}#KEYS', sk: '${createdAt}#${keyId}' },
  instance: { pk: 'CLIENT#${clientId}', sk: 'INSTANCE#${id}' },
  instanceById: { index: 'gsi1', pk: 'INSTANCE#${id}', sk: 'INSTANCE' },
  instancesByClientStatus: { index: 'gsi2', pk: 'CLIENT#${clientId}#STATUS#${status}', sk: '${createdAt}#${id}' },
  instancesByStatus: { index: 'gsi3', pk: 'STATUS#${status}', sk: '${provider}#${createdAt}#${id}' },
  /** One item per tag of an instance, beside its events; indexed by key=value (gsi1) and by key (gsi2), in list order. */
  instanceTag: { pk: 'INSTANCE#${id}', sk: 'TAG#${tagKey}' },
  instancesByTag: { index: 'gsi1', pk: 'CLIENT#${clientId}#TAG#${tagKey}=${tagValue}', sk: '${id}' },
  instancesByTagKey: { index: 'gsi2', pk: 'CLIENT#${clientId}#TAGKEY#${tagKey}', sk: '${id}' },
  /** One item per instance naming what it was created as; indexed by type (gsi1), provider (gsi2) and user (gsi3), in list order. */
  instanceFacets: { pk: 'INSTANCE#${id}', sk: 'FACETS' },
  instancesByType: { index: 'gsi1', pk: 'CLIENT#${clientId}#TYPE#${type}', sk: '${id}' },
  instancesByProvider: { index: 'gsi2', pk: 'CLIENT#${clientId}#PROVIDER#${provider}', sk: '${id}' },
  instancesByUser: { index: 'gsi3', pk: 'CLIENT#${clientId}#USER#${userId}', sk: '${id}' },
  /**
   * One item per instance and background pass that will come due for it (the auto-terminate
   * deadline, idle stop), beside its events; indexed by due time (gsi3) in a few shards, so a
   * pass reads only what is due.
   */
  instanceDue: { pk: 'INSTANCE#${id}', sk: 'DUE#${kind}' },
  dueByTime: { index: 'gsi3', pk: 'DUE#${kind}#${shard}', sk: '${dueAt}#${clientId}#${id}' },
  instanceEvent: { pk: 'INSTANCE#${instanceId}', sk: 'EVENT#${eventId}' },
  eventsByClient: { pk: 'CLIENT#${clientId}#EVENTS', sk: '${eventId}' },
  healthCheck: { pk: 'INSTANCE#${instanceId}', sk: 'HEALTH#${checkedAt}' },
  metricSample: { pk: 'INSTANCE#${instanceId}', sk: 'METRIC#${sampledAt}' },
  clientStats: { pk: 'CLIENT#${clientId}', sk: 'STATS' },
  userStats: { pk: 'CLIENT#${clientId}', sk: 'STATS#USER#${userId}' },
  account: { pk: 'CLIENT#${clientId}', sk: 'ACCOUNT#${accountId}' },
  accountById: { pk: 'ACCOUNT#${accountId}', sk: 'ACCOUNT' },
  /** Every account of every client: what the periodic sync walks (gsi2). */
  allAccounts: { pk: 'ACCOUNTS', sk: '${provider}#${accountId}' },
  catalogItem: { pk: 'CATALOG#${provider}#${scope}#${region}', sk: '${kind}#${itemId}' },
  syncJob: { pk: 'SYNCJOB', sk: '${jobId}' },
  syncJobsByType: { pk: 'SYNCJOB#${resourceType}', sk: '${jobId}' },
  syncJobsByClient: { pk: 'CLIENT#${clientId}#SYNCJOBS', sk: '${jobId}' },
  syncState: { pk: 'SYNCSTATE#${targetKey}', sk: '${resourceType}' },
  /** A business action in its client's partition, newest last by id (a ULID: time-ordered). */
  businessAction: { pk: 'CLIENT#${clientId}', sk: 'ACTION#${actionId}' },
  /** Every client's business actions in time order (gsi1): the platform admin's audit log. */
  businessActions: { pk: 'ACTIONS', sk: '${actionId}' },
  /** A WebSocket ticket, by the hash of its value: single use, 60 s (ttl). */
  realtimeTicket: { pk: 'TICKET#${ticketHash}', sk: 'META' },
  realtimeConnection: { pk: 'CONN#${connectionId}', sk: 'META' },
  realtimeSubscription: { pk: 'CONN#${connectionId}', sk: 'SUB#${channel}' },
  /** Who listens on a channel: what the event router reads per event (gsi1). */
  subscribersByChannel: { pk: 'CHANNEL#${channel}', sk: '${connectionId}' },
  webhook: { pk: 'CLIENT#${clientId}', sk: 'WEBHOOK#${webhookId}' },
  webhookDelivery: { pk: 'CLIENT#${clientId}', sk: 'DELIVERY#${deliveryId}' },
  /** An endpoint's delivery log, in id (= time) order (gsi1). */
  deliveriesByWebhook: { pk: 'WEBHOOK#${webhookId}#DELIVERIES', sk: '${deliveryId}' },
  /** An endpoint registered as EXTERNAL; all in one partition, which listOwned queries. */
  externalRegistration: { pk: 'EXTERNAL', sk: 'REG#${instanceId}' },
} as const;

type Template = (typeof KEY_TEMPLATES)[keyof typeof KEY_TEMPLATES];

/** A template's text with its `${name}` parts filled; a missing part is a programming error. */
export function filled(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`Key part '${name}' is missing for ${text}`);
    return value;
  });
}

/** A template with its `${name}` parts filled; a missing part is a programming error. */
export function keyOf(template: Template, values: Record<string, string>): { pk: string; sk: string } {
  return { pk: filled(template.pk, values), sk: filled(template.sk, values) };
}

/**
 * The literal start of a template filled as far as `values` go: up to its first missing part.
 * What a query reads a partition by when it knows only the first parts of a sort key
 * (`INSTANCE#${id}` with no id: `INSTANCE#`), as ElectroDB's partial keys do.
 */
export function keyPrefixOf(text: string, values: Record<string, string>): string {
  let prefix = '';
  let from = 0;
  for (const part of text.matchAll(/\$\{(\w+)\}/g)) {
    prefix += text.slice(from, part.index);
    const value = values[part[1]!];
    if (value === undefined) return prefix;
    prefix += value;
    from = part.index + part[0].length;
  }
  return prefix + text.slice(from);
}

/** Keys the raw commands (statistics counters, tests of raw items) build. */
export const keys = {
  client: (clientId: string) => keyOf(KEY_TEMPLATES.client, { clientId }),
  clientName: (nameKey: string) => keyOf(KEY_TEMPLATES.clientName, { nameKey }),
  apiKey: (keyHash: string) => keyOf(KEY_TEMPLATES.apiKey, { keyHash }),
  clientStats: (clientId: string) => keyOf(KEY_TEMPLATES.clientStats, { clientId }),
  userStats: (clientId: string, userId: string) => keyOf(KEY_TEMPLATES.userStats, { clientId, userId }),
};

/**
 * Due entries spread over this many partitions of the index, so a burst of deadline changes never
 * lands on one partition; a pass queries each. Changing it means running the backfill.
 */
export const DUE_SHARDS = 4;

/** The shard of an instance's due entries: a stable hash of its id. */
export function dueShardOf(id: string): string {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return String(hash % DUE_SHARDS);
}
