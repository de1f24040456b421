import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LambdaSyncDispatcher, SYNC_FUNCTION_VARIABLE } from '../../../shared/adapters/aws/lambda-sync-dispatcher.ts';
import type { SyncRun } from '../../../shared/ports/sync-dispatcher.ts';

const FUNCTION = 'hangar-test-sync';
const RUN: SyncRun = {
  target: { provider: 'AWS', region: 'eu-west-1', accountId: 'acct-prod', clientId: 'client-tech-solutions' },
  jobIds: ['sync-flavors-1', 'sync-instances-2'],
};

describe('LambdaSyncDispatcher', () => {
  const mock = mockClient(LambdaClient);
  const client = new LambdaClient({ region: 'us-east-1' });
  const saved = process.env[SYNC_FUNCTION_VARIABLE];

  beforeEach(() => {
    mock.reset();
    delete process.env[SYNC_FUNCTION_VARIABLE];
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[SYNC_FUNCTION_VARIABLE];
    else process.env[SYNC_FUNCTION_VARIABLE] = saved;
  });

  it('invokes the function asynchronously (Event) with the run as { run }, once', async () => {
    mock.on(InvokeCommand).resolves({ StatusCode: 202 });
    await new LambdaSyncDispatcher(FUNCTION, client).dispatch(RUN);

    expect(mock.calls()).toHaveLength(1);
    const input = mock.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(input).toEqual({ FunctionName: FUNCTION, InvocationType: 'Event', Payload: expect.any(String) });
    expect(JSON.parse(input.Payload as string)).toEqual({ run: RUN });
  });

  it('reads SYNC_FUNCTION_NAME at dispatch, not at construction', async () => {
    mock.on(InvokeCommand).resolves({ StatusCode: 202 });
    // Built before the variable exists, as at cold start in a function that never dispatches.
    const dispatcher = new LambdaSyncDispatcher(undefined, client);
    process.env[SYNC_FUNCTION_VARIABLE] = FUNCTION;

    await dispatcher.dispatch(RUN);
    expect(mock.commandCalls(InvokeCommand)[0]!.args[0].input.FunctionName).toBe(FUNCTION);
  });

  it('fails with the name of the missing variable, and invokes nothing, when SYNC_FUNCTION_NAME is not set', async () => {
    const dispatcher = new LambdaSyncDispatcher(undefined, client);
    // Spelled out: the CDK app sets the variable under this name.
    await expect(dispatcher.dispatch(RUN)).rejects.toThrow('Environment variable SYNC_FUNCTION_NAME is required but not set');
    expect(mock.calls()).toHaveLength(0);
  });

  it('passes an SDK error through unchanged, so the caller can mark its jobs FAILED', async () => {
    const missing = new ResourceNotFoundException({ message: `Function not found: ${FUNCTION}`, Message: `Function not found: ${FUNCTION}`, $metadata: {} });
    mock.on(InvokeCommand).rejects(missing);
    await expect(new LambdaSyncDispatcher(FUNCTION, client).dispatch(RUN)).rejects.toBe(missing);
  });
});
