import type { TerraformStack } from 'cdktf';
import { KinesisStream } from '@cdktf/provider-aws/lib/kinesis-stream';
import { LambdaEventSourceMapping, type LambdaEventSourceMappingConfig } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { EVENT_SOURCE } from '../../../handlers/contract';
import { check, expectClean, expectViolations } from '../harness';
import { lambdaFunction } from '../fixtures';

/** A mapping that follows every rule, from the shared event source settings. */
function mapping(stack: TerraformStack, id: string, overrides: Partial<LambdaEventSourceMappingConfig> = {}) {
  const stream = new KinesisStream(stack, `${id}-stream`, { name: `${id}-stream`, shardCount: 1, encryptionType: 'KMS', kmsKeyId: 'alias/aws/kinesis' });
  const failures = new SqsQueue(stack, `${id}-failures`, { name: `${id}-failures`, sqsManagedSseEnabled: true });
  const fn = lambdaFunction(stack, `${id}-fn`);
  return new LambdaEventSourceMapping(stack, id, {
    functionName: fn.arn,
    eventSourceArn: stream.arn,
    startingPosition: EVENT_SOURCE.startingPosition,
    functionResponseTypes: [...EVENT_SOURCE.functionResponseTypes],
    bisectBatchOnFunctionError: EVENT_SOURCE.bisectBatchOnFunctionError,
    maximumRetryAttempts: EVENT_SOURCE.maximumRetryAttempts,
    maximumRecordAgeInSeconds: EVENT_SOURCE.maximumRecordAgeSeconds,
    destinationConfig: { onFailure: { destinationArn: failures.arn } },
    ...overrides,
  });
}

describe('ESM-001 partial batch responses', () => {
  it('fires on stream and queue mappings without ReportBatchItemFailures', () => {
    const report = check((stack) => {
      mapping(stack, 'stream', { functionResponseTypes: [] });
      const queue = new SqsQueue(stack, 'jobs', { name: 'jobs', sqsManagedSseEnabled: true });
      new LambdaEventSourceMapping(stack, 'queue', { functionName: lambdaFunction(stack, 'worker').arn, eventSourceArn: queue.arn });
    });
    expectViolations(report, 'ESM-001', ['aws_lambda_event_source_mapping.stream', 'aws_lambda_event_source_mapping.queue']);
  });

  it('stays silent on the shared event source settings', () => {
    expectClean(check((stack) => mapping(stack, 'store')), 'ESM-001');
  });
});

describe('ESM-002 bisect on error', () => {
  it('fires on a stream mapping that does not bisect', () => {
    expectViolations(check((stack) => mapping(stack, 'store', { bisectBatchOnFunctionError: false })), 'ESM-002', ['aws_lambda_event_source_mapping.store']);
  });

  it('stays silent when it bisects, and does not apply to queues', () => {
    const report = check((stack) => {
      mapping(stack, 'store');
      const queue = new SqsQueue(stack, 'jobs', { name: 'jobs', sqsManagedSseEnabled: true });
      new LambdaEventSourceMapping(stack, 'queue', { functionName: lambdaFunction(stack, 'worker').arn, eventSourceArn: queue.arn, functionResponseTypes: ['ReportBatchItemFailures'] });
    });
    expectClean(report, 'ESM-002');
  });
});

describe('ESM-003 finite retries and record age', () => {
  it('fires on unset or infinite (-1) retries and record age', () => {
    const report = check((stack) => {
      mapping(stack, 'unset', { maximumRetryAttempts: undefined, maximumRecordAgeInSeconds: undefined });
      mapping(stack, 'infinite', { maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1 });
    });
    const found = expectViolations(report, 'ESM-003', [
      'aws_lambda_event_source_mapping.unset',
      'aws_lambda_event_source_mapping.unset',
      'aws_lambda_event_source_mapping.infinite',
      'aws_lambda_event_source_mapping.infinite',
    ]);
    expect(found.map((v) => v.problem)).toContain('maximum_retry_attempts is -1 (unset or -1 retries until the record expires)');
  });

  it('stays silent on bounded values', () => {
    expectClean(check((stack) => mapping(stack, 'store')), 'ESM-003');
  });

  it('recognises a stream from another stack by its starting position', () => {
    const report = check((stack) => {
      new LambdaEventSourceMapping(stack, 'remote', {
        functionName: lambdaFunction(stack, 'fn').arn,
        eventSourceArn: '${data.terraform_remote_state.pipeline.outputs.stream_arn}',
        startingPosition: 'LATEST',
      });
    });
    for (const id of ['ESM-001', 'ESM-002', 'ESM-004']) expectViolations(report, id, ['aws_lambda_event_source_mapping.remote']);
  });
});

describe('ESM-004 on-failure destination', () => {
  it('fires on a stream mapping without an on-failure destination', () => {
    expectViolations(check((stack) => mapping(stack, 'store', { destinationConfig: undefined })), 'ESM-004', ['aws_lambda_event_source_mapping.store'], /discarded records vanish/);
  });

  it('stays silent with a destination', () => {
    expectClean(check((stack) => mapping(stack, 'store')), 'ESM-004');
  });
});
