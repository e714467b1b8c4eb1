import { Construct } from 'constructs';
import { Token } from 'cdktf';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import {
  CloudwatchMetricAlarm,
  CloudwatchMetricAlarmConfig,
} from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';

export interface OperationsProps {
  /** Prefix of the topic, key and dashboard names, and of the API and web alarms. */
  readonly namePrefix: string;
  /** Region shown by the dashboard's metric widgets. */
  readonly region: string;
  /** Each address gets an email subscription to the operations topic (it must confirm it). */
  readonly notificationEmails: readonly string[];
  readonly streamName: string;
  /**
   * Lambda consumers of the stream by a short readable key (used in construct ids), e.g.
   * `{ 'store-readings': store.functionName }`: IteratorAge, Errors and Throttles alarms for each.
   */
  readonly consumerFunctions: Readonly<Record<string, string>>;
  /** The consumers' on-failure queue: alarm as soon as a message is visible. */
  readonly failureQueueName: string;
  /** REST API name and stage (dimensions of the 5XXError metric). */
  readonly apiName: string;
  readonly apiStageName: string;
  /** DynamoDB tables by a short readable key, e.g. `{ things: things.name }`: a throttle alarm for each. */
  readonly tables: Readonly<Record<string, string>>;
  /** Age of the oldest unread record (stream-wide and per consumer) that raises the alarm, ms. @default 60000 */
  readonly iteratorAgeThresholdMs?: number;
  /**
   * KMS key (ARN) encrypting the operations topic; its policy must let cloudwatch.amazonaws.com
   * use it (kms:Decrypt, kms:GenerateDataKey). @default a new key with that policy
   */
  readonly kmsKeyArn?: string;
  /** The web load balancer (dimension LoadBalancer): 5XX alarm and dashboard widgets. @default none */
  readonly loadBalancerArnSuffix?: string;
  /** The web target group (dimension TargetGroup; needs loadBalancerArnSuffix): no-healthy-task alarm. @default none */
  readonly targetGroupArnSuffix?: string;
}

const DEFAULT_ITERATOR_AGE_THRESHOLD_MS = 60_000;
const READABLE_KEY = /^[a-z][a-z0-9-]*$/;
/** Every alarm looks at 5-minute sums unless it says otherwise. */
const FIVE_MINUTES = 300;

interface WebMetrics {
  readonly loadBalancer: string;
  readonly targetGroup?: string;
}

interface ResolvedOperationsProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly notificationEmails: string[];
  readonly streamName: string;
  readonly consumerFunctions: [string, string][];
  readonly failureQueueName: string;
  readonly apiName: string;
  readonly apiStageName: string;
  readonly tables: [string, string][];
  readonly iteratorAgeThresholdMs: number;
  readonly kmsKeyArn?: string;
  readonly web?: WebMetrics;
}

type AlarmSpec = Omit<CloudwatchMetricAlarmConfig, 'alarmActions' | 'okActions' | 'alarmName'> & {
  readonly alarmName: string;
};

/**
 * Operations topic (KMS-encrypted, email subscriptions), an alarm on every stage of the
 * pipeline that notifies it on alarm and on recovery, and a CloudWatch dashboard.
 */
export class Operations extends Construct {
  public readonly topicArn: string;
  public readonly dashboardName: string;
  public readonly alarmNames: string[];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const config = resolveOperationsProps(props);

    const topic = new SnsTopic(this, 'topic', {
      name: `${config.namePrefix}-operations`,
      displayName: `${config.namePrefix} operations`,
      kmsMasterKeyId: config.kmsKeyArn ?? this.createTopicKey(config.namePrefix).arn,
    });
    config.notificationEmails.forEach((email, index) => {
      new SnsTopicSubscription(this, `email-${index + 1}`, { topicArn: topic.arn, protocol: 'email', endpoint: email });
    });

    const alarms = pipelineAlarms(config).map(
      ([alarmId, spec]) =>
        new CloudwatchMetricAlarm(this, alarmId, {
          treatMissingData: 'notBreaching',
          ...spec,
          alarmActions: [topic.arn],
          okActions: [topic.arn],
        }),
    );

