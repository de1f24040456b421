import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { executionName, StepFunctionsWorkflows, stateMachineArnVariable } from '../../../shared/adapters/aws/step-functions-workflows.ts';
import { WORKFLOWS } from '../../../shared/workflows/definitions.ts';

const arns = Object.fromEntries(WORKFLOWS.map((w) => [w, `arn:aws:states:us-east-1:123456789012:stateMachine:hangar-test-${w}`])) as Record<
  (typeof WORKFLOWS)[number],
  string
>;

describe('StepFunctionsWorkflows', () => {
  const sfn = mockClient(SFNClient);
  const client = new SFNClient({ region: 'us-east-1' });
  const workflows = new StepFunctionsWorkflows(arns, client);
  const ref = { clientId: 'client-abc', instanceId: 'gpu-medical-document-analysis-worker-x1y2z3', version: 12 };

  beforeEach(() => sfn.reset());

  it('starts the named machine with the instance in the execution name and a complete input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    await workflows.start('stop', ref, { force: true });
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      stateMachineArn: arns.stop,
      name: 'gpu-medical-document-analysis-worker-x1y2z3_stop_c',
      input: JSON.stringify({ clientId: 'client-abc', instanceId: ref.instanceId, force: true, hard: false }),
    });
  });

  it('keeps execution names within the 80 characters Step Functions allows, for the longest ids', () => {
    const longest = { clientId: 'c', instanceId: `endpoint-${'a'.repeat(48)}-abcdef`, version: 36 ** 5 - 1 };
    for (const workflow of WORKFLOWS) {
      const name = executionName(workflow, longest);
      expect(name.length).toBeLessThanOrEqual(80);
      expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });

  it('treats a start refused as a duplicate as already started', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    await expect(workflows.start('provision', ref)).resolves.toBeUndefined();
  });

  it('surfaces any other failure', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    await expect(workflows.start('terminate', ref)).rejects.toThrow('AccessDenied');
  });

  it('reads the machine ARNs only when a workflow is first started', async () => {
    let reads = 0;
    const lazy = new StepFunctionsWorkflows(() => {
      reads++;
      return arns;
    }, client);
    expect(reads).toBe(0);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    await lazy.start('start', ref);
    await lazy.start('reboot', ref);
    expect(reads).toBe(1);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.stateMachineArn)).toEqual([arns.start, arns.reboot]);
  });

  it('names the environment variable of each machine', () => {
    expect(WORKFLOWS.map(stateMachineArnVariable)).toEqual([
      'PROVISION_STATE_MACHINE_ARN',
      'TERMINATE_STATE_MACHINE_ARN',
      'STOP_STATE_MACHINE_ARN',
      'START_STATE_MACHINE_ARN',
      'REBOOT_STATE_MACHINE_ARN',
    ]);
  });
});
