import { STORAGE_GB_MONTH_MICROS, STORAGE_PRICE_TABLE_VERSION } from '../domain/billing.ts';
import { DEFAULT_REGION, PRICE_TABLE_VERSION, findPrice, priceEntriesFor, smallestFitting } from '../domain/catalog.ts';
import { refuseRetiredSize } from '../domain/retired-sizes.ts';
import { NotFoundError, QuotaExceededError, UnmanagedMachineError, ValidationError } from '../domain/errors.ts';
import { KEY_ACTOR, type InstanceEvent } from '../domain/events.ts';
import { defaultInstanceName, newInstanceId } from '../domain/ids.ts';
import type { Instance } from '../domain/instance.ts';
import { priceOverrideKey } from '../domain/client.ts';
import { type Principal, requireRole } from '../domain/roles.ts';
import {
  type CreateInstanceRequest,
  type ListInstancesQuery,
  type UpdateInstanceRequest,
  LIMITS,
  createInstanceSchema,
  extendSchema,
  rebootSchema,
  startTaskSchema,
  listInstancesQuerySchema,
  pageQuerySchema,
  statsQuerySchema,
  updateInstanceSchema,
} from '../domain/schemas.ts';
import { statisticsAt, type Statistics } from '../domain/statistics.ts';
import { parseInput } from '../domain/validate.ts';
import type { Page } from '../ports/page.ts';
import type { LaunchSpec, ResourceSample } from '../ports/compute-provider.ts';
import type { ServiceDeps } from './deps.ts';
import { type EventInput, transition } from './instance-changes.ts';
import { resolveClient, scopeOf } from './tenancy.ts';

