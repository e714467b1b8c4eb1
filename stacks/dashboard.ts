/** The CloudWatch dashboard of the pipeline: one row per stage, left to right, then the alarm states. */

export interface DashboardContents {
  /** Region the metric widgets read. */
  readonly region: string;
  /** REST API name and stage (dimensions of the API Gateway metrics). */
  readonly apiName: string;
  readonly apiStageName: string;
  readonly streamName: string;
  /** Lambda consumers by a short readable key, e.g. `{ 'store-readings': fn.functionName }`. */
  readonly consumerFunctions: Readonly<Record<string, string>>;
  readonly failureQueueName: string;
  /** DynamoDB tables by a short readable key. */
  readonly tables: Readonly<Record<string, string>>;
  /** Where the iterator-age panels draw the alarm line, ms. */
  readonly iteratorAgeThresholdMs: number;
  /** The web load balancer (dimension LoadBalancer). @default no web panels */
  readonly loadBalancerArnSuffix?: string;
  /** Every alarm of the pipeline, shown with its state. */
  readonly alarmArns: readonly string[];
}

/** A CloudWatch metric row: [namespace, metric, dimension name, value, ..., options]. */
type MetricRow = (string | Record<string, string>)[];

function metricRow(namespace: string, metricName: string, dimensions: Record<string, string>, options: Record<string, string> = {}): MetricRow {
  const row: MetricRow = [namespace, metricName, ...Object.entries(dimensions).flat()];
  return Object.keys(options).length > 0 ? [...row, options] : row;
}

interface Panel {
  readonly title: string;
  readonly stat: string;
  readonly metrics: MetricRow[];
  readonly threshold?: number;
}

function panels(contents: DashboardContents): Panel[] {
  const api = { ApiName: contents.apiName, Stage: contents.apiStageName };
  const stream = { StreamName: contents.streamName };
  const queue = { QueueName: contents.failureQueueName };
  const consumers = Object.entries(contents.consumerFunctions).map(([key, name]) => ({ key, dimensions: { FunctionName: name } }));
  const tables = Object.entries(contents.tables).map(([key, name]) => ({ key, dimensions: { TableName: name } }));
  const each = <T extends { key: string; dimensions: Record<string, string> }>(items: T[], namespace: string, metrics: string[], label = (key: string, metric: string) => `${key} ${metric}`) =>
    items.flatMap(({ key, dimensions }) => metrics.map((metric) => metricRow(namespace, metric, dimensions, { label: label(key, metric) })));
  const result: Panel[] = [
    { title: 'Ingest API: requests and errors', stat: 'Sum', metrics: ['Count', '4XXError', '5XXError'].map((metric) => metricRow('AWS/ApiGateway', metric, api)) },
    { title: 'Ingest API: latency (p99, ms)', stat: 'p99', metrics: ['Latency', 'IntegrationLatency'].map((metric) => metricRow('AWS/ApiGateway', metric, api)) },
    {
      title: 'Stream: records in, throughput exceeded',
      stat: 'Sum',
      metrics: ['IncomingRecords', 'WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded'].map((metric) => metricRow('AWS/Kinesis', metric, stream)),
    },
    { title: 'Stream: oldest unread record (ms)', stat: 'Maximum', metrics: [metricRow('AWS/Kinesis', 'GetRecords.IteratorAgeMilliseconds', stream)], threshold: contents.iteratorAgeThresholdMs },
    { title: 'Consumers: invocations, errors, throttles', stat: 'Sum', metrics: each(consumers, 'AWS/Lambda', ['Invocations', 'Errors', 'Throttles']) },
    { title: 'Consumers: duration (p99, ms)', stat: 'p99', metrics: each(consumers, 'AWS/Lambda', ['Duration'], (key) => key) },
    {
      title: 'Consumers: oldest unprocessed record (ms)',
      stat: 'Maximum',
      metrics: each(consumers, 'AWS/Lambda', ['IteratorAge'], (key) => key),
      threshold: contents.iteratorAgeThresholdMs,
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
      metrics: each(tables, 'AWS/DynamoDB', ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents']),
    },
  ];
  if (contents.loadBalancerArnSuffix !== undefined) {
    const loadBalancer = { LoadBalancer: contents.loadBalancerArnSuffix };
    result.push(
      {
        title: 'Web: requests and 5XX',
        stat: 'Sum',
        metrics: ['RequestCount', 'HTTPCode_Target_5XX_Count', 'HTTPCode_ELB_5XX_Count'].map((metric) => metricRow('AWS/ApplicationELB', metric, loadBalancer)),
      },
      { title: 'Web: response time (p95, s)', stat: 'p95', metrics: [metricRow('AWS/ApplicationELB', 'TargetResponseTime', loadBalancer)] },
    );
  }
  return result;
}

/** The dashboard body: metric panels two by two, then every alarm's state. */
export function dashboardBody(contents: DashboardContents): { widgets: object[] } {
  const width = 12;
  const height = 6;
  const all = panels(contents);
  const widgets: object[] = all.map((panel, index) => ({
    type: 'metric',
    x: (index % 2) * width,
    y: Math.floor(index / 2) * height,
    width,
    height,
    properties: {
      title: panel.title,
      region: contents.region,
      view: 'timeSeries',
      stacked: false,
      period: 60,
      stat: panel.stat,
      metrics: panel.metrics,
      ...(panel.threshold !== undefined ? { annotations: { horizontal: [{ label: 'alarm', value: panel.threshold }] } } : {}),
    },
  }));
  widgets.push({ type: 'alarm', x: 0, y: Math.ceil(all.length / 2) * height, width: 24, height: 4, properties: { title: 'Alarms', alarms: [...contents.alarmArns] } });
  return { widgets };
}
