import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { atExpression, EventBridgeScheduler } from '../../../shared/adapters/aws/eventbridge-scheduler.ts';
import { deadlineScheduleName } from '../../../shared/services/schedule-names.ts';

const TARGET = 'arn:aws:states:us-east-1:123456789012:stateMachine:hangar-terminate';
const ROLE = 'arn:aws:iam::123456789012:role/hangar-scheduler';
const DLQ = 'arn:aws:sqs:us-east-1:123456789012:hangar-scheduler-dlq';
const AT = new Date('2026-03-04T05:06:07.890Z');
const PAYLOAD = { instanceId: 'vps-web-server-abc123', reason: 'auto-terminate' };

const expected = {
  Name: 'terminate-vps-web-server-abc123',
  GroupName: 'hangar',
  ScheduleExpression: 'at(2026-03-04T05:06:07)',
  ScheduleExpressionTimezone: 'UTC',
  FlexibleTimeWindow: { Mode: 'OFF' },
  ActionAfterCompletion: 'DELETE',
  Target: {
    Arn: TARGET,
    RoleArn: ROLE,
    Input: '{"instanceId":"vps-web-server-abc123","reason":"auto-terminate"}',
    RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
    DeadLetterConfig: { Arn: DLQ },
  },
};

const conflict = () => new ConflictException({ message: 'Schedule already exists', Message: 'Schedule already exists', $metadata: {} });
const notFound = () => new ResourceNotFoundException({ message: 'Schedule does not exist', Message: 'Schedule does not exist', $metadata: {} });

describe('EventBridgeScheduler', () => {
  const mock = mockClient(SchedulerClient);
  const client = new SchedulerClient({ region: 'us-east-1' });
  const scheduler = new EventBridgeScheduler({ groupName: 'hangar', targetArn: TARGET, roleArn: ROLE, deadLetterArn: DLQ, client });
  const schedule = { name: deadlineScheduleName(PAYLOAD.instanceId), at: AT, payload: PAYLOAD };

  beforeEach(() => mock.reset());

  it('creates a one-time UTC schedule that deletes itself, with retries and a dead-letter queue', async () => {
    mock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/hangar/x' });
    await scheduler.scheduleOnce(schedule);
    expect(mock.calls()).toHaveLength(1);
    expect(mock.commandCalls(CreateScheduleCommand)[0]!.args[0].input).toEqual(expected);
  });

  it('replaces an existing schedule of the same name with UpdateSchedule and the same fields', async () => {
    mock.on(CreateScheduleCommand).rejects(conflict());
    mock.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await scheduler.scheduleOnce(schedule);
    expect(mock.calls()).toHaveLength(2);
    expect(mock.commandCalls(UpdateScheduleCommand)[0]!.args[0].input).toEqual(expected);
  });

  it('creates it again when it vanished between the conflict and the update', async () => {
    mock.on(CreateScheduleCommand).rejectsOnce(conflict()).resolves({ ScheduleArn: 'arn' });
    mock.on(UpdateScheduleCommand).rejects(notFound());
    await scheduler.scheduleOnce(schedule);
    const creates = mock.commandCalls(CreateScheduleCommand);
    expect(creates).toHaveLength(2);
    expect(creates[1]!.args[0].input).toEqual(expected);
  });

  it('omits the dead-letter config when none is given and passes other errors through', async () => {
    const plain = new EventBridgeScheduler({ groupName: 'hangar', targetArn: TARGET, roleArn: ROLE, client });
    mock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await plain.scheduleOnce(schedule);
    const { DeadLetterConfig: _, ...target } = expected.Target;
    expect(mock.commandCalls(CreateScheduleCommand)[0]!.args[0].input).toEqual({ ...expected, Target: target });

    mock.reset();
    mock.on(CreateScheduleCommand).rejects(new Error('AccessDenied'));
    await expect(plain.scheduleOnce(schedule)).rejects.toThrow('AccessDenied');
    expect(mock.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
  });

  it('cancels with DeleteSchedule in the group, and a missing schedule is a success', async () => {
    mock.on(DeleteScheduleCommand).resolvesOnce({}).rejects(notFound());
    await scheduler.cancel('terminate-vps-web-server-abc123');
    await scheduler.cancel('terminate-vps-web-server-abc123');
    const deletes = mock.commandCalls(DeleteScheduleCommand);
    expect(deletes).toHaveLength(2);
    for (const call of deletes) expect(call.args[0].input).toEqual({ Name: 'terminate-vps-web-server-abc123', GroupName: 'hangar' });

    mock.reset();
    mock.on(DeleteScheduleCommand).rejects(new Error('Throttled'));
    await expect(scheduler.cancel('x')).rejects.toThrow('Throttled');
  });

  it('writes the time as whole UTC seconds', () => {
    expect(atExpression(new Date('2026-12-31T23:59:59.999Z'))).toBe('at(2026-12-31T23:59:59)');
    expect(atExpression(new Date('2026-01-01T12:00:00+02:00'))).toBe('at(2026-01-01T10:00:00)');
    expect(() => atExpression(new Date('nope'))).toThrow(RangeError);
  });
});

describe('deadlineScheduleName', () => {
  it('is terminate-<id> while that fits in 64 characters', () => {
    expect(deadlineScheduleName('vps-web-server-abc123')).toBe('terminate-vps-web-server-abc123');
    const longest = `vps-${'a'.repeat(43)}-abc123`; // 54 characters: exactly fits
    expect(deadlineScheduleName(longest)).toBe(`terminate-${longest}`);
    expect(deadlineScheduleName(longest)).toHaveLength(64);
  });

  it('cuts longer ids and ends them with a hash, deterministic and distinct', () => {
    const a = `vps-${'a'.repeat(53)}-abc123`; // 64 characters
    const b = `vps-${'a'.repeat(53)}-abc124`;
    expect(deadlineScheduleName(a)).toHaveLength(64);
    expect(deadlineScheduleName(a)).toMatch(/^terminate-vps-a{33}-[0-9a-f]{16}$/);
    expect(deadlineScheduleName(a)).toBe(deadlineScheduleName(a));
    expect(deadlineScheduleName(a)).not.toBe(deadlineScheduleName(b));
    expect(deadlineScheduleName(a)).toMatch(/^[0-9A-Za-z._-]+$/);
  });
});
