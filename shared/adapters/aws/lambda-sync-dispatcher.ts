import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { requireEnv } from '../../config/env.ts';
import type { SyncDispatcher, SyncRun } from '../../ports/sync-dispatcher.ts';

export const SYNC_FUNCTION_VARIABLE = 'SYNC_FUNCTION_NAME';

/**
 * Each target's jobs run in their own asynchronous invocation of the sync function: one slow
 * or failing account never holds up another, and `POST /api/sync` answers before they run.
 */
export class LambdaSyncDispatcher implements SyncDispatcher {
  private client: LambdaClient | undefined;

  /** The function name may be read lazily: only functions that queue syncs are given it. */
  constructor(
    private readonly functionName: string | (() => string) = () => requireEnv(SYNC_FUNCTION_VARIABLE),
    client?: LambdaClient,
  ) {
    this.client = client;
  }

  async dispatch(run: SyncRun): Promise<void> {
    this.client ??= new LambdaClient({});
    const name = typeof this.functionName === 'function' ? this.functionName() : this.functionName;
    await this.client.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: JSON.stringify({ run }) }));
  }
}
