import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { EVENT_SOURCE, HANDLER_ENV, retentionEnvironment, type RetentionDays } from '../handlers/contract';
import type { PackagedHandler, StreamConsumerName } from '../build/handler-bundle';
import { packagedFunction } from './packaged-function';
import { AT_LEAST_ONCE, FALLING_BEHIND, FIVE_MINUTES, notifyingAlarm } from './alarm';
import type { TableKey, TableRef } from './data-tables';
import { denyInsecureTransport } from './private-bucket';
import { ServiceRole, type Grant } from './service-role';
import { CONSUMER_LIMITS, ITERATOR_AGE_ALARM_MS } from './construct-defaults';
export { CONSUMER_LIMITS } from './construct-defaults';

export interface StreamConsumersProps {
  /** Prefix of function and role names. */
  readonly namePrefix: string;
  /** Name of the failure queue. */
  readonly failureQueueName: string;
  readonly stream: { readonly name: string; readonly arn: string };
  /** Key of the stream, the failure queue and the alert topic. */
  readonly kmsKeyArn: string;
  readonly tables: Readonly<Record<TableKey, TableRef>>;
  readonly alertTopicArn: string;
  /** Topics of the recipient groups rules can name, by group. @default none */
  readonly recipientTopicArns?: Readonly<Record<string, string>>;
  /** The handler bundles (build/handler-bundle.ts `packageHandler`). */
  readonly packages: Readonly<Record<StreamConsumerName, PackagedHandler>>;
  readonly logRetentionDays: number;
  /** @default CONSUMER_LIMITS.batchSize.default */
  readonly batchSize?: number;
  /** @default CONSUMER_LIMITS.batchWindowSeconds.default */
  readonly batchWindowSeconds?: number;
  /** @default CONSUMER_LIMITS.memoryMiB.default */
  readonly memoryMiB?: number;
  /** @default CONSUMER_LIMITS.timeoutSeconds.default */
  readonly timeoutSeconds?: number;
  /** @default CONSUMER_LIMITS.alertCooldownSeconds.default */
  readonly alertCooldownSeconds?: number;
  /** Days raw readings stay in DynamoDB (TTL). @default kept for ever */
  readonly hotRetentionDays?: number;
  /** Days the rollups of each step stay after their bucket ends. @default each kept for ever */
  readonly rollupRetentionDays?: Omit<RetentionDays, 'raw'>;
  /** Notified when a consumer falls behind, fails or is throttled, when records reach the failure queue, and on recovery. */
  readonly alarmActions: readonly string[];
  /** Seconds a reading may be dated ahead of its arrival on the stream. @default CONSUMER_LIMITS.futureToleranceSeconds.default */
  readonly futureToleranceSeconds?: number;
}

/** What one consumer is allowed, and told, beyond reading the stream and writing its logs. */
interface ConsumerSpec {
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly grants: Grant[];
}

/** The failure queue keeps messages for the longest time SQS allows, so nothing is lost before someone looks. */
const FAILURE_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * The two stream consumers (store readings, threshold alerts): Lambda functions from the
 * esbuild bundles, each with its own role, log group, event source mapping and alarms, and
 * the encrypted failure queue that both the mappings (on-failure destination) and the
 * handlers (records that can never be stored) send to, with an alarm as soon as it holds one.
 */
export class StreamConsumers extends Construct {
  public readonly functionNames: Readonly<Record<StreamConsumerName, string>>;
  public readonly alarmArns: string[] = [];
  public readonly failureQueueUrl: string;
  public readonly failureQueueArn: string;
  public readonly failureQueueName: string;

