/**
 * The real lifecycle state machines (shared/workflows/definitions.ts) executed by
 * LocalStepFunctions, every Task state calling the real steps handler over DynamoDB Local, with
 * failures injected at every step through the FakeProvider. After each run: the instance's final
 * status and errorMessage, what the provider still holds for it, and how the execution ended.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError, PROVIDER_ERROR_KINDS, type ProviderErrorKind } from '../../../shared/domain/errors.ts';
import type { Instance } from '../../../shared/domain/instance.ts';
import { DEFINITIONS, ERRORS, POLL } from '../../../shared/workflows/definitions.ts';
import { toStepError } from '../../../shared/workflows/step-errors.ts';
import type { TransactWriteItem } from '../../../shared/db/transactions.ts';
import { attemptsFor, startWorkflowHarness, storyOf, type WorkflowHarness } from './harness.ts';

let h: WorkflowHarness;

beforeAll(async () => {
  h = await startWorkflowHarness('wf-failures');
});
afterAll(async () => {
  await h?.stop();
});
afterEach(async () => {
  // Nothing programmed for one test may leak into the next.
  await h.drain();
  h.provider.clearFailures();
  h.provider.pendingDescribes = 0;
  h.beforeStep = undefined;
});

/** Create through the service and let the provisioning execution run to its end. */
async function provisionThrough(): Promise<{ created: Instance; final: Instance }> {
  const created = await h.create();
  await h.drain();
  return { created, final: await h.get(created.id) };
}

async function ready(): Promise<Instance> {
  const { final } = await provisionThrough();
  expect(final.status).toBe('READY');
  return final;
}

/** The TransactWriteItems the table receives from now on, per instance (each as its list of items). */
function transactionsOf(harness: WorkflowHarness): (instanceId: string) => TransactWriteItem[][] {
  const seen: TransactWriteItem[][] = [];
  harness.table.client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'TransactWriteItemsCommand') seen.push((args.input as { TransactItems: TransactWriteItem[] }).TransactItems);
      return result;
    },
    { step: 'initialize', name: `countTransactions${Math.random()}` },
  );
  return (instanceId) => seen.filter((items) => items.some((item) => item.Put?.Item?.id === instanceId || item.Put?.Item?.instanceId === instanceId));
}

const NO_STACK = /\n\s+at\s/;

/** The errorMessage a person sees: present, no stack trace. */
function expectPersonMessage(instance: Instance, containing: string | RegExp): void {
  expect(instance.errorMessage).toBeDefined();
  expect(instance.errorMessage).not.toMatch(NO_STACK);
  if (typeof containing === 'string') expect(instance.errorMessage).toContain(containing);
  else expect(instance.errorMessage).toMatch(containing);
}

