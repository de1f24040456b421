import type { Instance } from '../domain/instance.ts';
import type { Principal } from '../domain/roles.ts';
import type { ServiceDeps } from './deps.ts';
import { makeCreateInstance } from './instances/create-instance.ts';
import { makeExtendInstance } from './instances/extend-instance.ts';
import { makeGetInstance } from './instances/get-instance.ts';
import { makeGetInstanceStats, makeListInstanceEvents, makeListInstanceMetrics } from './instances/instance-history.ts';
import { makeLifecycleAction, type MachineAction } from './instances/lifecycle-actions.ts';
import { makeListInstances } from './instances/list-instances.ts';
import { makeTerminateInstance } from './instances/terminate-instance.ts';
import { makeUpdateInstance } from './instances/update-instance.ts';

// `launchSpecOf` lives in the domain now; re-exported for callers that imported it from here.
export { launchSpecOf } from '../domain/instance.ts';

export type LifecycleAction = MachineAction | 'extend';

/**
 * The instance use cases behind the HTTP API, one file each under ./instances/, gathered for
 * callers that want them all. Each is also built alone (`makeCreateInstance(deps)` …).
 */
export function makeInstanceService(deps: ServiceDeps) {
  const lifecycleAction = makeLifecycleAction(deps);
  const extendInstance = makeExtendInstance(deps);
  /** One entry for every action route: extend moves the deadline, the others change the machine. */
  const act = (principal: Principal, id: string, action: LifecycleAction, body: unknown): Promise<Instance> =>
    action === 'extend' ? extendInstance(principal, id, body) : lifecycleAction(principal, id, action, body);
  return {
    get: makeGetInstance(deps),
    create: makeCreateInstance(deps),
    list: makeListInstances(deps),
    update: makeUpdateInstance(deps),
    terminate: makeTerminateInstance(deps),
    act,
    extend: extendInstance,
    statistics: makeGetInstanceStats(deps),
    events: makeListInstanceEvents(deps),
    metrics: makeListInstanceMetrics(deps),
  };
}

export type InstanceService = ReturnType<typeof makeInstanceService>;
