import type { TerraformStack } from 'cdktf';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { ApiGatewayStage } from '@cdktf/provider-aws/lib/api-gateway-stage';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { KinesisStream } from '@cdktf/provider-aws/lib/kinesis-stream';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { check, expectClean, expectViolations } from '../harness';
import { alarm, encryptedTopic, lambdaFunction } from '../fixtures';

/** A stream consumer with its failure queue; alarms are up to each test. */
function consumer(stack: TerraformStack, id: string) {
  const stream = new KinesisStream(stack, `${id}-stream`, { name: `${id}-stream`, shardCount: 1 });
  const failures = new SqsQueue(stack, `${id}-failures`, { name: `${id}-failures` });
  const fn = lambdaFunction(stack, id);
  new LambdaEventSourceMapping(stack, `${id}-mapping`, {
    functionName: fn.functionName,
    eventSourceArn: stream.arn,
    startingPosition: 'TRIM_HORIZON',
    destinationConfig: { onFailure: { destinationArn: failures.arn } },
  });
  return { fn, failures };
}

describe('OPS-001, OPS-002, OPS-003 Lambda alarms', () => {
  it('fire on a stream consumer with no IteratorAge, Errors or Throttles alarm', () => {
    const report = check((stack) => {
      const ops = encryptedTopic(stack, 'ops');
      const { fn } = consumer(stack, 'store');
      // An alarm on another function does not cover this one.
      const other = lambdaFunction(stack, 'other');
      for (const metric of ['IteratorAge', 'Errors', 'Throttles']) alarm(stack, `other-${metric}`, 'AWS/Lambda', metric, { FunctionName: other.functionName }, [ops.arn]);
      alarm(stack, 'wrong-namespace', 'AWS/Kinesis', 'Errors', { FunctionName: fn.functionName }, [ops.arn]);
    });
    expectViolations(report, 'OPS-001', ['aws_lambda_function.store'], /AWS\/Lambda IteratorAge with FunctionName = this function/);
    expectViolations(report, 'OPS-002', ['aws_lambda_function.store']);
    expectViolations(report, 'OPS-003', ['aws_lambda_function.store']);
  });

  it('stay silent when each function has its alarms (by reference or by literal name); IteratorAge only applies to stream consumers', () => {
    const report = check((stack) => {
      const ops = encryptedTopic(stack, 'ops');
      const { fn } = consumer(stack, 'store');
      alarm(stack, 'iterator-age', 'AWS/Lambda', 'IteratorAge', { FunctionName: fn.functionName }, [ops.arn]);
      alarm(stack, 'errors', 'AWS/Lambda', 'Errors', { FunctionName: 'store' }, [ops.arn]);
      alarm(stack, 'throttles', 'AWS/Lambda', 'Throttles', { FunctionName: fn.functionName }, [ops.arn]);
      const api = lambdaFunction(stack, 'api-handler');
      alarm(stack, 'api-errors', 'AWS/Lambda', 'Errors', { FunctionName: api.functionName }, [ops.arn]);
      alarm(stack, 'api-throttles', 'AWS/Lambda', 'Throttles', { FunctionName: api.functionName }, [ops.arn]);
    });
    for (const id of ['OPS-001', 'OPS-002', 'OPS-003']) expectClean(report, id);
  });
});

describe('OPS-004 failure queue alarm', () => {
  it('fires on on-failure destinations and dead-letter queues no alarm watches', () => {
    const report = check((stack) => {
      consumer(stack, 'store');
      const dlq = new SqsQueue(stack, 'dlq', { name: 'dlq' });
      new SqsQueue(stack, 'work', { name: 'work', redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 }) });
    });
    expectViolations(report, 'OPS-004', ['aws_sqs_queue.store-failures', 'aws_sqs_queue.dlq']);
  });

  it('stays silent when a visible-messages alarm watches the queue; ordinary queues need none', () => {
    const report = check((stack) => {
      const ops = encryptedTopic(stack, 'ops');
      const { failures } = consumer(stack, 'store');
      alarm(stack, 'failures', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: failures.name }, [ops.arn]);
      new SqsQueue(stack, 'plain', { name: 'plain' });
    });
    expectClean(report, 'OPS-004');
  });
});

