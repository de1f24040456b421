import { PROVIDERS } from '../domain/catalog.ts';
import { INSTANCE_STATUSES } from '../domain/lifecycle.ts';
import { ROLES } from '../domain/roles.ts';
import { WEBHOOK_STATUSES } from '../domain/webhooks.ts';

/**
 * The attributes of the items the hot reads return, apart from the entities (./entities.ts) so
 * those reads (./item-pages.ts) know an item's fields without loading ElectroDB. The entities
 * take these same objects, so the two cannot differ.
 */
export const entityType = (name: string) => ({ type: 'string', default: name, readOnly: true, required: true }) as const;
export const version = { type: 'number', required: true } as const;

export const CLIENT_ATTRIBUTES = {
  entityType: entityType('client'),
  clientId: { type: 'string', required: true, readOnly: true },
  name: { type: 'string', required: true },
  nameKey: { type: 'string', required: true },
  status: { type: ['active', 'suspended'] as const, required: true },
  contactEmail: { type: 'string' },
  maxInstances: { type: 'number', required: true },
  maxAutoTerminateMinutes: { type: 'number', required: true },
  priceOverrides: { type: 'any' },
  reconcilePolicy: { type: 'any' },
  budget: { type: 'any' },
  quotas: { type: 'any' },
  budgetAlerts: { type: 'any' },
  createdAt: { type: 'string', required: true, readOnly: true },
  updatedAt: { type: 'string', required: true },
  version,
} as const;

export const API_KEY_ATTRIBUTES = {
  entityType: entityType('apiKey'),
  keyHash: { type: 'string', required: true, readOnly: true },
  keyId: { type: 'string', required: true, readOnly: true },
  clientId: { type: 'string', required: true, readOnly: true },
  name: { type: 'string', required: true },
  role: { type: ROLES, required: true },
  /** First characters of the secret, so a person can tell keys apart. */
  prefix: { type: 'string', required: true },
  createdAt: { type: 'string', required: true, readOnly: true },
  createdBy: { type: 'string' },
  version,
} as const;

export const INSTANCE_ATTRIBUTES = {
  entityType: entityType('instance'),
  id: { type: 'string', required: true, readOnly: true },
  clientId: { type: 'string', required: true, readOnly: true },
  userId: { type: 'string', required: true },
  name: { type: 'string', required: true },
  type: { type: 'string', required: true },
  taskId: { type: 'string' },
  purpose: { type: 'string' },
  provider: { type: PROVIDERS, required: true },
  instanceType: { type: 'string', required: true },
  region: { type: 'string', required: true },
  status: { type: INSTANCE_STATUSES, required: true },
  errorMessage: { type: 'string' },
  resources: { type: 'any', required: true },
  config: { type: 'any', required: true },
  tags: { type: 'any', required: true },
  labels: { type: 'any', required: true },
  costPerHourMicros: { type: 'number', required: true },
  priceVersion: { type: 'string', required: true },
  accruedCostMicros: { type: 'number', required: true },
  billableSince: { type: 'string' },
  billingCycle: { type: ['hourly', 'monthly'] as const },
  monthlyMicros: { type: 'number' },
  storageGBMonthMicros: { type: 'number' },
  storagePriceVersion: { type: 'string' },
  /** The compacted status history billing reads (domain/instance.ts). */
  statusHistory: { type: 'any' },
  vcpus: { type: 'number' },
  gpus: { type: 'number' },
  autoTerminateMinutes: { type: 'number' },
  autoTerminateAt: { type: 'string' },
  providerInstanceId: { type: 'string' },
  publicIp: { type: 'string' },
  privateIp: { type: 'string' },
  port: { type: 'number' },
  providerDetails: { type: 'any' },
  health: { type: 'any' },
  createdAt: { type: 'string', required: true, readOnly: true },
  updatedAt: { type: 'string', required: true },
  terminatedAt: { type: 'string' },
  terminatedBy: { type: 'string' },
  stopReason: { type: ['runtime-shutdown'] as const },
  idleSince: { type: 'string' },
  version,
} as const;

export const ACCOUNT_ATTRIBUTES = {
  entityType: entityType('account'),
  accountId: { type: 'string', required: true, readOnly: true },
  clientId: { type: 'string', required: true, readOnly: true },
  provider: { type: PROVIDERS, required: true, readOnly: true },
  name: { type: 'string', required: true },
  region: { type: 'string', required: true },
  sealedCredentials: { type: 'any', required: true },
  credentialKeys: { type: 'list', items: { type: 'string' }, required: true },
  createdAt: { type: 'string', required: true, readOnly: true },
  updatedAt: { type: 'string', required: true },
  createdBy: { type: 'string' },
  lastTestedAt: { type: 'string', required: true },
  lastTestResult: { type: 'any', required: true },
  version,
} as const;

export const WEBHOOK_ENDPOINT_ATTRIBUTES = {
  entityType: entityType('webhookEndpoint'),
  webhookId: { type: 'string', required: true, readOnly: true },
  clientId: { type: 'string', required: true, readOnly: true },
  url: { type: 'string', required: true },
  events: { type: 'list', items: { type: 'string' }, required: true },
  description: { type: 'string' },
  status: { type: WEBHOOK_STATUSES, required: true },
  disabledReason: { type: ['manual', 'gone', 'failing'] as const },
  sealedSecret: { type: 'any', required: true },
  previousSealedSecret: { type: 'any' },
  previousSecretExpiresAt: { type: 'string' },
  failingSince: { type: 'string' },
  createdAt: { type: 'string', required: true, readOnly: true },
  updatedAt: { type: 'string', required: true },
  createdBy: { type: 'string' },
  version,
} as const;
