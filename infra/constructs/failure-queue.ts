import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A queue that only ever holds what failed (a dead-letter queue, an on-failure destination):
 * SQS-managed encryption (a customer key would need grants for every sender, the scheduler
 * included), TLS only, kept two weeks. An operator alarm watches it instead of a dead-letter
 * queue behind it; `whyNoDeadLetterQueue` says, for cdk-nag, what it receives.
 */
export function failureQueue(scope: Construct, id: string, whyNoDeadLetterQueue: string): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: whyNoDeadLetterQueue });
  return queue;
}
