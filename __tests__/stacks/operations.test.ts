import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { ApiGatewayDeployment } from '@cdktf/provider-aws/lib/api-gateway-deployment';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { ApiGatewayStage } from '@cdktf/provider-aws/lib/api-gateway-stage';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { KinesisStream } from '@cdktf/provider-aws/lib/kinesis-stream';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { applyPlatformPolicy } from '../../policy';
import { Operations, OperationsProps } from '../../stacks/operations';
import { protectStatefulResources } from '../../stacks/prevent-destroy';

type Block = Record<string, unknown>;
interface Synthesized {
  resource?: Record<string, Record<string, Block>>;
  data?: Record<string, Record<string, Block>>;
  output?: Record<string, { value: unknown }>;
}

const baseProps: OperationsProps = {
  namePrefix: 'iot',
  region: 'eu-west-2',
  notificationEmails: ['ops@example.org', 'oncall@example.org'],
  streamName: 'iot-readings',
  consumerFunctions: { 'store-readings': 'iot-store-readings', 'threshold-alerts': 'iot-threshold-alerts' },
  failureQueueName: 'iot-failures',
  apiName: 'iot-ingest',
  apiStageName: 'prod',
  tables: { things: 'iot-things', thresholds: 'iot-thresholds', alerts: 'iot-alerts', series: 'iot-series' },
};

function synthOperations(overrides: Partial<OperationsProps> = {}) {
  const stack = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
  const operations = new Operations(stack, 'ops', { ...baseProps, ...overrides });
  new TerraformOutput(stack, 'alarm-names', { value: operations.alarmNames });
  new TerraformOutput(stack, 'topic-arn', { value: operations.topicArn });
  new TerraformOutput(stack, 'dashboard-name', { value: operations.dashboardName });
  const json = JSON.parse(Testing.synth(stack)) as Synthesized;

  const all = (type: string) => Object.values(json.resource?.[type] ?? {});
  const logicalId = (kind: 'resource' | 'data', type: string, constructId: string) => {
    const ids = Object.keys(json[kind]?.[type] ?? {}).filter((key) => key.startsWith(`ops_${constructId}_`));
    if (ids.length !== 1) throw new Error(`expected one ${type} ops/${constructId}, found ${ids.length}`);
    return ids[0] as string;
  };
  const one = (type: string, constructId: string) => json.resource?.[type]?.[logicalId('resource', type, constructId)] as Block;
  const data = (type: string, constructId: string) => json.data?.[type]?.[logicalId('data', type, constructId)] as Block;
  const ref = (type: string, constructId: string, attribute: string) => `\${${type}.${logicalId('resource', type, constructId)}.${attribute}}`;
  const dataRef = (type: string, constructId: string, attribute: string) => `\${data.${type}.${logicalId('data', type, constructId)}.${attribute}}`;
  const alarm = (constructId: string) => one('aws_cloudwatch_metric_alarm', constructId);
  const dashboard = () =>
    JSON.parse(one('aws_cloudwatch_dashboard', 'dashboard').dashboard_body as string) as { widgets: { type: string; properties: Block }[] };
  return { json, all, one, data, ref, dataRef, alarm, dashboard };
}