function restApi(stack: TerraformStack) {
  const api = new ApiGatewayRestApi(stack, 'api', { name: 'ingest' });
  new ApiGatewayStage(stack, 'prod', { restApiId: api.id, stageName: 'prod', deploymentId: 'd' });
  return api;
}

describe('OPS-005 API 5XX alarm', () => {
  it('fires on a deployed API with no 5XXError alarm', () => {
    const report = check((stack) => {
      const api = restApi(stack);
      alarm(stack, 'client-errors', 'AWS/ApiGateway', '4XXError', { ApiName: api.name }, [encryptedTopic(stack, 'ops').arn]);
    });
    expectViolations(report, 'OPS-005', ['aws_api_gateway_rest_api.api']);
  });

  it('stays silent with a 5XXError alarm on the API', () => {
    const report = check((stack) => {
      const api = restApi(stack);
      alarm(stack, 'server-errors', 'AWS/ApiGateway', '5XXError', { ApiName: api.name, Stage: 'prod' }, [encryptedTopic(stack, 'ops').arn]);
    });
    expectClean(report, 'OPS-005');
  });
});

describe('OPS-006 DynamoDB throttle alarm', () => {
  const table = (stack: TerraformStack, id: string) => new DynamodbTable(stack, id, { name: `iot-${id}`, hashKey: 'ThingID', attribute: [{ name: 'ThingID', type: 'S' }] });

  it('fires on a table no throttling alarm watches', () => {
    const report = check((stack) => {
      const things = table(stack, 'things');
      table(stack, 'alerts');
      alarm(stack, 'things-throttles', 'AWS/DynamoDB', 'ThrottledRequests', { TableName: things.name }, [encryptedTopic(stack, 'ops').arn]);
    });
    expectViolations(report, 'OPS-006', ['aws_dynamodb_table.alerts'], /TableName = this table/);
  });

  it('stays silent when one metric-math alarm sums the throttles of every table', () => {
    const report = check((stack) => {
      const tables = [table(stack, 'things'), table(stack, 'alerts')];
      new CloudwatchMetricAlarm(stack, 'throttles', {
        alarmName: 'throttles',
        comparisonOperator: 'GreaterThanThreshold',
        evaluationPeriods: 1,
        threshold: 0,
        alarmActions: [encryptedTopic(stack, 'ops').arn],
        metricQuery: [
          ...tables.map((t, i) => ({ id: `t${i}`, metric: { namespace: 'AWS/DynamoDB', metricName: 'WriteThrottleEvents', dimensions: { TableName: t.name }, period: 60, stat: 'Sum' } })),
          { id: 'total', expression: 't0 + t1', returnData: true },
        ],
      });
    });
    expectClean(report, 'OPS-006');
  });
});

describe('OPS-007 every alarm has an action', () => {
  it('fires on an alarm without actions, and on one with actions disabled', () => {
    const report = check((stack) => {
      alarm(stack, 'silent', 'AWS/Lambda', 'Errors', { FunctionName: 'x' }, []);
      const disabled = alarm(stack, 'disabled', 'AWS/Lambda', 'Errors', { FunctionName: 'x' }, [encryptedTopic(stack, 'ops').arn]);
      disabled.actionsEnabled = false;
    });
    expectViolations(report, 'OPS-007', ['aws_cloudwatch_metric_alarm.silent', 'aws_cloudwatch_metric_alarm.disabled']);
  });

  it('stays silent on alarms that notify', () => {
    expectClean(check((stack) => alarm(stack, 'loud', 'AWS/Lambda', 'Errors', { FunctionName: 'x' }, [encryptedTopic(stack, 'ops').arn])), 'OPS-007');
  });
});
