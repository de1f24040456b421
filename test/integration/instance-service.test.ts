/**
 * The instance and client services over DynamoDB Local, with an in-memory provider and a
 * workflow engine that only records: tenancy and roles, quotas, the provisioning and termination
 * steps end to end (idempotency, compensation), and concurrent updates.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildAppDependencies, type AppDependencies } from '../../shared/config/composition.ts';
import { createDb } from '../../shared/db/db.ts';
import type { Client } from '../../shared/domain/client.ts';
import {
  ConflictError,
  ForbiddenError,
  IllegalTransitionError,
  NotFoundError,
  ProviderError,
  QuotaExceededError,
  ValidationError,
  VersionConflictError,
} from '../../shared/domain/errors.ts';
import type { InstanceEvent } from '../../shared/domain/events.ts';
import type { Instance } from '../../shared/domain/instance.ts';
import { costForDuration } from '../../shared/domain/money.ts';
import { transition } from '../../shared/services/instance-changes.ts';
import type { Principal } from '../../shared/domain/roles.ts';
import { ManualClock } from '../support/manual-clock.ts';
import type { InstanceRef } from '../../shared/ports/workflows.ts';
import { createTestTable, deleteTestTable, type TestTable } from '../support/dynamodb.ts';
import { FakeProvider, PLATFORM_ADMIN, RecordingWorkflows, principalFor } from '../support/fakes.ts';
import { rejection } from '../support/rejection.ts';

const MINUTE = 60_000;

let table: TestTable;
let deps: AppDependencies;
let provider: FakeProvider;
let workflows: RecordingWorkflows;
let clock: ManualClock;

beforeAll(async () => {
  table = await createTestTable('instance-service');
  provider = new FakeProvider({ name: 'LOCAL' });
  workflows = new RecordingWorkflows();
  clock = new ManualClock(new Date('2026-05-01T09:00:00.000Z'));
  deps = buildAppDependencies({
    db: createDb({ tableName: table.tableName, client: table.client }),
    providers: [provider],
    workflows: () => workflows,
    clock,
  });
});
afterAll(async () => {
  await deleteTestTable(table);
});

let clientSeq = 0;
async function newClient(extra: { maxInstances?: number } = {}): Promise<{ client: Client; operator: Principal; viewer: Principal; admin: Principal }> {
  const client = await deps.services.clients.create(PLATFORM_ADMIN, { name: `Tenant ${++clientSeq} Inc`, ...extra });
  return {
    client,
    operator: principalFor(client.clientId, 'operator'),
    viewer: principalFor(client.clientId, 'viewer'),
    admin: principalFor(client.clientId, 'admin'),
  };
}

const webServer = (extra: Record<string, unknown> = {}) => ({
  name: 'Web Server',
  type: 'vps',
  config: { provider: 'LOCAL', instanceType: 'local.small', ...((extra.config as object) ?? {}) },
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'config')),
});

const refOf = (i: Instance): InstanceRef => ({ clientId: i.clientId, instanceId: i.id });

async function eventsOf(principal: Principal, id: string): Promise<InstanceEvent[]> {
  const out: InstanceEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.services.instances.events(principal, id, { limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  return out;
}

/** Drive the provisioning steps as the workflow would: reserve → launch → poll until the machine is up, which makes it READY. */
async function provision(ref: InstanceRef, maxPolls = 20): Promise<{ instance: Instance; polls: number }> {
  const steps = deps.services.provisioning;
  await steps.reserve(ref);
  await steps.launch(ref);
  for (let polls = 1; ; polls++) {
    const { done, instance } = await steps.poll(ref);
    if (done) return { instance, polls };
    if (polls >= maxPolls) throw new Error(`machine not up after ${polls} polls`);
    clock.advance(5_000);
  }
}

async function terminateFully(principal: Principal, id: string): Promise<Instance> {
  const terminating = await deps.services.instances.terminate(principal, id);
  await deps.services.provisioning.release(refOf(terminating));
  const { instance, done } = await deps.services.provisioning.confirmTerminated(refOf(terminating));
  expect(done).toBe(true);
  return instance;
}

beforeEach(() => {
  provider.pendingDescribes = 0;
  provider.duringLaunch = undefined;
});