  constructor(scope: Construct, id: string, props: StreamConsumersProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? CONSUMER_LIMITS.batchSize.default;
    const batchWindowSeconds = props.batchWindowSeconds ?? CONSUMER_LIMITS.batchWindowSeconds.default;
    const timeoutSeconds = props.timeoutSeconds ?? CONSUMER_LIMITS.timeoutSeconds.default;

    const queue = new SqsQueue(this, 'failure-queue', {
      name: props.failureQueueName,
      kmsMasterKeyId: props.kmsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: FAILURE_RETENTION_SECONDS,
    });
    const tlsOnly = new DataAwsIamPolicyDocument(this, 'failure-queue-tls-only', { statement: [denyInsecureTransport('sqs', [queue.arn])] });
    new SqsQueuePolicy(this, 'failure-queue-policy', { queueUrl: queue.url, policy: tlsOnly.json });

    const sendFailures: Grant[] = [
      // SendMessage also covers SendMessageBatch.
      { sid: 'SendFailures', actions: ['sqs:SendMessage'], resources: [queue.arn] },
      // SQS and SNS encrypt with the key: senders need a data key and to decrypt it.
      { sid: 'UseDataKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
    ];
    const failureQueueEnv = { [HANDLER_ENV.failureQueueUrl]: queue.url };
    // Only the store consumer's: alert history has no retention (it is small, one item per notice, and marks charts of the whole history).
    const retentionEnv = retentionEnvironment({ raw: props.hotRetentionDays, ...props.rollupRetentionDays });
    // Both consumers refuse the same readings as dated too far ahead.
    const toleranceEnv = { [HANDLER_ENV.futureToleranceSeconds]: String(props.futureToleranceSeconds ?? CONSUMER_LIMITS.futureToleranceSeconds.default) };
    const { things, series, thresholds, alerts, rollups } = props.tables;
    const groups = props.recipientTopicArns ?? {};
    const groupsEnv: Record<string, string> = Object.keys(groups).length === 0 ? {} : { [HANDLER_ENV.recipientTopicArns]: JSON.stringify(groups) };

    const specs: Record<StreamConsumerName, ConsumerSpec> = {
      'store-readings': {
        description: 'Stores every reading of the stream in the things table and keeps the series catalogue and the rollups current',
        environment: {
          [HANDLER_ENV.thingsTable]: things.name,
          [HANDLER_ENV.seriesTable]: series.name,
          [HANDLER_ENV.rollupsTable]: rollups.name,
          ...failureQueueEnv,
          ...retentionEnv,
          ...toleranceEnv,
        },
        grants: [
          // Query: a minute whose count is in doubt is recounted from its stored readings.
          { sid: 'WriteReadings', actions: ['dynamodb:BatchWriteItem', 'dynamodb:Query'], resources: [things.arn] },
          { sid: 'UpdateSeries', actions: ['dynamodb:UpdateItem'], resources: [series.arn] },
          { sid: 'KeepRollups', actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], resources: [rollups.arn] },
          ...sendFailures,
        ],
      },
      'threshold-alerts': {
        description: 'Sends an alert when a metric leaves its range for long enough, reminders, and one when it returns',
        environment: {
          [HANDLER_ENV.thresholdsTable]: thresholds.name,
          [HANDLER_ENV.alertsTable]: alerts.name,
          [HANDLER_ENV.alertTopicArn]: props.alertTopicArn,
          ...groupsEnv,
          [HANDLER_ENV.alertCooldownSeconds]: String(props.alertCooldownSeconds ?? CONSUMER_LIMITS.alertCooldownSeconds.default),
          ...failureQueueEnv,
          ...toleranceEnv,
        },
        grants: [
          { sid: 'ReadThresholdsKeepAlertState', actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [thresholds.arn] },
          // Query: the silences, and after a crash whether the notice was already sent;
          // UpdateItem: the alert a recovery resolves.
          { sid: 'RecordAlerts', actions: ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], resources: [alerts.arn] },
          { sid: 'PublishAlerts', actions: ['sns:Publish'], resources: [props.alertTopicArn, ...Object.values(groups)] },
          ...sendFailures,
        ],
      },
    };

