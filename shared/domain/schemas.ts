import { builtOnFirstUse } from './built-on-first-use.ts';
import { z } from './zod.ts';
import { BILLING_CYCLES } from './billing.ts';
import { BUDGET_ACTIONS } from './budget.ts';
import { unitsToMicros } from './money.ts';
import { PROVIDERS } from './catalog.ts';
import { LIMITS } from './limits.ts';
import { DEFAULT_INSTANCE_TYPE, INSTANCE_TYPE_PATTERN, MAX_INSTANCE_TYPE_LENGTH, toKebab } from './ids.ts';
import { INSTANCE_STATUSES } from './lifecycle.ts';
import { CLIENT_ROLES } from './roles.ts';
import { SYNC_RESOURCE_TYPES } from './sync.ts';

export { LIMITS };

const oneOf = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, { error: (issue) => `Unknown ${what} '${String(issue.input)}'; expected one of ${values.join(', ')}` });

const label = builtOnFirstUse(() => z.string().min(1).max(128));
/** The most tags (and labels) one instance carries. */
export const MAX_TAGS = 50;
const tagMap = builtOnFirstUse(() =>
  z
    .record(z.string().min(1).max(128).regex(/^[^=]+$/, "tag keys cannot contain '='"), z.string().max(256))
    .refine((m) => Object.keys(m).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`),
);
/** A merge patch of a tag map (PATCH): a string sets the key, null removes it, others stay. */
const tagPatch = builtOnFirstUse(() =>
  z
    .record(z.string().min(1).max(128).regex(/^[^=]+$/, "tag keys cannot contain '='"), z.string().max(256).nullable())
    .refine((m) => Object.keys(m).length <= 2 * MAX_TAGS, `at most ${2 * MAX_TAGS} keys in one change`),
);

export const instanceName = builtOnFirstUse(() =>
  z
    .string({ error: 'name is required' })
    .trim()
    .min(1, 'name is required')
    .max(63, 'name must be at most 63 characters')
    .refine((name) => toKebab(name).length > 0, 'name must contain letters or digits so an id can be made from it')
    .refine((name) => toKebab(name).length <= 48, 'name is too long once made kebab-case (48 at most)'),
);

/** Free-form, not an enum: `vps`, `database`, `container`, `external`… (DESIGN, Registry). */
export const instanceTypeName = builtOnFirstUse(() =>
  z
    .string({ error: 'type must be a string' })
    .max(MAX_INSTANCE_TYPE_LENGTH, `type must be at most ${MAX_INSTANCE_TYPE_LENGTH} characters`)
    .regex(INSTANCE_TYPE_PATTERN, "type must be a lowercase kebab word such as 'vps', 'database' or 'gpu-worker'"),
);

const diskGB = (field: string) =>
  z
    .number()
    .int(`${field} must be a whole number of GB`)
    .min(LIMITS.minDiskGB, `${field} must be at least ${LIMITS.minDiskGB} GB`)
    .max(LIMITS.maxDiskGB, `${field} must be at most ${LIMITS.maxDiskGB} GB`);

export const resourcesSchema = builtOnFirstUse(() =>
  z
    .object({
      cpu: z.number().int('cpu must be a whole number').min(1).max(448).optional(),
      memory: z.number().positive('memory must be positive (GiB)').max(24_576).optional(),
      disk: diskGB('resources.disk').optional(),
    })
    .strict(),
);

export const instanceConfigSchema = builtOnFirstUse(() =>
  z
    .object({
      provider: oneOf(PROVIDERS, 'provider').default('LOCAL'),
      instanceType: label.optional(),
      region: label.optional(),
      image: z.string().min(1).max(256).optional(),
      diskSizeGB: diskGB('config.diskSizeGB').optional(),
      autoTerminateMinutes: z
        .number()
        .int('autoTerminateMinutes must be a whole number')
        .min(LIMITS.minAutoTerminateMinutes, `autoTerminateMinutes must be at least ${LIMITS.minAutoTerminateMinutes}`)
        .max(LIMITS.ceilingAutoTerminateMinutes, `autoTerminateMinutes must be at most ${LIMITS.ceilingAutoTerminateMinutes}`)
        .optional(),
      idleStopMinutes: z.number().int().min(5).max(LIMITS.ceilingAutoTerminateMinutes).optional(),
      tags: tagMap.optional(),
      accountId: label.optional(),
      keyPair: label.optional(),
      securityGroups: z.array(label).max(16).optional(),
      networks: z.array(label).max(16).optional(),
      userData: z.string().max(16_384, 'userData must be at most 16 KiB').optional(),
      endpoint: z.string().min(1).max(2048).optional(),
      healthPath: z.string().startsWith('/', 'healthPath must start with /').max(512).optional(),
      /** `hourly` (default) or `monthly`: accrues hourly, capped at the monthly price per calendar month. */
      billingCycle: z.enum(BILLING_CYCLES, { error: `billingCycle must be one of ${BILLING_CYCLES.join(', ')}` }).optional(),
    })
    .strict(),
);

export const createInstanceSchema = builtOnFirstUse(() =>
  z
    .object({
      /** Absent: taken from purpose, else taskId, else the type (the provisioner's request shape). */
      name: instanceName.optional(),
      type: instanceTypeName.default(DEFAULT_INSTANCE_TYPE),
      clientId: label.optional(),
      userId: label.optional(),
      taskId: label.optional(),
      purpose: z.string().max(512).optional(),
      resources: resourcesSchema.default({}),
      config: instanceConfigSchema.default({ provider: 'LOCAL' }),
    })
    .strict(),
);
export type CreateInstanceRequest = z.infer<typeof createInstanceSchema>;

export const updateInstanceSchema = builtOnFirstUse(() =>
  z
    .object({
      name: instanceName.optional(),
      /** Merged into the instance's tags: `{"a": "1", "b": null}` sets a, removes b, keeps the rest. */
      tags: tagPatch.optional(),
      labels: tagPatch.optional(),
    })
    .strict()
    .refine((b) => Object.keys(b).length > 0, 'give at least one of name, tags, labels'),
);
export type UpdateInstanceRequest = z.infer<typeof updateInstanceSchema>;

export const listInstancesQuerySchema = builtOnFirstUse(() =>
  z.object({
    status: oneOf(INSTANCE_STATUSES, 'status').optional(),
    provider: oneOf(PROVIDERS, 'provider').optional(),
    type: instanceTypeName.optional(),
    clientId: label.optional(),
    userId: label.optional(),
    /** `key` or `key=value` */
    tag: z.string().min(1).max(400).optional(),
    limit: z.coerce
      .number()
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .transform((n) => Math.min(n, LIMITS.maxPageSize))
      .default(LIMITS.defaultPageSize),
    cursor: z.string().min(1).max(2048).optional(),
  }),
);
export type ListInstancesQuery = z.infer<typeof listInstancesQuerySchema>;

export const pageQuerySchema = builtOnFirstUse(() => listInstancesQuerySchema.pick({ limit: true, cursor: true }));

export const statsQuerySchema = builtOnFirstUse(() => z.object({ clientId: label.optional(), userId: label.optional() }));

export const clientScopeQuerySchema = builtOnFirstUse(() => z.object({ clientId: label.optional() }));

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const instant = (field: string) =>
  z
    .string()
    .refine((value) => ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value)), `${field} must be an ISO 8601 instant, e.g. 2026-03-01T00:00:00Z (or a date, 2026-03-01)`)
    .transform((value) => new Date(value).toISOString());

/** `GET /api/audit`: newest first; the platform admin may name a client by id or by name. */
export const auditQuerySchema = builtOnFirstUse(() =>
  pageQuerySchema
    .extend({
      clientId: label.optional(),
      action: z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/, "action is a business action name such as 'instance.create' or 'instance'").optional(),
      actor: z.string().min(1).max(160).optional(),
      from: instant('from').optional(),
      to: instant('to').optional(),
    })
    .refine((q) => !q.from || !q.to || q.from < q.to, { message: 'from must be before to', path: ['to'] }),
);

export const REVENUE_GROUPS = ['provider', 'instanceType', 'instance', 'day'] as const;

/** `GET /api/clients/{id}/revenue`: [from, to), exact to the micro. */
export const revenueQuerySchema = builtOnFirstUse(() =>
  z
    .object({
      from: instant('from'),
      to: instant('to'),
      groupBy: z.enum(REVENUE_GROUPS, { error: `groupBy must be one of ${REVENUE_GROUPS.join(', ')}` }).optional(),
    })
    .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] })
    .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= 366 * 24 * 3_600_000, { message: 'a revenue report covers at most 366 days', path: ['to'] }),
);

/**
 * An amount of money as a number (100, 0.45) or a decimal string ("0.45"). Validated here and
 * left as given: the HTTP stack parses a body before the use case parses it again, so the
 * conversion to micros (`moneyToMicros`) belongs to the use case, where it happens once.
 */
const money = (field: string) =>
  z
    .union([z.number(), z.string()])
    .refine((v) => /^\d{1,9}(\.\d{1,6})?$/.test(typeof v === 'number' ? String(v) : v.trim()), `${field} must be an amount such as 100 or "0.45" (at most six decimals)`);

/** A validated `money` amount in micros. */
export const moneyToMicros = (value: number | string): number => unitsToMicros(typeof value === 'number' ? String(value) : value.trim());

export const createClientSchema = builtOnFirstUse(() =>
  z
    .object({
      name: z.string({ error: 'name is required' }).trim().min(1, 'name is required').max(128),
      contactEmail: z.email('contactEmail must be an email address').optional(),
      maxInstances: z.number().int().min(0).max(10_000).optional(),
      maxAutoTerminateMinutes: z
        .number()
        .int()
        .min(LIMITS.minAutoTerminateMinutes)
        .max(LIMITS.ceilingAutoTerminateMinutes)
        .optional(),
      /** `{ "AWS:g4dn.xlarge": "0.45" }`: this client's hourly prices, in currency units. */
      priceOverrides: z
        .record(
          z.string().regex(/^(LOCAL|AWS|OPENSTACK|AZURE|EXTERNAL):[\w.-]{1,64}$/, 'keys are <PROVIDER>:<instanceType>, e.g. AWS:g4dn.xlarge'),
          z.string().regex(/^\d{1,6}(\.\d{1,6})?$/, 'prices are decimal strings such as "0.45"'),
        )
        .refine((m) => Object.keys(m).length <= 200, 'at most 200 price overrides')
        .optional(),
      /** A monthly budget: alerts at thresholds (percent of the limit), and notify, block new launches, or stop. */
      budget: z
        .object({
          monthlyLimit: money('budget.monthlyLimit'),
          thresholds: z
            .array(z.number().int('thresholds are whole percents').min(1, 'thresholds are percents from 1').max(1000, 'thresholds are percents up to 1000'))
            .min(1)
            .max(10)
            .default([50, 80, 100]),
          action: z.enum(BUDGET_ACTIONS, { error: `budget.action must be one of ${BUDGET_ACTIONS.join(', ')}` }).default('notify'),
        })
        .strict()
        .optional(),
      /** Bounds on what the client's live instances hold together. */
      quotas: z
        .object({
          instances: z.number().int().min(0).max(100_000).optional(),
          vcpus: z.number().int().min(0).max(10_000_000).optional(),
          gpus: z.number().int().min(0).max(1_000_000).optional(),
          costPerHour: money('quotas.costPerHour').optional(),
        })
        .strict()
        .optional(),
      /** What reconciliation may do about orphans and ghosts once they outlast the grace period. */
      reconcilePolicy: z
        .object({
          graceMinutes: z.number().int().min(0).max(7 * 24 * 60).optional(),
          orphans: z.enum(['report', 'terminate'], { error: "orphans must be 'report' or 'terminate'" }).optional(),
          ghosts: z.enum(['report', 'mark-terminated'], { error: "ghosts must be 'report' or 'mark-terminated'" }).optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
);
export type CreateClientRequest = z.infer<typeof createClientSchema>;

export const updateClientSchema = builtOnFirstUse(() =>
  createClientSchema
    .partial()
    .extend({ status: z.enum(['active', 'suspended']).optional() })
    .strict()
    .refine((b) => Object.keys(b).length > 0, 'give at least one field to change'),
);
export type UpdateClientRequest = z.infer<typeof updateClientSchema>;

export const createApiKeySchema = builtOnFirstUse(() =>
  z
    .object({
      name: z.string({ error: 'name is required' }).trim().min(1, 'name is required').max(128),
      role: oneOf(CLIENT_ROLES, 'role').default('viewer'),
    })
    .strict(),
);
export type CreateApiKeyRequest = z.infer<typeof createApiKeySchema>;

export const rebootSchema = builtOnFirstUse(() => z.object({ hard: z.boolean().optional() }).strict());

export const extendSchema = builtOnFirstUse(() =>
  z
    .object({
      minutes: z
        .number({ error: 'minutes is required' })
        .int('minutes must be a whole number')
        .min(1, 'minutes must be at least 1')
        .max(LIMITS.ceilingAutoTerminateMinutes),
    })
    .strict(),
);

export const startTaskSchema = builtOnFirstUse(() => z.object({ taskId: label }).strict());

/**
 * Provider accounts. Credentials follow each cloud's own conventions (clouds.yaml for OpenStack,
 * the SDK's credential sources for AWS); which form is meant is read from the fields given, so
 * a mistake is reported against that form rather than as "matches none of five".
 */
const secretText = (field: string) =>
  z.string({ error: `${field} is required` }).min(1, `${field} is required`).max(4096, `${field} is too long`);
const plainText = (field: string) =>
  z.string({ error: `${field} is required` }).trim().min(1, `${field} is required`).max(255, `${field} is too long`);

export const openstackPasswordCredentialsSchema = builtOnFirstUse(() =>
  z
    .object({
      authUrl: z.url({ protocol: /^https?$/, error: 'authUrl must be the Keystone URL, e.g. https://keystone.example.com:5000/v3' }),
      username: plainText('username'),
      password: secretText('password'),
      userDomainName: plainText('userDomainName').optional(),
      projectName: plainText('projectName'),
      projectDomainName: plainText('projectDomainName').optional(),
    })
    .strict(),
);

export const openstackApplicationCredentialsSchema = builtOnFirstUse(() =>
  z
    .object({
      authUrl: openstackPasswordCredentialsSchema.shape.authUrl,
      applicationCredentialId: plainText('applicationCredentialId'),
      applicationCredentialSecret: secretText('applicationCredentialSecret'),
    })
    .strict(),
);

export const awsAccessKeyCredentialsSchema = builtOnFirstUse(() =>
  z
    .object({
      accessKeyId: z
        .string({ error: 'accessKeyId is required' })
        .regex(/^[A-Z0-9]{16,128}$/, 'accessKeyId must be an access key id such as AKIA… (16 to 128 capitals and digits)'),
      secretAccessKey: secretText('secretAccessKey'),
    })
    .strict(),
);

export const awsAssumeRoleCredentialsSchema = builtOnFirstUse(() =>
  z
    .object({
      roleArn: z
        .string({ error: 'roleArn is required' })
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'roleArn must be an IAM role ARN, e.g. arn:aws:iam::123456789012:role/hangar'),
      externalId: z
        .string()
        .regex(/^[\w+=,.@:/-]{2,1224}$/, 'externalId must be 2 to 1224 letters, digits or +=,.@:/-')
        .optional(),
    })
    .strict(),
);

/** `{}`: the deployment's own role (the function's credentials). */
export const awsDefaultCredentialsSchema = builtOnFirstUse(() => z.object({}).strict());

/** An endpoint for a sovereign cloud or Azure Stack: https, or plain http on a loopback host only (tests, emulators). */
const azureEndpoint = (field: string) =>
  z
    .url({ protocol: /^https?$/, error: `cloud.${field} must be a URL, e.g. https://management.usgovcloudapi.net` })
    .refine((value) => {
      const url = new URL(value);
      const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      return url.protocol === 'https:' || host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
    }, `cloud.${field} must use https; plain http is allowed only for a loopback endpoint`);

/**
 * A service principal as the Azure CLI and Terraform take it. `cloud` (sovereign clouds, Azure
 * Stack) is stored flat as resourceManagerEndpoint and authorityHost, like every credential field.
 */
export const azureCredentialsSchema = builtOnFirstUse(() =>
  z
    .object({
      tenantId: plainText('tenantId'),
      clientId: plainText('clientId'),
      clientSecret: secretText('clientSecret'),
      subscriptionId: z.string({ error: 'subscriptionId is required' }).regex(/^[0-9a-fA-F-]{36}$/, 'subscriptionId must be a subscription GUID'),
      resourceGroup: z
        .string({ error: 'resourceGroup is required' })
        .regex(/^[-\w._()]{1,90}$/, 'resourceGroup must be a resource group name (1 to 90 letters, digits, -_.())'),
      cloud: z
        .object({ resourceManagerEndpoint: azureEndpoint('resourceManagerEndpoint'), authorityHost: azureEndpoint('authorityHost') })
        .strict()
        .optional(),
    })
    .strict()
    .transform(({ cloud, ...rest }): Record<string, string> => ({ ...rest, ...(cloud ?? {}) })),
);

/** The credentials schema for the form the given fields point at. */
export function credentialsSchemaFor(provider: 'AWS' | 'OPENSTACK' | 'AZURE', credentials: Record<string, unknown>): z.ZodType<Record<string, string>> {
  const has = (field: string) => field in credentials;
  if (provider === 'AZURE') return azureCredentialsSchema as unknown as z.ZodType<Record<string, string>>;
  if (provider === 'OPENSTACK') {
    return has('applicationCredentialId') || has('applicationCredentialSecret')
      ? openstackApplicationCredentialsSchema
      : openstackPasswordCredentialsSchema;
  }
  if (has('roleArn') || has('externalId')) return awsAssumeRoleCredentialsSchema;
  return Object.keys(credentials).length === 0 ? awsDefaultCredentialsSchema : awsAccessKeyCredentialsSchema;
}

export const createAccountSchema = builtOnFirstUse(() =>
  z
    .object({
      provider: oneOf(PROVIDERS, 'provider'),
      name: z.string({ error: 'name is required' }).trim().min(1, 'name is required').max(128),
      /** The provider's region; defaults to the provider's usual one (us-east-1, RegionOne). */
      region: label.optional(),
      clientId: label.optional(),
      credentials: z
        .record(z.string(), z.unknown(), { error: 'credentials must be an object' })
        .default({})
        .describe(
          'OPENSTACK: {authUrl, username, password, userDomainName?, projectName, projectDomainName?} or ' +
            '{authUrl, applicationCredentialId, applicationCredentialSecret}. AWS: {accessKeyId, secretAccessKey}, ' +
            "{roleArn, externalId?}, or {} for the deployment's own role. AZURE: {tenantId, clientId, clientSecret, subscriptionId, " +
            'resourceGroup, cloud?: {resourceManagerEndpoint, authorityHost}}. Stored encrypted, never returned.',
        ),
    })
    .strict(),
);
export type CreateAccountRequest = z.infer<typeof createAccountSchema>;

export const listAccountsQuerySchema = builtOnFirstUse(() => pageQuerySchema.extend({ clientId: label.optional() }));

const syncResourceTypeSchema = builtOnFirstUse(() => z.enum(SYNC_RESOURCE_TYPES, { error: `types are ${SYNC_RESOURCE_TYPES.join(', ')}` }));

export const syncRequestSchema = builtOnFirstUse(() =>
  z
    .object({
      accountId: z.string().min(1).max(128).optional(),
      provider: z.enum(['LOCAL'], { error: "provider may only be 'LOCAL'; cloud catalogs sync by accountId" }).optional(),
      region: z.string().min(1).max(64).optional(),
      types: z.array(syncResourceTypeSchema).min(1).max(SYNC_RESOURCE_TYPES.length).optional(),
    })
    .strict(),
);

export const listSyncJobsQuerySchema = builtOnFirstUse(() =>
  pageQuerySchema.extend({
    type: syncResourceTypeSchema.optional(),
    clientId: label.optional(),
  }),
);

export const catalogQuerySchema = builtOnFirstUse(() =>
  z.object({
    accountId: label.optional(),
    provider: z.enum(['LOCAL'], { error: "provider may only be 'LOCAL'; cloud catalogs are read by accountId" }).optional(),
    region: z.string().min(1).max(64).optional(),
    clientId: label.optional(),
    /** `live` reads the provider now instead of the synced copy. */
    source: z.enum(['synced', 'live']).default('synced'),
    includeDeleted: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().min(1).optional(),
  }),
);