describe('provisioning', () => {
  it('happy path: READY, the story in order, billing open, one running machine, execution SUCCEEDED', async () => {
    const { created, final } = await provisionThrough();
    expect(created.status).toBe('PENDING');
    expect(final).toMatchObject({ status: 'READY', health: { status: 'HEALTHY' } });
    expect(final.errorMessage).toBeUndefined();
    expect(final.billableSince).toBeDefined();
    expect(final.providerInstanceId).toBe(h.provider.machineFor(final.id)?.providerInstanceId);
    expect(h.provider.machineFor(final.id)?.state).toBe('running');
    expect(h.provider.launchCount(final.id)).toBe(1);
    expect(storyOf(await h.events(final.id))).toEqual(['created', 'PROVISIONING', 'launched', 'CONFIGURING', 'configured', 'READY']);
    expect(h.executionStatus('provision', created)).toBe('SUCCEEDED');
    // Each step ran once: no retries on the happy path. The poll that found it up made it READY.
    for (const step of ['reserve', 'launch', 'poll'] as const) expect(h.stepCount(step, final.id)).toBe(1);
    for (const step of ['configure', 'activate', 'fail'] as const) expect(h.stepCount(step, final.id)).toBe(0);
  });

  it('four transactions from create to READY: created, PROVISIONING, launched, and up + configured + READY together', async () => {
    const writes = transactionsOf(h);
    const { final } = await provisionThrough();
    expect(final.status).toBe('READY');
    const statuses = writes(final.id).map((items) => items.find((item) => item.Put?.Item?.id === final.id && item.Put.Item.status)?.Put?.Item?.status);
    expect(statuses).toEqual(['PENDING', 'PROVISIONING', 'PROVISIONING', 'READY']);
    // Every status change still has its event, in the write that made it.
    const eventTypes = writes(final.id).map((items) => items.filter((item) => item.Put?.Item?.eventId).map((item) => item.Put!.Item!.toStatus ?? item.Put!.Item!.type));
    expect(eventTypes).toEqual([['PENDING'], ['PROVISIONING'], ['provisioning.launched'], ['CONFIGURING', 'provisioning.configured', 'READY']]);
  });

  it('launch throws fatal: ERROR with that message, no machine, launch not retried, execution FAILED', async () => {
    h.provider.failNext('launch', new ProviderError('The image ami-gone was deregistered', 'fatal'));
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, 'The image ami-gone was deregistered');
    expect(h.provider.launchCount(final.id)).toBe(1);
    expect(h.provider.machineFor(final.id)).toBeUndefined();
    expect(final.billableSince).toBeUndefined();
    expect(h.executionStatus('provision', created)).toBe('FAILED');
    expect(storyOf(await h.events(final.id))).toEqual(['created', 'PROVISIONING', 'ERROR']);
  });

  it('the errorMessage of a provider failure is the provider message itself, not "Unexpected failure: …"', async () => {
    // describeFailure() keeps a DomainError's message as is and summarises anything else as
    // "Unexpected failure: …"; failureOf() rebuilds the Catch's error as a plain Error, so a
    // provider's own explanation reaches the person relabelled as unexpected.
    h.provider.failNext('launch', new ProviderError('The image ami-gone was deregistered', 'fatal'));
    const { final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expect(final.errorMessage).toBe('The image ami-gone was deregistered');
  });

  it('launch throttled twice, then succeeds: READY, launch called 3 times, one machine', async () => {
    const createdBefore = h.provider.machinesCreated;
    h.provider.failNext('launch', new ProviderError('Request limit exceeded, slow down', 'throttled'), 2);
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('READY');
    expect(final.errorMessage).toBeUndefined();
    expect(h.provider.launchCount(final.id)).toBe(3);
    expect(h.provider.machinesCreated - createdBefore).toBe(1);
    expect(h.provider.machineFor(final.id)?.state).toBe('running');
    expect(h.executionStatus('provision', created)).toBe('SUCCEEDED');
    expect(storyOf(await h.events(final.id)).filter((s) => s === 'launched')).toHaveLength(1);
  });

  it('no capacity, every time: ERROR mentioning capacity once the Retry gives up, launch called 1 + MaxAttempts times', async () => {
    const capacityRetrier = (DEFINITIONS.provision.States.Launch as { Retry: { ErrorEquals: string[]; MaxAttempts: number }[] }).Retry.find((r) =>
      r.ErrorEquals.includes(ERRORS.capacity),
    );
    expect(capacityRetrier).toBeDefined();
    h.provider.failNext('launch', new ProviderError('Insufficient capacity for local.small in local', 'capacity'), Number.POSITIVE_INFINITY);
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, /capacity/i);
    expect(h.provider.launchCount(final.id)).toBe(1 + capacityRetrier!.MaxAttempts);
    expect(h.provider.machineFor(final.id)).toBeUndefined();
    expect(h.executionStatus('provision', created)).toBe('FAILED');
  });

  // Every kind of provider failure, always failing: the launch is tried exactly as often as the
  // definition's Retry says for the error name the handler gives it, then the instance is ERROR.
  it.each(PROVIDER_ERROR_KINDS.map((kind) => [kind]))('launch always fails with a %s error: tried as the Retry says, then ERROR', async (kind: ProviderErrorKind) => {
    const error = new ProviderError(`Injected ${kind} failure at launch`, kind);
    const expected = attemptsFor('provision', 'Launch', toStepError(error).name);
    h.provider.failNext('launch', error, Number.POSITIVE_INFINITY);
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, `Injected ${kind} failure at launch`);
    expect(h.provider.launchCount(final.id)).toBe(expected);
    expect(h.provider.machineFor(final.id)).toBeUndefined();
    expect(h.executionStatus('provision', created)).toBe('FAILED');
  });

  it('invalid-request is not retried', async () => {
    h.provider.failNext('launch', new ProviderError("Instance type 'local.huge' is not offered", 'invalid-request'), Number.POSITIVE_INFINITY);
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, "Instance type 'local.huge' is not offered");
    expect(h.provider.launchCount(final.id)).toBe(1);
    expect(h.provider.machineFor(final.id)).toBeUndefined();
    expect(h.executionStatus('provision', created)).toBe('FAILED');
  });

  it('a launch that took effect but answered with a transient error is retried onto the same machine', async () => {
    const createdBefore = h.provider.machinesCreated;
    h.provider.failNext('launch', new ProviderError('Connection reset after the request was sent', 'transient'), 1, { afterEffect: true });
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('READY');
    expect(h.provider.launchCount(final.id)).toBe(2);
    expect(h.provider.machinesCreated - createdBefore).toBe(1);
    expect(final.providerInstanceId).toBe(h.provider.machineFor(final.id)?.providerInstanceId);
    expect(storyOf(await h.events(final.id)).filter((s) => s === 'launched')).toHaveLength(1);
    expect(h.executionStatus('provision', created)).toBe('SUCCEEDED');
  });

  it('a launch that took effect but answered with a fatal error: ERROR, and the unrecorded machine is found and released', async () => {
    h.provider.failNext('launch', new ProviderError('The provider answered 500 after creating the machine', 'fatal'), 1, { afterEffect: true });
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, 'The provider answered 500 after creating the machine');
    expect(final.providerInstanceId).toBeUndefined();
    expect(h.provider.machineFor(final.id)).toBeUndefined();
    expect(h.provider.callCount('listOwned')).toBeGreaterThan(0);
    expect(storyOf(await h.events(final.id))).toContain('compensated');
    expect(h.executionStatus('provision', created)).toBe('FAILED');
  });

  it('the machine never comes up: ERROR with a timeout message after POLL.maxAttempts checks, machine released', async () => {
    h.provider.pendingDescribes = Number.POSITIVE_INFINITY;
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, `did not come up after ${POLL.maxAttempts} checks`);
    expect(h.stepCount('poll', final.id)).toBe(POLL.maxAttempts);
    expect(h.provider.callCount('describe', final.id)).toBe(POLL.maxAttempts);
    expect(h.provider.machineFor(final.id)).toBeUndefined();
    expect(h.provider.terminateCalls.some((r) => r.instanceId === final.id)).toBe(true);
    expect(storyOf(await h.events(final.id))).toEqual(['created', 'PROVISIONING', 'launched', 'ERROR', 'compensated']);
    expect(h.executionStatus('provision', created)).toBe('FAILED');
  });

  it('the machine comes up after a few pending checks: READY', async () => {
    h.provider.pendingDescribes = 3;
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('READY');
    expect(h.stepCount('poll', final.id)).toBe(3);
    expect(h.provider.machineFor(final.id)?.state).toBe('running');
    expect(h.executionStatus('provision', created)).toBe('SUCCEEDED');
  });

  it('describe throttled while polling is retried, then READY', async () => {
    h.provider.failNext('describe', new ProviderError('Rate exceeded', 'throttled'), 2);
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('READY');
    expect(h.stepCount('poll', final.id)).toBe(3);
    expect(h.executionStatus('provision', created)).toBe('SUCCEEDED');
  });

  it('the machine goes to error while it is being provisioned: ERROR with the reason, machine released', async () => {
    h.provider.pendingDescribes = Number.POSITIVE_INFINITY;
    h.beforeStep = (input) => {
      if (input.step === 'poll' && h.stepCount('poll', input.instanceId) === 1) h.provider.setState(input.instanceId, 'error', 'The hypervisor ran out of disk');
    };
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, 'The hypervisor ran out of disk');
    expect(h.provider.machineFor(final.id)).toBeUndefined();
    expect(h.executionStatus('provision', created)).toBe('FAILED');
  });

  it('a machine up at the first check, right after the launch, is READY without a wait', async () => {
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('READY');
    expect(h.stepCalls.filter((c) => c.input.instanceId === created.id).map((c) => c.input.step)).toEqual(['reserve', 'launch', 'poll']);
    expect(h.stepCalls.find((c) => c.input.instanceId === created.id && c.input.step === 'poll')?.input.attempt).toBe(0);
  });

  it('compensation that cannot release the machine: ERROR recorded, execution FAILED, the machine is left for a later terminate', async () => {
    h.beforeStep = (input) => {
      if (input.step === 'poll') h.provider.setState(input.instanceId, 'error', 'Kernel panic during first boot');
    };
    h.provider.failNext('terminate', new ProviderError('Access denied releasing the machine', 'auth'), Number.POSITIVE_INFINITY);
    const { created, final } = await provisionThrough();
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, 'Kernel panic during first boot');
    expect(h.provider.machineFor(final.id)).toBeDefined();
    expect(storyOf(await h.events(final.id))).toContain('compensation-failed');
    expect(h.executionStatus('provision', created)).toBe('FAILED');

    h.provider.clearFailures('terminate');
    const terminating = await h.deps.services.instances.terminate(h.operator, final.id);
    await h.drain();
    expect((await h.get(final.id)).status).toBe('TERMINATED');
    expect(h.provider.machineFor(final.id)).toBeUndefined();
    expect(h.executionStatus('terminate', terminating)).toBe('SUCCEEDED');
  });
});

