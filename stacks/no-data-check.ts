import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule';
import { HANDLER_ENV, retentionEnvironment, type RetentionDays } from '../handlers/contract';
import type { PackagedHandler } from '../build/handler-bundle';
import { packagedFunction } from './packaged-function';
import { AT_LEAST_ONCE, notifyingAlarm } from './alarm';
import { NO_DATA_CHECK_LIMITS } from './construct-defaults';
import type { TableKey, TableRef } from './data-tables';
import { ServiceRole } from './service-role';
export { NO_DATA_CHECK_LIMITS } from './construct-defaults';

export interface NoDataCheckProps {
  /** The function is `<namePrefix>-no-data-alerts`, its schedule `<namePrefix>-no-data-check`. */
  readonly namePrefix: string;
  /** The `no-data-alerts` bundle. */
  readonly package: PackagedHandler;
  readonly tables: Readonly<Record<TableKey, TableRef>>;
  /** The default recipient group's topic. */
  readonly alertTopicArn: string;
  /** The other groups' topics, by name. */
  readonly recipientTopicArns: Readonly<Record<string, string>>;
  /** Key of the alert topics. */
  readonly kmsKeyArn: string;
  /** Account the schedule runs in: the scheduler may assume the role for it only. */
  readonly accountId: string;
  readonly logRetentionDays: number;
  /** Notified when the check fails or is throttled, and on recovery. */
  readonly alarmActions: readonly string[];
  /** @default NO_DATA_CHECK_LIMITS.intervalMinutes.default */
  readonly intervalMinutes?: number;
  /** Days history items and raw readings are kept (TTL). @default kept for ever */
  readonly hotRetentionDays?: number;
  /** Days the rollups of each step stay after their bucket ends, as the store consumer keeps them. @default each kept for ever */
  readonly rollupRetentionDays?: Omit<RetentionDays, 'raw'>;
  /** @default NO_DATA_CHECK_LIMITS.memoryMiB.default */
  readonly memoryMiB?: number;
  /** @default NO_DATA_CHECK_LIMITS.timeoutSeconds.default */
  readonly timeoutSeconds?: number;
}

/** EventBridge Scheduler's rate expression: a singular unit for 1, plural otherwise (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html). */
export const everyMinutes = (minutes: number): string => `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`;

/**
 * The no-data check (handlers/no-data-alerts.ts) on a schedule: the function with its own
 * role, log group and alarms, and an EventBridge Scheduler schedule that invokes it every
 * `intervalMinutes` through a role allowed to invoke this function only. Scheduler (not
 * a scheduled EventBridge rule, which AWS calls legacy) invokes Lambda asynchronously,
 * so a failed check is retried by Lambda, and the next scheduled one runs anyway.
 */
export class NoDataCheck extends Construct {
  public readonly functionName: string;
  public readonly functionArn: string;
  public readonly scheduleName: string;
  public readonly alarmArns: string[];