/** The instance use cases behind the HTTP API. */
export function makeInstanceService(deps: ServiceDeps) {
  /** One instance as the caller may see it: another client's is a 404. */
  async function load(principal: Principal, id: string): Promise<Instance> {
    const scope = scopeOf(principal);
    const instance = scope ? await deps.instances.get(scope, id) : await deps.instances.findById(id);
    if (!instance) throw new NotFoundError('Instance', id);
    return instance;
  }

  async function create(principal: Principal, body: unknown): Promise<Instance> {
    requireRole(principal, 'operator', 'create instances');
    const request = parseInput(createInstanceSchema, body, 'instance');
    const client = await resolveClient(deps, principal, request.clientId);
    if (client.status !== 'active') throw new ValidationError(`Client '${client.name}' is suspended`, [], 'CLIENT_SUSPENDED');

    const { config } = request;
    const region = config.region ?? DEFAULT_REGION[config.provider];
    // Also proves the account exists, belongs to this client and is of this provider.
    const provider = await deps.providers.forInstance({ provider: config.provider, clientId: client.clientId, region, config });
    if (config.provider === 'LOCAL' && region !== DEFAULT_REGION.LOCAL) {
      throw new ValidationError(`Unknown region '${region}' for LOCAL; the only region is 'local'`, [{ path: 'config.region', message: 'unknown region' }]);
    }
    const maxMinutes = client.maxAutoTerminateMinutes;
    if (config.autoTerminateMinutes !== undefined && config.autoTerminateMinutes > maxMinutes) {
      throw new ValidationError(`autoTerminateMinutes must be at most ${maxMinutes} for this client`, [
        { path: 'config.autoTerminateMinutes', message: `at most ${maxMinutes}` },
      ]);
    }
    const table = priceFor(request);
    const flavor =
      config.provider === 'EXTERNAL'
        ? undefined
        : await deps.launchCatalog?.checkLaunch(
            { provider: config.provider, region, ...(config.accountId ? { accountId: config.accountId, clientId: client.clientId } : {}) },
            { instanceType: table.instanceType, image: config.image },
          );
    // The versioned price table first; a type it does not list takes the synced catalog's price.
    const listed = table.hourlyMicros === 0 && flavor?.hourlyMicros ? { ...table, hourlyMicros: flavor.hourlyMicros } : table;
    const override = client.priceOverrides?.[priceOverrideKey(config.provider, listed.instanceType)];
    const price = override === undefined ? listed : { instanceType: listed.instanceType, hourlyMicros: override };
    const now = deps.clock.now();
    const name = request.name ?? defaultInstanceName(request);
    const id = newInstanceId(request.type, name);
    const diskSizeGB = config.diskSizeGB ?? request.resources.disk;
    const listedSize = findPrice(config.provider, price.instanceType);
    const createdAt = now.toISOString();
    const instance: Instance = {
      id,
      clientId: client.clientId,
      userId: request.userId ?? principal.keyId,
      name,
      type: request.type,
      ...(request.taskId ? { taskId: request.taskId } : {}),
      ...(request.purpose ? { purpose: request.purpose } : {}),
      provider: config.provider,
      instanceType: price.instanceType,
      region,
      status: 'PENDING',
      resources: { ...request.resources, ...(diskSizeGB ? { disk: diskSizeGB } : {}) },
      config: compact({
        image: config.image,
        diskSizeGB,
        accountId: config.accountId,
        keyPair: config.keyPair,
        securityGroups: config.securityGroups,
        networks: config.networks,
        userData: config.userData,
        endpoint: config.endpoint,
        healthPath: config.healthPath,
        idleStopMinutes: config.idleStopMinutes,
      }),
      tags: config.tags ?? {},
      labels: {},
      costPerHourMicros: price.hourlyMicros,
      priceVersion: PRICE_TABLE_VERSION,
      accruedCostMicros: 0,
      billingCycle: config.billingCycle ?? 'hourly',
      storageGBMonthMicros: STORAGE_GB_MONTH_MICROS[config.provider] ?? 0,
      storagePriceVersion: STORAGE_PRICE_TABLE_VERSION,
      statusHistory: [{ at: createdAt, status: 'PENDING' }],
      vcpus: listedSize?.vcpu ?? request.resources.cpu ?? 0,
      gpus: listedSize?.gpus ?? 0,
      ...(config.autoTerminateMinutes ? { autoTerminateMinutes: config.autoTerminateMinutes } : {}),
      createdAt,
      updatedAt: createdAt,
      version: 1,
    };
    const spec = launchSpecOf(instance);
    provider.checkLaunchSpec?.(spec);
    await provider.preflight?.(spec);

    const counters = await deps.instances.counters({ clientId: client.clientId });
    if (counters.live >= client.maxInstances) {
      throw new QuotaExceededError(
        `Client '${client.name}' already has ${counters.live} of its ${client.maxInstances} instances; terminate one or raise maxInstances`,
      );
    }

    await deps.instances.create(
      instance,
      {
        type: 'instance.created',
        toStatus: 'PENDING',
        actor: KEY_ACTOR(principal.keyId),
        message: `Requested ${instance.instanceType} on ${instance.provider} (${instance.region})`,
      },
      { maxLive: client.maxInstances },
    );
    await deps.workflows.start('provision', { clientId: instance.clientId, instanceId: id, version: instance.version });
    return instance;
  }

  async function list(principal: Principal, query: unknown): Promise<Page<Instance>> {
    const q: ListInstancesQuery = parseInput(listInstancesQuerySchema, query, 'query');
    const client = await resolveClient(deps, principal, q.clientId);
    return deps.instances.list(
      client.clientId,
      { status: q.status, provider: q.provider, type: q.type, userId: q.userId, tag: q.tag },
      { limit: q.limit, cursor: q.cursor },
    );
  }

  async function update(principal: Principal, id: string, body: unknown): Promise<Instance> {
    requireRole(principal, 'operator', 'change instances');
    const request: UpdateInstanceRequest = parseInput(updateInstanceSchema, body, 'update');
    const before = await load(principal, id);
    if (before.status === 'TERMINATED') throw new ValidationError(`Instance '${id}' is terminated and can no longer change`, [], 'INSTANCE_TERMINATED');
    const now = deps.clock.now().toISOString();
    const after: Instance = {
      ...before,
      ...(request.name ? { name: request.name } : {}),
      ...(request.tags ? { tags: request.tags } : {}),
      ...(request.labels ? { labels: request.labels } : {}),
      updatedAt: now,
      version: before.version + 1,
    };
    await deps.instances.save(before, after, [
      {
        type: 'instance.updated',
        actor: KEY_ACTOR(principal.keyId),
        message: `Changed ${Object.keys(request).join(', ')}`,
        data: request,
      },
    ]);
    return after;
  }

  /** Move to TERMINATING and hand over to the termination workflow; 202 until it is gone. */
  async function terminate(principal: Principal, id: string): Promise<Instance> {
    requireRole(principal, 'operator', 'terminate instances');
    const before = await load(principal, id);
    const actor = KEY_ACTOR(principal.keyId);
    const { after, event } = transition(before, 'terminate', deps.clock.now(), actor, `Termination requested by ${actor}`, {
      terminatedBy: actor,
    });
    await deps.instances.save(before, after, [event]);
    await deps.deadlines.sync(after);
    await deps.workflows.start('terminate', { clientId: after.clientId, instanceId: id, version: after.version });
    return after;
  }

  /**
   * A lifecycle action: the transition is checked against the table and written with its
   * event (a forbidden one is a 422 naming the status, a lost race a 409), then the workflow
   * that carries it out is started.
   */
  async function act(principal: Principal, id: string, action: LifecycleAction, body: unknown): Promise<Instance> {
    requireRole(principal, 'operator', `${action} instances`);
    const before = await load(principal, id);
    if (before.provider === 'EXTERNAL' && ['start', 'stop', 'kill', 'reboot'].includes(action)) {
      throw new UnmanagedMachineError(`EXTERNAL endpoints are not managed by Hangar: cannot ${action} ${before.config.endpoint ?? before.id}`);
    }
    const actor = KEY_ACTOR(principal.keyId);
    const now = deps.clock.now();
    const save = async (change: { after: Instance; event: EventInput }) => {
      await deps.instances.save(before, change.after, [change.event]);
      return change.after;
    };
    switch (action) {
      case 'stop':
      case 'kill': {
        const after = await save(transition(before, action, now, actor, action === 'kill' ? `Force stop requested by ${actor}` : `Stop requested by ${actor}`));
        await deps.workflows.start('stop', refOf(after), { force: action === 'kill' });
        return after;
      }
      case 'start': {
        const after = await save(transition(before, 'start', now, actor, `Start requested by ${actor}`));
        await deps.workflows.start('start', refOf(after));
        return after;
      }
      case 'reboot': {
        const { hard } = parseInput(rebootSchema, body ?? {}, 'reboot');
        const after = await save(transition(before, 'reboot', now, actor, `${hard ? 'Hard reboot' : 'Reboot'} requested by ${actor}`));
        await deps.workflows.start('reboot', refOf(after), { hard });
        return after;
      }
      case 'startTask': {
        const { taskId } = parseInput(startTaskSchema, body, 'task');
        return save(transition(before, 'startTask', now, actor, `Task ${taskId} started`, { taskId }));
      }
      case 'finishTask':
        return save(transition(before, 'finishTask', now, actor, `Task ${before.taskId ?? ''} finished`.replace('  ', ' ')));
      case 'extend': {
        const { minutes } = parseInput(extendSchema, body, 'extend');
        const client = await deps.clients.get(before.clientId);
        const max = client?.maxAutoTerminateMinutes ?? LIMITS.defaultMaxAutoTerminateMinutes;
        const from = before.autoTerminateAt ? Math.max(Date.parse(before.autoTerminateAt), now.getTime()) : now.getTime();
        const minuteMs = deps.deadlineMinuteMs ?? 60_000;
        const deadline = new Date(from + minutes * minuteMs);
        const remaining = Math.ceil((deadline.getTime() - now.getTime()) / minuteMs);
        if (remaining > max) {
          throw new ValidationError(`The deadline may be at most ${max} minutes away for this client; extending by ${minutes} would make it ${remaining}`, [
            { path: 'minutes', message: `at most ${Math.max(0, max - Math.ceil((from - now.getTime()) / minuteMs))} more minutes` },
          ]);
        }
        const extended = await save(
          transition(before, 'extend', now, actor, `Auto-terminate moved to ${deadline.toISOString()}`, {
            autoTerminateAt: deadline.toISOString(),
            autoTerminateMinutes: (before.autoTerminateMinutes ?? 0) + minutes,
          }),
        );
        await deps.deadlines.sync(extended);
        return extended;
      }
    }
  }

  async function statistics(principal: Principal, query: unknown): Promise<Statistics & { clientId: string; userId?: string }> {
    const q = parseInput(statsQuerySchema, query, 'query');
    const client = await resolveClient(deps, principal, q.clientId);
    const counters = await deps.instances.counters({ clientId: client.clientId, userId: q.userId });
    return { clientId: client.clientId, ...(q.userId ? { userId: q.userId } : {}), ...statisticsAt(counters, deps.clock.now()) };
  }

  async function events(principal: Principal, id: string, query: unknown): Promise<Page<InstanceEvent>> {
    const page = parseInput(pageQuerySchema, query, 'query');
    const instance = await load(principal, id);
    return deps.instances.events(instance.id, page);
  }

  async function metrics(principal: Principal, id: string, query: unknown): Promise<Page<ResourceSample>> {
    const page = parseInput(pageQuerySchema, query, 'query');
    const instance = await load(principal, id);
    return deps.instances.samples(instance.id, page);
  }

  return { get: load, create, list, update, terminate, act, statistics, events, metrics };
}

