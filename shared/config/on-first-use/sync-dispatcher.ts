import type { SyncDispatcher } from '../../ports/sync-dispatcher.ts';
import { once } from '../lazy.ts';

/** The Lambda sync dispatcher and its client, loaded on the first run handed off (see ./workflows.ts). */
export function syncDispatcherOnFirstUse(): SyncDispatcher {
  const load = once(async () => new (await import('../../adapters/aws/lambda-sync-dispatcher.ts')).LambdaSyncDispatcher());
  return { dispatch: async (run) => (await load()).dispatch(run) };
}
