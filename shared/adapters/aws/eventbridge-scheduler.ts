import { requireEnv } from '../../config/env.ts';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { ScheduleRequest, Scheduler } from '../../ports/scheduler.ts';

/** Created once per container, on first use; the SDK's own retries and endpoint resolution apply. */
let sharedClient: SchedulerClient | undefined;
const defaultClient = () => (sharedClient ??= new SchedulerClient({}));

export interface EventBridgeSchedulerOptions {
  /** The schedule group every schedule is created in (it must exist). */
  groupName: string;
  /** What the schedule invokes (e.g. the terminate state machine or function). */
  targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
  /** Where deliveries that exhaust their retries go (SQS queue ARN). */
  deadLetterArn?: string;
  /** Delivery retries; EventBridge allows 0–185 attempts and 60–86400 seconds. */
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  client?: SchedulerClient;
}

/** Environment variables the CDK app sets on the functions that schedule deadlines. */
export const DEADLINE_SCHEDULER_VARIABLES = {
  groupName: 'DEADLINE_SCHEDULE_GROUP',
  targetArn: 'DEADLINE_TARGET_ARN',
  roleArn: 'DEADLINE_SCHEDULER_ROLE_ARN',
  deadLetterArn: 'DEADLINE_DEAD_LETTER_ARN',
} as const;

export function deadlineSchedulerFromEnvironment(): EventBridgeSchedulerOptions {
  const v = DEADLINE_SCHEDULER_VARIABLES;
  return {
    groupName: requireEnv(v.groupName),
    targetArn: requireEnv(v.targetArn),
    roleArn: requireEnv(v.roleArn),
    deadLetterArn: process.env[v.deadLetterArn] || undefined,
  };
}

export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 3;
export const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 3600;

/** `at(2026-01-01T00:05:00)`: one-time expression, whole seconds, read in UTC (see the timezone field). */
export function atExpression(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new RangeError('Schedule time is not a valid date');
  return `at(${at.toISOString().slice(0, 19)})`;
}

/**
 * One-time schedules on EventBridge Scheduler. Each deletes itself after it fires
 * (ActionAfterCompletion DELETE), so nothing accumulates; scheduling an existing name updates it
 * in place, and cancelling a missing one is a success.
 */
export class EventBridgeScheduler implements Scheduler {
  private resolved: EventBridgeSchedulerOptions | undefined;

  /** `options` may be a function: read from the environment on first use, not at cold start. */
  constructor(private readonly given: EventBridgeSchedulerOptions | (() => EventBridgeSchedulerOptions)) {}

  /** As the CDK app configures it; the variables are read on first use. */
  static fromEnvironment(): EventBridgeScheduler {
    return new EventBridgeScheduler(deadlineSchedulerFromEnvironment);
  }

  private get options(): EventBridgeSchedulerOptions {
    this.resolved ??= typeof this.given === 'function' ? this.given() : this.given;
    return this.resolved;
  }

  private get client(): SchedulerClient {
    return this.options.client ?? defaultClient();
  }

  /** The full definition; CreateSchedule and UpdateSchedule take the same fields (update replaces all). */
  request(schedule: ScheduleRequest): CreateScheduleCommandInput {
    const { groupName, targetArn, roleArn, deadLetterArn } = this.options;
    return {
      Name: schedule.name,
      GroupName: groupName,
      ScheduleExpression: atExpression(schedule.at),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: targetArn,
        RoleArn: roleArn,
        Input: JSON.stringify(schedule.payload),
        RetryPolicy: {
          MaximumRetryAttempts: this.options.maximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
          MaximumEventAgeInSeconds: this.options.maximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
        },
        ...(deadLetterArn ? { DeadLetterConfig: { Arn: deadLetterArn } } : {}),
      },
    };
  }

  async scheduleOnce(schedule: ScheduleRequest): Promise<void> {
    const input = this.request(schedule);
    try {
      await this.client.send(new CreateScheduleCommand(input));
      return;
    } catch (error) {
      if (!isError(error, ConflictException, 'ConflictException')) throw error;
    }
    // The name exists: replace its time, target and payload.
    try {
      await this.client.send(new UpdateScheduleCommand(input));
    } catch (error) {
      // It fired (and deleted itself) or was cancelled in between: create it afresh.
      if (!isError(error, ResourceNotFoundException, 'ResourceNotFoundException')) throw error;
      await this.client.send(new CreateScheduleCommand(input));
    }
  }

  async cancel(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
    } catch (error) {
      if (!isError(error, ResourceNotFoundException, 'ResourceNotFoundException')) throw error;
    }
  }
}

/** By class or by name: errors deserialised by another copy of the SDK fail instanceof. */
function isError(error: unknown, type: new (...args: never[]) => Error, name: string): boolean {
  return error instanceof type || (error instanceof Error && error.name === name);
}