describe('create, roles and tenancy', () => {
  it('an operator creates a PENDING instance with a public id and the provisioning workflow is started', async () => {
    const { client, operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer({ config: { tags: { project: 'x' } } }));
    expect(created.id).toMatch(/^vps-web-server-[a-z0-9]{6}$/);
    expect(created).toMatchObject({
      status: 'PENDING',
      clientId: client.clientId,
      userId: operator.keyId,
      provider: 'LOCAL',
      instanceType: 'local.small',
      region: 'local',
      costPerHourMicros: 10_000,
      accruedCostMicros: 0,
      tags: { project: 'x' },
      version: 1,
    });
    expect(created.providerInstanceId).toBeUndefined();
    expect(workflows.callsFor(created.id)).toEqual([{ workflow: 'provision', ref: { clientId: client.clientId, instanceId: created.id } }]);

    const stored = await deps.services.instances.get(operator, created.id);
    expect(stored).toMatchObject({ id: created.id, status: 'PENDING', version: 1 });
    const events = await eventsOf(operator, created.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'instance.created', toStatus: 'PENDING', actor: `key:${operator.keyId}`, clientId: client.clientId });
    const stats = await deps.services.instances.statistics(operator, {});
    expect(stats).toMatchObject({ clientId: client.clientId, totalProvisioned: 1, live: 1, currentlyRunning: 0 });
  });

  it('a viewer may read but not create: 403 ForbiddenError, nothing recorded', async () => {
    const { viewer, operator } = await newClient();
    const before = workflows.calls.length;
    const error = await rejection(deps.services.instances.create(viewer, webServer()));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).status).toBe(403);
    expect(workflows.calls.length).toBe(before);
    expect((await deps.services.instances.list(viewer, {})).items).toEqual([]);
    // …and may read what an operator created.
    const created = await deps.services.instances.create(operator, webServer());
    expect((await deps.services.instances.get(viewer, created.id)).id).toBe(created.id);
    expect(await rejection(deps.services.instances.terminate(viewer, created.id))).toBeInstanceOf(ForbiddenError);
    expect(await rejection(deps.services.instances.update(viewer, created.id, { tags: { a: 'b' } }))).toBeInstanceOf(ForbiddenError);
  });

  it("another client's key gets 404 for get, update, terminate and events, and the instance is untouched", async () => {
    const acme = await newClient();
    const globex = await newClient();
    const created = await deps.services.instances.create(acme.operator, webServer());
    const attempts: [string, () => Promise<unknown>][] = [
      ['get', () => deps.services.instances.get(globex.admin, created.id)],
      ['update', () => deps.services.instances.update(globex.admin, created.id, { tags: { stolen: 'yes' } })],
      ['terminate', () => deps.services.instances.terminate(globex.admin, created.id)],
      ['events', () => deps.services.instances.events(globex.admin, created.id, {})],
      ['metrics', () => deps.services.instances.metrics(globex.admin, created.id, {})],
    ];
    for (const [what, attempt] of attempts) {
      const error = await rejection(attempt());
      expect(error, what).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).status, what).toBe(404);
    }
    // Naming the other client explicitly is a 404 as well (never a 403 that confirms it exists).
    expect(await rejection(deps.services.instances.create(globex.operator, webServer({ clientId: acme.client.clientId })))).toBeInstanceOf(
      NotFoundError,
    );
    expect(await rejection(deps.services.instances.list(globex.viewer, { clientId: acme.client.clientId }))).toBeInstanceOf(NotFoundError);
    expect((await deps.services.instances.list(globex.viewer, {})).items).toEqual([]);

    const stored = await deps.services.instances.get(acme.viewer, created.id);
    expect(stored).toMatchObject({ status: 'PENDING', version: 1, tags: {} });
    expect((await eventsOf(acme.viewer, created.id)).map((e) => e.type)).toEqual(['instance.created']);
  });

  it('the platform admin must name the client: without one it is a 400 ValidationError', async () => {
    const error = await rejection(deps.services.instances.create(PLATFORM_ADMIN, webServer()));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).status).toBe(400);
    expect((error as ValidationError).details.map((d) => d.path)).toContain('clientId');
    expect(await rejection(deps.services.instances.create(PLATFORM_ADMIN, webServer({ clientId: 'no-such-client' })))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it('the platform admin acts for a client by id or by name (any case and spacing)', async () => {
    const { client, viewer } = await newClient();
    const byName = await deps.services.instances.create(PLATFORM_ADMIN, webServer({ clientId: `  ${client.name.toUpperCase().replace(' ', '   ')}` }));
    const byId = await deps.services.instances.create(PLATFORM_ADMIN, webServer({ clientId: client.clientId, name: 'db' }));
    expect(byName.clientId).toBe(client.clientId);
    expect(byId.clientId).toBe(client.clientId);
    expect(byName.userId).toBe(PLATFORM_ADMIN.keyId);
    // The client's own keys see both; the admin finds them by id alone.
    const listed = await deps.services.instances.list(viewer, {});
    expect(listed.items.map((i) => i.id).sort()).toEqual([byId.id, byName.id].sort());
    expect((await deps.services.instances.get(PLATFORM_ADMIN, byName.id)).clientId).toBe(client.clientId);
    expect((await deps.services.instances.list(PLATFORM_ADMIN, { clientId: client.name })).items).toHaveLength(2);
  });
});