export type InstanceService = ReturnType<typeof makeInstanceService>;

export type LifecycleAction = 'start' | 'stop' | 'kill' | 'reboot' | 'extend' | 'startTask' | 'finishTask';

const refOf = (instance: Instance) => ({ clientId: instance.clientId, instanceId: instance.id, version: instance.version });

/** The instance type and hourly price for a request: named explicitly, or the smallest that fits. */
function priceFor(request: CreateInstanceRequest): { instanceType: string; hourlyMicros: number } {
  const { provider, instanceType } = request.config;
  refuseRetiredSize(provider, instanceType);
  if (instanceType) {
    const listed = findPrice(provider, instanceType);
    if (listed) return listed;
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
  if (fitting) return fitting;
  const largest = priceEntriesFor(provider).at(-1);
  throw new ValidationError(
    largest
      ? `No ${provider} instance type offers ${request.resources.cpu ?? 0} cpu and ${request.resources.memory ?? 0} GiB; the largest is ${largest.instanceType} (${largest.vcpu} cpu, ${largest.memoryGiB} GiB)`
      : `config.instanceType is required for provider ${provider}`,
    [{ path: 'config.instanceType', message: 'no fitting instance type' }],
  );
}

export function launchSpecOf(instance: Instance): LaunchSpec {
  return compact({
    instanceId: instance.id,
    clientId: instance.clientId,
    name: instance.name,
    instanceType: instance.instanceType,
    region: instance.region,
    resources: instance.resources,
    tags: instance.tags,
    ...instance.config,
  }) as LaunchSpec;
}

function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
