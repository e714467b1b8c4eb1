import { TerraformOutput } from 'cdktf';
import type { DashboardContents } from '../../stacks/dashboard';
import { Operations, type OperationsProps } from '../../stacks/operations';
import { constructStack, synthJson } from './synth-helpers';

type Block = Record<string, unknown>;

const ACCOUNT = '111122223333';
const baseProps: OperationsProps = { namePrefix: 'iot', notificationEmails: ['ops@example.org', 'oncall@example.org'], accountId: ACCOUNT };
const contents: DashboardContents = {
  region: 'eu-west-2',
  apiName: 'iot-ingest',
  apiStageName: 'prod',
  streamName: 'iot-readings',
  consumerFunctions: { 'store-readings': 'iot-store-readings', 'threshold-alerts': 'iot-threshold-alerts' },
  failureQueueName: 'iot-failures',
  tables: { things: 'iot-things', thresholds: 'iot-thresholds', alerts: 'iot-alerts', series: 'iot-series' },
  iteratorAgeThresholdMs: 60_000,
  loadBalancerArnSuffix: 'app/iot-web/123',
  alarmArns: ['arn:aws:cloudwatch:eu-west-2:111122223333:alarm:a', 'arn:aws:cloudwatch:eu-west-2:111122223333:alarm:b'],
};

function synthOperations(overrides: Partial<OperationsProps> = {}, dashboard: DashboardContents | undefined = contents) {
  const stack = constructStack();
  const operations = new Operations(stack, 'ops', { ...baseProps, ...overrides });
  new TerraformOutput(stack, 'topic-arn', { value: operations.topicArn });
  new TerraformOutput(stack, 'alarm-actions', { value: operations.alarmActions });
  if (dashboard !== undefined) new TerraformOutput(stack, 'dashboard-name', { value: operations.addDashboard(dashboard) });
  const json = synthJson(stack);
  const all = (type: string) => json.resource?.[type] ?? {};
  const one = (type: string, id: string) => {
    const found = all(type)[`ops_${id}`];
    if (found === undefined) throw new Error(`no ${type} ops_${id}; have ${Object.keys(all(type)).join(', ')}`);
    return found;
  };
  const ref = (type: string, id: string, attribute: string) => `\${${type}.ops_${id}.${attribute}}`;
  const widgets = () => (JSON.parse(one('aws_cloudwatch_dashboard', 'dashboard').dashboard_body as string) as { widgets: { type: string; properties: Block }[] }).widgets;
  return { json, all, one, ref, widgets };
}

