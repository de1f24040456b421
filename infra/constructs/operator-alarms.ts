import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ProjectFunction } from './project-function.ts';

export interface OperatorAlarmsProps {
  /** The topic is `<namePrefix>-alarms`, each alarm `<namePrefix>-<what>`. */
  readonly namePrefix: string;
  /** The custom metrics (e.g. failed sync jobs) go to this CloudWatch namespace. */
  readonly metricNamespace: string;
  /** An address subscribed to the topic (it confirms by mail). @default no subscription */
  readonly email?: string;
}

/**
 * What an operator must hear about without watching a console: messages left in a dead-letter or
 * failure queue, workflow executions that failed or timed out, and sync runs that failed. Every
 * alarm notifies one SNS topic, on alarm and on recovery; subscribe to it (email through the
 * `alarmEmail` context value, or anything SNS delivers to).
 */
export class OperatorAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  private readonly props: OperatorAlarmsProps;

  constructor(scope: Construct, id: string, props: OperatorAlarmsProps) {
    super(scope, id);
    this.props = props;
    this.topic = new Topic(this, 'Topic', {
      topicName: `${props.namePrefix}-alarms`,
      displayName: `Hangar ${props.namePrefix} alarms`,
      enforceSSL: true,
    });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'The topic carries CloudWatch alarm state changes only (alarm name, metric, threshold), no tenant data or secrets. ' +
        'CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer key for alarm ' +
        'notices would add a key policy to keep and a monthly charge for no confidentiality gained.',
    });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
  }

  /** Alarms as soon as one message is waiting in `queue` (a dead-letter or failure queue is empty when all is well). */
  watchQueue(id: string, queue: IQueue, description: string): Alarm {
    return this.alarm(id, {
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      description,
    });
  }

  /**
   * Alarms when the oldest message of a work queue has waited longer than `maxAge`: its consumer
   * is failing or gone. (A work queue is rarely empty, so its length says nothing.)
   */
  watchBacklog(id: string, queue: IQueue, maxAge: Duration, description: string): Alarm {
    return this.alarm(id, {
      metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: maxAge.toSeconds(),
      description,
    });
  }

  /** Alarms on any execution of `machine` that failed or timed out (both end with the instance recorded in ERROR). */
  watchStateMachine(id: string, machine: StateMachine, description: string): Alarm {
    const period = Duration.minutes(5);
    return this.alarm(id, {
      metric: new MathExpression({
        expression: 'failed + timedOut',
        label: 'Failed or timed-out executions',
        usingMetrics: {
          failed: machine.metricFailed({ period, statistic: 'Sum' }),
          timedOut: machine.metricTimedOut({ period, statistic: 'Sum' }),
        },
        period,
      }),
      description,
    });
  }

  /**
   * Alarms when `fn` fails (Lambda's Errors) or logs one of `loggedFailures` (a message its handler
   * writes when work failed without the invocation failing, e.g. a sync job recorded FAILED).
   */
  watchFunction(id: string, fn: ProjectFunction, description: string, loggedFailures?: { metricName: string; message: string }): Alarm {
    const period = Duration.minutes(5);
    const errors = fn.function.metricErrors({ period, statistic: 'Sum' });
    if (!loggedFailures) return this.alarm(id, { metric: errors, description });
    new MetricFilter(this, `${id}LoggedFailures`, {
      logGroup: fn.logGroup,
      metricNamespace: this.props.metricNamespace,
      metricName: loggedFailures.metricName,
      // Powertools' logger writes JSON lines whose `message` is the text the handler logged.
      filterPattern: FilterPattern.stringValue('$.message', '=', loggedFailures.message),
      metricValue: '1',
      defaultValue: 0,
    });
    const logged = new Metric({
      namespace: this.props.metricNamespace,
      metricName: loggedFailures.metricName,
      period,
      statistic: 'Sum',
    });
    return this.alarm(id, {
      metric: new MathExpression({
        expression: 'errors + logged',
        label: `Errors and ${loggedFailures.metricName}`,
        usingMetrics: { errors, logged },
        period,
      }),
      description,
    });
  }

  private alarm(id: string, options: { metric: IMetric; description: string; threshold?: number }): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName: `${this.props.namePrefix}-${kebab(id)}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means nothing failed (queues and error metrics report nothing while idle).
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }
}

const kebab = (pascal: string) => pascal.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
