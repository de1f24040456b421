/**
 * Many people acting on one READY instance at once, with the real state machines running
 * underneath (LocalStepFunctions over DynamoDB Local): every call either wins or loses cleanly
 * (409 lost race, 422 illegal transition), every accepted call leaves exactly one event, and
 * once the workflows have drained the record and the provider agree on a final state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IllegalTransitionError, VersionConflictError } from '../../../shared/domain/errors.ts';
import type { Instance } from '../../../shared/domain/instance.ts';
import { INSTANCE_ACTIONS, TRANSITIONAL_STATUSES } from '../../../shared/domain/lifecycle.ts';
import { startWorkflowHarness, type WorkflowHarness } from './harness.ts';

let h: WorkflowHarness;

beforeAll(async () => {
  h = await startWorkflowHarness('wf-concurrency');
});
afterAll(async () => {
  await h?.stop();
});

/** The user actions of the transition table (the ones a person's request records). */
const USER_ACTIONS: readonly string[] = INSTANCE_ACTIONS.slice(0, INSTANCE_ACTIONS.indexOf('reserve'));

type Action = 'stop' | 'start' | 'terminate';
const ACTIONS: readonly Action[] = ['stop', 'start', 'terminate'];

/** A small seeded generator (mulberry32) so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  action: Action;
  accepted: boolean;
  /** A terminate that found the instance already TERMINATED: answered as it is, nothing written. */
  noop?: boolean;
  error?: unknown;
}

async function call(action: Action, id: string, delayMs: number): Promise<Outcome> {
  await sleep(delayMs);
  try {
    if (action === 'terminate') {
      const answered = await h.deps.services.instances.terminate(h.operator, id);
      return { action, accepted: true, noop: answered.status === 'TERMINATED' };
    }
    await h.deps.services.instances.act(h.operator, id, action, {});
    return { action, accepted: true };
  } catch (error) {
    return { action, accepted: false, error };
  }
}

async function readyInstance(): Promise<Instance> {
  const created = await h.create({ name: 'Contended' });
  await h.drain();
  const instance = await h.get(created.id);
  expect(instance.status).toBe('READY');
  return instance;
}

/**
 * 20 calls at once (all released together), or spread over `spreadMs` so some land while the
 * workflows of earlier winners are still running.
 */
async function storm(seed: number, spreadMs: number, terminateWeight = 1 / 3): Promise<{ instance: Instance; outcomes: Outcome[] }> {
  const instance = await readyInstance();
  const next = random(seed);
  const pick = (): Action => {
    const r = next();
    if (r < terminateWeight) return 'terminate';
    return r < terminateWeight + (1 - terminateWeight) / 2 ? 'stop' : 'start';
  };
  const plan = Array.from({ length: 20 }, () => ({ action: pick(), delay: Math.floor(next() * spreadMs) }));
  const outcomes = await Promise.all(plan.map((p) => call(p.action, instance.id, p.delay)));
  await h.drain();
  return { instance, outcomes };
}

async function expectConsistent(instance: Instance, outcomes: Outcome[], seed: number): Promise<void> {
  const context = `seed ${seed}: ${outcomes.map((o) => `${o.action}:${o.accepted ? 'ok' : (o.error as Error).name}`).join(' ')}`;

  // Each call either succeeded or lost cleanly: nothing else.
  for (const outcome of outcomes) {
    if (outcome.accepted) continue;
    const error = outcome.error as Error & { status?: number };
    const clean =
      (error instanceof VersionConflictError && error.status === 409) || (error instanceof IllegalTransitionError && error.status === 422);
    expect(clean, `${context}\nunexpected rejection of ${outcome.action}: ${error?.name} ${error?.message}`).toBe(true);
  }
  const accepted = outcomes.filter((o) => o.accepted);
  expect(accepted.length, context).toBeGreaterThan(0);

  // Drained: no workflow still running, and no transitional status left behind.
  const final = await h.get(instance.id);
  expect(TRANSITIONAL_STATUSES.includes(final.status), `${context}\nleft in ${final.status}`).toBe(false);
  expect(['READY', 'STOPPED', 'TERMINATED'], `${context}\nfinal ${final.status}: ${final.errorMessage ?? ''}`).toContain(final.status);

  // An accepted terminate always wins in the end; nothing else ends an instance.
  expect(final.status === 'TERMINATED', context).toBe(accepted.some((o) => o.action === 'terminate'));

  // One event per accepted call that changed something, carrying a user action, by the caller.
  const events = await h.events(instance.id);
  const changed = accepted.filter((o) => !o.noop);
  const userEvents = events.filter((e) => e.action !== undefined && USER_ACTIONS.includes(e.action));
  expect(userEvents.length, context).toBe(changed.length);
  expect(userEvents.every((e) => e.actor === `key:${h.operator.keyId}`)).toBe(true);
  expect(userEvents.map((e) => e.action).sort(), context).toEqual(changed.map((o) => o.action).sort());

  // The history is a valid walk: each status change starts where the previous one ended.
  const changes = events.filter((e) => e.fromStatus !== undefined && e.toStatus !== undefined && e.fromStatus !== e.toStatus);
  for (let i = 1; i < changes.length; i++) expect(changes[i]!.fromStatus, context).toBe(changes[i - 1]!.toStatus);
  expect(changes.at(-1)?.toStatus, context).toBe(final.status);

  // The provider agrees with the record.
  const machine = h.provider.machineFor(instance.id);
  if (final.status === 'TERMINATED') expect(machine, context).toBeUndefined();
  if (final.status === 'STOPPED') expect(machine?.state, context).toBe('stopped');
  if (final.status === 'READY') expect(machine?.state, context).toBe('running');
  if (final.status !== 'TERMINATED') expect(final.providerInstanceId).toBe(machine?.providerInstanceId);
  if (final.status !== 'READY') expect(final.billableSince, context).toBeUndefined();
  else expect(final.billableSince, context).toBeDefined();
}

describe('20 parallel stop/start/terminate calls on one READY instance', () => {
  it.each([1, 2, 3])('all released together (seed %i)', async (seed) => {
    const { instance, outcomes } = await storm(seed, 0);
    await expectConsistent(instance, outcomes, seed);
  });

  it.each([11, 12, 13, 14, 15, 16])('spread over 400 ms while the workflows run (seed %i)', async (seed) => {
    const { instance, outcomes } = await storm(seed, 400);
    await expectConsistent(instance, outcomes, seed);
  });

  // Terminate rarely (or never), spread wider: stop/start cycles, ending READY or STOPPED too.
  it.each([31, 32, 33, 34])('mostly stop/start, spread over 1 s (seed %i)', async (seed) => {
    const { instance, outcomes } = await storm(seed, 1_000, seed % 2 === 0 ? 0 : 0.05);
    await expectConsistent(instance, outcomes, seed);
  });

  it('a terminate after the storm settles always ends TERMINATED with no machine', async () => {
    const { instance, outcomes } = await storm(21, 200);
    await expectConsistent(instance, outcomes, 21);
    const settled = await h.get(instance.id);
    if (settled.status !== 'TERMINATED') {
      const terminating = await h.deps.services.instances.terminate(h.operator, instance.id);
      await h.drain();
      expect(h.executionStatus('terminate', terminating)).toBe('SUCCEEDED');
    }
    expect((await h.get(instance.id)).status).toBe('TERMINATED');
    expect(h.provider.machineFor(instance.id)).toBeUndefined();
  });
});