describe('cursors', () => {
  const tampered = [
    ['garbage', 'not-a-cursor!!'],
    ['JSON that is not a key of this list', Buffer.from(JSON.stringify({ pk: 'CLIENT#someone-else', sk: 'X' })).toString('base64url')],
  ] as const;

  it.each(tampered)('a tampered cursor (%s) is a 400 ValidationError on the instance list and the event log', async (_name, cursor) => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    for (const [what, attempt] of [
      ['instances.list', () => deps.services.instances.list(operator, { cursor })],
      ['instances.events', () => deps.services.instances.events(operator, created.id, { cursor })],
    ] as const) {
      const error = await rejection(attempt());
      expect(error, `${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`).toBeInstanceOf(ValidationError);
    }
  });

  it.each(tampered)('a tampered cursor (%s) is a 400 ValidationError on the client list', async (_name, cursor) => {
    const error = await rejection(deps.services.clients.list(PLATFORM_ADMIN, { cursor }));
    expect(error, error instanceof Error ? `${error.name}: ${error.message}` : String(error)).toBeInstanceOf(ValidationError);
  });
});

describe('quota', () => {
  it('a client with maxInstances 2 cannot create a third: QuotaExceededError; a terminated one frees its place', async () => {
    const { operator } = await newClient({ maxInstances: 2 });
    const first = await deps.services.instances.create(operator, webServer());
    await deps.services.instances.create(operator, webServer());
    const error = await rejection(deps.services.instances.create(operator, webServer()));
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect((error as QuotaExceededError).code).toBe('QUOTA_EXCEEDED');
    expect((await deps.services.instances.list(operator, {})).items).toHaveLength(2);

    // TERMINATING still counts; TERMINATED does not.
    const terminated = await terminateFully(operator, first.id);
    expect(terminated.status).toBe('TERMINATED');
    const third = await deps.services.instances.create(operator, webServer());
    expect(third.status).toBe('PENDING');
    expect(await rejection(deps.services.instances.create(operator, webServer()))).toBeInstanceOf(QuotaExceededError);
  });

  it('concurrent creates cannot overshoot maxInstances', async () => {
    const { operator, client } = await newClient({ maxInstances: 2 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => deps.services.instances.create(operator, webServer())));
    const created = results.filter((r) => r.status === 'fulfilled');
    for (const r of results) {
      // Refused for the quota, or (documented) a 409 BUSY when the counters stay contended.
      if (r.status === 'rejected' && !(r.reason instanceof QuotaExceededError)) {
        expect(r.reason).toBeInstanceOf(ConflictError);
        expect((r.reason as ConflictError).code).toBe('BUSY');
      }
    }
    const listed = await deps.services.instances.list(operator, {});
    const counters = await deps.instances.counters({ clientId: client.clientId });
    expect(listed.items).toHaveLength(created.length);
    expect(counters.live).toBe(created.length);
    expect(created.length).toBeLessThanOrEqual(client.maxInstances);
  });
});