describe('termination racing the launch', () => {
  /** Terminate through the service while the provider is creating the machine (once). */
  function terminateDuringLaunch(): { terminated: Promise<Instance> } {
    let resolve!: (instance: Instance) => void;
    const terminated = new Promise<Instance>((r) => (resolve = r));
    h.provider.duringLaunch = async (spec) => {
      h.provider.duringLaunch = undefined;
      resolve(await h.deps.services.instances.terminate(h.operator, spec.instanceId));
    };
    return { terminated };
  }
  afterEach(() => {
    h.provider.duringLaunch = undefined;
  });

  it('terminate while the launch is in flight: TERMINATED, and the machine launched meanwhile is released', async () => {
    const { terminated } = terminateDuringLaunch();
    const created = await h.create();
    const terminating = await terminated;
    await h.drain();
    const final = await h.get(created.id);
    expect(final.status).toBe('TERMINATED');
    expect(h.provider.machineFor(created.id)).toBeUndefined();
    expect(h.executionStatus('terminate', terminating)).toBe('SUCCEEDED');
  });

  it.each([
    ['transient', 'Connection reset after the request was sent'],
    ['fatal', 'The provider answered 500 after creating the machine'],
  ] as const)(
    'terminate while the launch is in flight, the launch then answers a %s error after creating the machine: TERMINATED, no machine left',
    async (kind, message) => {
      const { terminated } = terminateDuringLaunch();
      h.provider.failNext('launch', new ProviderError(message, kind), 1, { afterEffect: true });
      const created = await h.create();
      const terminating = await terminated;
      await h.drain();
      const final = await h.get(created.id);
      expect(final.status).toBe('TERMINATED');
      expect(h.executionStatus('terminate', terminating)).toBe('SUCCEEDED');
      // The machine must not outlive its record.
      expect(h.provider.machineFor(created.id), 'a machine is left at the provider for a TERMINATED instance').toBeUndefined();
    },
  );
});