  constructor(scope: Construct, id: string, props: NoDataCheckProps) {
    super(scope, id);
    const functionName = `${props.namePrefix}-no-data-alerts`;
    const { thresholds, alerts, series, things, rollups } = props.tables;
    const topicArns = [props.alertTopicArn, ...Object.values(props.recipientTopicArns)];
    const logGroup = new CloudwatchLogGroup(this, 'logs', { name: `/aws/lambda/${functionName}`, retentionInDays: props.logRetentionDays });
    const role = new ServiceRole(this, 'role', {
      roleName: functionName,
      service: 'lambda.amazonaws.com',
      description: `Runs ${functionName}`,
      grants: [
        { sid: 'WriteLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] },
        // Scan: the rules with a no-data period; the rest: the claim protocol on one series' item.
        { sid: 'ReadRulesKeepAlertState', actions: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [thresholds.arn] },
        // UpdateItem: the mark that a silent series' open minute is written to its rollups.
        { sid: 'ReadLatestReadings', actions: ['dynamodb:Scan', 'dynamodb:UpdateItem'], resources: [series.arn] },
        // A silent series' open minute: counted from its readings, written to its hour and day.
        { sid: 'CountOpenMinutes', actions: ['dynamodb:Query'], resources: [things.arn] },
        { sid: 'WriteOpenMinutes', actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], resources: [rollups.arn] },
        // Query: silences, and a crashed check's notice; UpdateItem: the alert a notice resolves.
        { sid: 'RecordAlerts', actions: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], resources: [alerts.arn] },
        { sid: 'PublishAlerts', actions: ['sns:Publish'], resources: topicArns },
        { sid: 'UseDataKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
      ],
    });
    const fn = packagedFunction(this, {
      ids: { code: 'code', function: 'function' },
      functionName,
      description: 'Raises a no-data alert for each series that stopped reporting, says when it reports again, and writes a silent series\' last minute to its rollups',
      package: props.package,
      role,
      logGroup,
      memorySize: props.memoryMiB ?? NO_DATA_CHECK_LIMITS.memoryMiB.default,
      timeout: props.timeoutSeconds ?? NO_DATA_CHECK_LIMITS.timeoutSeconds.default,
      variables: {
        POWERTOOLS_SERVICE_NAME: 'no-data-alerts',
        [HANDLER_ENV.thresholdsTable]: thresholds.name,
        [HANDLER_ENV.alertsTable]: alerts.name,
        [HANDLER_ENV.seriesTable]: series.name,
        [HANDLER_ENV.alertTopicArn]: props.alertTopicArn,
        ...(Object.keys(props.recipientTopicArns).length === 0 ? {} : { [HANDLER_ENV.recipientTopicArns]: JSON.stringify(props.recipientTopicArns) }),
        [HANDLER_ENV.thingsTable]: things.name,
        [HANDLER_ENV.rollupsTable]: rollups.name,
        ...retentionEnvironment({ raw: props.hotRetentionDays, ...props.rollupRetentionDays }),
      },
    });

    const schedulerRole = new ServiceRole(this, 'schedule-role', {
      roleName: `${props.namePrefix}-no-data-check-schedule`,
      service: 'scheduler.amazonaws.com',
      description: `Lets EventBridge Scheduler invoke ${functionName}`,
      // The confused-deputy guard AWS recommends for Scheduler's execution roles.
      trustConditions: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] }],
      grants: [{ sid: 'InvokeCheck', actions: ['lambda:InvokeFunction'], resources: [fn.arn] }],
    });
    const schedule = new SchedulerSchedule(this, 'schedule', {
      name: `${props.namePrefix}-no-data-check`,
      description: `Runs ${functionName}`,
      scheduleExpression: everyMinutes(props.intervalMinutes ?? NO_DATA_CHECK_LIMITS.intervalMinutes.default),
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: fn.arn,
        roleArn: schedulerRole.arn,
        input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>', attempt: '<aws.scheduler.attempt-number>' }),
        // A check that could not be invoked is not worth repeating late: the next one runs within the interval.
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
      },
      dependsOn: [schedulerRole.policy],
    });

    const lambdaMetric = (metricName: string) => ({ namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: fn.functionName } });
    this.alarmArns = [
      notifyingAlarm(this, 'errors-alarm', { ...AT_LEAST_ONCE, alarmName: `${functionName}-errors`, alarmDescription: 'The no-data check failed: series that stop reporting may go unnoticed until it runs again', ...lambdaMetric('Errors') }, props.alarmActions).arn,
      notifyingAlarm(this, 'throttles-alarm', { ...AT_LEAST_ONCE, alarmName: `${functionName}-throttles`, alarmDescription: 'The no-data check was throttled (concurrency limit)', ...lambdaMetric('Throttles') }, props.alarmActions).arn,
    ];
    this.functionName = fn.functionName;
    this.functionArn = fn.arn;
    this.scheduleName = schedule.name;
  }
}
