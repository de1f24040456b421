import type { Scheduler } from '../../ports/scheduler.ts';
import { once } from '../lazy.ts';

/** The EventBridge Scheduler adapter and its client, loaded on the first schedule moved (see ./workflows.ts). */
export function schedulerOnFirstUse(): Scheduler {
  const load = once(async () => (await import('../../adapters/aws/eventbridge-scheduler.ts')).EventBridgeScheduler.fromEnvironment());
  return {
    scheduleOnce: async (schedule) => (await load()).scheduleOnce(schedule),
    cancel: async (name) => (await load()).cancel(name),
  };
}