describe('Operations topic', () => {
  const ops = synthOperations();

  it('encrypts the topic with a rotating key of its own and subscribes every address by email', () => {
    expect(ops.one('aws_sns_topic', 'topic')).toMatchObject({ name: 'iot-operations', kms_master_key_id: ops.ref('aws_kms_key', 'topic-key', 'arn') });
    expect(ops.one('aws_kms_key', 'topic-key')).toMatchObject({ enable_key_rotation: true, policy: ops.dataRef('aws_iam_policy_document', 'topic-key-policy', 'json') });
    expect(ops.all('aws_sns_topic_subscription').map((subscription) => [subscription.topic_arn, subscription.protocol, subscription.endpoint])).toEqual([
      [ops.ref('aws_sns_topic', 'topic', 'arn'), 'email', 'ops@example.org'],
      [ops.ref('aws_sns_topic', 'topic', 'arn'), 'email', 'oncall@example.org'],
    ]);
    expect(ops.json.output?.['topic-arn']?.value).toBe(ops.ref('aws_sns_topic', 'topic', 'arn'));
  });

  it('lets CloudWatch (from this account only) use the key, with no wildcard action in the key policy', () => {
    const statements = ops.data('aws_iam_policy_document', 'topic-key-policy').statement as Block[];
    const account = ops.dataRef('aws_caller_identity', 'account', 'account_id');
    expect(statements).toContainEqual({
      sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
      principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [account] }],
    });
    const administration = statements.find((statement) => statement.sid === 'AccountAdministersKeyAndDelegatesUseToIam');
    expect(administration?.principals).toEqual([{ type: 'AWS', identifiers: [account] }]);
    // The account must keep the right to change the policy, or the key becomes unmanageable.
    expect(administration?.actions).toEqual(expect.arrayContaining(['kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:DescribeKey', 'kms:ScheduleKeyDeletion']));
    const actions = statements.flatMap((statement) => statement.actions as string[]);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('uses a given key instead of creating one', () => {
    const keyArn = 'arn:aws:kms:eu-west-2:111122223333:key/1234';
    const withKey = synthOperations({ kmsKeyArn: keyArn });
    expect(withKey.one('aws_sns_topic', 'topic').kms_master_key_id).toBe(keyArn);
    expect(withKey.json.resource?.aws_kms_key).toBeUndefined();
  });
});

