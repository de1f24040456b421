/**
 * In-memory stand-ins for the ports the services depend on, for integration tests that run the
 * real stores over DynamoDB Local:
 *
 *   FakeProvider       — a ComputeProvider keeping machines in a Map (launch idempotent on
 *                        instanceId, counts launches, can stay 'pending' for N describes, can be
 *                        told to fail the next launches). It records every call of every
 *                        method (`calls`, `callCount`) and any method can be programmed to fail
 *                        (`failNext(method, error, times, { afterEffect, instanceId })`).
 *   RecordingWorkflows — a Workflows that records every call and runs nothing, so a test drives
 *                        the provisioning steps itself.
 *   makeInstance       — a PENDING instance record with every required field, for store tests.
 */
import { ProviderError } from '../../shared/domain/errors.ts';
import type { ProviderName } from '../../shared/domain/catalog.ts';
import type { Instance } from '../../shared/domain/instance.ts';
import type { Principal } from '../../shared/domain/roles.ts';
import type {
  CatalogItem,
  CatalogKind,
  ComputeProvider,
  LaunchSpec,
  Machine,
  MachineRef,
  MachineState,
  ResourceSample,
} from '../../shared/ports/compute-provider.ts';
import type { InstanceRef, WorkflowOptions, Workflows } from '../../shared/ports/workflows.ts';
import type { WorkflowName } from '../../shared/workflows/definitions.ts';

interface FakeMachine {
  machine: Machine;
  spec: LaunchSpec;
  /** Describes left before a pending machine reports running. */
  pendingDescribesLeft: number;
}

export interface FakeProviderOptions {
  name?: ProviderName;
  /** How many describes a new machine answers 'pending' before 'running' (default 0). */
  pendingDescribes?: number;
}

/** The provider methods a test can count and make fail. */
export const FAKE_PROVIDER_METHODS = ['launch', 'describe', 'listOwned', 'start', 'stop', 'reboot', 'terminate'] as const;
export type FakeProviderMethod = (typeof FAKE_PROVIDER_METHODS)[number];

export interface FakeProviderCall {
  method: FakeProviderMethod;
  /** The Hangar instance id the call was about (undefined for listOwned). */
  instanceId?: string;
  providerInstanceId?: string;
  /** Options passed to stop (force) or reboot (hard). */
  options?: { force?: boolean; hard?: boolean };
  /** Whether the call threw. */
  failed?: boolean;
}

export interface FailNextOptions {
  /**
   * Throw only after the call took effect (the machine was launched, stopped, released…): the
   * provider did the work but the answer was lost, as with a timeout. Default: throw before.
   */
  afterEffect?: boolean;
  /** Fail only calls about this Hangar instance id (default: any call of the method). */
  instanceId?: string;
}

interface ProgrammedFailure {
  error: Error;
  remaining: number;
  afterEffect: boolean;
  instanceId?: string;
}

export class FakeProvider implements ComputeProvider {
  readonly name: ProviderName;

  async testConnection(): Promise<void> {}

  async listCatalog(_kind?: CatalogKind): Promise<CatalogItem[]> {
    return [];
  }

  /** Every launch call, in order (including repeats and failures). */
  readonly launchCalls: LaunchSpec[] = [];
  /** Every terminate call, in order. */
  readonly terminateCalls: MachineRef[] = [];
  /** How many machines were ever created (a repeated launch must not add one). */
  machinesCreated = 0;
  pendingDescribes: number;
  /**
   * Runs inside `launch` after the machine exists and before the call returns: lets a test make
   * something happen "while the provider is launching" (a terminate racing the launch step).
   */
  duringLaunch?: (spec: LaunchSpec, machine: Machine) => Promise<void>;
  private failures: Error[] = [];
  /** Every call of every method, in order (see `callCount`). */
  readonly calls: FakeProviderCall[] = [];
  private readonly programmed = new Map<FakeProviderMethod, ProgrammedFailure[]>();
  /** Per-instance override of `pendingDescribes` for machines launched later. */
  private readonly pendingFor = new Map<string, number>();
  private readonly byProviderId = new Map<string, FakeMachine>();
  private readonly byInstanceId = new Map<string, string>();
  private nextId = 1;

  constructor(options: FakeProviderOptions = {}) {
    this.name = options.name ?? 'LOCAL';
    this.pendingDescribes = options.pendingDescribes ?? 0;
  }

  /** Make the next `times` launches throw `error` (a retryable ProviderError by default). */
  failLaunch(error: Error = new ProviderError('Fake provider refused the launch: capacity exhausted', true), times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(error);
  }