describe('provisioning steps end to end', () => {
  it('reserve → launch → poll: the poll that finds it up makes it READY, billing, with its deadline, in one write; events in order', async () => {
    const { operator } = await newClient();
    provider.pendingDescribes = 3;
    const created = await deps.services.instances.create(operator, webServer({ config: { autoTerminateMinutes: 30 } }));
    const ref = refOf(created);
    const steps = deps.services.provisioning;

    const reserved = await steps.reserve(ref);
    expect(reserved.status).toBe('PROVISIONING');
    expect((await steps.reserve(ref)).version).toBe(reserved.version); // a repeat does nothing

    clock.advance(1_000);
    const launched = await steps.launch(ref);
    expect(launched.status).toBe('PROVISIONING');
    expect(launched.providerInstanceId).toMatch(/^fake-\d{6}$/);
    expect(launched.providerInstanceId).not.toBe(launched.id);
    const again = await steps.launch(ref);
    expect(again.providerInstanceId).toBe(launched.providerInstanceId);
    expect(again.version).toBe(launched.version);
    expect(provider.launchCount(created.id)).toBe(2);
    expect(provider.machineFor(created.id)?.providerInstanceId).toBe(launched.providerInstanceId);

    let polls = 0;
    let upAt = clock.now();
    for (;;) {
      polls++;
      upAt = clock.now();
      const { done, instance } = await steps.poll(ref);
      if (done) break;
      expect(instance.status).toBe('PROVISIONING');
      expect(instance.version).toBe(launched.version); // a check that finds it pending writes nothing
      expect(polls).toBeLessThan(10);
      clock.advance(5_000);
    }
    expect(polls).toBe(3);

    const ready = await deps.services.instances.get(operator, created.id);
    expect(ready.status).toBe('READY');
    expect(ready.version).toBe(launched.version + 1); // up, configured and READY: one write
    expect(ready.health?.status).toBe('HEALTHY');
    expect(ready.port).toBe(provider.machineFor(created.id)?.port);
    expect(ready.billableSince).toBe(upAt.toISOString());
    expect(ready.autoTerminateAt).toBe(new Date(upAt.getTime() + 30 * MINUTE).toISOString());
    const repeated = await steps.poll(ref);
    expect(repeated).toMatchObject({ done: true, instance: { status: 'READY', version: ready.version } });

    const events = await eventsOf(operator, created.id);
    expect(events.map((e) => [e.type, e.toStatus ?? null])).toEqual([
      ['instance.created', 'PENDING'],
      ['instance.status-changed', 'PROVISIONING'],
      ['provisioning.launched', null],
      ['instance.status-changed', 'CONFIGURING'],
      ['provisioning.configured', null],
      ['instance.status-changed', 'READY'],
    ]);
    expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort());
    const stats = await deps.services.instances.statistics(operator, {});
    expect(stats).toMatchObject({ currentlyRunning: 1, live: 1, totalCostMicros: 0 });
  });

  it('an instance left CONFIGURING (by an execution of the earlier definition) is made READY by the next poll; configure and activate are then no-ops', async () => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    const ref = refOf(created);
    const steps = deps.services.provisioning;
    await steps.reserve(ref);
    const launched = await steps.launch(ref);
    const { after, event } = transition(launched, 'launched', clock.now(), 'system:provisioning', 'Machine is up');
    await deps.instances.save(launched, after, [event]);

    const { done, instance } = await steps.poll(ref);
    expect(done).toBe(true);
    expect(instance).toMatchObject({ status: 'READY', version: after.version + 1, health: { status: 'HEALTHY' } });
    expect((await steps.configure(ref)).version).toBe(instance.version);
    expect((await steps.activate(ref)).version).toBe(instance.version);
    const story = (await eventsOf(operator, created.id)).map((e) => e.toStatus ?? e.type);
    expect(story).toEqual(['PENDING', 'PROVISIONING', 'provisioning.launched', 'CONFIGURING', 'provisioning.configured', 'READY']);
  });

  it('two launches at once still make one machine and one launch event', async () => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    const ref = refOf(created);
    await deps.services.provisioning.reserve(ref);
    const machinesBefore = provider.machinesCreated;
    const [a, b] = await Promise.all([deps.services.provisioning.launch(ref), deps.services.provisioning.launch(ref)]);
    expect(a.providerInstanceId).toBe(b.providerInstanceId);
    expect(provider.machinesCreated - machinesBefore).toBe(1);
    expect((await eventsOf(operator, created.id)).filter((e) => e.type === 'provisioning.launched')).toHaveLength(1);
  });

  it('fail after launch → ERROR with the message, and the machine is released (compensation)', async () => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    const ref = refOf(created);
    await deps.services.provisioning.reserve(ref);
    const launched = await deps.services.provisioning.launch(ref);
    expect(provider.machineFor(created.id)).toBeDefined();

    const failed = await deps.services.provisioning.fail(ref, new ProviderError('Image ubuntu-99 not found'));
    expect(failed.status).toBe('ERROR');
    expect(failed.errorMessage).toBe('Image ubuntu-99 not found');
    expect(provider.machineFor(created.id)).toBeUndefined();
    expect(provider.terminateCalls.map((r) => r.providerInstanceId)).toContain(launched.providerInstanceId);

    const stored = await deps.services.instances.get(operator, created.id);
    expect(stored).toMatchObject({ status: 'ERROR', errorMessage: 'Image ubuntu-99 not found' });
    const events = await eventsOf(operator, created.id);
    expect(events.slice(-2).map((e) => [e.type, e.toStatus ?? null])).toEqual([
      ['instance.status-changed', 'ERROR'],
      ['provisioning.compensated', null],
    ]);
    // An unexpected error is summarised, never a stack.
    const other = await deps.services.instances.create(operator, webServer());
    await deps.services.provisioning.reserve(refOf(other));
    const summarised = await deps.services.provisioning.fail(refOf(other), new TypeError('x is undefined\n    at foo (bar.ts:1:1)'));
    expect(summarised.errorMessage).toBe('Unexpected failure: x is undefined');
  });

  it('a machine launched but not yet recorded (the table write failed) is still released by fail', async () => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    const ref = refOf(created);
    await deps.services.provisioning.reserve(ref);
    // The provider creates the machine; recording its id then fails once (throttling, a timeout…).
    const save = vi.spyOn(deps.instances, 'save').mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException: Rate exceeded'));
    try {
      const error = await rejection(deps.services.provisioning.launch(ref));
      expect(provider.machineFor(created.id)).toBeDefined();
      const failed = await deps.services.provisioning.fail(ref, error);
      expect(failed.status).toBe('ERROR');
    } finally {
      save.mockRestore();
    }
    // Compensation must release what was created, recorded or not: launch is idempotent on the
    // instance id, so the provider can be asked for it.
    expect(provider.machineFor(created.id)).toBeUndefined();
  });

  it('a refused launch → ERROR, nothing held at the provider', async () => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    const ref = refOf(created);
    await deps.services.provisioning.reserve(ref);
    provider.failLaunch(new ProviderError('Quota of cores exhausted in local'));
    const error = await rejection(deps.services.provisioning.launch(ref));
    expect(error).toBeInstanceOf(ProviderError);
    const failed = await deps.services.provisioning.fail(ref, error);
    expect(failed).toMatchObject({ status: 'ERROR', errorMessage: 'Quota of cores exhausted in local' });
    expect(failed.providerInstanceId).toBeUndefined();
    expect(provider.machineFor(created.id)).toBeUndefined();
    expect((await eventsOf(operator, created.id)).map((e) => e.type)).not.toContain('provisioning.compensated');
  });

  it('a machine that errors while coming up → poll throws its reason → ERROR and released', async () => {
    const { operator } = await newClient();
    provider.pendingDescribes = 5;
    const created = await deps.services.instances.create(operator, webServer());
    const ref = refOf(created);
    await deps.services.provisioning.reserve(ref);
    await deps.services.provisioning.launch(ref);
    expect((await deps.services.provisioning.poll(ref)).done).toBe(false);
    provider.setState(created.id, 'error', 'kernel panic on boot');
    const error = await rejection(deps.services.provisioning.poll(ref));
    expect(error).toBeInstanceOf(ProviderError);
    const failed = await deps.services.provisioning.fail(ref, error);
    expect(failed).toMatchObject({ status: 'ERROR', errorMessage: 'kernel panic on boot' });
    expect(provider.machineFor(created.id)).toBeUndefined();
  });

  it('terminate → release → confirmTerminated: TERMINATED with terminatedAt and the final cost in the event', async () => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    const { instance: ready } = await provision(refOf(created));
    expect(ready.status).toBe('READY');
    const billableSince = Date.parse(ready.billableSince!);

    clock.advance(45 * MINUTE + 500);
    const terminating = await deps.services.instances.terminate(operator, created.id);
    expect(terminating.status).toBe('TERMINATING');
    expect(terminating.terminatedBy).toBe(`key:${operator.keyId}`);
    const finalCost = costForDuration(10_000, clock.now().getTime() - billableSince);
    expect(terminating.accruedCostMicros).toBe(finalCost);
    expect(workflows.callsFor(created.id).map((c) => c.workflow)).toEqual(['provision', 'terminate']);
    // A second terminate is an illegal transition, not a second workflow.
    expect(await rejection(deps.services.instances.terminate(operator, created.id))).toBeInstanceOf(IllegalTransitionError);

    // Not gone yet until released.
    expect((await deps.services.provisioning.confirmTerminated(refOf(created))).done).toBe(false);
    clock.advance(3_000);
    await deps.services.provisioning.release(refOf(created));
    expect(provider.machineFor(created.id)).toBeUndefined();
    clock.advance(2_000);
    const { instance: terminated, done } = await deps.services.provisioning.confirmTerminated(refOf(created));
    expect(done).toBe(true);
    expect(terminated.status).toBe('TERMINATED');
    expect(terminated.terminatedAt).toBe(clock.now().toISOString());
    expect(terminated.accruedCostMicros).toBe(finalCost);
    expect(terminated.billableSince).toBeUndefined();

    const events = await eventsOf(operator, created.id);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'instance.status-changed', fromStatus: 'TERMINATING', toStatus: 'TERMINATED' });
    expect(last.data).toEqual({ finalCostMicros: finalCost, terminatedBy: `key:${operator.keyId}` });

    clock.advance(60 * MINUTE);
    const stats = await deps.services.instances.statistics(operator, {});
    expect(stats).toMatchObject({ live: 0, currentlyRunning: 0, totalCostMicros: finalCost, finishedCount: 1, averageCostMicros: finalCost });
    expect(await rejection(deps.services.instances.update(operator, created.id, { tags: { a: 'b' } }))).toBeInstanceOf(ValidationError);
  });

  it('a terminate that lands while the provider is launching still leaves no machine behind', async () => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    const ref = refOf(created);
    await deps.services.provisioning.reserve(ref);
    provider.duringLaunch = async () => {
      await deps.services.instances.terminate(operator, created.id);
    };
    const recorded = await deps.services.provisioning.launch(ref);
    provider.duringLaunch = undefined;
    expect(recorded.status).toBe('TERMINATING');
    expect(recorded.providerInstanceId).toBeDefined();
    expect(provider.machineFor(created.id)).toBeUndefined();
    await deps.services.provisioning.release(ref);
    const { instance } = await deps.services.provisioning.confirmTerminated(ref);
    expect(instance.status).toBe('TERMINATED');
  });
});

