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
}

export interface HealthView {
  status: string;
  checkedAt?: string;
  error?: string;
}

export interface InstanceView {
  id: string;
  name?: string;
  type?: string;
  clientId?: string;
  userId?: string;
  taskId?: string;
  purpose?: string;
  provider?: string;
  instanceType?: string;
  region?: string;
  status: string;
  errorMessage?: string;
  health?: HealthView;
  publicIp?: string;
  privateIp?: string;
  port?: number;
  providerInstanceId?: string;
  providerDetails?: Record<string, string | number>;
  resources?: { cpu?: number; memory?: number; disk?: number };
  tags?: Record<string, string>;
  labels?: Record<string, string>;
  /** Currency units per hour, e.g. 0.45. */
  costPerHour?: number;
  /** Currency units accrued so far, live on every read. */
  totalCost?: number;
  autoTerminateAt?: string;
  createdAt?: string;
  updatedAt?: string;
  terminatedAt?: string;
  version?: number;
}

export interface InstanceEventView {
  eventId?: string;
  at: string;
  type: string;
  fromStatus?: string;
  toStatus?: string;
  actor?: string;
  message?: string;
}

export interface ClientView {
  id: string;
  name: string;
  status?: string;
  contactEmail?: string;
  createdAt?: string;
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
