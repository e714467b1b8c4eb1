import { asObject, block, blocks, strings, type Element, type StackModel } from '../model';
import { sourceKind } from './event-sources';
import { finding, NO_EQUIVALENT, rule, type Finding } from './rule';

/** A metric an alarm watches, directly or inside a metric-math query. */
interface WatchedMetric {
  readonly alarm: Element;
  readonly namespace: unknown;
  readonly metricName: unknown;
  readonly dimensions: Record<string, unknown>;
}

function watchedMetrics(model: StackModel): WatchedMetric[] {
  return model.resources('aws_cloudwatch_metric_alarm').flatMap((alarm) => {
    const { config } = alarm;
    const direct = config['metric_name'] === undefined ? [] : [{ alarm, namespace: config['namespace'], metricName: config['metric_name'], dimensions: asObject(config['dimensions']) }];
    const queried = blocks(config['metric_query'])
      .map((query) => block(query['metric']))
      .filter((metric) => metric['metric_name'] !== undefined)
      .map((metric) => ({ alarm, namespace: metric['namespace'], metricName: metric['metric_name'], dimensions: asObject(metric['dimensions']) }));
    return [...direct, ...queried];
  });
}

/** What an alarm must watch for one resource. */
interface Coverage {
  readonly namespace: string;
  readonly metricNames: readonly string[];
  readonly dimension: string;
  /** The target's attribute the dimension holds, e.g. `function_name`. */
  readonly namingAttribute: string;
}

/** Findings for every target no alarm watches with the required metric and dimension. */
function uncovered(model: StackModel, targets: readonly Element[], coverage: Coverage, describe: string): Finding[] {
  const metrics = watchedMetrics(model).filter(
    (metric) => metric.namespace === coverage.namespace && coverage.metricNames.includes(String(metric.metricName)),
  );
  return targets
    .filter((target) => !metrics.some((metric) => model.designates(metric.dimensions[coverage.dimension], target, coverage.namingAttribute)))
    .map((target) =>
      finding(target, `no alarm watches ${coverage.namespace} ${coverage.metricNames.join(' or ')} with ${coverage.dimension} = this ${describe}`),
    );
}

/** The functions in this stack that a resource's `function_name` designates. */
function functionsOf(model: StackModel, mapping: Element): Element[] {
  return model.resources('aws_lambda_function').filter((fn) => model.designates(mapping.config['function_name'], fn, 'function_name') || model.designates(mapping.config['function_name'], fn, 'arn'));
}

const LAMBDA = { namespace: 'AWS/Lambda', dimension: 'FunctionName', namingAttribute: 'function_name' } as const;

export const iteratorAgeAlarm = rule({
  id: 'OPS-001',
  category: 'alarms',
  title: 'Every function fed by a stream has an IteratorAge alarm',
  fix: 'Add a `CloudwatchMetricAlarm` on AWS/Lambda `IteratorAge` (Maximum) with `dimensions: { FunctionName: fn.functionName }` and an alarm action.',
  equivalents: NO_EQUIVALENT,
  check(model) {
    const fed = new Set(
      model.resources('aws_lambda_event_source_mapping')
        .filter((mapping) => sourceKind(model, mapping) === 'stream')
        .flatMap((mapping) => functionsOf(model, mapping)),
    );
    return uncovered(model, [...fed], { ...LAMBDA, metricNames: ['IteratorAge'] }, 'function');
  },
});

export const lambdaErrorsAlarm = rule({
  id: 'OPS-002',
  category: 'alarms',
  title: 'Every Lambda function has an Errors alarm',
  fix: 'Add a `CloudwatchMetricAlarm` on AWS/Lambda `Errors` (Sum) with `dimensions: { FunctionName: fn.functionName }` and an alarm action.',
  equivalents: NO_EQUIVALENT,
  check: (model) => uncovered(model, model.resources('aws_lambda_function'), { ...LAMBDA, metricNames: ['Errors'] }, 'function'),
});

export const lambdaThrottlesAlarm = rule({
  id: 'OPS-003',
  category: 'alarms',
  title: 'Every Lambda function has a Throttles alarm',
  fix: 'Add a `CloudwatchMetricAlarm` on AWS/Lambda `Throttles` (Sum) with `dimensions: { FunctionName: fn.functionName }` and an alarm action.',
  equivalents: NO_EQUIVALENT,
  check: (model) => uncovered(model, model.resources('aws_lambda_function'), { ...LAMBDA, metricNames: ['Throttles'] }, 'function'),
});

