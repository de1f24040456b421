import { businessAction } from '../../domain/business-actions.ts';
import { KEY_ACTOR } from '../../domain/events.ts';
import { newInstanceId } from '../../domain/ids.ts';
import { launchSpecOf, type Instance } from '../../domain/instance.ts';
import { checkCreate, effectivePrice, planInstance, plannedName } from '../../domain/instance-plan.ts';
import { type Principal, requireRole } from '../../domain/roles.ts';
import { createInstanceSchema } from '../../domain/schemas.ts';
import { parseInput } from '../../domain/validate.ts';
import type { ServiceDeps } from '../deps.ts';
import { checkBudgetForCreate } from '../business/client-budget.ts';
import { resolveClient } from '../tenancy.ts';
import { createQuotaOf, type Client } from '../../domain/client.ts';
import { workflowRefOf } from './get-instance.ts';

export type CreateInstanceDeps = Pick<ServiceDeps, 'instances' | 'clients' | 'providers' | 'workflows' | 'clock' | 'launchCatalog'>;

/**
 * POST /api/instances (createInstance): check what needs no I/O (domain `checkCreate`), prove
 * the account and the catalog choice, plan the PENDING instance (domain `planInstance`), record
 * it under the client's quota (the repository's conditional write refuses over-quota creates,
 * so concurrent creates cannot pass it together), and start the provisioning workflow.
 */
export function makeCreateInstance(deps: CreateInstanceDeps) {
  return async function createInstance(principal: Principal, body: unknown): Promise<Instance> {
    const { client, instance } = await prepareCreate(deps, principal, body);
    // A budget with `block` or `stop` refuses a create while the month is over its limit.
    await checkBudgetForCreate(deps, client, instance, deps.clock.now().getTime());

    await deps.instances.create(
      instance,
      {
        type: 'instance.created',
        toStatus: 'PENDING',
        actor: KEY_ACTOR(principal.keyId),
        message: `Requested ${instance.instanceType} on ${instance.provider} (${instance.region})`,
      },
      // Every quota (instances, vCPUs, GPUs, $/hour) is decided by the counters' conditional write.
      createQuotaOf(client),
      businessAction(principal, instance.clientId, 'instance.create', `instance:${instance.id}`, { name: instance.name, provider: instance.provider, instanceType: instance.instanceType }, instance.createdAt),
    );
    await deps.workflows.start('provision', workflowRefOf(instance));
    return instance;
  };
}

/**
 * Everything a create decides before it writes, with the same checks: the request, the client,
 * the account and the catalog choice, the planned PENDING instance. The estimate runs this too,
 * so an estimate is refused exactly when the create would be.
 */
export async function prepareCreate(deps: Omit<CreateInstanceDeps, 'workflows'>, principal: Principal, body: unknown): Promise<{ client: Client; instance: Instance }> {
  requireRole(principal, 'operator', 'create instances');
  const request = await parseInput(createInstanceSchema, body, 'instance');
  const client = await resolveClient(deps, principal, request.clientId);
  const { region, listed } = checkCreate(request, client);
  const { config } = request;
  // Also proves the account exists, belongs to this client and is of this provider.
  const provider = await deps.providers.forInstance({ provider: config.provider, clientId: client.clientId, region, config });
  const synced =
    config.provider === 'EXTERNAL'
      ? undefined
      : await deps.launchCatalog?.checkLaunch(
          { provider: config.provider, region, ...(config.accountId ? { accountId: config.accountId, clientId: client.clientId } : {}) },
          { instanceType: listed.instanceType, image: config.image },
        );
  const instance = planInstance({
    request,
    client,
    price: effectivePrice(listed, synced, client, config.provider),
    now: deps.clock.now(),
    id: newInstanceId(request.type, plannedName(request)),
    userId: request.userId ?? principal.keyId,
  });
  const spec = launchSpecOf(instance);
  provider.checkLaunchSpec?.(spec);
  await provider.preflight?.(spec);
  return { client, instance };
}