  /**
   * Make the next `times` calls of `method` throw `error` (`Infinity` for every call from now on).
   * Programmed failures of one method are used in the order they were programmed.
   */
  failNext(method: FakeProviderMethod, error: Error, times = 1, options: FailNextOptions = {}): void {
    const queue = this.programmed.get(method) ?? [];
    queue.push({ error, remaining: times, afterEffect: options.afterEffect === true, ...(options.instanceId ? { instanceId: options.instanceId } : {}) });
    this.programmed.set(method, queue);
  }

  /** Forget every programmed failure (of one method, or all). */
  clearFailures(method?: FakeProviderMethod): void {
    if (method) this.programmed.delete(method);
    else {
      this.programmed.clear();
      this.failures = [];
    }
  }

  /** Calls of `method` (about one Hangar instance id, if given), failed ones included. */
  callCount(method: FakeProviderMethod, instanceId?: string): number {
    return this.calls.filter((c) => c.method === method && (instanceId === undefined || c.instanceId === instanceId)).length;
  }

  /** A machine launched later for this instance answers 'pending' this many describes (Infinity: forever). */
  setPendingDescribes(instanceId: string, describes: number): void {
    this.pendingFor.set(instanceId, describes);
  }

  /** Launch calls made for one Hangar instance id. */
  launchCount(instanceId: string): number {
    return this.launchCalls.filter((s) => s.instanceId === instanceId).length;
  }

  /** The live machine held for a Hangar instance id, if any. */
  machineFor(instanceId: string): Machine | undefined {
    const providerId = this.byInstanceId.get(instanceId);
    return providerId ? this.byProviderId.get(providerId)?.machine : undefined;
  }

  /** How many machines the provider holds now. */
  get size(): number {
    return this.byProviderId.size;
  }

  /** Force a machine into a state (e.g. 'error' with a reason) to simulate the world. */
  setState(instanceId: string, state: MachineState, reason?: string): void {
    const machine = this.machineFor(instanceId);
    if (!machine) throw new Error(`FakeProvider holds no machine for ${instanceId}`);
    machine.state = state;
    if (reason) machine.reason = reason;
  }

  checkLaunchSpec(spec: LaunchSpec): void {
    if (!spec.instanceId) throw new ProviderError('instanceId is required');
  }

  async launch(spec: LaunchSpec): Promise<Machine> {
    this.launchCalls.push(structuredClone(spec));
    return this.recorded('launch', { instanceId: spec.instanceId }, () => this.launchMachine(spec));
  }

