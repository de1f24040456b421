/**
 * The shapes the CLI reads from the HTTP API (see DESIGN.md, "HTTP API"). Everything the CLI
 * does not strictly need is optional, so a newer server with more fields never breaks it.
 */

export interface ErrorDetailView {
  path?: string;
  message: string;
}

export interface ErrorEnvelope {
  success: false;
  error: string;
  code: string;
  details?: Array<ErrorDetailView | string>;
  requestId?: string;
}

export interface HealthView {
  status: string;
  checkedAt?: string | null;
  error?: string | null;
}

/** Absent optional values arrive as null. */
export interface InstanceView {
  id: string;
  name?: string | null;
  type?: string | null;
  clientId?: string | null;
  userId?: string | null;
  taskId?: string | null;
  purpose?: string | null;
  provider?: string | null;
  instanceType?: string | null;
  region?: string | null;
  status: string;
  errorMessage?: string | null;
  health?: HealthView | null;
  publicIp?: string | null;
  privateIp?: string | null;
  port?: number | null;
  providerInstanceId?: string | null;
  providerDetails?: Record<string, string | number> | null;
  resources?: { cpu?: number; memory?: number; disk?: number } | null;
  tags?: Record<string, string> | null;
  labels?: Record<string, string> | null;
  /** Currency units per hour, e.g. 0.45. */
  costPerHour?: number | null;
  /** Currency units accrued so far, live on every read. */
  totalCost?: number | null;
  autoTerminateAt?: string | null;
  createdAt?: string | null;
  updatedAt?: string | null;
  terminatedAt?: string | null;
  version?: number | null;
}

export interface InstanceEventView {
  eventId?: string;
  at: string;
  type: string;
  fromStatus?: string | null;
  toStatus?: string | null;
  actor?: string | null;
  message?: string | null;
}

export interface ClientView {
  id: string;
  name: string;
  status?: string | null;
  contactEmail?: string | null;
  createdAt?: string | null;
  [field: string]: unknown;
}

export interface ApiKeyView {
  id: string;
  name: string;
  role: string;
  /** The secret; present only in the response that created the key. */
  key?: string;
}

export interface InstanceResponse {
  success: true;
  instance: InstanceView;
}

export interface InstancesPage {
  success: true;
  instances: InstanceView[];
  count: number;
  nextCursor?: string | null;
}

export interface EventsPage {
  success: true;
  events: InstanceEventView[];
  nextCursor?: string | null;
}

export interface StatisticsResponse {
  success: true;
  statistics: Record<string, unknown>;
}

export interface ClientResponse {
  success: true;
  client: ClientView;
}

export interface ClientsResponse {
  success: true;
  clients: ClientView[];
  nextCursor?: string | null;
}

export interface ApiKeyResponse {
  success: true;
  apiKey: ApiKeyView;
}

/** What status reconciliation found about one machine or record. */
export interface ReconcileFindingView {
  kind: string;
  outcome: string;
  instanceId?: string | null;
  providerInstanceId: string;
  clientId?: string | null;
  message: string;
}

/** One sync job: a catalog kind or `instances` (reconciliation) against one account or LOCAL. */
export interface SyncJobView {
  id: string;
  resourceType: string;
  provider?: string | null;
  region?: string | null;
  accountId?: string | null;
  clientId?: string | null;
  trigger?: string | null;
  requestedBy?: string | null;
  status: string;
  queuedAt?: string | null;
  startedAt?: string | null;
  completedAt?: string | null;
  created?: number;
  updated?: number;
  deleted?: number;
  unchanged?: number;
  incremental?: boolean | null;
  findings?: ReconcileFindingView[];
  errors?: string[];
}

export interface SyncResponse {
  success: true;
  jobs: SyncJobView[];
  count: number;
}

export interface SyncJobsPage {
  success: true;
  jobs: SyncJobView[];
  count: number;
  nextCursor?: string | null;
}

export interface SyncJobResponse {
  success: true;
  job: SyncJobView;
}

export interface CatalogItemView {
  id: string;
  name: string;
  kind?: string;
  region?: string | null;
  /** Currency units per hour; flavors only, when the price is known. */
  pricePerHour?: number | string | null;
  pricePerHourMicros?: number | null;
  attributes?: Record<string, unknown> | null;
  firstSeenAt?: string | null;
  updatedAt?: string | null;
  deletedAt?: string | null;
}

/** GET /api/catalog/{kind}: the items sit under the camelCase kind (flavors, securityGroups…). */
export interface CatalogPage {
  success: true;
  count: number;
  nextCursor?: string | null;
  source?: 'synced' | 'live' | string;
  syncedAt?: string | null;
  [kind: string]: unknown;
}
