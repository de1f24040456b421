import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { every } from '../../../infra/local/periodic.ts';

describe('every', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('skips a tick while the previous pass still runs, and runs again once it has finished', async () => {
    let started = 0;
    let finish: () => void = () => undefined;
    const pass = () => {
      started++;
      return new Promise<void>((resolve) => (finish = resolve));
    };
    const periodic = every(100, pass, () => undefined);

    await vi.advanceTimersByTimeAsync(100);
    expect(started).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(started).toBe(1);

    finish();
    await vi.advanceTimersByTimeAsync(100);
    expect(started).toBe(2);
    finish();
    await periodic.stop();
  });

  it('reports a failed pass and keeps its cadence', async () => {
    const errors: unknown[] = [];
    let started = 0;
    const periodic = every(
      50,
      async () => {
        started++;
        throw new Error(`pass ${started} failed`);
      },
      (error) => errors.push(error),
    );

    await vi.advanceTimersByTimeAsync(150);
    await periodic.stop();
    expect(started).toBe(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(['pass 1 failed', 'pass 2 failed', 'pass 3 failed']);
  });

  it('stops: no pass starts after stop, and stop waits for the pass in flight', async () => {
    let finished = false;
    let started = 0;
    const periodic = every(
      100,
      async () => {
        started++;
        await new Promise((resolve) => setTimeout(resolve, 250));
        finished = true;
      },
      () => undefined,
    );
    await vi.advanceTimersByTimeAsync(100);
    const stopping = periodic.stop();
    await vi.advanceTimersByTimeAsync(250);
    await stopping;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(1);
  });
});