describe('Operations topic', () => {
  const ops = synthOperations();

  it('encrypts the topic with a rotating key of its own, and is what every alarm notifies', () => {
    expect(ops.one('aws_sns_topic', 'topic')).toMatchObject({ name: 'iot-operations', kms_master_key_id: ops.ref('aws_kms_key', 'topic-key', 'arn') });
    expect(ops.one('aws_kms_key', 'topic-key')).toMatchObject({ enable_key_rotation: true, policy: '${data.aws_iam_policy_document.ops_topic-key-policy.json}' });
    expect(ops.json.output?.['topic-arn']?.value).toBe(ops.ref('aws_sns_topic', 'topic', 'arn'));
    expect(ops.json.output?.['alarm-actions']?.value).toEqual([ops.ref('aws_sns_topic', 'topic', 'arn')]);
  });

  it('names each email subscription after its address, so removing the first address leaves the others in place', () => {
    const subscriptions = ops.all('aws_sns_topic_subscription');
    expect(Object.keys(subscriptions).sort()).toEqual(['ops_email-oncall-example-org', 'ops_email-ops-example-org']);
    expect(subscriptions['ops_email-ops-example-org']).toMatchObject({ topic_arn: ops.ref('aws_sns_topic', 'topic', 'arn'), protocol: 'email', endpoint: 'ops@example.org' });
    const without = synthOperations({ notificationEmails: ['oncall@example.org'] });
    expect(Object.keys(without.all('aws_sns_topic_subscription'))).toEqual(['ops_email-oncall-example-org']);
  });

  it('lets CloudWatch (from this account only) use the key, with no wildcard action in the key policy', () => {
    const statements = ops.json.data?.aws_iam_policy_document?.['ops_topic-key-policy']?.statement as Block[];
    expect(statements).toContainEqual({
      sid: 'CloudWatchAlarmsPublishToTheEncryptedTopic',
      principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [ACCOUNT] }],
    });
    const administration = statements.find((statement) => statement.sid === 'AccountAdministersKeyAndDelegatesUseToIam');
    expect(administration?.principals).toEqual([{ type: 'AWS', identifiers: [ACCOUNT] }]);
    // The account must keep the right to change the policy, or the key becomes unmanageable.
    expect(administration?.actions).toEqual(expect.arrayContaining(['kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:DescribeKey', 'kms:ScheduleKeyDeletion']));
    expect(statements.flatMap((statement) => statement.actions as string[]).filter((action) => action.includes('*'))).toEqual([]);
  });

  it('uses a given key instead of creating one', () => {
    const keyArn = 'arn:aws:kms:eu-west-2:111122223333:key/1234';
    const withKey = synthOperations({ kmsKeyArn: keyArn });
    expect(withKey.one('aws_sns_topic', 'topic').kms_master_key_id).toBe(keyArn);
    expect(withKey.json.resource?.aws_kms_key).toBeUndefined();
  });

  it('creates no alarm of its own: alarms live beside what they watch', () => {
    expect(ops.json.resource?.aws_cloudwatch_metric_alarm).toBeUndefined();
  });
});

describe('Operations dashboard', () => {
  const ops = synthOperations();

  it('is named after the pipeline and shows every stage in the stack’s region', () => {
    expect(ops.one('aws_cloudwatch_dashboard', 'dashboard').dashboard_name).toBe('iot-pipeline');
    expect(ops.json.output?.['dashboard-name']?.value).toBe(ops.ref('aws_cloudwatch_dashboard', 'dashboard', 'dashboard_name'));
    const metricWidgets = ops.widgets().filter((widget) => widget.type === 'metric');
    for (const widget of metricWidgets) expect(widget.properties.region).toBe('eu-west-2');
    const namespaces = new Set(metricWidgets.flatMap((widget) => (widget.properties.metrics as unknown[][]).map((row) => row[0])));
    expect([...namespaces].sort()).toEqual(['AWS/ApiGateway', 'AWS/ApplicationELB', 'AWS/DynamoDB', 'AWS/Kinesis', 'AWS/Lambda', 'AWS/SQS']);
  });

  it('plots each consumer and each table, and draws the iterator-age alarm line', () => {
    const metricWidgets = ops.widgets().filter((widget) => widget.type === 'metric');
    const rows = metricWidgets.flatMap((widget) => widget.properties.metrics as unknown[][]);
    for (const functionName of Object.values(contents.consumerFunctions)) expect(rows).toContainEqual(['AWS/Lambda', 'Errors', 'FunctionName', functionName, expect.any(Object)]);
    for (const tableName of Object.values(contents.tables)) expect(rows).toContainEqual(['AWS/DynamoDB', 'ReadThrottleEvents', 'TableName', tableName, expect.any(Object)]);
    const streamAge = metricWidgets.find((widget) => widget.properties.title === 'Stream: oldest unread record (ms)');
    expect(streamAge?.properties.annotations).toEqual({ horizontal: [{ label: 'alarm', value: 60_000 }] });
  });

  it('shows the state of every alarm it is given, and leaves out the web panels without a load balancer', () => {
    expect(ops.widgets().find((widget) => widget.type === 'alarm')?.properties.alarms).toEqual(contents.alarmArns);
    const { loadBalancerArnSuffix: _omitted, ...withoutWeb } = contents;
    const titles = synthOperations({}, withoutWeb).widgets().map((widget) => String(widget.properties.title));
    expect(titles.filter((title) => title.startsWith('Web'))).toEqual([]);
  });
});
