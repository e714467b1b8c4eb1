import type { TerraformStack } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { KinesisStream } from '@cdktf/provider-aws/lib/kinesis-stream';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { TerraformResourceLifecycle } from 'cdktf';
import { STATEFUL_RESOURCE_TYPES } from '../../../policy/stateful-resources';
import { protectStatefulResources, TEARDOWN_REASON } from '../../../stacks/prevent-destroy';
import { check, expectClean, expectViolations, violationsOf } from '../harness';

/** One resource of every type that holds data, each with the given lifecycle. */
function everyStatefulResource(stack: TerraformStack, lifecycle?: TerraformResourceLifecycle): void {
  const meta = lifecycle === undefined ? {} : { lifecycle };
  new DynamodbTable(stack, 'table', { name: 't', hashKey: 'ThingID', attribute: [{ name: 'ThingID', type: 'S' }], ...meta });
  new KinesisStream(stack, 'stream', { name: 's', shardCount: 1, ...meta });
  new S3Bucket(stack, 'bucket', { bucketPrefix: 'b-', ...meta });
  new KmsKey(stack, 'key', { description: 'k', ...meta });
  new SqsQueue(stack, 'queue', { name: 'q', ...meta });
  new EcrRepository(stack, 'repository', { name: 'r', ...meta });
  new CognitoUserPool(stack, 'users', { name: 'u', ...meta });
}

const EVERY_ADDRESS = [
  'aws_dynamodb_table.table',
  'aws_kinesis_stream.stream',
  'aws_s3_bucket.bucket',
  'aws_kms_key.key',
  'aws_sqs_queue.queue',
  'aws_ecr_repository.repository',
  'aws_cognito_user_pool.users',
];

describe('DATA-001 prevent_destroy on resources that hold data', () => {
  it('covers exactly the shared list of types that hold data', () => {
    expect(EVERY_ADDRESS.map((address) => address.split('.')[0])).toEqual(STATEFUL_RESOURCE_TYPES.map((entry) => entry.type));
  });

  it('fires on each type that holds data without prevent_destroy, saying what a destroy would lose', () => {
    const found = expectViolations(check((stack) => everyStatefulResource(stack)), 'DATA-001', EVERY_ADDRESS, /without lifecycle\.prevent_destroy: a plan may destroy it and lose /);
    expect(found.find((v) => v.address === 'aws_dynamodb_table.table')?.problem).toMatch(/every item in the table/);
    expect(found.find((v) => v.address === 'aws_kms_key.key')?.problem).toMatch(/becomes unreadable/);
  });

  it('fires when prevent_destroy is set to false', () => {
    expectViolations(check((stack) => everyStatefulResource(stack, { preventDestroy: false })), 'DATA-001', EVERY_ADDRESS);
  });

  it('stays silent when prevent_destroy is true, and on types that hold no data', () => {
    expectClean(check((stack) => everyStatefulResource(stack, { preventDestroy: true })), 'DATA-001');
    expectClean(
      check((stack) => {
        new SnsTopic(stack, 'topic', { name: 't' });
        new CloudwatchLogGroup(stack, 'logs', { name: 'l', retentionInDays: 7 });
      }),
      'DATA-001',
    );
  });

  it('is satisfied by the stacks\' prevent-destroy hook, which keeps the other lifecycle settings', () => {
    let queue: SqsQueue | undefined;
    const report = check((stack) => {
      protectStatefulResources(stack);
      everyStatefulResource(stack);
      queue = new SqsQueue(stack, 'replaced-first', { name: 'r', lifecycle: { createBeforeDestroy: true } });
    });
    expectClean(report, 'DATA-001');
    expect(queue?.lifecycle).toEqual({ createBeforeDestroy: true, preventDestroy: true });
  });

  it('leaves a resource\'s own explicit choice to the rule', () => {
    const report = check((stack) => {
      protectStatefulResources(stack);
      new SqsQueue(stack, 'disposable', { name: 'd', lifecycle: { preventDestroy: false } });
    });
    expectViolations(report, 'DATA-001', ['aws_sqs_queue.disposable']);
  });

  it('with allowDestroy, lifts it from every such resource, warns for each, and lists each as suppressed with the teardown reason', () => {
    const warnings: string[] = [];
    const report = check((stack) => {
      protectStatefulResources(stack, { allowDestroy: true, warn: (line) => warnings.push(line) });
      everyStatefulResource(stack);
    });
    expect(violationsOf(report, 'DATA-001')).toEqual([]);
    const suppressed = report.suppressed.filter((s) => s.ruleId === 'DATA-001');
    expect(suppressed.map((s) => s.address).sort()).toEqual([...EVERY_ADDRESS].sort());
    for (const s of suppressed) expect(s.reason).toBe(TEARDOWN_REASON);
    expect(warnings).toHaveLength(EVERY_ADDRESS.length);
    expect(warnings.find((line) => line.includes('aws_s3_bucket.bucket'))).toMatch(/^WARNING: allowDestroy is on: fixture\/bucket \(aws_s3_bucket\.bucket\) is not protected by prevent_destroy; destroying it loses every object in the bucket/);
  });
});