    const functionNames = {} as Record<StreamConsumerName, string>;
    for (const [name, spec] of Object.entries(specs) as [StreamConsumerName, ConsumerSpec][]) {
      const functionName = `${props.namePrefix}-${name}`;
      const logGroup = new CloudwatchLogGroup(this, `${name}-logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: props.logRetentionDays });
      const role = new ServiceRole(this, `${name}-role`, {
        roleName: functionName,
        service: 'lambda.amazonaws.com',
        description: `Runs ${functionName}`,
        grants: [
          {
            sid: 'ReadStream',
            actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
            resources: [props.stream.arn],
          },
          { sid: 'DecryptStream', actions: ['kms:Decrypt'], resources: [props.kmsKeyArn] },
          { sid: 'WriteLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] },
          ...spec.grants,
        ],
      });
      const fn = packagedFunction(this, {
        ids: { code: `${name}-code`, function: name },
        functionName,
        description: spec.description,
        package: props.packages[name],
        role,
        logGroup,
        memorySize: props.memoryMiB ?? CONSUMER_LIMITS.memoryMiB.default,
        timeout: timeoutSeconds,
        variables: { POWERTOOLS_SERVICE_NAME: name, ...spec.environment },
      });
      new LambdaEventSourceMapping(this, `${name}-mapping`, {
        eventSourceArn: props.stream.arn,
        functionName: fn.arn,
        startingPosition: EVENT_SOURCE.startingPosition,
        batchSize,
        maximumBatchingWindowInSeconds: batchWindowSeconds,
        parallelizationFactor: EVENT_SOURCE.parallelizationFactor,
        maximumRetryAttempts: EVENT_SOURCE.maximumRetryAttempts,
        maximumRecordAgeInSeconds: EVENT_SOURCE.maximumRecordAgeSeconds,
        bisectBatchOnFunctionError: EVENT_SOURCE.bisectBatchOnFunctionError,
        functionResponseTypes: [...EVENT_SOURCE.functionResponseTypes],
        destinationConfig: { onFailure: { destinationArn: queue.arn } },
        // The mapping checks the role's permissions when it is created.
        dependsOn: [role.policy],
      });
      functionNames[name] = fn.functionName;
      this.watchFunction(name, functionName, fn.functionName, props.alarmActions);
    }
    const failures = notifyingAlarm(this, 'failure-queue-messages-alarm', {
      alarmName: `${props.failureQueueName}-messages-visible`,
      alarmDescription: 'Records that could not be processed wait in the failure queue',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: queue.name },
      statistic: 'Maximum',
      period: FIVE_MINUTES,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    }, props.alarmActions);
    this.alarmArns.push(failures.arn);

    this.functionNames = functionNames;
    this.failureQueueUrl = queue.url;
    this.failureQueueArn = queue.arn;
    this.failureQueueName = queue.name;
  }

  /** Falling behind, failed invocations and throttling of one consumer. */
  private watchFunction(key: string, alarmPrefix: string, functionName: string, actions: readonly string[]): void {
    const dimensions = { FunctionName: functionName };
    const alarms = [
      notifyingAlarm(this, `${key}-iterator-age-alarm`, {
        alarmName: `${alarmPrefix}-iterator-age`,
        alarmDescription: `This consumer falls behind: its oldest unprocessed record is older than ${ITERATOR_AGE_ALARM_MS} ms`,
        namespace: 'AWS/Lambda',
        metricName: 'IteratorAge',
        dimensions,
        ...FALLING_BEHIND,
      }, actions),
      notifyingAlarm(this, `${key}-errors-alarm`, {
        ...AT_LEAST_ONCE,
        alarmName: `${alarmPrefix}-errors`,
        alarmDescription: 'The consumer failed a whole invocation (records are retried, then sent to the failure queue)',
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions,
      }, actions),
      notifyingAlarm(this, `${key}-throttles-alarm`, {
        ...AT_LEAST_ONCE,
        alarmName: `${alarmPrefix}-throttles`,
        alarmDescription: 'The consumer was throttled (concurrency limit): its shards wait',
        namespace: 'AWS/Lambda',
        metricName: 'Throttles',
        dimensions,
      }, actions),
    ];
    this.alarmArns.push(...alarms.map((alarm) => alarm.arn));
  }
}