describe('Operations alarms', () => {
  const ops = synthOperations();

  it('sends every alarm and every recovery to the operations topic', () => {
    const alarms = ops.all('aws_cloudwatch_metric_alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.alarm_actions).toEqual([ops.ref('aws_sns_topic', 'topic', 'arn')]);
      expect(alarm.ok_actions).toEqual([ops.ref('aws_sns_topic', 'topic', 'arn')]);
    }
  });

  it('covers the stream, each consumer, the failure queue, the API and each table, and reports the alarm names', () => {
    const names = ops.all('aws_cloudwatch_metric_alarm').map((alarm) => alarm.alarm_name);
    expect(names.sort()).toEqual(
      [
        'iot-readings-iterator-age',
        'iot-store-readings-iterator-age',
        'iot-threshold-alerts-iterator-age',
        'iot-store-readings-errors',
        'iot-store-readings-throttles',
        'iot-threshold-alerts-errors',
        'iot-threshold-alerts-throttles',
        'iot-failures-messages-visible',
        'iot-api-5xx',
        'iot-things-throttles',
        'iot-thresholds-throttles',
        'iot-alerts-throttles',
        'iot-series-throttles',
      ].sort(),
    );
    const reported = ops.json.output?.['alarm-names']?.value as string[];
    expect(reported).toHaveLength(names.length);
    for (const name of reported) expect(name).toMatch(/^\$\{aws_cloudwatch_metric_alarm\.ops_[a-z0-9-]+-alarm_[0-9A-F]+\.alarm_name\}$/);
  });

  it('raises the iterator-age alarm on the oldest record age, 60 s by default', () => {
    expect(ops.alarm('stream-iterator-age-alarm')).toMatchObject({
      namespace: 'AWS/Kinesis',
      metric_name: 'GetRecords.IteratorAgeMilliseconds',
      dimensions: { StreamName: 'iot-readings' },
      statistic: 'Maximum',
      threshold: 60000,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
    });
    expect(synthOperations({ iteratorAgeThresholdMs: 120000 }).alarm('stream-iterator-age-alarm').threshold).toBe(120000);
  });

  it.each(['store-readings', 'threshold-alerts'])('raises an iterator-age alarm for %s, so a lagging consumer is named', (key) => {
    expect(ops.alarm(`lambda-${key}-iterator-age-alarm`)).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: 'IteratorAge',
      dimensions: { FunctionName: `iot-${key}` },
      statistic: 'Maximum',
      threshold: 60000,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it.each(['store-readings', 'threshold-alerts'])('alarms on the first error and the first throttle of %s', (key) => {
    for (const metric of ['Errors', 'Throttles']) {
      expect(ops.alarm(`lambda-${key}-${metric.toLowerCase()}-alarm`)).toMatchObject({
        namespace: 'AWS/Lambda',
        metric_name: metric,
        dimensions: { FunctionName: `iot-${key}` },
        statistic: 'Sum',
        threshold: 1,
        comparison_operator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('alarms as soon as one message is visible in the failure queue', () => {
    expect(ops.alarm('failure-queue-messages-alarm')).toMatchObject({
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: 'iot-failures' },
      statistic: 'Maximum',
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
    });
  });

  it('alarms on API 5XX errors of the stage', () => {
    expect(ops.alarm('api-5xx-alarm')).toMatchObject({
      namespace: 'AWS/ApiGateway',
      metric_name: '5XXError',
      dimensions: { ApiName: 'iot-ingest', Stage: 'prod' },
      statistic: 'Sum',
      threshold: 1,
    });
  });

  it('alarms on read or write throttles of each table, counting a missing metric as zero', () => {
    const alarm = ops.alarm('table-things-throttles-alarm');
    expect(alarm).toMatchObject({ threshold: 1, comparison_operator: 'GreaterThanOrEqualToThreshold' });
    expect(alarm.metric_query).toEqual([
      expect.objectContaining({ id: 'reads', return_data: false, metric: expect.objectContaining({ namespace: 'AWS/DynamoDB', metric_name: 'ReadThrottleEvents', dimensions: { TableName: 'iot-things' }, stat: 'Sum' }) }),
      expect.objectContaining({ id: 'writes', return_data: false, metric: expect.objectContaining({ namespace: 'AWS/DynamoDB', metric_name: 'WriteThrottleEvents', dimensions: { TableName: 'iot-things' }, stat: 'Sum' }) }),
      expect.objectContaining({ id: 'throttles', expression: 'FILL(reads, 0) + FILL(writes, 0)', return_data: true }),
    ]);
  });

  it('adds web alarms only when given the load balancer, and the no-healthy-task alarm only with the target group', () => {
    const alarmIds = Object.keys(ops.json.resource?.aws_cloudwatch_metric_alarm ?? {});
    expect(alarmIds.filter((id) => id.startsWith('ops_web-'))).toEqual([]);
    const withWeb = synthOperations({ loadBalancerArnSuffix: 'app/iot-web/123', targetGroupArnSuffix: 'targetgroup/iot-web/456' });
    expect(withWeb.alarm('web-5xx-alarm').metric_query).toContainEqual(expect.objectContaining({ expression: 'FILL(balancer, 0) + FILL(tasks, 0)', return_data: true }));
    expect(withWeb.alarm('web-healthy-tasks-alarm')).toMatchObject({
      metric_name: 'HealthyHostCount',
      dimensions: { LoadBalancer: 'app/iot-web/123', TargetGroup: 'targetgroup/iot-web/456' },
      threshold: 1,
      comparison_operator: 'LessThanThreshold',
      treat_missing_data: 'breaching',
      alarm_actions: [withWeb.ref('aws_sns_topic', 'topic', 'arn')],
    });
    const balancerOnly = synthOperations({ loadBalancerArnSuffix: 'app/iot-web/123' });
    expect(balancerOnly.alarm('web-5xx-alarm')).toBeDefined();
    expect(() => balancerOnly.alarm('web-healthy-tasks-alarm')).toThrow(/found 0/);
  });
});

describe('Operations dashboard', () => {
  const ops = synthOperations({ loadBalancerArnSuffix: 'app/iot-web/123' });

  it('is named after the pipeline and shows every stage in the stack’s region', () => {
    expect(ops.one('aws_cloudwatch_dashboard', 'dashboard').dashboard_name).toBe('iot-pipeline');
    expect(ops.json.output?.['dashboard-name']?.value).toBe(ops.ref('aws_cloudwatch_dashboard', 'dashboard', 'dashboard_name'));
    const metricWidgets = ops.dashboard().widgets.filter((widget) => widget.type === 'metric');
    for (const widget of metricWidgets) expect(widget.properties.region).toBe('eu-west-2');
    const namespaces = new Set(metricWidgets.flatMap((widget) => (widget.properties.metrics as unknown[][]).map((row) => row[0])));
    expect([...namespaces].sort()).toEqual(['AWS/ApiGateway', 'AWS/ApplicationELB', 'AWS/DynamoDB', 'AWS/Kinesis', 'AWS/Lambda', 'AWS/SQS']);
  });

  it('plots each consumer and each table', () => {
    const rows = ops.dashboard().widgets.flatMap((widget) => (widget.properties.metrics as unknown[][] | undefined) ?? []);
    for (const functionName of Object.values(baseProps.consumerFunctions)) {
      expect(rows).toContainEqual(['AWS/Lambda', 'Errors', 'FunctionName', functionName, expect.any(Object)]);
    }
    for (const tableName of Object.values(baseProps.tables)) {
      expect(rows).toContainEqual(['AWS/DynamoDB', 'ReadThrottleEvents', 'TableName', tableName, expect.any(Object)]);
    }
  });

  it('shows the state of every alarm', () => {
    const alarmWidget = ops.dashboard().widgets.find((widget) => widget.type === 'alarm');
    const arns = Object.keys(ops.json.resource?.aws_cloudwatch_metric_alarm ?? {}).map((id) => `\${aws_cloudwatch_metric_alarm.${id}.arn}`);
    expect((alarmWidget?.properties.alarms as string[]).sort()).toEqual(arns.sort());
  });
});

describe('Operations props', () => {
  it.each<[string, Partial<OperationsProps>, RegExp]>([
    ['a malformed email', { notificationEmails: ['ops.example.org'] }, /'ops.example.org' is not an email address/],
    ['an address twice', { notificationEmails: ['ops@example.org', 'ops@example.org'] }, /an address twice/],
    ['no consumer', { consumerFunctions: {} }, /consumerFunctions is empty/],
    ['no table', { tables: {} }, /tables is empty/],
    ['an unreadable key', { tables: { 'Things Table': 'iot-things' } }, /key 'Things Table'/],
    ['an iterator age below a second', { iteratorAgeThresholdMs: 10 }, /iteratorAgeThresholdMs is 10/],
    ['a target group without its load balancer', { targetGroupArnSuffix: 'targetgroup/x/1' }, /needs loadBalancerArnSuffix/],
    ['a dashboard-unsafe prefix', { namePrefix: 'iot ops' }, /namePrefix 'iot ops'/],
  ])('rejects %s', (_case, overrides, message) => {
    expect(() => synthOperations(overrides)).toThrow(message);
  });
});

describe('Operations under the platform policy', () => {
  it('covers every consumer, failure queue, API and table of a pipeline wired by attributes, breaking no rule itself', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'policy');
    new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
    protectStatefulResources(stack); // as every PlatformStack does
    // A bare pipeline: only what the alarm rules look for.
    const stream = new KinesisStream(stack, 'stream', { name: 'iot-readings', encryptionType: 'KMS', kmsKeyId: 'alias/aws/kinesis' });
    const failures = new SqsQueue(stack, 'failures', { name: 'iot-failures', sqsManagedSseEnabled: true });
    const consumers = ['store-readings', 'threshold-alerts'].map((name) => {
      const fn = new LambdaFunction(stack, name, { functionName: `iot-${name}`, role: 'role', runtime: 'nodejs22.x', handler: 'index.handler', filename: 'bundle.zip' });
      new LambdaEventSourceMapping(stack, `${name}-mapping`, {
        functionName: fn.functionName,
        eventSourceArn: stream.arn,
        startingPosition: 'TRIM_HORIZON',
        destinationConfig: { onFailure: { destinationArn: failures.arn } },
      });
      return [name, fn.functionName] as const;
    });
    const table = new DynamodbTable(stack, 'things', { name: 'iot-things', billingMode: 'PAY_PER_REQUEST', hashKey: 'ThingID', attribute: [{ name: 'ThingID', type: 'S' }] });
    const api = new ApiGatewayRestApi(stack, 'api', { name: 'iot-ingest' });
    const deployment = new ApiGatewayDeployment(stack, 'deployment', { restApiId: api.id });
    const stage = new ApiGatewayStage(stack, 'stage', { restApiId: api.id, deploymentId: deployment.id, stageName: 'prod' });

    new Operations(stack, 'ops', {
      ...baseProps,
      streamName: stream.name,
      consumerFunctions: Object.fromEntries(consumers),
      failureQueueName: failures.name,
      apiName: api.name,
      apiStageName: stage.stageName,
      tables: { things: table.name },
    });
    const report = applyPlatformPolicy(app, { failOnViolation: false, log: () => undefined });
    Testing.synth(stack, true);

    expect(report.stacks).toHaveLength(1);
    expect(report.violations.filter((violation) => violation.ruleId.startsWith('OPS-')).map((violation) => violation.message)).toEqual([]);
    expect(report.violations.filter((violation) => violation.path.startsWith('policy/ops/')).map((violation) => violation.message)).toEqual([]);
  });
});
