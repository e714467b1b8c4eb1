/** The pipeline's alarms: each beside what it watches, all reporting to the operations topic, all on the dashboard. */
import { AutoscalingPolicy } from '@cdktf/provider-aws/lib/autoscaling-policy';
import { configOf, resource, resources, synthPlatform, type TerraformJson } from './synth-helpers';

let pipeline: TerraformJson;
let pipelineText: string;
beforeAll(() => {
  ({ json: pipeline, text: pipelineText } = synthPlatform(configOf({ operations: { emails: ['ops@example.com'] } })).pipeline);
});
const alarm = (id: string) => resource(pipeline, 'aws_cloudwatch_metric_alarm', id);
const TOPIC = '${aws_sns_topic.operations_topic.arn}';

it('sends every alarm and every recovery to the operations topic', () => {
  const alarms = Object.values(resources(pipeline, 'aws_cloudwatch_metric_alarm'));
  expect(alarms.length).toBe(21);
  for (const each of alarms) {
    expect(each.alarm_actions).toEqual([TOPIC]);
    expect(each.ok_actions).toEqual([TOPIC]);
  }
});

it('keeps each alarm in the construct of what it watches', () => {
  expect(Object.keys(resources(pipeline, 'aws_cloudwatch_metric_alarm')).sort()).toEqual(
    [
      'stream_iterator-age-alarm',
      'consumers_store-readings-iterator-age-alarm',
      'consumers_store-readings-errors-alarm',
      'consumers_store-readings-throttles-alarm',
      'consumers_threshold-alerts-iterator-age-alarm',
      'consumers_threshold-alerts-errors-alarm',
      'consumers_threshold-alerts-throttles-alarm',
      'consumers_failure-queue-messages-alarm',
      'ingest-api_server-errors-alarm',
      'tables_things-throttles-alarm',
      'tables_thresholds-throttles-alarm',
      'tables_alerts-throttles-alarm',
      'tables_series-throttles-alarm',
      'tables_rollups-throttles-alarm',
      'web-load-balancer_server-errors-alarm',
      'web-load-balancer_healthy-tasks-alarm',
      'archive-processor_errors-alarm',
      'archive-processor_throttles-alarm',
      'archive-processor_failed-records-alarm',
      'no-data-check_errors-alarm',
      'no-data-check_throttles-alarm',
    ].sort(),
  );
});

it('raises the stream iterator-age alarm on the oldest record age, 60 s', () => {
  expect(alarm('stream_iterator-age-alarm')).toMatchObject({
    alarm_name: 'iot-readings-iterator-age',
    namespace: 'AWS/Kinesis',
    metric_name: 'GetRecords.IteratorAgeMilliseconds',
    dimensions: { StreamName: '${aws_kinesis_stream.stream_stream.name}' },
    statistic: 'Maximum',
    threshold: 60000,
    comparison_operator: 'GreaterThanOrEqualToThreshold',
  });
});

it.each(['store-readings', 'threshold-alerts'])('watches %s for lag, errors and throttles', (name) => {
  const dimensions = { FunctionName: `\${aws_lambda_function.consumers_${name}.function_name}` };
  expect(alarm(`consumers_${name}-iterator-age-alarm`)).toMatchObject({ alarm_name: `iot-${name}-iterator-age`, metric_name: 'IteratorAge', dimensions, threshold: 60000 });
  for (const metric of ['Errors', 'Throttles']) {
    expect(alarm(`consumers_${name}-${metric.toLowerCase()}-alarm`)).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: metric,
      dimensions,
      statistic: 'Sum',
      threshold: 1,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
    });
  }
});

it('alarms as soon as one message is visible in the failure queue', () => {
  expect(alarm('consumers_failure-queue-messages-alarm')).toMatchObject({
    namespace: 'AWS/SQS',
    metric_name: 'ApproximateNumberOfMessagesVisible',
    dimensions: { QueueName: '${aws_sqs_queue.consumers_failure-queue.name}' },
    statistic: 'Maximum',
    threshold: 0,
    comparison_operator: 'GreaterThanThreshold',
  });
});

it('alarms on 5XX answers of the API stage', () => {
  expect(alarm('ingest-api_server-errors-alarm')).toMatchObject({
    alarm_name: 'iot-ingest-5xx',
    namespace: 'AWS/ApiGateway',
    metric_name: '5XXError',
    dimensions: { ApiName: '${aws_api_gateway_rest_api.ingest-api_rest-api.name}', Stage: '${aws_api_gateway_stage.ingest-api_stage.stage_name}' },
    statistic: 'Sum',
    threshold: 1,
  });
});

it('alarms on read or write throttles of each table, counting a missing metric as zero', () => {
  expect(alarm('tables_things-throttles-alarm').metric_query).toEqual([
    expect.objectContaining({ id: 'reads', return_data: false, metric: expect.objectContaining({ metric_name: 'ReadThrottleEvents', dimensions: { TableName: '${aws_dynamodb_table.tables_things.name}' } }) }),
    expect.objectContaining({ id: 'writes', return_data: false, metric: expect.objectContaining({ metric_name: 'WriteThrottleEvents' }) }),
    expect.objectContaining({ id: 'throttles', expression: 'FILL(reads, 0) + FILL(writes, 0)', return_data: true }),
  ]);
});

it('alarms when the web app answers 5XX or no task is healthy, treating silence as unhealthy', () => {
  expect(alarm('web-load-balancer_server-errors-alarm').metric_query).toContainEqual(expect.objectContaining({ expression: 'FILL(balancer, 0) + FILL(tasks, 0)', return_data: true }));
  expect(alarm('web-load-balancer_healthy-tasks-alarm')).toMatchObject({
    alarm_name: 'iot-web-no-healthy-task',
    metric_name: 'HealthyHostCount',
    dimensions: {
      LoadBalancer: '${aws_lb.web-load-balancer_load-balancer.arn_suffix}',
      TargetGroup: '${aws_lb_target_group.web-load-balancer_target-group.arn_suffix}',
    },
    comparison_operator: 'LessThanThreshold',
    treat_missing_data: 'breaching',
  });
});

it('has no instance-scaling alarm left: ECS managed scaling owns the instance count', () => {
  const metrics = Object.values(resources(pipeline, 'aws_cloudwatch_metric_alarm')).map((each) => each.metric_name);
  expect(metrics).not.toContain('MemoryReservation');
  expect(pipelineText).not.toHaveResource(AutoscalingPolicy);
});

it('shows the state of every alarm on the dashboard', () => {
  const body = JSON.parse(String(resource(pipeline, 'aws_cloudwatch_dashboard', 'operations_dashboard').dashboard_body)) as { widgets: { type: string; properties: { alarms?: string[] } }[] };
  const shown = body.widgets.find((widget) => widget.type === 'alarm')?.properties.alarms ?? [];
  expect([...shown].sort()).toEqual(Object.keys(resources(pipeline, 'aws_cloudwatch_metric_alarm')).map((id) => `\${aws_cloudwatch_metric_alarm.${id}.arn}`).sort());
});
