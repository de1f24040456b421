import type { z } from '../domain/zod.ts';
import {
  auditQuerySchema,
  catalogQuerySchema,
  clientScopeQuerySchema,
  createAccountSchema,
  createApiKeySchema,
  createClientSchema,
  createInstanceSchema,
  extendSchema,
  listAccountsQuerySchema,
  listInstancesQuerySchema,
  listSyncJobsQuerySchema,
  pageQuerySchema,
  rebootSchema,
  revenueQuerySchema,
  startTaskSchema,
  statsQuerySchema,
  syncRequestSchema,
  updateClientSchema,
  updateInstanceSchema,
} from '../domain/schemas.ts';
import { createWebhookSchema, listWebhooksQuerySchema, updateWebhookSchema, webhookScopeQuerySchema } from '../domain/webhook-schemas.ts';

/**
 * The route table: the single source for the CDK HTTP API, the local gateway, request
 * validation and /api/openapi.json. Each route belongs to an API area; each area is one Lambda
 * function (`functions/api/<area>.ts`). A route's request schemas sit on it: the HTTP stack
 * validates with them before the handler runs, and the API description is built from them.
 */
export const API_AREAS = ['public', 'clients', 'instances', 'accounts', 'webhooks', 'realtime'] as const;
export type ApiArea = (typeof API_AREAS)[number];

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteDefinition {
  method: HttpMethod;
  /** API Gateway path syntax: `/api/instances/{id}`. */
  path: string;
  area: ApiArea;
  operationId: string;
  summary: string;
  /** false only for routes anyone may call (liveness, the API description). */
  auth: boolean;
  /** Creates or acts: honours the Idempotency-Key header. */
  idempotent?: boolean;
  /** The JSON body's schema; a missing body is validated as `{}`. */
  body?: z.ZodType;
  /** What the body describes, for messages: "Invalid instance: config.provider: …". */
  what?: string;
  /** A missing or empty body (`{}`) is refused with this message instead of validated as `{}`. */
  bodyRequired?: string;
  /** The query string's schema. */
  query?: z.ZodType;
  /** Names one stored item: GET and PATCH answer its ETag (its version); PATCH and DELETE honour If-Match (412). */
  versioned?: boolean;
}

type RouteOptions = Partial<Pick<RouteDefinition, 'auth' | 'idempotent' | 'body' | 'what' | 'bodyRequired' | 'query' | 'versioned'>>;

const route = (
  method: HttpMethod,
  path: string,
  area: ApiArea,
  operationId: string,
  summary: string,
  options: RouteOptions = {},
): RouteDefinition => ({ method, path, area, operationId, summary, ...options, auth: options.auth ?? true });

