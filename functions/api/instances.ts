import { allowDeploymentAwsAccountFromEnvironment, deadlineWarningMinutesFromEnvironment } from '../../shared/config/env.ts';
import { schedulerOnFirstUse } from '../../shared/config/on-first-use/scheduler.ts';
import { workflowsOnFirstUse } from '../../shared/config/on-first-use/workflows.ts';
import { composeHangar, type AppDependencies } from '../../shared/config/composition.ts';
import { deployedMachinePieces } from '../../shared/config/shared-providers.ts';
import { accepted, ok } from '../../shared/http/responses.ts';
import { httpApi, type RouteHandler, type RouteHandlers } from '../../shared/http/http-api.ts';
import type { LifecycleAction } from '../../shared/services/instances.ts';
import { presentInstance, presentStatistics, presentEstimate } from '../../shared/http/present.ts';
import { withETag, writeConditions } from '../../shared/http/preconditions.ts';

/** A lifecycle action: 202 while a workflow carries it out, 200 when it is done at once. */
function action(name: LifecycleAction, status: 200 | 202 = 202): RouteHandler<AppDependencies> {
  return async ({ principal, params, body, deps }) => {
    const instance = await deps.services.instances.act(principal, params.id!, name, body);
    return ok({ instance: presentInstance(instance, deps.clock.now()) }, status);
  };
}

export const routes: RouteHandlers<AppDependencies> = {
  createInstance: async ({ principal, body, deps }) => {
    const instance = await deps.services.instances.create(principal, body);
    return accepted({ instance: presentInstance(instance, deps.clock.now()) });
  },

  estimateInstance: async ({ principal, body, deps }) => {
    return ok({ estimate: presentEstimate(await deps.services.business.estimate(principal, body)) });
  },

  listInstances: async ({ principal, query, deps }) => {
    const page = await deps.services.instances.list(principal, query);
    const now = deps.clock.now();
    return ok({ instances: page.items.map((i) => presentInstance(i, now)), count: page.items.length, nextCursor: page.cursor });
  },

  getInstanceStats: async ({ principal, query, deps }) => {
    const statistics = await deps.services.instances.statistics(principal, query);
    return ok({ statistics: presentStatistics(statistics) });
  },

  getInstance: async ({ principal, params, deps }) => {
    const instance = await deps.services.instances.get(principal, params.id!);
    return withETag(ok({ instance: presentInstance(instance, deps.clock.now()) }), instance.version);
  },

  updateInstance: async ({ principal, params, body, headers, deps }) => {
    const instance = await deps.services.instances.update(principal, params.id!, body, writeConditions(headers));
    return withETag(ok({ instance: presentInstance(instance, deps.clock.now()) }), instance.version);
  },

  terminateInstance: async ({ principal, params, headers, deps }) => {
    const instance = await deps.services.instances.terminate(principal, params.id!, writeConditions(headers));
    // 202 while the machine is released; 200 for one that was already gone (a repeated DELETE).
    const answer = { instance: presentInstance(instance, deps.clock.now()) };
    return instance.status === 'TERMINATED' ? ok(answer) : accepted(answer);
  },

  startInstance: action('start'),
  stopInstance: action('stop'),
  killInstance: action('kill'),
  rebootInstance: action('reboot'),
  restartInstance: action('reboot'),
  extendInstance: action('extend', 200),
  startTask: action('startTask', 200),
  finishTask: action('finishTask', 200),

  checkInstanceHealth: async ({ principal, params, deps }) => {
    const instance = await deps.services.health.checkNow(principal, params.id!);
    return ok({ instance: presentInstance(instance, deps.clock.now()), health: instance.health });
  },

  listInstanceHealth: async ({ principal, params, query, deps }) => {
    const page = await deps.services.health.history(principal, params.id!, query);
    return ok({ health: page.items, count: page.items.length, nextCursor: page.cursor });
  },

  listInstanceEvents: async ({ principal, params, query, deps }) => {
    const page = await deps.services.instances.events(principal, params.id!, query);
    return ok({ events: page.items, count: page.items.length, nextCursor: page.cursor });
  },

  listInstanceMetrics: async ({ principal, params, query, deps }) => {
    const page = await deps.services.instances.metrics(principal, params.id!, query);
    return ok({ metrics: page.items, count: page.items.length, nextCursor: page.cursor });
  },
};

/** Instances: provision, list, read, change, act, terminate, history. */
export const handler = httpApi('instances', routes, () =>
  composeHangar({
    ...deployedMachinePieces(),
    workflows: workflowsOnFirstUse,
    scheduler: schedulerOnFirstUse(),
    deadlineWarningMinutes: deadlineWarningMinutesFromEnvironment(),
    allowDeploymentAwsAccount: allowDeploymentAwsAccountFromEnvironment(),
  }),
);
