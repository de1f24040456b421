import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ComputeProvider,
  LaunchSpec,
  Machine,
  MachineRef,
  MachineState,
} from '../../shared/ports/compute-provider.ts';
import { ProviderError } from '../../shared/domain/errors.ts';
import { rejection } from '../support/rejection.ts';

export interface ContractSubject {
  provider: ComputeProvider;
  /** A valid launch spec for this provider, for the given Hangar instance id. */
  spec: (instanceId: string) => LaunchSpec;
  /** Release whatever the subject set up (the suite terminates its own machines first). */
  cleanup: () => Promise<void>;
}

export interface ContractOptions {
  /** How long a machine may take to reach a state; clouds need minutes, LOCAL seconds. */
  stateTimeoutMs?: number;
  /** How often describe() is polled while waiting. */
  pollMs?: number;
  /**
   * Whether the provider can stop, start and reboot its machines (default true). A provider
   * that only registers machines it does not manage (EXTERNAL) passes false: the stop/start and
   * reboot cases are then not registered at all, and its own suite proves it refuses them.
   */
  lifecycle?: boolean;
}

/** Poll describe() until the machine is in one of `states`; fail with the last state seen. */
export async function waitForState(
  provider: ComputeProvider,
  ref: MachineRef,
  states: readonly MachineState[],
  { stateTimeoutMs = 15_000, pollMs = 100 }: ContractOptions = {},
): Promise<Machine> {
  const deadline = Date.now() + stateTimeoutMs;
  let last: Machine | null = null;
  for (;;) {
    last = await provider.describe(ref);
    if (last && states.includes(last.state)) return last;
    if (Date.now() >= deadline) {
      const seen = last ? `${last.state}${last.reason ? ` (${last.reason})` : ''}` : 'null';
      throw new Error(`${ref.instanceId} did not reach ${states.join('|')} within ${stateTimeoutMs} ms; last: ${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function refOf(machine: Machine, spec: LaunchSpec): MachineRef {
  return {
    instanceId: spec.instanceId,
    providerInstanceId: machine.providerInstanceId,
    region: spec.region,
    ...(spec.accountId ? { accountId: spec.accountId } : {}),
  };
}

/** Launch `spec` and wait until the machine runs. */
export async function launchUntilRunning(
  provider: ComputeProvider,
  spec: LaunchSpec,
  options?: ContractOptions,
): Promise<{ ref: MachineRef; spec: LaunchSpec }> {
  const ref = refOf(await provider.launch(spec), spec);
  await waitForState(provider, ref, ['running'], options);
  return { ref, spec };
}

/** The ProviderError `promise` rejects with; anything else fails the test. */
export async function providerRejection(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** A Hangar-shaped public id that no other run of the suite will use. */
export function contractInstanceId(label: string): string {
  return `vps-contract-${label}-${randomBytes(3).toString('hex')}`;
}

/**
 * The behaviour every ComputeProvider adapter must show, whatever it talks to. Each test works
 * on its own machine so a failure points at one behaviour; afterAll terminates every machine
 * the suite launched, even when a test failed half-way.
 */
export function runComputeProviderContract(
  name: string,
  makeProvider: () => Promise<ContractSubject>,
  options: ContractOptions = {},
): void {
  describe(`ComputeProvider contract: ${name}`, () => {
    let subject: ContractSubject;
    const launched: MachineRef[] = [];

    beforeAll(async () => {
      subject = await makeProvider();
    });

    afterAll(async () => {
      if (!subject) return;
      await Promise.allSettled(launched.map((ref) => subject.provider.terminate(ref)));
      await subject.cleanup();
    });

    // Registers a case only for providers that manage the machine's lifecycle.
    const lifecycleIt = (title: string, test: () => Promise<void>) => {
      if (options.lifecycle !== false) it(title, test);
    };

    async function launchRunning(label: string): Promise<{ ref: MachineRef; spec: LaunchSpec; machine: Machine }> {
      const spec = subject.spec(contractInstanceId(label));
      const first = await subject.provider.launch(spec);
      const ref = refOf(first, spec);
      launched.push(ref);
      const machine = await waitForState(subject.provider, ref, ['running'], options);
      return { ref, spec, machine };
    }

    it('describes an unknown machine as null', async () => {
      const spec = subject.spec(contractInstanceId('unknown'));
      const ref: MachineRef = { instanceId: spec.instanceId, providerInstanceId: 'never-launched', region: spec.region };

      expect(await subject.provider.describe(ref)).toBeNull();
    });

    it('launches a machine that becomes running', async () => {
      const spec = subject.spec(contractInstanceId('launch'));

      const machine = await subject.provider.launch(spec);
      const ref = refOf(machine, spec);
      launched.push(ref);

      expect(machine.providerInstanceId).toMatch(/\S/);
      expect(machine.providerInstanceId).not.toBe(spec.instanceId);
      expect(['pending', 'running']).toContain(machine.state);
      const running = await waitForState(subject.provider, ref, ['running'], options);
      expect(running.providerInstanceId).toBe(machine.providerInstanceId);
    });

    it('returns the same machine when launched twice and creates only one', async () => {
      const { ref, spec } = await launchRunning('twice');

      const again = await subject.provider.launch(spec);

      expect(again.providerInstanceId).toBe(ref.providerInstanceId);
      const owned = await subject.provider.listOwned();
      expect(owned.filter((machine) => machine.instanceId === spec.instanceId)).toHaveLength(1);
    });

    it('lists the machine among the ones it owns', async () => {
      const { ref } = await launchRunning('owned');

      const owned = await subject.provider.listOwned();

      const mine = owned.find((machine) => machine.providerInstanceId === ref.providerInstanceId);
      expect(mine?.instanceId).toBe(ref.instanceId);
      expect(mine?.state).toBe('running');
    });

    lifecycleIt('stops a machine and starts it again', async () => {
      const { ref } = await launchRunning('stop-start');

      await subject.provider.stop(ref);
      const stopped = await waitForState(subject.provider, ref, ['stopped'], options);
      await subject.provider.stop(ref); // idempotent
      await subject.provider.start(ref);
      const restarted = await waitForState(subject.provider, ref, ['running'], options);

      expect(stopped.providerInstanceId).toBe(ref.providerInstanceId);
      expect(restarted.providerInstanceId).toBe(ref.providerInstanceId);
    });

    lifecycleIt('reboots a machine back to running', async () => {
      const { ref } = await launchRunning('reboot');

      await subject.provider.reboot(ref);

      const machine = await waitForState(subject.provider, ref, ['running'], options);
      expect(machine.providerInstanceId).toBe(ref.providerInstanceId);
    });

    it('terminates a machine, and terminating again succeeds', async () => {
      const { ref } = await launchRunning('terminate');

      await subject.provider.terminate(ref);
      await subject.provider.terminate(ref);

      expect(await subject.provider.describe(ref)).toBeNull();
      const owned = await subject.provider.listOwned();
      expect(owned.some((machine) => machine.providerInstanceId === ref.providerInstanceId)).toBe(false);
    });
  });
}