describe('concurrent updates', () => {
  it('20 parallel tag updates: each succeeds or is a VersionConflictError; version and events match the successes', async () => {
    const { operator } = await newClient();
    const created = await deps.services.instances.create(operator, webServer());
    expect(created.version).toBe(1);

    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, n) => deps.services.instances.update(operator, created.id, { tags: { writer: String(n) } })),
    );
    const successes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(successes.length).toBeGreaterThanOrEqual(1);
    for (const failure of failures) {
      expect(failure, failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure)).toBeInstanceOf(VersionConflictError);
    }

    const stored = await deps.services.instances.get(operator, created.id);
    expect(stored.version).toBe(1 + successes.length);
    const winner = successes.reduce((a, b) => (a.version > b.version ? a : b));
    expect(winner.version).toBe(stored.version);
    expect(stored.tags).toEqual(winner.tags);
    expect(new Set(successes.map((s) => s.version)).size).toBe(successes.length);

    const updated = (await eventsOf(operator, created.id)).filter((e) => e.type === 'instance.updated');
    expect(updated).toHaveLength(successes.length);
    expect(updated.map((e) => (e.data as { tags: { writer: string } }).tags.writer).sort()).toEqual(
      successes.map((s) => s.tags.writer).sort(),
    );
  });
});
