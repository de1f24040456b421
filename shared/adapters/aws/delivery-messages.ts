import type { DeliveryJob } from '../../ports/webhook-queue.ts';

/**
 * The delivery queue's message body, both ways. Apart from the SQS adapter so the deliverer reads
 * messages without loading the SQS client, which it needs only to enqueue a retry.
 */
export const deliveryMessageBody = (job: DeliveryJob): string => JSON.stringify({ clientId: job.clientId, deliveryId: job.deliveryId });

/** A message body back into a job; anything else is not ours and is dropped by the caller. */
export function deliveryJobOf(body: string): DeliveryJob | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<DeliveryJob>;
    if (typeof parsed.clientId === 'string' && typeof parsed.deliveryId === 'string') return { clientId: parsed.clientId, deliveryId: parsed.deliveryId };
  } catch {
    // falls through
  }
  return undefined;
}
