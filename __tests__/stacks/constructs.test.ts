/** The pipeline's constructs on their own: options the default synth does not exercise, and rejected props. */
import { App, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { AlertTopic } from '../../stacks/alert-topic';
import { Archive } from '../../stacks/archive';
import { configOf } from './synth-helpers';
import { DataTables } from '../../stacks/data-tables';
import { IngestApi, type IngestApiProps } from '../../stacks/ingest-api';
import { PlatformStack } from '../../stacks/platform-stack';
import { ServiceRole } from '../../stacks/service-role';
import { ReadingStream } from '../../stacks/stream-consumers';

const names = { things: 't', thresholds: 'th', alerts: 'a', series: 's' };
const synthOf = (build: (scope: Construct) => void) => JSON.parse(Testing.synthScope((scope) => build(scope))) as { resource: Record<string, Record<string, Record<string, unknown>>> };

describe('DataTables', () => {
  it('uses provisioned capacity when asked', () => {
    const json = synthOf((scope) => new DataTables(scope, 'tables', { names, billingMode: 'provisioned', readCapacity: 40, writeCapacity: 200 }));
    for (const table of Object.values(json.resource.aws_dynamodb_table!)) {
      expect(table).toMatchObject({ billing_mode: 'PROVISIONED', read_capacity: 40, write_capacity: 200 });
    }
  });

  it('rejects capacity for on-demand tables', () => {
    expect(() => synthOf((scope) => new DataTables(scope, 'tables', { names, writeCapacity: 10 }))).toThrow(/only apply to billingMode "provisioned"/);
  });

  it('turns deletion protection off only when told', () => {
    const json = synthOf((scope) => new DataTables(scope, 'tables', { names, deletionProtection: false }));
    expect(Object.values(json.resource.aws_dynamodb_table!).every((table) => table.deletion_protection_enabled === false)).toBe(true);
  });
});

describe('ReadingStream', () => {
  it('runs on demand without a shard count', () => {
    const json = synthOf((scope) => new ReadingStream(scope, 'stream', { name: 'r', kmsKeyArn: 'arn:key', mode: 'on-demand' }));
    const stream = Object.values(json.resource.aws_kinesis_stream!)[0]!;
    expect(stream.stream_mode_details).toEqual({ stream_mode: 'ON_DEMAND' });
    expect(stream.shard_count).toBeUndefined();
    expect(stream.encryption_type).toBe('KMS');
  });

  it('rejects a shard count in on-demand mode', () => {
    expect(() => synthOf((scope) => new ReadingStream(scope, 'stream', { name: 'r', kmsKeyArn: 'k', mode: 'on-demand', shardCount: 4 }))).toThrow(/shardCount only applies/);
  });
});

describe('IngestApi', () => {
  const props: IngestApiProps = { name: 'iot-ingest', region: 'eu-west-2', streamName: 'iot-readings', streamArn: 'arn:stream', kmsKeyArn: 'arn:key', logRetentionDays: 30 };
  const hashOf = (overrides: Partial<IngestApiProps>) => {
    let api: IngestApi | undefined;
    synthOf((scope) => {
      api = new IngestApi(scope, 'api', { ...props, ...overrides });
    });
    return api!.definitionHash;
  };

  it('keeps the definition hash for the same API and changes it when the API changes', () => {
    expect(hashOf({})).toBe(hashOf({ rateLimit: 10 }));
    expect(hashOf({ streamName: 'other-stream' })).not.toBe(hashOf({}));
  });

  it('leaves the account logging role alone when told', () => {
    const json = synthOf((scope) => new IngestApi(scope, 'api', { ...props, manageAccountLoggingRole: false }));
    expect(json.resource.aws_api_gateway_account).toBeUndefined();
  });

  it('rejects non-positive limits', () => {
    expect(() => synthOf((scope) => new IngestApi(scope, 'api', { ...props, burstLimit: 0 }))).toThrow(/must be positive/);
  });
});

describe('AlertTopic', () => {
  it('names each subscription after its address, so removing one leaves the others', () => {
    const json = synthOf((scope) => new AlertTopic(scope, 'alerts', { name: 'a', kmsKeyArn: 'k', emails: ['Ops@Example.com', 'b@example.org'] }));
    const ids = Object.keys(json.resource.aws_sns_topic_subscription!).sort();
    expect(ids).toEqual([expect.stringMatching(/^alerts_email-b-example-org/), expect.stringMatching(/^alerts_email-ops-example-com/)]);
  });

  it('rejects an address listed twice', () => {
    expect(() => synthOf((scope) => new AlertTopic(scope, 'alerts', { name: 'a', kmsKeyArn: 'k', emails: ['a@example.com', 'A@example.com'] }))).toThrow(/listed twice/);
  });
});

describe('Archive', () => {
  it('rejects deleting objects before Glacier\'s 90 days are over', () => {
    expect(() => synthOf((scope) => new Archive(scope, 'archive', { name: 'a', streamArn: 's', kmsKeyArn: 'k', logRetentionDays: 30, glacierAfterDays: 10, expireAfterDays: 50 }))).toThrow(
      /at least glacierAfterDays \+ 90 \(100\)/,
    );
  });
});

describe('ServiceRole', () => {
  it('rejects wildcard actions', () => {
    expect(() => synthOf((scope) => new ServiceRole(scope, 'role', { roleName: 'r', service: 'lambda.amazonaws.com', grants: [{ sid: 'All', actions: ['dynamodb:*'], resources: ['arn:t'] }] }))).toThrow(
      /wildcard action "dynamodb:\*"/,
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