describe('termination', () => {
  it('happy path: TERMINATED, billing closed, the provider holds nothing', async () => {
    const instance = await ready();
    const terminating = await h.deps.services.instances.terminate(h.operator, instance.id);
    expect(terminating.status).toBe('TERMINATING');
    await h.drain();
    const final = await h.get(instance.id);
    expect(final.status).toBe('TERMINATED');
    expect(final.terminatedAt).toBeDefined();
    expect(final.billableSince).toBeUndefined();
    expect(h.provider.machineFor(instance.id)).toBeUndefined();
    expect(h.executionStatus('terminate', terminating)).toBe('SUCCEEDED');
  });

  it('the provider errors on terminate once (transient), then succeeds: TERMINATED, nothing held', async () => {
    const instance = await ready();
    h.provider.failNext('terminate', new ProviderError('Service unavailable', 'transient'), 1);
    const terminating = await h.deps.services.instances.terminate(h.operator, instance.id);
    await h.drain();
    const final = await h.get(instance.id);
    expect(final.status).toBe('TERMINATED');
    expect(final.errorMessage).toBeUndefined();
    expect(h.provider.callCount('terminate', instance.id)).toBe(2);
    expect(h.provider.machineFor(instance.id)).toBeUndefined();
    expect(h.executionStatus('terminate', terminating)).toBe('SUCCEEDED');
  });

  it('terminate fails fatally: ERROR with the message, execution FAILED; terminating again works', async () => {
    const instance = await ready();
    // The release and the compensation's release both fail: the machine is still there.
    h.provider.failNext('terminate', new ProviderError('The machine is protected against termination', 'fatal'), 2);
    const terminating = await h.deps.services.instances.terminate(h.operator, instance.id);
    await h.drain();
    const failed = await h.get(instance.id);
    expect(failed.status).toBe('ERROR');
    expectPersonMessage(failed, 'The machine is protected against termination');
    expect(h.executionStatus('terminate', terminating)).toBe('FAILED');
    expect(h.provider.machineFor(instance.id)).toBeDefined();

    const again = await h.deps.services.instances.terminate(h.operator, instance.id);
    expect(again.status).toBe('TERMINATING');
    await h.drain();
    const final = await h.get(instance.id);
    expect(final.status).toBe('TERMINATED');
    expect(final.errorMessage).toBeUndefined();
    expect(h.provider.machineFor(instance.id)).toBeUndefined();
    expect(h.executionStatus('terminate', again)).toBe('SUCCEEDED');
  });

  it('terminate fails fatally once: ERROR, the compensation releases the machine; terminating again records TERMINATED', async () => {
    const instance = await ready();
    h.provider.failNext('terminate', new ProviderError('The machine is protected against termination', 'fatal'), 1);
    const terminating = await h.deps.services.instances.terminate(h.operator, instance.id);
    await h.drain();
    const failed = await h.get(instance.id);
    expect(failed.status).toBe('ERROR');
    expectPersonMessage(failed, 'The machine is protected against termination');
    expect(h.provider.machineFor(instance.id)).toBeUndefined();
    expect(h.executionStatus('terminate', terminating)).toBe('FAILED');

    const again = await h.deps.services.instances.terminate(h.operator, instance.id);
    await h.drain();
    expect((await h.get(instance.id)).status).toBe('TERMINATED');
    expect(h.executionStatus('terminate', again)).toBe('SUCCEEDED');
  });

  it('the machine never goes away: ERROR with a timeout message after POLL.maxAttempts checks', async () => {
    const instance = await ready();
    // The provider accepts every release but the machine never goes away.
    const originalTerminate = h.provider.terminate.bind(h.provider);
    h.provider.terminate = async () => undefined;
    try {
      const terminating = await h.deps.services.instances.terminate(h.operator, instance.id);
      await h.drain();
      const final = await h.get(instance.id);
      expect(final.status).toBe('ERROR');
      expectPersonMessage(final, `did not go away after ${POLL.maxAttempts} checks`);
      expect(h.stepCount('confirmTerminated', instance.id)).toBe(POLL.maxAttempts);
      expect(h.executionStatus('terminate', terminating)).toBe('FAILED');
    } finally {
      h.provider.terminate = originalTerminate;
    }
    const again = await h.deps.services.instances.terminate(h.operator, instance.id);
    await h.drain();
    expect((await h.get(instance.id)).status).toBe('TERMINATED');
    expect(h.provider.machineFor(instance.id)).toBeUndefined();
    expect(h.executionStatus('terminate', again)).toBe('SUCCEEDED');
  });
});

