import { ProviderError } from '../../shared/domain/errors.ts';
import type { InstanceRef, Workflows } from '../../shared/ports/workflows.ts';
import type { ProvisioningSteps, StepResult } from '../../shared/services/provisioning.ts';

export interface RunnerOptions {
  /** First wait between polls; grows by half each time up to `maxPollIntervalMs`. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Give up on a machine that has not come up (or gone) by then. */
  pollTimeoutMs?: number;
  onError?: (error: unknown, ref: InstanceRef) => void;
}

/**
 * Runs the provisioning and termination steps in this process: the local stand-in for the
 * Step Functions workflows. Each run is tracked so shutdown can wait for it.
 */
export class LocalWorkflowRunner implements Workflows {
  private readonly running = new Set<Promise<void>>();
  private readonly options: Required<Omit<RunnerOptions, 'onError'>> & Pick<RunnerOptions, 'onError'>;
  private closed = false;

  constructor(
    private readonly steps: ProvisioningSteps,
    options: RunnerOptions = {},
  ) {
    this.options = { pollIntervalMs: 200, maxPollIntervalMs: 2_000, pollTimeoutMs: 60_000, ...options };
  }

  async startProvisioning(ref: InstanceRef): Promise<void> {
    this.track(this.provision(ref), ref);
  }

  async startTermination(ref: InstanceRef): Promise<void> {
    this.track(this.terminate(ref), ref);
  }

  async startStopping(ref: InstanceRef, options: { force?: boolean } = {}): Promise<void> {
    this.track(this.stop(ref, options), ref);
  }

  async startStarting(ref: InstanceRef): Promise<void> {
    this.track(this.start(ref), ref);
  }

  /** Resolve once every run started so far has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Stop polling loops early (runtime shutdown); steps in flight finish. */
  close(): void {
    this.closed = true;
  }

  private track(run: Promise<void>, ref: InstanceRef): void {
    const tracked = run.catch((error) => this.options.onError?.(error, ref)).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private async provision(ref: InstanceRef): Promise<void> {
    try {
      await this.steps.reserve(ref);
      await this.steps.launch(ref);
      await this.pollUntilDone(() => this.steps.poll(ref), 'come up');
      await this.steps.configure(ref);
      await this.steps.activate(ref);
    } catch (error) {
      await this.steps.fail(ref, error);
    }
  }

  private async terminate(ref: InstanceRef): Promise<void> {
    await this.steps.release(ref);
    await this.pollUntilDone(() => this.steps.confirmTerminated(ref), 'go away');
  }

  private async stop(ref: InstanceRef, options: { force?: boolean }): Promise<void> {
    try {
      await this.steps.stopMachine(ref, options);
      await this.pollUntilDone(() => this.steps.confirmStopped(ref), 'stop');
    } catch (error) {
      await this.steps.fail(ref, error);
    }
  }

  private async start(ref: InstanceRef): Promise<void> {
    try {
      await this.steps.startMachine(ref);
      await this.pollUntilDone(() => this.steps.confirmStarted(ref), 'start');
    } catch (error) {
      await this.steps.fail(ref, error);
    }
  }

  private async pollUntilDone(step: () => Promise<StepResult>, what: string): Promise<void> {
    const { pollTimeoutMs, maxPollIntervalMs } = this.options;
    const deadline = Date.now() + pollTimeoutMs;
    let wait = this.options.pollIntervalMs;
    for (;;) {
      if ((await step()).done) return;
      if (this.closed) throw new ProviderError('Interrupted because the Hangar runtime is shutting down', true);
      if (Date.now() + wait > deadline) {
        throw new ProviderError(`The machine did not ${what} within ${Math.round(pollTimeoutMs / 1000)} s`, true);
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(Math.round(wait * 1.5), maxPollIntervalMs);
    }
  }
}