  private async launchMachine(spec: LaunchSpec): Promise<Machine> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const pendingDescribes = this.pendingFor.get(spec.instanceId) ?? this.pendingDescribes;
    const existing = this.byInstanceId.get(spec.instanceId);
    if (existing) {
      const held = this.byProviderId.get(existing);
      if (held) return { ...held.machine };
    }
    const providerInstanceId = `fake-${String(this.nextId++).padStart(6, '0')}`;
    const machine: Machine = {
      providerInstanceId,
      instanceId: spec.instanceId,
      state: pendingDescribes > 0 ? 'pending' : 'running',
      privateIp: `10.0.0.${this.nextId}`,
      port: 20_000 + this.nextId,
      details: { fake: 1 },
    };
    this.byProviderId.set(providerInstanceId, { machine, spec, pendingDescribesLeft: pendingDescribes });
    this.byInstanceId.set(spec.instanceId, providerInstanceId);
    this.machinesCreated++;
    if (this.duringLaunch) await this.duringLaunch(spec, { ...machine });
    return { ...machine };
  }

  async describe(ref: MachineRef): Promise<Machine | null> {
    return this.recorded('describe', ref, async () => {
      const held = this.byProviderId.get(ref.providerInstanceId);
      if (!held) return null;
      if (held.machine.state === 'pending') {
        if (held.pendingDescribesLeft > 0) held.pendingDescribesLeft--;
        if (held.pendingDescribesLeft === 0) held.machine.state = 'running';
        else return { ...held.machine };
      }
      return { ...held.machine };
    });
  }

  async listOwned(): Promise<Machine[]> {
    return this.recorded('listOwned', {}, async () => [...this.byProviderId.values()].map((h) => ({ ...h.machine })));
  }

  async start(ref: MachineRef): Promise<void> {
    return this.recorded('start', ref, async () => {
      this.require(ref).machine.state = 'running';
    });
  }

  async stop(ref: MachineRef, options?: { force?: boolean }): Promise<void> {
    return this.recorded('stop', { ...ref, ...(options ? { options } : {}) }, async () => {
      this.require(ref).machine.state = 'stopped';
    });
  }

  async reboot(ref: MachineRef, options?: { hard?: boolean }): Promise<void> {
    return this.recorded('reboot', { ...ref, ...(options ? { options } : {}) }, async () => {
      this.require(ref).machine.state = 'running';
    });
  }

  /** Idempotent: releasing a machine that is already gone succeeds. */
  async terminate(ref: MachineRef): Promise<void> {
    this.terminateCalls.push({ ...ref });
    return this.recorded('terminate', ref, async () => {
      const held = this.byProviderId.get(ref.providerInstanceId);
      if (!held) return;
      this.byProviderId.delete(ref.providerInstanceId);
      if (held.machine.instanceId) this.byInstanceId.delete(held.machine.instanceId);
    });
  }

  async sample(ref: MachineRef): Promise<ResourceSample | null> {
    if (!this.byProviderId.has(ref.providerInstanceId)) return null;
    return { cpuPercent: 1, memoryBytes: 1024, sampledAt: new Date().toISOString() };
  }

  /** The programmed failure that applies to this call, if any (consumed). */
  private takeFailure(method: FakeProviderMethod, instanceId: string | undefined): ProgrammedFailure | undefined {
    const queue = this.programmed.get(method);
    if (!queue) return undefined;
    const index = queue.findIndex((f) => f.remaining > 0 && (f.instanceId === undefined || f.instanceId === instanceId));
    if (index < 0) return undefined;
    const failure = queue[index]!;
    failure.remaining--;
    if (failure.remaining <= 0) queue.splice(index, 1);
    return failure;
  }

  /** Record the call, and run it under any programmed failure (thrown before or after its effect). */
  private async recorded<T>(
    method: FakeProviderMethod,
    ref: { instanceId?: string; providerInstanceId?: string; options?: FakeProviderCall['options'] },
    effect: () => Promise<T>,
  ): Promise<T> {
    const call: FakeProviderCall = {
      method,
      ...(ref.instanceId !== undefined ? { instanceId: ref.instanceId } : {}),
      ...(ref.providerInstanceId !== undefined ? { providerInstanceId: ref.providerInstanceId } : {}),
      ...(ref.options ? { options: { ...ref.options } } : {}),
    };
    this.calls.push(call);
    const failure = this.takeFailure(method, ref.instanceId);
    try {
      if (failure && !failure.afterEffect) throw failure.error;
      const result = await effect();
      if (failure) throw failure.error;
      return result;
    } catch (error) {
      call.failed = true;
      throw error;
    }
  }

  private require(ref: MachineRef): FakeMachine {
    const held = this.byProviderId.get(ref.providerInstanceId);
    if (!held) throw new ProviderError(`No machine ${ref.providerInstanceId}`);
    return held;
  }
}

export interface WorkflowCall {
  workflow: WorkflowName;
  ref: InstanceRef;
  options?: WorkflowOptions;
}

/** Records every workflow start and runs nothing. */
export class RecordingWorkflows implements Workflows {
  readonly calls: WorkflowCall[] = [];

  async start(workflow: WorkflowName, ref: InstanceRef, options?: WorkflowOptions): Promise<void> {
    this.calls.push({ workflow, ref: { clientId: ref.clientId, instanceId: ref.instanceId }, ...(options ? { options } : {}) });
  }

  callsFor(instanceId: string): WorkflowCall[] {
    return this.calls.filter((c) => c.ref.instanceId === instanceId);
  }
}

export const PLATFORM_ADMIN: Principal = { keyId: 'key-platform', role: 'platform-admin', clientId: null };

export const principalFor = (clientId: string, role: Exclude<Principal['role'], 'platform-admin'>, keyId = `key-${role}-${clientId}`): Principal => ({
  keyId,
  role,
  clientId,
});

/** A PENDING instance with every required field; override what the test cares about. */
export function makeInstance(overrides: Partial<Instance> = {}): Instance {
  const at = overrides.createdAt ?? '2026-01-01T00:00:00.000Z';
  return {
    id: 'vps-web-server-abc123',
    clientId: 'client-test',
    userId: 'user-1',
    name: 'web-server',
    type: 'vps',
    provider: 'LOCAL',
    instanceType: 'local.small',
    region: 'local',
    status: 'PENDING',
    resources: { cpu: 1, memory: 1 },
    config: {},
    tags: {},
    labels: {},
    costPerHourMicros: 10_000,
    priceVersion: '2026-11-01',
    accruedCostMicros: 0,
    createdAt: at,
    updatedAt: at,
    version: 1,
    ...overrides,
  };
}
