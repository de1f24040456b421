import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { backoffWaits, localWaitPace } from '../../../infra/local/local-step-functions.ts';
import { DEFINITIONS, STEPS_FUNCTION_ARN, taskStateNames, waitStateNames } from '../../../shared/workflows/definitions.ts';
import type { StepInput } from '../../../shared/workflows/run-step.ts';

/** The provision definition run by aws-local-stepfunctions, the machine up at check `upAtCheck`: the states it entered. */
async function provisionStates(upAtCheck: number): Promise<{ entered: { name: string; type: string }[]; steps: string[] }> {
  const definition = JSON.parse(JSON.stringify(DEFINITIONS.provision).replaceAll(STEPS_FUNCTION_ARN, 'arn:aws:lambda:us-east-1:000000000000:function:steps'));
  const steps: string[] = [];
  const step = async (input: StepInput) => {
    steps.push(input.step);
    if (input.step !== 'poll') return { status: 'PROVISIONING' };
    const attempt = (input.attempt ?? 0) + 1;
    return { done: attempt >= upAtCheck, attempt, waitSeconds: 1, status: attempt >= upAtCheck ? 'READY' : 'PROVISIONING' };
  };
  const execution = new StateMachine(definition, { validationOptions: { checkArn: false } }).run({ clientId: 'client-a', instanceId: 'vps-a' }, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(taskStateNames(definition).map((state) => [state, step as never])),
      waitTimeOverrides: backoffWaits(waitStateNames(definition), 1, 1),
    },
  });
  const entered: { name: string; type: string }[] = [];
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') entered.push({ name: event.state.name, type: definition.States[event.state.name].Type });
  }
  await execution.result;
  return { entered, steps };
}

describe('the provision definition, run locally', () => {
  it('a machine up at the first check, right after the launch, reaches the end without entering a Wait state', async () => {
    const { entered, steps } = await provisionStates(1);
    expect(steps).toEqual(['reserve', 'launch', 'poll']);
    expect(entered.map((s) => s.name)).toEqual(['Reserve', 'Launch', 'CheckUpInit', 'CheckUp', 'CheckUpDone?', 'Provisioned']);
    expect(entered.filter((s) => s.type === 'Wait')).toEqual([]);
  });

  it('a machine up at the third check waits twice, between the checks', async () => {
    const { entered, steps } = await provisionStates(3);
    expect(steps).toEqual(['reserve', 'launch', 'poll', 'poll', 'poll']);
    expect(entered.filter((s) => s.type === 'Wait').map((s) => s.name)).toEqual(['CheckUpWait', 'CheckUpWait']);
    expect(entered.at(-1)?.name).toBe('Provisioned');
  });
});

describe('backoffWaits', () => {
  it('pauses first for the first wait, each next one a quarter longer, never beyond the longest; each Wait state counts its own', () => {
    const waits = backoffWaits(['CheckUpWait', 'CheckGoneWait'], 8, 20);
    const pauses = Array.from({ length: 7 }, () => waits.CheckUpWait);
    expect(pauses).toEqual([8, 10, 13, 16, 20, 20, 20]);
    expect(waits.CheckGoneWait).toBe(8);
  });

  it('never pauses longer than the longest wait, even when the first is longer', () => {
    const waits = backoffWaits(['CheckUpWait'], 50, 5);
    expect([waits.CheckUpWait, waits.CheckUpWait]).toEqual([5, 5]);
  });
});

describe('localWaitPace', () => {
  const total = (pace: { firstMs: number; maxMs: number }, checks: number) => {
    const waits = backoffWaits(['CheckUpWait'], pace.firstMs, pace.maxMs);
    return Array.from({ length: checks }, () => waits.CheckUpWait!).reduce((a, b) => a + b, 0);
  };

  it.each([
    [5, 250, 40],
    [5, 20, 40],
    [1, 1000, 10],
    [300, 250, 40],
  ])('from %i ms, gives a machine as long to answer as a flat %i ms over %i checks did, and little more', (first, waitMs, checks) => {
    const pace = localWaitPace(first, waitMs, checks);
    expect(total(pace, checks)).toBeGreaterThanOrEqual(checks * waitMs);
    expect(total(pace, checks)).toBeLessThan(checks * waitMs * 1.1);
  });

  it('backs off from the first pause when that can be made up, and stays flat when it cannot', () => {
    expect(localWaitPace(5, 250, 40)).toEqual({ firstMs: 5, maxMs: expect.any(Number) });
    expect(localWaitPace(5, 250, 40).maxMs).toBeGreaterThan(250);
    expect(localWaitPace(1, 1000, 10)).toEqual({ firstMs: 1000, maxMs: 1000 });
  });
});