    const dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: `${config.namePrefix}-pipeline`,
      dashboardBody: JSON.stringify(dashboardBody(config, alarms.map((alarm) => alarm.arn))),
    });

    this.topicArn = topic.arn;
    this.dashboardName = dashboard.dashboardName;
    this.alarmNames = alarms.map((alarm) => alarm.alarmName);
  }

  /** A customer-managed key, because CloudWatch cannot publish to a topic under the AWS-managed SNS key. */
  private createTopicKey(namePrefix: string): KmsKey {
    const account = new DataAwsCallerIdentity(this, 'account', {});
    const keyPolicy = new DataAwsIamPolicyDocument(this, 'topic-key-policy', {
      statement: [
        {
          sid: 'AccountAdministersKeyAndDelegatesUseToIam',
          principals: [{ type: 'AWS', identifiers: [account.accountId] }],
          actions: [
            'kms:CancelKeyDeletion',
            'kms:CreateAlias',
            'kms:Decrypt',
            'kms:DeleteAlias',
            'kms:DescribeKey',
            'kms:DisableKey',
            'kms:DisableKeyRotation',
            'kms:EnableKey',
            'kms:EnableKeyRotation',
            'kms:Encrypt',
            'kms:GenerateDataKey',
            'kms:GetKeyPolicy',
            'kms:GetKeyRotationStatus',
            'kms:ListResourceTags',
            'kms:PutKeyPolicy',
            'kms:ScheduleKeyDeletion',
            'kms:TagResource',
            'kms:UntagResource',
            'kms:UpdateKeyDescription',
          ],
          // In a key policy "*" means this key.
          resources: ['*'],
        },
        {
          sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
          principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [account.accountId] }],
        },
      ],
    });
    return new KmsKey(this, 'topic-key', {
      description: `${namePrefix} operations topic`,
      enableKeyRotation: true,
      policy: keyPolicy.json,
    });
  }
}

