/** The event bus, the webhook queue with its DLQ and alarm, the deliverer and their least-privilege grants. */
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HangarStacks } from '../../infra/hangar-app.ts';
import { EVENT_BUS_VARIABLE } from '../../shared/adapters/aws/eventbridge-sink.ts';
import { WEBHOOK_QUEUE_URL_VARIABLE } from '../../shared/adapters/aws/sqs-webhook-queue.ts';
import {
  acknowledgedRules,
  actionsOf,
  kmsActionsOf,
  logicalIdIn,
  nagErrorsIn,
  nagErrorsInReport,
  resourcesOf,
  roleStatements,
  synthesize,
  type Synthesized,
} from './synth.ts';

const STAGE = 'test';
let synthesized: Synthesized;
let stacks: HangarStacks;
let stateful: Template;
let stateless: Template;

beforeAll(() => {
  synthesized = synthesize(STAGE);
  ({ stacks, stateful, stateless } = synthesized);
});

const webhooks = () => stacks.stateless.webhooks;
const idOf = (construct: Parameters<typeof logicalIdIn>[1]) => logicalIdIn(stacks.stateless, construct);
const resources = () => stateless.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const queueArn = () => ({ 'Fn::GetAtt': [idOf(webhooks().queue), 'Arn'] });
const sqsStatements = (roleId: string) => roleStatements(stateless, roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
const variablesOf = (fnId: string) => (resources()[fnId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('the event bus', () => {
  it('is the stage bus hangar-<stage>, in the stateful stack so customers rules outlive redeployments', () => {
    stateful.resourceCountIs('AWS::Events::EventBus', 1);
    stateful.hasResourceProperties('AWS::Events::EventBus', { Name: `hangar-${STAGE}` });
    stateless.resourceCountIs('AWS::Events::EventBus', 0);
    stateful.hasOutput('EventBusName', {});
  });
});

describe('webhook delivery', () => {
  it('queues attempts on an encrypted, TLS-only queue whose dead letters go to a second queue after five receipts', () => {
    const queue = resources()[idOf(webhooks().queue)]!.Properties;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      // Six times the deliverer's 30 s timeout.
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [idOf(webhooks().deadLetterQueue), 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(resources()[idOf(webhooks().deadLetterQueue)]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    for (const q of [webhooks().queue, webhooks().deadLetterQueue]) {
      stateless.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: idOf(q) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  it('alarms the operators when a job lands in the dead-letter queue', () => {
    stateless.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(webhooks().deadLetterQueue), 'QueueName'] } }],
      AlarmActions: Match.anyValue(),
    });
  });

  it('consumes the queue with the deliverer: batches of 10, partial batch failures, bounded concurrency', () => {
    const fnId = idOf(webhooks().deliverer.function);
    stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      EventSourceArn: queueArn(),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    expect(resources()[fnId]!.Properties.Timeout).toBe(30);
    expect(variablesOf(fnId)[WEBHOOK_QUEUE_URL_VARIABLE]).toEqual({ Ref: idOf(webhooks().queue) });
  });

  it('lets the deliverer consume and re-enqueue on that queue only, open secrets (Decrypt only), and nothing on any bus', () => {
    const roleId = idOf(webhooks().deliverer.role);
    const sqs = sqsStatements(roleId);
    expect(sqs.flatMap(resourcesOf).every((r) => JSON.stringify(r) === JSON.stringify(queueArn()))).toBe(true);
    expect(sqs.flatMap(actionsOf)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:SendMessage']));
    expect(kmsActionsOf(synthesized, stateless, roleId)).toEqual(['kms:Decrypt']);
    expect(roleStatements(stateless, roleId).flatMap(actionsOf).filter((a) => a.startsWith('events:'))).toEqual([]);
  });

  it('lets the webhooks API send test events to the queue, and not consume it', () => {
    const api = stacks.stateless.api.functions.webhooks;
    const actions = sqsStatements(idOf(api.role)).flatMap(actionsOf);
    expect(actions).toContain('sqs:SendMessage');
    expect(actions).not.toContain('sqs:ReceiveMessage');
    expect(actions).not.toContain('sqs:DeleteMessage');
    expect(variablesOf(idOf(api.function))[WEBHOOK_QUEUE_URL_VARIABLE]).toEqual({ Ref: idOf(webhooks().queue) });
    expect(kmsActionsOf(synthesized, stateless, idOf(api.role))).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('grants events:PutEvents on the stage bus to the functions that name it (the event router), and to no other function', () => {
    const fnIds = Object.entries(resources())
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id]) => id);
    const router = fnIds.filter((id) => variablesOf(id)?.[EVENT_BUS_VARIABLE]);
    expect(router).toHaveLength(1);
    expect(resources()[router[0]!]!.Properties.Description).toMatch(/event router/);
    // It also queues the webhook deliveries of the events it routes.
    expect(variablesOf(router[0]!)[WEBHOOK_QUEUE_URL_VARIABLE]).toEqual({ Ref: idOf(webhooks().queue) });
    const roleOfRouter = (resources()[router[0]!]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(sqsStatements(roleOfRouter).flatMap(actionsOf)).toContain('sqs:SendMessage');
    expect(sqsStatements(roleOfRouter).flatMap(actionsOf)).not.toContain('sqs:ReceiveMessage');
    const roleOf = (fnId: string) => (resources()[fnId]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    for (const fnId of fnIds) {
      const putEvents = roleStatements(stateless, roleOf(fnId)).filter((s) => actionsOf(s).includes('events:PutEvents'));
      const named = variablesOf(fnId)?.[EVENT_BUS_VARIABLE];
      if (!named) {
        expect(putEvents, fnId).toEqual([]);
        continue;
      }
      // On the bus, by ARN from the stateful stack, and nothing else.
      expect(putEvents.flatMap(resourcesOf)).toHaveLength(1);
      expect(JSON.stringify(putEvents.flatMap(resourcesOf))).toContain('Fn::GetStackOutput');
    }
  });

  it('is cdk-nag clean, every acknowledgement with its reason beside the resource', () => {
    expect(nagErrorsIn(webhooks())).toEqual([]);
    expect(nagErrorsInReport(synthesized.report).filter((e) => e.includes('/Webhooks/') || e.includes('/Events/'))).toEqual([]);
    const acknowledged = acknowledgedRules(webhooks());
    expect(acknowledged.find((a) => a.rule === 'AwsSolutions-SQS3')).toMatchObject({ path: expect.stringMatching(/Webhooks\/DeadLetterQueue$/), reason: expect.stringMatching(/dead-letter queue of the webhook queue/) });
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(40);
  });
});
