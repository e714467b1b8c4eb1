/**
 * The synthesized stack as the twin reads it: every type classified, every argument an
 * emulator reads resolvable, and each resource's local settings taken from its own
 * arguments with AWS's documented defaults.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { zipSync } from 'fflate';
import { checkCoverage, coverageLine, coverageOf, TWIN_COVERAGE } from '../../../local/twin/coverage';
import { ON_DEMAND_LOCAL_SHARDS, streamSpec, tableSpec } from '../../../local/twin/data-stores';
import { functionSpec, lambdaEnvironment, RESERVED_VARIABLES, unpackFunction } from '../../../local/twin/functions';
import { loadStack, type LoadedStack } from '../../../local/twin/load-stack';
import { KINESIS_MAPPING_DEFAULTS, mappingSpec } from '../../../local/twin/mappings';
import type { StackResource } from '../../../local/twin/stack';
import { synthesizeStacks } from '../../../local/twin/synth';
import { meetsMatcher, webServiceSpec } from '../../../local/twin/web-service';

/** A resource standing alone, its arguments as given (no references). */
const resource = (type: string, config: Record<string, unknown>): StackResource => ({ mode: 'managed', type, name: 'x', address: `${type}.x`, id: 'x', config });

describe('the synthesized pipeline stack, read by the twin', () => {
  let stack: LoadedStack;
  beforeAll(async () => {
    const synthesized = await synthesizeStacks({ configuration: {} });
    stack = loadStack(synthesized.stackFile('pipeline'), { endpoints: { sqs: () => 'http://127.0.0.1:4566', apiGateway: () => 'http://127.0.0.1:4010', loadBalancer: () => 'http://127.0.0.1:5000' } });
  }, 60_000);

  it('classifies every resource and data source, and counts them in the start-up line', () => {
    const report = checkCoverage(stack);
    expect(report.unknown.size).toBe(0);
    expect(report.emulated.length + report.controlPlane.length).toBe(stack.all().length);
    expect(coverageLine(report)).toBe(`resources emulated ${report.emulated.length} / control-plane only ${report.controlPlane.length} / unknown 0`);
    for (const type of ['aws_lambda_function', 'aws_kinesis_firehose_delivery_stream', 'aws_api_gateway_method', 'data.aws_partition']) {
      expect(report.emulated.some((found) => (found.mode === 'data' ? `data.${found.type}` : found.type) === type)).toBe(true);
    }
  });

  it('resolves every argument of every emulated resource to a local value', () => {
    for (const found of coverageOf(stack).emulated) expect(() => JSON.stringify(found.config)).not.toThrow();
    for (const name of stack.outputNames()) expect(String(stack.output(name))).not.toMatch(/\$\{/);
  });

  it('gives a reason for every classification', () => {
    for (const [type, coverage] of Object.entries(TWIN_COVERAGE)) {
      expect([type, coverage.kind === 'emulated' ? coverage.how : coverage.why]).toEqual([type, expect.stringMatching(/\w{3,}/)]);
    }
  });

  it("gives a function only the stack's variables, and the runtime's own (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html)", () => {
    const store = stack.resources('aws_lambda_function').find((found) => String(found.config.function_name).endsWith('store-readings')) as StackResource;
    const spec = functionSpec(stack, store);
    expect(spec).toMatchObject({ handler: 'index.handler', runtime: 'nodejs22.x', timeoutSeconds: 60, memoryMiB: 512, logFormat: 'JSON' });
    expect(spec.environment).toEqual({
      FAILURE_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/iot-consumer-failures',
      FUTURE_TOLERANCE_SECONDS: '300',
      HOT_RETENTION_DAYS: '30',
      HOUR_ROLLUP_RETENTION_DAYS: '1095',
      POWERTOOLS_SERVICE_NAME: 'store-readings',
      ROLLUPS_TABLE: 'iot-rollups',
      SERIES_TABLE: 'iot-series',
      THINGS_TABLE: 'iot-things',
    });
    const env = lambdaEnvironment(spec, '/code', { region: 'eu-west-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, endpoints: { DYNAMODB: 'http://127.0.0.1:8000' } });
    expect(env).toMatchObject({
      ...spec.environment,
      _HANDLER: 'index.handler',
      AWS_REGION: 'eu-west-2',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: 'iot-store-readings',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/iot-store-readings',
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      LAMBDA_TASK_ROOT: '/code',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
    });
    // Nothing of the other handler's settings, nothing the stack does not set.
    expect(Object.keys(env).filter((name) => /_TABLE$|_ARN$|_SECONDS$|_DAYS$/.test(name)).sort()).toEqual([
      'FUTURE_TOLERANCE_SECONDS',
      'HOT_RETENTION_DAYS',
      'HOUR_ROLLUP_RETENTION_DAYS',
      'ROLLUPS_TABLE',
      'SERIES_TABLE',
      'THINGS_TABLE',
    ]);
    expect(env.AWS_LAMBDA_LOG_LEVEL).toBeUndefined();
  });

  it('reads the web service from the task definition and the target group', () => {
    expect(webServiceSpec(stack)).toEqual({
      address: 'aws_ecs_service.web-service_service',
      taskDefinition: 'aws_ecs_task_definition.web-service_task-definition',
      containerName: 'web',
      // Without sign-in configured, the deployed app takes no changes (acknowledge, silence); the twin runs it as the local user.
      environment: {
        ALERTS_TABLE: 'iot-alerts',
        AWS_REGION: 'eu-west-2',
        HOUR_ROLLUP_RETENTION_DAYS: '1095',
          PORT: '5000',
        ROLLUPS_TABLE: 'iot-rollups',
        SERIES_TABLE: 'iot-series',
        THINGS_TABLE: 'iot-things',
        THRESHOLDS_TABLE: 'iot-thresholds',
        WEB_USER_IDENTITY: 'none',
      },
      containerPort: 5000,
      healthCheck: { path: '/livez', matcher: '200', timeoutSeconds: 5 },
    });
  });

  it('reads tables and the stream from their resources', () => {
    const things = tableSpec(stack.resource('aws_dynamodb_table.tables_things'));
    expect(things).toMatchObject({ name: 'iot-things', hashKey: 'ThingID', rangeKey: 'Timestamp', ttlAttribute: 'ExpiresAt' });
    expect(tableSpec(stack.resource('aws_dynamodb_table.tables_thresholds')).ttlAttribute).toBeUndefined();
    expect(streamSpec(stack.resource('aws_kinesis_stream.stream_stream'))).toMatchObject({ name: 'iot-readings', shardCount: 2, onDemand: false });
  });
});

describe('local settings from single resources', () => {
  it('runs an on-demand stream with a documented local shard count (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html)', () => {
    expect(streamSpec(resource('aws_kinesis_stream', { name: 's', stream_mode_details: { stream_mode: 'ON_DEMAND' } })).shardCount).toBe(ON_DEMAND_LOCAL_SHARDS);
  });

  it("applies Lambda's Kinesis mapping defaults to what a mapping leaves out (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html)", () => {
    const spec = mappingSpec(resource('aws_lambda_event_source_mapping', { event_source_arn: 'arn:aws:kinesis:eu-west-2:000000000000:stream/s', function_name: 'f', starting_position: 'LATEST' }));
    expect(spec.settings).toEqual({
      batchSize: 100,
      maximumBatchingWindowSeconds: 0,
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      bisectBatchOnFunctionError: false,
      reportBatchItemFailures: false,
      startingPosition: 'LATEST',
    });
    expect(spec.parallelizationFactor).toBe(KINESIS_MAPPING_DEFAULTS.parallelizationFactor);
    expect(spec.onFailureArn).toBeUndefined();
  });

  it('refuses mapping settings AWS refuses or the local mapping does not emulate', () => {
    const base = { event_source_arn: 'arn:aws:kinesis:eu-west-2:000000000000:stream/s', function_name: 'f', starting_position: 'LATEST' };
    expect(() => mappingSpec(resource('aws_lambda_event_source_mapping', { ...base, maximum_record_age_in_seconds: 30 }))).toThrow(/-1 or 60 to 604800/);
    expect(() => mappingSpec(resource('aws_lambda_event_source_mapping', { ...base, tumbling_window_in_seconds: 60 }))).toThrow(/tumbling_window_in_seconds is not emulated/);
    expect(() => mappingSpec(resource('aws_lambda_event_source_mapping', { ...base, event_source_arn: 'arn:aws:sqs:eu-west-2:000000000000:q' }))).toThrow(/only Kinesis/);
  });

  it('refuses a variable Lambda reserves for itself', () => {
    const stack = { dir: '/', attribute: () => 'arn:aws:lambda:eu-west-2:000000000000:function:f' };
    for (const name of ['AWS_REGION', '_HANDLER'] as const) {
      expect(RESERVED_VARIABLES).toContain(name);
      const fn = resource('aws_lambda_function', { function_name: 'f', filename: 'f.zip', runtime: 'nodejs22.x', handler: 'index.handler', environment: { variables: { [name]: 'x' } } });
      expect(() => functionSpec(stack, fn)).toThrow(new RegExp(`${name} is reserved by Lambda`));
    }
  });

  it('unpacks a deployment package once, and refuses entries outside its folder', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unpack-'));
    try {
      const zipFile = path.join(dir, 'code.zip');
      writeFileSync(zipFile, zipSync({ 'index.js': new TextEncoder().encode('exports.handler = async () => 1;'), 'lib/util.js': new Uint8Array([1]) }));
      const spec = { name: 'f', zipFile, address: 'aws_lambda_function.f' };
      const unpacked = unpackFunction(spec, path.join(dir, 'functions'));
      expect(readdirSync(unpacked).sort()).toEqual(['.unpacked', 'index.js', 'lib']);
      expect(unpackFunction(spec, path.join(dir, 'functions'))).toBe(unpacked);
      writeFileSync(zipFile, zipSync({ '../escape.js': new Uint8Array([1]) }));
      expect(() => unpackFunction(spec, path.join(dir, 'functions'))).toThrow(/outside its folder/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("meets target group matchers as Elastic Load Balancing reads them (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html)", () => {
    expect(meetsMatcher('200', 200)).toBe(true);
    expect(meetsMatcher('200', 204)).toBe(false);
    expect(meetsMatcher('200-299', 204)).toBe(true);
    expect(meetsMatcher('200,302', 302)).toBe(true);
    expect(meetsMatcher('200,302', 0)).toBe(false);
  });
});