/** The alarms, as [construct id, alarm] pairs, in a fixed order. */
function pipelineAlarms(config: ResolvedOperationsProps): [string, AlarmSpec][] {
  const sumAtLeastOnce = { statistic: 'Sum', period: FIVE_MINUTES, evaluationPeriods: 1, threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold' } as const;
  const alarms: [string, AlarmSpec][] = [
    [
      'stream-iterator-age-alarm',
      {
        alarmName: `${config.streamName}-iterator-age`,
        alarmDescription: `Consumers fall behind: the oldest unread record is older than ${config.iteratorAgeThresholdMs} ms`,
        namespace: 'AWS/Kinesis',
        metricName: 'GetRecords.IteratorAgeMilliseconds',
        dimensions: { StreamName: config.streamName },
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        threshold: config.iteratorAgeThresholdMs,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    ],
  ];
  for (const [key, functionName] of config.consumerFunctions) {
    alarms.push(
      [
        `lambda-${key}-iterator-age-alarm`,
        {
          alarmName: `${functionName}-iterator-age`,
          alarmDescription: `This consumer falls behind: its oldest unprocessed record is older than ${config.iteratorAgeThresholdMs} ms`,
          namespace: 'AWS/Lambda',
          metricName: 'IteratorAge',
          dimensions: { FunctionName: functionName },
          statistic: 'Maximum',
          period: 60,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          threshold: config.iteratorAgeThresholdMs,
          comparisonOperator: 'GreaterThanOrEqualToThreshold',
        },
      ],
      [
        `lambda-${key}-errors-alarm`,
        {
          ...sumAtLeastOnce,
          alarmName: `${functionName}-errors`,
          alarmDescription: 'The consumer failed a whole invocation (records are retried, then sent to the failure queue)',
          namespace: 'AWS/Lambda',
          metricName: 'Errors',
          dimensions: { FunctionName: functionName },
        },
      ],
      [
        `lambda-${key}-throttles-alarm`,
        {
          ...sumAtLeastOnce,
          alarmName: `${functionName}-throttles`,
          alarmDescription: 'The consumer was throttled (concurrency limit): its shards wait',
          namespace: 'AWS/Lambda',
          metricName: 'Throttles',
          dimensions: { FunctionName: functionName },
        },
      ],
    );
  }
  alarms.push(
    [
      'failure-queue-messages-alarm',
      {
        alarmName: `${config.failureQueueName}-messages-visible`,
        alarmDescription: 'Records that could not be processed wait in the failure queue',
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: config.failureQueueName },
        statistic: 'Maximum',
        period: FIVE_MINUTES,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
      },
    ],
    [
      'api-5xx-alarm',
      {
        ...sumAtLeastOnce,
        alarmName: `${config.namePrefix}-api-5xx`,
        alarmDescription: 'The ingest API answered with server errors (readings may have been refused)',
        namespace: 'AWS/ApiGateway',
        metricName: '5XXError',
        dimensions: { ApiName: config.apiName, Stage: config.apiStageName },
      },
    ],
  );
  for (const [key, tableName] of config.tables) {
    alarms.push([
      `table-${key}-throttles-alarm`,
      {
        alarmName: `${tableName}-throttles`,
        alarmDescription: 'Reads or writes on the table were throttled',
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        metricQuery: [
          tableMetric('reads', 'ReadThrottleEvents', tableName),
          tableMetric('writes', 'WriteThrottleEvents', tableName),
          // A metric with no data point in a period must count as 0, or one kind of throttle would hide the other.
          { id: 'throttles', expression: 'FILL(reads, 0) + FILL(writes, 0)', label: 'Throttle events', returnData: true },
        ],
      },
    ]);
  }
  if (config.web) {
    const loadBalancer = { LoadBalancer: config.web.loadBalancer };
    alarms.push([
      'web-5xx-alarm',
      {
        alarmName: `${config.namePrefix}-web-5xx`,
        alarmDescription: 'The web app or its load balancer answered with server errors',
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        metricQuery: [
          { id: 'balancer', returnData: false, metric: { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_ELB_5XX_Count', dimensions: loadBalancer, stat: 'Sum', period: FIVE_MINUTES } },
          { id: 'tasks', returnData: false, metric: { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', dimensions: loadBalancer, stat: 'Sum', period: FIVE_MINUTES } },
          { id: 'errors', expression: 'FILL(balancer, 0) + FILL(tasks, 0)', label: '5XX responses', returnData: true },
        ],
      },
    ]);
    if (config.web.targetGroup) {
      alarms.push([
        'web-healthy-tasks-alarm',
        {
          alarmName: `${config.namePrefix}-web-no-healthy-task`,
          alarmDescription: 'No web task passes the load balancer health check: the dashboard is down',
          namespace: 'AWS/ApplicationELB',
          metricName: 'HealthyHostCount',
          dimensions: { ...loadBalancer, TargetGroup: config.web.targetGroup },
          statistic: 'Minimum',
          period: 60,
          evaluationPeriods: 3,
          threshold: 1,
          comparisonOperator: 'LessThanThreshold',
          // The load balancer reports this every minute; silence means something is wrong too.
          treatMissingData: 'breaching',
        },
      ]);
    }
  }
  return alarms;
}

function tableMetric(id: string, metricName: string, tableName: string) {
  return {
    id,
    returnData: false,
    metric: { namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: tableName }, stat: 'Sum', period: FIVE_MINUTES },
  };
}

/** A CloudWatch metric row: [namespace, metric, dimension name, value, ..., options]. */
type MetricRow = (string | Record<string, string>)[];

function metricRow(namespace: string, metricName: string, dimensions: Record<string, string>, options: Record<string, string> = {}): MetricRow {
  const row: MetricRow = [namespace, metricName, ...Object.entries(dimensions).flat()];
  return Object.keys(options).length > 0 ? [...row, options] : row;
}

/** Dashboard JSON: one row per pipeline stage, left to right, then the alarm states. */
function dashboardBody(config: ResolvedOperationsProps, alarmArns: string[]) {
  const api = { ApiName: config.apiName, Stage: config.apiStageName };
  const stream = { StreamName: config.streamName };
  const queue = { QueueName: config.failureQueueName };
  const consumers = config.consumerFunctions.map(([key, name]) => ({ key, dimensions: { FunctionName: name } }));
  const tables = config.tables.map(([key, name]) => ({ key, dimensions: { TableName: name } }));

  const panels: { title: string; stat: string; metrics: MetricRow[]; threshold?: number }[] = [
    {
      title: 'Ingest API: requests and errors',
      stat: 'Sum',
      metrics: ['Count', '4XXError', '5XXError'].map((metric) => metricRow('AWS/ApiGateway', metric, api)),
    },
    {
      title: 'Ingest API: latency (p99, ms)',
      stat: 'p99',
      metrics: ['Latency', 'IntegrationLatency'].map((metric) => metricRow('AWS/ApiGateway', metric, api)),
    },
    {
      title: 'Stream: records in, throughput exceeded',
      stat: 'Sum',
      metrics: ['IncomingRecords', 'WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded'].map((metric) =>
        metricRow('AWS/Kinesis', metric, stream),
      ),
    },
    {
      title: 'Stream: oldest unread record (ms)',
      stat: 'Maximum',
      metrics: [metricRow('AWS/Kinesis', 'GetRecords.IteratorAgeMilliseconds', stream)],
      threshold: config.iteratorAgeThresholdMs,
    },
    {
      title: 'Consumers: invocations, errors, throttles',
      stat: 'Sum',
      metrics: consumers.flatMap(({ key, dimensions }) =>
        ['Invocations', 'Errors', 'Throttles'].map((metric) => metricRow('AWS/Lambda', metric, dimensions, { label: `${key} ${metric}` })),
      ),
    },
    {
      title: 'Consumers: duration (p99, ms)',
      stat: 'p99',
      metrics: consumers.map(({ key, dimensions }) => metricRow('AWS/Lambda', 'Duration', dimensions, { label: key })),
    },
    {
      title: 'Consumers: oldest unprocessed record (ms)',
      stat: 'Maximum',
      metrics: consumers.map(({ key, dimensions }) => metricRow('AWS/Lambda', 'IteratorAge', dimensions, { label: key })),
      threshold: config.iteratorAgeThresholdMs,
    },
    {
      title: 'Failure queue: messages',
      stat: 'Maximum',
      metrics: ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage'].map((metric) => metricRow('AWS/SQS', metric, queue)),
      threshold: 0,
    },
    {
      title: 'Tables: consumed capacity and throttles',
      stat: 'Sum',
      metrics: tables.flatMap(({ key, dimensions }) =>
        ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents'].map((metric) =>
          metricRow('AWS/DynamoDB', metric, dimensions, { label: `${key} ${metric}` }),
        ),
      ),
    },
  ];
  if (config.web) {
    const loadBalancer = { LoadBalancer: config.web.loadBalancer };
    panels.push(
      {
        title: 'Web: requests and 5XX',
        stat: 'Sum',
        metrics: ['RequestCount', 'HTTPCode_Target_5XX_Count', 'HTTPCode_ELB_5XX_Count'].map((metric) =>
          metricRow('AWS/ApplicationELB', metric, loadBalancer),
        ),
      },
      {
        title: 'Web: response time (p95, s)',
        stat: 'p95',
        metrics: [metricRow('AWS/ApplicationELB', 'TargetResponseTime', loadBalancer)],
      },
    );
  }

  const width = 12;
  const height = 6;
  const widgets: object[] = panels.map((panel, index) => ({
    type: 'metric',
    x: (index % 2) * width,
    y: Math.floor(index / 2) * height,
    width,
    height,
    properties: {
      title: panel.title,
      region: config.region,
      view: 'timeSeries',
      stacked: false,
      period: 60,
      stat: panel.stat,
      metrics: panel.metrics,
      ...(panel.threshold !== undefined
        ? { annotations: { horizontal: [{ label: 'alarm', value: panel.threshold }] } }
        : {}),
    },
  }));
  widgets.push({
    type: 'alarm',
    x: 0,
    y: Math.ceil(panels.length / 2) * height,
    width: 24,
    height: 4,
    properties: { title: 'Alarms', alarms: alarmArns },
  });
  return { widgets };
}

/** Applies the defaults and rejects contradictory or malformed props, in one place. */
export function resolveOperationsProps(props: OperationsProps): ResolvedOperationsProps {
  const problems: string[] = [];
  if (!/^[a-zA-Z0-9_-]+$/.test(props.namePrefix)) {
    problems.push(`namePrefix '${props.namePrefix}' may hold only letters, digits, '-' and '_' (dashboard and topic names).`);
  }
  for (const email of props.notificationEmails) {
    if (!Token.isUnresolved(email) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      problems.push(`notificationEmails: '${email}' is not an email address.`);
    }
  }
  if (new Set(props.notificationEmails).size !== props.notificationEmails.length) {
    problems.push('notificationEmails lists an address twice.');
  }
  const consumerFunctions = Object.entries(props.consumerFunctions);
  const tables = Object.entries(props.tables);
  if (consumerFunctions.length === 0) problems.push('consumerFunctions is empty; give every Lambda consumer of the stream.');
  if (tables.length === 0) problems.push('tables is empty; give every table of the pipeline.');
  for (const [field, entries] of [['consumerFunctions', consumerFunctions], ['tables', tables]] as const) {
    for (const [key] of entries) {
      if (!READABLE_KEY.test(key)) problems.push(`${field}: key '${key}' must be lower-case letters, digits and hyphens (it names constructs).`);
    }
  }
  const iteratorAgeThresholdMs = props.iteratorAgeThresholdMs ?? DEFAULT_ITERATOR_AGE_THRESHOLD_MS;
  if (!Number.isInteger(iteratorAgeThresholdMs) || iteratorAgeThresholdMs < 1000) {
    problems.push(`iteratorAgeThresholdMs is ${iteratorAgeThresholdMs}; use a whole number of milliseconds, at least 1000.`);
  }
  if (props.targetGroupArnSuffix !== undefined && props.loadBalancerArnSuffix === undefined) {
    problems.push('targetGroupArnSuffix needs loadBalancerArnSuffix too (target group metrics carry both dimensions).');
  }
  if (problems.length > 0) throw new Error(`Operations: invalid props:\n- ${problems.join('\n- ')}`);

  return {
    namePrefix: props.namePrefix,
    region: props.region,
    notificationEmails: [...props.notificationEmails],
    streamName: props.streamName,
    consumerFunctions,
    failureQueueName: props.failureQueueName,
    apiName: props.apiName,
    apiStageName: props.apiStageName,
    tables,
    iteratorAgeThresholdMs,
    kmsKeyArn: props.kmsKeyArn,
    web: props.loadBalancerArnSuffix !== undefined
      ? { loadBalancer: props.loadBalancerArnSuffix, targetGroup: props.targetGroupArnSuffix }
      : undefined,
  };
}
