import { STORAGE_GB_MONTH_MICROS, STORAGE_PRICE_TABLE_VERSION } from './billing.ts';
import { DEFAULT_REGION, PRICE_TABLE_VERSION, findPrice, priceEntriesFor, smallestFitting } from './catalog.ts';
import { priceOverrideKey, type Client } from './client.ts';
import { checkAutoTerminateMinutes } from './deadlines.ts';
import { ValidationError } from './errors.ts';
import { defaultInstanceName } from './ids.ts';
import { withoutUndefined, type Instance } from './instance.ts';
import type { Micros } from './money.ts';
import { refuseRetiredSize } from './retired-sizes.ts';
import type { CreateInstanceRequest } from './schemas.ts';

/**
 * What a create produces, decided without I/O: the checks that need only the request and the
 * client, the instance type and its listed price, and the PENDING instance itself. The create
 * use case adds what needs I/O (the account, the synced catalog, the quota) around these.
 */

/** An instance type and what an hour of it costs. */
export interface PlannedPrice {
  instanceType: string;
  hourlyMicros: Micros;
}

/** The instance's name: the one given, else one made from its purpose, task or type. */
export const plannedName = (request: Pick<CreateInstanceRequest, 'name' | 'purpose' | 'taskId' | 'type'>): string =>
  request.name ?? defaultInstanceName(request);

/** The region a request runs in: the one it names, or the provider's usual one. */
export const regionOf = (config: CreateInstanceRequest['config']): string => config.region ?? DEFAULT_REGION[config.provider];

/**
 * Everything about a create that can be refused without I/O: a suspended client, a LOCAL region
 * other than `local`, more auto-terminate minutes than the client allows, an instance type the
 * price table refuses. Answers the region and the type with its listed price.
 */
export function checkCreate(request: CreateInstanceRequest, client: Pick<Client, 'name' | 'status' | 'maxAutoTerminateMinutes'>): {
  region: string;
  listed: PlannedPrice;
} {
  if (client.status !== 'active') throw new ValidationError(`Client '${client.name}' is suspended`, [], 'CLIENT_SUSPENDED');
  const { config } = request;
  const region = regionOf(config);
  if (config.provider === 'LOCAL' && region !== DEFAULT_REGION.LOCAL) {
    throw new ValidationError(`Unknown region '${region}' for LOCAL; the only region is 'local'`, [{ path: 'config.region', message: 'unknown region' }]);
  }
  checkAutoTerminateMinutes(config.autoTerminateMinutes, client);
  return { region, listed: listedPrice(request) };
}

/** The instance type and hourly price for a request: named explicitly, or the smallest that fits. */
export function listedPrice(request: Pick<CreateInstanceRequest, 'config' | 'resources'>): PlannedPrice {
  const { provider, instanceType } = request.config;
  refuseRetiredSize(provider, instanceType);
  if (instanceType) {
    const listed = findPrice(provider, instanceType);
    if (listed) return { instanceType: listed.instanceType, hourlyMicros: listed.hourlyMicros };
    if (provider === 'LOCAL') {
      const known = priceEntriesFor('LOCAL').map((e) => e.instanceType).join(', ');
      throw new ValidationError(`Unknown LOCAL instance type '${instanceType}'; expected one of ${known}`, [
        { path: 'config.instanceType', message: 'unknown instance type' },
      ]);
    }
    // Types outside the shipped table are priced from the synced catalog once it exists.
    return { instanceType, hourlyMicros: 0 };
  }
  // An endpoint Hangar only watches has no machine size and costs nothing unless negotiated.
  if (provider === 'EXTERNAL') return { instanceType: 'endpoint', hourlyMicros: 0 };
  const fitting = smallestFitting(provider, request.resources);
  if (fitting) return { instanceType: fitting.instanceType, hourlyMicros: fitting.hourlyMicros };
  const largest = priceEntriesFor(provider).at(-1);
  throw new ValidationError(
    largest
      ? `No ${provider} instance type offers ${request.resources.cpu ?? 0} cpu and ${request.resources.memory ?? 0} GiB; the largest is ${largest.instanceType} (${largest.vcpu} cpu, ${largest.memoryGiB} GiB)`
      : `config.instanceType is required for provider ${provider}`,
    [{ path: 'config.instanceType', message: 'no fitting instance type' }],
  );
}

/**
 * The price the instance is billed at: the client's negotiated price first, then the price
 * table, and for a type the table does not price, the synced catalog's.
 */
export function effectivePrice(
  listed: PlannedPrice,
  synced: { hourlyMicros?: Micros } | undefined,
  client: Pick<Client, 'priceOverrides'>,
  provider: CreateInstanceRequest['config']['provider'],
): PlannedPrice {
  const base = listed.hourlyMicros === 0 && synced?.hourlyMicros ? { ...listed, hourlyMicros: synced.hourlyMicros } : listed;
  const override = client.priceOverrides?.[priceOverrideKey(provider, base.instanceType)];
  return override === undefined ? base : { instanceType: base.instanceType, hourlyMicros: override };
}

export interface InstancePlan {
  request: CreateInstanceRequest;
  client: Pick<Client, 'clientId' | 'name' | 'status' | 'maxAutoTerminateMinutes'>;
  price: PlannedPrice;
  now: Date;
  /** The public id (`newInstanceId` of `plannedName`): random, so chosen by the caller. */
  id: string;
  /** Who the instance is for: the request's userId, else the caller's key. */
  userId: string;
}

/**
 * The PENDING instance a create records. Checks the request first (`checkCreate`), so no plan
 * is ever made from a request the client may not make.
 */
export function planInstance({ request, client, price, now, id, userId }: InstancePlan): Instance {
  const { region } = checkCreate(request, client);
  // The schema's config is the one declaration: what is not a field of the instance stays config.
  const { provider, instanceType: _type, region: _region, autoTerminateMinutes, tags, billingCycle, ...config } = request.config;
  const diskSizeGB = config.diskSizeGB ?? request.resources.disk;
  // The size as listed, for the vCPU and GPU quotas.
  const listedSize = findPrice(provider, price.instanceType);
  const at = now.toISOString();
  return {
    id,
    clientId: client.clientId,
    userId,
    name: plannedName(request),
    type: request.type,
    ...(request.taskId ? { taskId: request.taskId } : {}),
    ...(request.purpose ? { purpose: request.purpose } : {}),
    provider,
    instanceType: price.instanceType,
    region,
    status: 'PENDING',
    resources: { ...request.resources, ...(diskSizeGB ? { disk: diskSizeGB } : {}) },
    config: withoutUndefined({ ...config, diskSizeGB }),
    tags: tags ?? {},
    labels: {},
    costPerHourMicros: price.hourlyMicros,
    priceVersion: PRICE_TABLE_VERSION,
    accruedCostMicros: 0,
    billingCycle: billingCycle ?? 'hourly',
    storageGBMonthMicros: STORAGE_GB_MONTH_MICROS[provider] ?? 0,
    storagePriceVersion: STORAGE_PRICE_TABLE_VERSION,
    statusHistory: [{ at, status: 'PENDING' }],
    vcpus: listedSize?.vcpu ?? request.resources.cpu ?? 0,
    gpus: listedSize?.gpus ?? 0,
    ...(autoTerminateMinutes ? { autoTerminateMinutes } : {}),
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}