describe('stop, start, reboot', () => {
  it('stop → STOPPED (machine stopped, billing closed), start → READY (running, billing open), reboot → READY', async () => {
    const instance = await ready();

    const stopping = await h.deps.services.instances.act(h.operator, instance.id, 'stop', {});
    expect(stopping.status).toBe('STOPPING');
    await h.drain();
    const stopped = await h.get(instance.id);
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.billableSince).toBeUndefined();
    expect(h.provider.machineFor(instance.id)?.state).toBe('stopped');
    expect(h.executionStatus('stop', stopping)).toBe('SUCCEEDED');

    const starting = await h.deps.services.instances.act(h.operator, instance.id, 'start', {});
    expect(starting.status).toBe('STARTING');
    await h.drain();
    const started = await h.get(instance.id);
    expect(started.status).toBe('READY');
    expect(started.billableSince).toBeDefined();
    expect(h.provider.machineFor(instance.id)?.state).toBe('running');
    expect(h.executionStatus('start', starting)).toBe('SUCCEEDED');

    const rebooting = await h.deps.services.instances.act(h.operator, instance.id, 'reboot', { hard: true });
    expect(rebooting.status).toBe('REBOOTING');
    await h.drain();
    const rebooted = await h.get(instance.id);
    expect(rebooted.status).toBe('READY');
    expect(rebooted.errorMessage).toBeUndefined();
    expect(h.provider.callCount('reboot', instance.id)).toBe(1);
    expect(h.provider.calls.find((c) => c.method === 'reboot' && c.instanceId === instance.id)?.options).toEqual({ hard: true });
    expect(h.provider.calls.find((c) => c.method === 'stop' && c.instanceId === instance.id)?.options).toEqual({ force: false });
    expect(h.provider.machineFor(instance.id)?.state).toBe('running');
    expect(h.executionStatus('reboot', rebooting)).toBe('SUCCEEDED');

    const story = storyOf(await h.events(instance.id));
    expect(story.slice(-6)).toEqual(['STOPPING', 'STOPPED', 'STARTING', 'READY', 'REBOOTING', 'READY']);
  });

  it('kill (force stop) → STOPPED', async () => {
    const instance = await ready();
    const stopping = await h.deps.services.instances.act(h.operator, instance.id, 'kill', {});
    await h.drain();
    expect((await h.get(instance.id)).status).toBe('STOPPED');
    expect(h.provider.machineFor(instance.id)?.state).toBe('stopped');
    expect(h.provider.calls.find((c) => c.method === 'stop' && c.instanceId === instance.id)?.options).toEqual({ force: true });
    expect(h.executionStatus('stop', stopping)).toBe('SUCCEEDED');
  });

  it('stop throttled once is retried: STOPPED', async () => {
    const instance = await ready();
    h.provider.failNext('stop', new ProviderError('Rate exceeded', 'throttled'), 1);
    const stopping = await h.deps.services.instances.act(h.operator, instance.id, 'stop', {});
    await h.drain();
    expect((await h.get(instance.id)).status).toBe('STOPPED');
    expect(h.provider.callCount('stop', instance.id)).toBe(2);
    expect(h.executionStatus('stop', stopping)).toBe('SUCCEEDED');
  });

  it('a failing start → ERROR with the message, execution FAILED, the stopped machine and its disk kept for the person', async () => {
    const instance = await ready();
    await h.deps.services.instances.act(h.operator, instance.id, 'stop', {});
    await h.drain();
    expect((await h.get(instance.id)).status).toBe('STOPPED');

    h.provider.failNext('start', new ProviderError('The host that held the disk is gone', 'fatal'), 1);
    const starting = await h.deps.services.instances.act(h.operator, instance.id, 'start', {});
    await h.drain();
    const final = await h.get(instance.id);
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, 'The host that held the disk is gone');
    expect(final.billableSince).toBeUndefined();
    expect(h.provider.callCount('start', instance.id)).toBe(1);
    expect(h.provider.machineFor(instance.id)?.state).toBe('stopped');
    expect(h.executionStatus('start', starting)).toBe('FAILED');
  });

  it('the machine fails to come back from a reboot → ERROR, execution FAILED', async () => {
    const instance = await ready();
    h.beforeStep = (input) => {
      if (input.step === 'confirmRebooted') h.provider.setState(input.instanceId, 'error', 'No bootable device');
    };
    const rebooting = await h.deps.services.instances.act(h.operator, instance.id, 'reboot', {});
    await h.drain();
    const final = await h.get(instance.id);
    expect(final.status).toBe('ERROR');
    expectPersonMessage(final, 'No bootable device');
    // Only provisioning and termination release machines; a failed reboot leaves it to the person.
    expect(h.provider.machineFor(instance.id)?.state).toBe('error');
    expect(h.executionStatus('reboot', rebooting)).toBe('FAILED');
  });
});