export const ROUTES: readonly RouteDefinition[] = [
  route('GET', '/api/health', 'public', 'getHealth', 'Liveness', { auth: false }),
  route('HEAD', '/api/health', 'public', 'headHealth', 'Liveness, for probes that send HEAD', { auth: false }),
  route('GET', '/api/openapi.json', 'public', 'getOpenApi', 'This API described in OpenAPI 3.1', { auth: false }),

  route('GET', '/api/me', 'clients', 'getCaller', 'Who the API key speaks for: its role and client (the console asks this at sign-in)'),
  route('POST', '/api/clients', 'clients', 'createClient', 'Create a client (platform admin)', { idempotent: true, body: createClientSchema, what: 'client' }),
  route('GET', '/api/clients', 'clients', 'listClients', 'List clients (platform admin)', { query: pageQuerySchema }),
  route('GET', '/api/clients/{id}', 'clients', 'getClient', 'Get a client', { versioned: true }),
  route('PATCH', '/api/clients/{id}', 'clients', 'updateClient', 'Update a client (platform admin)', { body: updateClientSchema, what: 'update', versioned: true }),
  route('DELETE', '/api/clients/{id}', 'clients', 'deleteClient', 'Delete a client with no live instances (platform admin)', { versioned: true }),
  route('POST', '/api/clients/{id}/api-keys', 'clients', 'createApiKey', 'Issue an API key; the secret is shown once', { idempotent: true, body: createApiKeySchema, what: 'API key' }),
  route('GET', '/api/clients/{id}/api-keys', 'clients', 'listApiKeys', "List a client's API keys (no secrets)"),
  route('DELETE', '/api/clients/{id}/api-keys/{keyId}', 'clients', 'revokeApiKey', 'Revoke an API key'),
  route('GET', '/api/clients/{id}/revenue', 'clients', 'getClientRevenue', 'Revenue over [from, to), exact to the micro, grouped by provider, instanceType, instance or day (client admin: its own)', { query: revenueQuerySchema }),
  route('GET', '/api/clients/{id}/budget', 'clients', 'getClientBudget', "The month's spend, forecast and crossed thresholds against the client's budget"),
  route('GET', '/api/audit', 'clients', 'listBusinessActions', 'Business actions, newest first (client admin: its own; platform admin: all or ?clientId=)', { query: auditQuerySchema }),

  route('POST', '/api/instances', 'instances', 'createInstance', 'Provision an instance', {
    idempotent: true,
    body: createInstanceSchema,
    what: 'instance',
    // Every field has a default, but an empty create is a mistake, not a request for a LOCAL vps.
    bodyRequired: 'Send a JSON body with config.provider, e.g. {"name": "web", "config": {"provider": "LOCAL"}}; GET /api/openapi.json describes every field',
  }),
  route('POST', '/api/instances/estimate', 'instances', 'estimateInstance', 'What a create body would cost, checked as a create is, without creating anything', { body: createInstanceSchema, what: 'instance' }),
  route('GET', '/api/instances', 'instances', 'listInstances', 'List instances with filters and cursor pages', { query: listInstancesQuerySchema }),
  route('GET', '/api/instances/stats', 'instances', 'getInstanceStats', 'Statistics for a client or user', { query: statsQuerySchema }),
  route('GET', '/api/instances/{id}', 'instances', 'getInstance', 'Get one instance with live cost', { versioned: true }),
  route('PATCH', '/api/instances/{id}', 'instances', 'updateInstance', 'Rename, or change tags and labels as a JSON merge patch ({"tags": {"a": "1", "b": null}} sets a, removes b)', { body: updateInstanceSchema, what: 'update', versioned: true }),
  route('DELETE', '/api/instances/{id}', 'instances', 'terminateInstance', 'Terminate an instance', { idempotent: true, versioned: true }),
  route('POST', '/api/instances/{id}/start', 'instances', 'startInstance', 'Start a stopped instance', { idempotent: true }),
  route('POST', '/api/instances/{id}/stop', 'instances', 'stopInstance', 'Stop an instance', { idempotent: true }),
  route('POST', '/api/instances/{id}/kill', 'instances', 'killInstance', 'Force-stop an instance', { idempotent: true }),
  route('POST', '/api/instances/{id}/reboot', 'instances', 'rebootInstance', 'Reboot an instance (body: {"hard": true} to power-cycle)', { idempotent: true, body: rebootSchema, what: 'reboot' }),
  route('POST', '/api/instances/{id}/restart', 'instances', 'restartInstance', 'Alias of reboot', { idempotent: true, body: rebootSchema, what: 'reboot' }),
  route('POST', '/api/instances/{id}/extend', 'instances', 'extendInstance', 'Move the auto-terminate deadline later', { idempotent: true, body: extendSchema, what: 'extend' }),
  route('POST', '/api/instances/{id}/task', 'instances', 'startTask', 'Start a task: READY → RUNNING', { idempotent: true, body: startTaskSchema, what: 'task' }),
  route('DELETE', '/api/instances/{id}/task', 'instances', 'finishTask', 'Finish the task: RUNNING → READY', { idempotent: true }),
  route('POST', '/api/instances/{id}/health-check', 'instances', 'checkInstanceHealth', 'Probe the instance now and record the result', { idempotent: true }),
  route('GET', '/api/instances/{id}/health', 'instances', 'listInstanceHealth', "The instance's health checks, newest first", { query: pageQuerySchema }),
  route('GET', '/api/instances/{id}/events', 'instances', 'listInstanceEvents', "An instance's event log", { query: pageQuerySchema }),
  route('GET', '/api/instances/{id}/metrics', 'instances', 'listInstanceMetrics', 'Recent cpu and memory samples', { query: pageQuerySchema }),

  route('POST', '/api/accounts', 'accounts', 'createAccount', 'Register a provider account: credentials are tested, then stored encrypted', { idempotent: true, body: createAccountSchema, what: 'account' }),
  route('GET', '/api/accounts', 'accounts', 'listAccounts', "List a client's provider accounts (never their credentials)", { query: listAccountsQuerySchema }),
  route('GET', '/api/accounts/{id}', 'accounts', 'getAccount', 'Get a provider account (never its credentials)', { query: clientScopeQuerySchema, versioned: true }),
  route('DELETE', '/api/accounts/{id}', 'accounts', 'deleteAccount', 'Delete a provider account that no live instance uses', { query: clientScopeQuerySchema, versioned: true }),
  route('GET', '/api/catalog/{kind}', 'accounts', 'listCatalog', 'The synced catalog (or ?source=live): flavors, images, networks, subnets, security-groups, key-pairs', { query: catalogQuerySchema }),
  route('POST', '/api/sync', 'accounts', 'requestSync', 'Sync catalogs and reconcile statuses now; answers 202 with the queued jobs', { idempotent: true, body: syncRequestSchema, what: 'sync' }),
  route('GET', '/api/sync-jobs', 'accounts', 'listSyncJobs', 'Sync jobs, newest first', { query: listSyncJobsQuerySchema }),
  route('GET', '/api/sync-jobs/{id}', 'accounts', 'getSyncJob', 'One sync job with its counts, findings and errors'),
  route('POST', '/api/accounts/{id}/test', 'accounts', 'testAccount', "Test an account's connection now and record the result", { idempotent: true, query: clientScopeQuerySchema }),

  route('POST', '/api/webhooks', 'webhooks', 'createWebhook', 'Register a webhook endpoint (client admin); its whsec_ secret is shown once', { idempotent: true, body: createWebhookSchema, what: 'webhook' }),
  route('GET', '/api/webhooks', 'webhooks', 'listWebhooks', "A client's webhook endpoints (never their secrets)", { query: listWebhooksQuerySchema }),
  route('GET', '/api/webhooks/{id}', 'webhooks', 'getWebhook', 'One webhook endpoint', { query: webhookScopeQuerySchema, versioned: true }),
  route('PATCH', '/api/webhooks/{id}', 'webhooks', 'updateWebhook', 'Change url, events, description or status; {"rotateSecret": true} answers a new secret once', { body: updateWebhookSchema, what: 'webhook update', query: webhookScopeQuerySchema, versioned: true }),
  route('DELETE', '/api/webhooks/{id}', 'webhooks', 'deleteWebhook', 'Delete a webhook endpoint', { query: webhookScopeQuerySchema, versioned: true }),
  route('POST', '/api/webhooks/{id}/test', 'webhooks', 'testWebhook', 'Send a webhook.test event now; answers 202 with the delivery', { idempotent: true, query: webhookScopeQuerySchema }),
  route('GET', '/api/webhooks/{id}/deliveries', 'webhooks', 'listWebhookDeliveries', "An endpoint's deliveries, newest first, each with its attempts", { query: listWebhooksQuerySchema }),

  route('POST', '/api/realtime/tickets', 'realtime', 'createRealtimeTicket', 'A 60-second, single-use ticket to open the WebSocket (any role): {ticket: {value, expiresAt, url}}'),
];

export const routeKey = (r: Pick<RouteDefinition, 'method' | 'path'>) => `${r.method} ${r.path}`;
export const routesOf = (area: ApiArea) => ROUTES.filter((r) => r.area === area);