/** Queues that receive what failed elsewhere: on-failure destinations and dead-letter queues. */
function failureQueues(model: StackModel): Element[] {
  const sources: unknown[] = [];
  for (const mapping of model.resources('aws_lambda_event_source_mapping')) {
    sources.push(block(block(mapping.config['destination_config'])['on_failure'])['destination_arn']);
  }
  for (const fn of model.resources('aws_lambda_function')) sources.push(block(fn.config['dead_letter_config'])['target_arn']);
  for (const config of model.resources('aws_lambda_function_event_invoke_config')) {
    sources.push(block(block(config.config['destination_config'])['on_failure'])['destination']);
  }
  for (const queue of model.resources('aws_sqs_queue')) sources.push(queue.config['redrive_policy']);
  for (const redrive of model.resources('aws_sqs_queue_redrive_policy')) sources.push(redrive.config['redrive_policy']);
  const queues = new Set(sources.flatMap((source) => model.referencedElements(source, 'aws_sqs_queue')));
  // A redrive policy written as literal JSON names its queue by ARN.
  for (const source of sources) {
    if (typeof source !== 'string') continue;
    for (const queue of model.resources('aws_sqs_queue')) {
      if (strings(queue.config['name']).some((name) => source.includes(`:${name}"`))) queues.add(queue);
    }
  }
  return [...queues];
}

export const failureQueueAlarm = rule({
  id: 'OPS-004',
  category: 'alarms',
  title: 'Every failure queue (on-failure destination or dead-letter queue) has an alarm on visible messages',
  fix: 'Add a `CloudwatchMetricAlarm` on AWS/SQS `ApproximateNumberOfMessagesVisible` (Maximum > 0) with `dimensions: { QueueName: queue.name }` and an alarm action.',
  equivalents: NO_EQUIVALENT,
  check: (model) =>
    uncovered(
      model,
      failureQueues(model),
      { namespace: 'AWS/SQS', metricNames: ['ApproximateNumberOfMessagesVisible', 'NumberOfMessagesSent'], dimension: 'QueueName', namingAttribute: 'name' },
      'queue',
    ),
});

export const api5xxAlarm = rule({
  id: 'OPS-005',
  category: 'alarms',
  title: 'Every REST API with a stage has a 5XXError alarm',
  fix: 'Add a `CloudwatchMetricAlarm` on AWS/ApiGateway `5XXError` with `dimensions: { ApiName: api.name, Stage: stage.stageName }` and an alarm action.',
  equivalents: NO_EQUIVALENT,
  check(model) {
    const apis = new Set(model.resources('aws_api_gateway_stage').flatMap((stage) => model.referencedElements(stage.config['rest_api_id'], 'aws_api_gateway_rest_api')));
    return uncovered(model, [...apis], { namespace: 'AWS/ApiGateway', metricNames: ['5XXError'], dimension: 'ApiName', namingAttribute: 'name' }, 'API');
  },
});

export const tableThrottlesAlarm = rule({
  id: 'OPS-006',
  category: 'alarms',
  title: 'Every DynamoDB table has a throttling alarm',
  fix: 'Add a `CloudwatchMetricAlarm` on AWS/DynamoDB `ThrottledRequests` (or Read/WriteThrottleEvents) with `dimensions: { TableName: table.name }` (metric math may sum several) and an alarm action.',
  equivalents: NO_EQUIVALENT,
  check: (model) =>
    uncovered(
      model,
      model.resources('aws_dynamodb_table'),
      { namespace: 'AWS/DynamoDB', metricNames: ['ThrottledRequests', 'ReadThrottleEvents', 'WriteThrottleEvents'], dimension: 'TableName', namingAttribute: 'name' },
      'table',
    ),
});

export const alarmHasAction = rule({
  id: 'OPS-007',
  category: 'alarms',
  title: 'Every alarm has an enabled alarm action',
  fix: 'Set `alarmActions` (e.g. the operations topic ARN, or a scaling policy) and leave `actionsEnabled` on.',
  equivalents: {
    checkov: [{ id: 'CKV_AWS_319', scope: 'actions enabled' }],
    trivy: [],
    note: 'Stricter: at least one alarm action.',
  },
  check: (model) =>
    model.resources('aws_cloudwatch_metric_alarm').flatMap((alarm) => {
      if (alarm.config['actions_enabled'] === false || alarm.config['actions_enabled'] === 'false') return [finding(alarm, 'actions_enabled is false')];
      const actions = alarm.config['alarm_actions'];
      const hasAction = Array.isArray(actions) ? actions.length > 0 : typeof actions === 'string' && actions !== '';
      return hasAction ? [] : [finding(alarm, 'alarm_actions is empty, so nobody hears the alarm')];
    }),
});

export const ALARM_RULES = [
  iteratorAgeAlarm,
  lambdaErrorsAlarm,
  lambdaThrottlesAlarm,
  failureQueueAlarm,
  api5xxAlarm,
  tableThrottlesAlarm,
  alarmHasAction,
] as const;
