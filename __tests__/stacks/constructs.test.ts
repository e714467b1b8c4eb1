/** The pipeline's constructs on their own: options the default synth does not exercise, and props they cannot build from. */
import { App, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { AlertTopic } from '../../stacks/alert-topic';
import { Archive } from '../../stacks/archive';
import { configOf, constructStack, policyStatements, synthJson } from './synth-helpers';
import { DataTables } from '../../stacks/data-tables';
import { InputError, PropsError } from '../../stacks/input-error';
import { PlatformStack } from '../../stacks/platform-stack';
import { ReadingStream } from '../../stacks/reading-stream';
import { ServiceRole } from '../../stacks/service-role';

const names = { things: 't', thresholds: 'th', alerts: 'a', series: 's', rollups: 'r' };
const alarmActions = ['arn:aws:sns:eu-west-2:111122223333:ops'];
const synthOf = (build: (scope: Construct) => void) => {
  const stack = constructStack();
  build(stack);
  return synthJson(stack);
};

describe('DataTables', () => {
  it('uses provisioned capacity when asked', () => {
    const json = synthOf((scope) => new DataTables(scope, 'tables', { names, billingMode: 'provisioned', readCapacity: 40, writeCapacity: 200, alarmActions }));
    for (const table of Object.values(json.resource.aws_dynamodb_table!)) expect(table).toMatchObject({ billing_mode: 'PROVISIONED', read_capacity: 40, write_capacity: 200 });
  });

  it('ignores capacity for on-demand tables', () => {
    const json = synthOf((scope) => new DataTables(scope, 'tables', { names, writeCapacity: 10, alarmActions }));
    for (const table of Object.values(json.resource.aws_dynamodb_table!)) {
      expect(table.billing_mode).toBe('PAY_PER_REQUEST');
      expect(table.write_capacity).toBeUndefined();
    }
  });

  it('turns deletion protection off only when told', () => {
    const json = synthOf((scope) => new DataTables(scope, 'tables', { names, deletionProtection: false, alarmActions }));
    expect(Object.values(json.resource.aws_dynamodb_table!).every((table) => table.deletion_protection_enabled === false)).toBe(true);
  });
});

describe('ReadingStream', () => {
  it('runs on demand without a shard count, even when given one', () => {
    const json = synthOf((scope) => new ReadingStream(scope, 'stream', { name: 'r', kmsKeyArn: 'arn:key', mode: 'on-demand', shardCount: 4, alarmActions }));
    const stream = Object.values(json.resource.aws_kinesis_stream!)[0]!;
    expect(stream.stream_mode_details).toEqual({ stream_mode: 'ON_DEMAND' });
    expect(stream.shard_count).toBeUndefined();
    expect(stream.encryption_type).toBe('KMS');
  });
});

describe('AlertTopic', () => {
  it('names each subscription after its address, so removing one leaves the others', () => {
    const json = synthOf((scope) => new AlertTopic(scope, 'alerts', { name: 'a', kmsKeyArn: 'k', emails: ['Ops@Example.com', 'b@example.org'] }));
    expect(Object.keys(json.resource.aws_sns_topic_subscription!).sort()).toEqual(['alerts_email-b-example-org', 'alerts_email-ops-example-com']);
  });
});

describe('Archive', () => {
  const json = synthOf((scope) => new Archive(scope, 'archive', { name: 'iot-archive', streamArn: 'arn:stream', kmsKeyArn: 'arn:key', logRetentionDays: 30, accountId: '111122223333' }));

  it('moves objects of every size to Glacier: provider 6 would keep those under 128 KB out by default', () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html (TransitionDefaultMinimumObjectSize)
    expect(json.resource.aws_s3_bucket_lifecycle_configuration?.archive_lifecycle).toMatchObject({
      transition_default_minimum_object_size: 'varies_by_storage_class',
      rule: [expect.objectContaining({ transition: [{ days: 30, storage_class: 'GLACIER_IR' }] })],
    });
  });

  it('moves them to Glacier Instant Retrieval by default, which Athena reads, or to Flexible Retrieval when configured', () => {
    // https://docs.aws.amazon.com/athena/latest/ug/querying-glacier.html: Athena skips Flexible Retrieval objects until restored.
    const flexible = synthOf((scope) => new Archive(scope, 'archive', { name: 'a', streamArn: 's', kmsKeyArn: 'k', logRetentionDays: 30, accountId: '1', coldStorageClass: 'GLACIER', glacierAfterDays: 90 }));
    expect(flexible.resource.aws_s3_bucket_lifecycle_configuration?.archive_lifecycle).toMatchObject({ rule: [expect.objectContaining({ transition: [{ days: 90, storage_class: 'GLACIER' }] })] });
  });

  it('lets only Firehose acting for this account assume its role', () => {
    // https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#firehose-assume-role
    const [trust] = policyStatements(json, json.resource.aws_iam_role?.archive_role_role?.assume_role_policy);
    expect(trust).toMatchObject({
      principals: [{ type: 'Service', identifiers: ['firehose.amazonaws.com'] }],
      actions: ['sts:AssumeRole'],
      condition: [{ test: 'StringEquals', variable: 'sts:ExternalId', values: ['111122223333'] }],
    });
  });
});

describe('ServiceRole', () => {
  it('reports wildcard actions and empty grants like a configuration error: a list, each problem once', () => {
    let error: unknown;
    try {
      synthOf((scope) => new ServiceRole(scope, 'role', { roleName: 'r', service: 'lambda.amazonaws.com', grants: [{ sid: 'All', actions: ['dynamodb:*'], resources: [] }] }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PropsError);
    expect(error).toBeInstanceOf(InputError);
    expect((error as PropsError).message).toBe(
      'Invalid props of ServiceRole r (2 problems):\n' +
        '  - ServiceRole r.grants: grant All uses the wildcard action "dynamodb:*"; list the exact actions\n' +
        '  - ServiceRole r.grants: grant All needs actions and resources',
    );
  });
});

describe('PlatformStack', () => {
  it('gives every resource its construct path as logical id', () => {
    const stack = new PlatformStack(Testing.app(), 'repository', configOf());
    new SnsTopic(new Construct(stack, 'alerts'), 'topic', { name: 't' });
    expect(Object.keys(JSON.parse(Testing.synth(stack)).resource.aws_sns_topic)).toEqual(['alerts_topic']);
  });

  it('refuses two constructs that would share a logical id', () => {
    const stack = new PlatformStack(Testing.app(), 'repository', configOf());
    new SnsTopic(new Construct(stack, 'a_b'), 'c', { name: 'one' });
    new SnsTopic(new Construct(stack, 'a'), 'b_c', { name: 'two' });
    expect(() => Testing.synth(stack)).toThrow(/would both be named "a_b_c" in Terraform: rename one/);
  });

  it('tags every resource with the base and configured tags', () => {
    const stack = new PlatformStack(new App(), 'scaling', configOf({ namePrefix: 'acme', tags: { Team: 'data' } }));
    expect(JSON.parse(Testing.synth(stack)).provider.aws[0].default_tags[0].tags).toEqual({ Project: 'iot-analytics', ManagedBy: 'cdktf', Stack: 'scaling', NamePrefix: 'acme', Team: 'data' });
  });
});
