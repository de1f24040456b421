import type { DeliveryJob, WebhookQueue } from '../../ports/webhook-queue.ts';

/**
 * The local runtime's delivery queue: a timer per waiting job, run in this process. Pending
 * retries do not survive a restart of the runtime (the delivery log keeps them as pending);
 * on AWS the SQS queue holds them.
 */
export class InProcessWebhookQueue implements WebhookQueue {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly deliver: (job: DeliveryJob) => Promise<void>,
    private readonly onError: (error: unknown, job: DeliveryJob) => void = () => undefined,
  ) {}

  async enqueue(job: DeliveryJob, delayMs: number): Promise<void> {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = this.deliver(job)
        .catch((error) => this.onError(error, job))
        .finally(() => this.running.delete(run));
      this.running.add(run);
    }, Math.max(0, delayMs));
    timer.unref();
    this.timers.add(timer);
  }

  /** Drop waiting jobs and let the ones under way finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }
}
