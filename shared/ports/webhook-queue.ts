/** What the deliverer needs to find a delivery: the table holds the rest. */
export interface DeliveryJob {
  clientId: string;
  deliveryId: string;
}

/**
 * Where delivery attempts wait for their turn: an SQS queue on AWS (delays beyond SQS's 15
 * minutes are waited out in hops), timers in the local runtime. At-least-once: the deliverer
 * ignores a job whose delivery is already settled or not yet due.
 */
export interface WebhookQueue {
  enqueue(job: DeliveryJob, delayMs: number): Promise<void>;
}