describe('idempotency of steps and executions', () => {
  it('the launch step run twice with the same input (in turn and at once) creates one machine and one launched event', async () => {
    // Created without a running workflow: this test plays the state machine by hand.
    const created = await h.manualDeps.services.instances.create(h.operator, { name: 'Manual', config: { provider: 'LOCAL', instanceType: 'local.small' } });
    const createdBefore = h.provider.machinesCreated;
    const input = { step: 'launch' as const, clientId: created.clientId, instanceId: created.id };
    await h.invokeStep({ step: 'reserve', clientId: created.clientId, instanceId: created.id });
    const first = (await h.invokeStep(input)) as { status: string };
    const second = (await h.invokeStep(input)) as { status: string };
    await Promise.all([h.invokeStep(input), h.invokeStep(input)]);
    expect(first).toEqual({ status: 'PROVISIONING' });
    expect(second).toEqual({ status: 'PROVISIONING' });
    expect(h.provider.launchCount(created.id)).toBe(4);
    expect(h.provider.machinesCreated - createdBefore).toBe(1);
    const launched = (await h.get(created.id)).providerInstanceId;
    expect(launched).toBe(h.provider.machineFor(created.id)?.providerInstanceId);
    expect(storyOf(await h.events(created.id)).filter((s) => s === 'launched')).toHaveLength(1);

    // The state machine picks up from there: the repeated steps are no-ops, nothing new is launched.
    const current = await h.get(created.id);
    await h.workflows.start('provision', { clientId: current.clientId, instanceId: current.id, version: current.version });
    await h.drain();
    const final = await h.get(created.id);
    expect(final.status).toBe('READY');
    expect(final.providerInstanceId).toBe(launched);
    expect(h.provider.machinesCreated - createdBefore).toBe(1);
    expect(storyOf(await h.events(created.id))).toEqual(['created', 'PROVISIONING', 'launched', 'CONFIGURING', 'configured', 'READY']);
    expect(h.executionStatus('provision', current)).toBe('SUCCEEDED');
  });

  it('a duplicate start of the same workflow for the same instance version is refused: one execution', async () => {
    const created = await h.create();
    const ref = { clientId: created.clientId, instanceId: created.id, version: created.version };
    // While the first is running, and through the composition's Workflows port too.
    await Promise.all([h.workflows.start('provision', ref), h.workflows.start('provision', ref), h.deps.workflows.start('provision', ref)]);
    await h.drain();
    // And after it ended.
    await h.workflows.start('provision', ref);
    await h.drain();
    const final = await h.get(created.id);
    expect(final.status).toBe('READY');
    for (const step of ['reserve', 'launch', 'poll'] as const) expect(h.stepCount(step, created.id)).toBe(1);
    expect(h.provider.launchCount(created.id)).toBe(1);
    expect(h.executionStatus('provision', created)).toBe('SUCCEEDED');

    // Another version is another execution, and on a READY instance every step is a no-op.
    await h.workflows.start('provision', { ...ref, version: final.version });
    await h.drain();
    expect(h.stepCount('reserve', created.id)).toBe(2);
    expect(await h.get(created.id)).toMatchObject({ status: 'READY', version: final.version });
    expect(h.provider.launchCount(created.id)).toBe(1);
    expect(h.executionStatus('provision', final)).toBe('SUCCEEDED');
  });
});
