/**
 * The route table: the single source for the CDK HTTP API and the local gateway. Each route
 * belongs to an API area; each area is one Lambda function (`functions/api/<area>.ts`).
 */
export const API_AREAS = ['public', 'clients', 'instances', 'accounts'] as const;
export type ApiArea = (typeof API_AREAS)[number];

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

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
}

const route = (
  method: HttpMethod,
  path: string,
  area: ApiArea,
  operationId: string,
  summary: string,
  options: { auth?: boolean; idempotent?: boolean } = {},
): RouteDefinition => ({ method, path, area, operationId, summary, auth: options.auth ?? true, idempotent: options.idempotent });

export const ROUTES: readonly RouteDefinition[] = [
  route('GET', '/api/health', 'public', 'getHealth', 'Liveness', { auth: false }),
  route('GET', '/api/openapi.json', 'public', 'getOpenApi', 'This API described in OpenAPI 3.1', { auth: false }),

  route('POST', '/api/clients', 'clients', 'createClient', 'Create a client (platform admin)', { idempotent: true }),
  route('GET', '/api/clients', 'clients', 'listClients', 'List clients (platform admin)'),
  route('GET', '/api/clients/{id}', 'clients', 'getClient', 'Get a client'),
  route('PATCH', '/api/clients/{id}', 'clients', 'updateClient', 'Update a client (platform admin)'),
  route('DELETE', '/api/clients/{id}', 'clients', 'deleteClient', 'Delete a client with no live instances (platform admin)'),
  route('POST', '/api/clients/{id}/api-keys', 'clients', 'createApiKey', 'Issue an API key; the secret is shown once', { idempotent: true }),
  route('GET', '/api/clients/{id}/api-keys', 'clients', 'listApiKeys', "List a client's API keys (no secrets)"),
  route('DELETE', '/api/clients/{id}/api-keys/{keyId}', 'clients', 'revokeApiKey', 'Revoke an API key'),

  route('POST', '/api/instances', 'instances', 'createInstance', 'Provision an instance', { idempotent: true }),
  route('GET', '/api/instances', 'instances', 'listInstances', 'List instances with filters and cursor pages'),
  route('GET', '/api/instances/stats', 'instances', 'getInstanceStats', 'Statistics for a client or user'),
  route('GET', '/api/instances/{id}', 'instances', 'getInstance', 'Get one instance with live cost'),
  route('PATCH', '/api/instances/{id}', 'instances', 'updateInstance', 'Rename or change tags and labels'),
  route('DELETE', '/api/instances/{id}', 'instances', 'terminateInstance', 'Terminate an instance', { idempotent: true }),
  route('POST', '/api/instances/{id}/start', 'instances', 'startInstance', 'Start a stopped instance', { idempotent: true }),
  route('POST', '/api/instances/{id}/stop', 'instances', 'stopInstance', 'Stop an instance', { idempotent: true }),
  route('POST', '/api/instances/{id}/kill', 'instances', 'killInstance', 'Force-stop an instance', { idempotent: true }),
  route('POST', '/api/instances/{id}/reboot', 'instances', 'rebootInstance', 'Reboot an instance (body: {"hard": true} to power-cycle)', { idempotent: true }),
  route('POST', '/api/instances/{id}/restart', 'instances', 'restartInstance', 'Alias of reboot', { idempotent: true }),
  route('POST', '/api/instances/{id}/extend', 'instances', 'extendInstance', 'Move the auto-terminate deadline later', { idempotent: true }),
  route('POST', '/api/instances/{id}/task', 'instances', 'startTask', 'Start a task: READY → RUNNING', { idempotent: true }),
  route('DELETE', '/api/instances/{id}/task', 'instances', 'finishTask', 'Finish the task: RUNNING → READY', { idempotent: true }),
  route('POST', '/api/instances/{id}/health-check', 'instances', 'checkInstanceHealth', 'Probe the instance now and record the result', { idempotent: true }),
  route('GET', '/api/instances/{id}/health', 'instances', 'listInstanceHealth', "The instance's health checks, newest first"),
  route('GET', '/api/instances/{id}/events', 'instances', 'listInstanceEvents', "An instance's event log"),
  route('GET', '/api/instances/{id}/metrics', 'instances', 'listInstanceMetrics', 'Recent cpu and memory samples'),

  route('POST', '/api/accounts', 'accounts', 'createAccount', 'Register a provider account: credentials are tested, then stored encrypted', { idempotent: true }),
  route('GET', '/api/accounts', 'accounts', 'listAccounts', "List a client's provider accounts (never their credentials)"),
  route('GET', '/api/accounts/{id}', 'accounts', 'getAccount', 'Get a provider account (never its credentials)'),
  route('DELETE', '/api/accounts/{id}', 'accounts', 'deleteAccount', 'Delete a provider account that no live instance uses'),
  route('GET', '/api/catalog/{kind}', 'accounts', 'listCatalog', 'The synced catalog (or ?source=live): flavors, images, networks, subnets, security-groups, key-pairs'),
  route('POST', '/api/sync', 'accounts', 'requestSync', 'Sync catalogs and reconcile statuses now; answers 202 with the queued jobs', { idempotent: true }),
  route('GET', '/api/sync-jobs', 'accounts', 'listSyncJobs', 'Sync jobs, newest first'),
  route('GET', '/api/sync-jobs/{id}', 'accounts', 'getSyncJob', 'One sync job with its counts, findings and errors'),
  route('POST', '/api/accounts/{id}/test', 'accounts', 'testAccount', "Test an account's connection now and record the result", { idempotent: true }),
];

export const routeKey = (r: Pick<RouteDefinition, 'method' | 'path'>) => `${r.method} ${r.path}`;
export const routesOf = (area: ApiArea) => ROUTES.filter((r) => r.area === area);
