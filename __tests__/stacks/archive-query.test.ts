/**
 * SQL over the archive in the pipeline stack: the Firehose processor, the Glue table with
 * partition projection (https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html),
 * the Athena workgroup, its results bucket and the query policy.
 */
import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { ARCHIVE_COLUMNS, ARCHIVE_PARTITIONS, ARCHIVE_PROCESSING, ARCHIVE_QUERY_DEFAULTS, FIREHOSE_PREFIX } from '../../handlers/archive-format';
import { ArchiveProcessor } from '../../stacks/archive-processor';
import { ArchiveQuery } from '../../stacks/archive-query';
import { DataKey } from '../../stacks/data-key';
import { PIPELINE_OUTPUTS } from '../../stacks/output-names';
import { protectStatefulResources } from '../../stacks/prevent-destroy';
import { privateBucket } from '../../stacks/private-bucket';
import { check } from '../policy/harness';
import { configOf, handlerPackages, policyStatements, resource, resources, synthPlatform, type TerraformJson, ref } from './synth-helpers';

let pipeline: TerraformJson;
beforeAll(() => {
  pipeline = synthPlatform(configOf({ query: { maxScanGigabytes: 25, resultsExpireDays: 3, firstYear: 2027, lastYear: 2030 } })).pipeline.json;
});
const RESULTS_BUCKET = ref('aws_s3_bucket', 'archive-query_results_bucket', 'arn');
const ARCHIVE_BUCKET = ref('aws_s3_bucket', 'archive_bucket', 'arn');
const DATA_KEY = ref('aws_kms_key', 'data-key_key', 'arn');

/** Firehose's `!{timestamp:<pattern>}` for the patterns the prefix uses, at one instant (UTC). */
function evaluateFirehosePrefix(prefix: string, at: Date): string {
  const fields: Record<string, string> = {
    yyyy: String(at.getUTCFullYear()),
    MM: String(at.getUTCMonth() + 1).padStart(2, '0'),
    dd: String(at.getUTCDate()).padStart(2, '0'),
    HH: String(at.getUTCHours()).padStart(2, '0'),
  };
  return prefix.replace(/!\{timestamp:([A-Za-z]+)\}/g, (_, pattern: string) => fields[pattern]!);
}

/** Athena's projection: each `${column}` of the template replaced by the column's value, zero-padded to its digits. */
function evaluateTemplate(template: string, parameters: Record<string, string>, values: Record<string, number>): string {
  return template.replace(/\$\$\{([a-z]+)\}/g, (_, column: string) => String(values[column]).padStart(Number(parameters[`projection.${column}.digits`]), '0'));
}

describe('Glue table', () => {
  const table = () => resource(pipeline, 'aws_glue_catalog_table', 'archive-query_table');

  it('exposes readings(series, thing_id, metric, ts, value) from the contract, read with the Hive JSON SerDe', () => {
    const descriptor = table().storage_descriptor as Record<string, unknown>;
    expect((descriptor.columns as { name: string; type: string }[]).map(({ name, type }) => [name, type])).toEqual([
      ['series', 'string'],
      ['thing_id', 'string'],
      ['metric', 'string'],
      ['ts', 'timestamp'],
      ['value', 'double'],
    ]);
    expect((descriptor.columns as { name: string }[]).map((column) => column.name)).toEqual(ARCHIVE_COLUMNS.map((column) => column.name));
    expect(descriptor).toMatchObject({
      location: `s3://${ref('aws_s3_bucket', 'archive_bucket', 'bucket')}/readings/`,
      input_format: 'org.apache.hadoop.mapred.TextInputFormat',
      ser_de_info: { serialization_library: 'org.apache.hive.hcatalog.data.JsonSerDe' },
    });
    expect(table()).toMatchObject({ name: 'readings', table_type: 'EXTERNAL_TABLE', database_name: ref('aws_glue_catalog_database', 'archive-query_database', 'name') });
  });

  it('projects year/month/day/hour integer partitions over the configured years, with no crawler', () => {
    expect(table().partition_keys).toEqual(ARCHIVE_PARTITIONS.map((partition) => expect.objectContaining({ name: partition.name, type: 'int' })));
    expect(table().parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.year.type': 'integer',
      'projection.year.range': '2027,2030',
      'projection.year.digits': '4',
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'projection.day.range': '1,31',
      'projection.day.digits': '2',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      read_restored_glacier_objects: 'true',
    });
    expect(resources(pipeline, 'aws_glue_crawler')).toEqual({});
  });

  it('locates each projected hour exactly where Firehose writes the objects received in it', () => {
    const parameters = table().parameters as Record<string, string>;
    const template = parameters['storage.location.template']!;
    // `$${...}` reaches Terraform as a literal `${...}` for Athena, not an interpolation.
    expect(template).toBe(`s3://${ref('aws_s3_bucket', 'archive_bucket', 'bucket')}/readings/year=$\${year}/month=$\${month}/day=$\${day}/hour=$\${hour}/`);
    const delivery = resource(pipeline, 'aws_kinesis_firehose_delivery_stream', 'archive_delivery').extended_s3_configuration as Record<string, string>;
    expect(delivery.prefix).toBe(FIREHOSE_PREFIX);
    for (const at of [new Date(Date.UTC(2027, 0, 1, 0)), new Date(Date.UTC(2028, 1, 29, 9)), new Date(Date.UTC(2030, 11, 31, 23))]) {
      const values = { year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, day: at.getUTCDate(), hour: at.getUTCHours() };
      expect(evaluateTemplate(template, parameters, values)).toBe(`s3://${ref('aws_s3_bucket', 'archive_bucket', 'bucket')}/${evaluateFirehosePrefix(delivery.prefix!, at)}`);
    }
  });
});

describe('Firehose processing', () => {
  it('runs the flatten function, then appends the newline, and lets the delivery role invoke only that function', () => {
    const delivery = resource(pipeline, 'aws_kinesis_firehose_delivery_stream', 'archive_delivery').extended_s3_configuration as Record<string, unknown>;
    const functionArn = ref('aws_lambda_function', 'archive-processor_function', 'arn');
    expect(delivery.processing_configuration).toEqual({
      enabled: true,
      processors: [
        {
          type: 'Lambda',
          parameters: [
            { parameter_name: 'LambdaArn', parameter_value: functionArn },
            { parameter_name: 'BufferSizeInMBs', parameter_value: String(ARCHIVE_PROCESSING.bufferSizeMiB) },
            { parameter_name: 'BufferIntervalInSeconds', parameter_value: String(ARCHIVE_PROCESSING.bufferIntervalSeconds) },
            { parameter_name: 'NumberOfRetries', parameter_value: String(ARCHIVE_PROCESSING.numberOfRetries) },
          ],
        },
        { type: 'AppendDelimiterToRecord' },
      ],
    });
    const invoke = policyStatements(pipeline, resource(pipeline, 'aws_iam_role_policy', 'archive_role_policy').policy).find((statement) => statement.sid === 'InvokeProcessor');
    expect(invoke).toMatchObject({ actions: ['lambda:GetFunctionConfiguration', 'lambda:InvokeFunction'], resources: [functionArn, `${functionArn}:*`] });
  });

  it('packages the processor like the consumers, with a role that may only write its own logs, and alarms that notify operations', () => {
    const fn = resource(pipeline, 'aws_lambda_function', 'archive-processor_function');
    expect(fn).toMatchObject({ function_name: 'iot-archive-flatten', handler: 'index.handler', runtime: 'nodejs22.x', timeout: 60 });
    expect(String(fn.filename)).toMatch(/archive-flatten\.zip$/);
    const statements = policyStatements(pipeline, resource(pipeline, 'aws_iam_role_policy', 'archive-processor_role_policy').policy);
    expect(statements).toEqual([expect.objectContaining({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${ref('aws_cloudwatch_log_group', 'archive-processor_logs', 'arn')}:*`] })]);
    const topic = ref('aws_sns_topic', 'operations_topic', 'arn');
    const alarms = Object.values(resources(pipeline, 'aws_cloudwatch_metric_alarm')).filter((alarm) => String(alarm.alarm_name).startsWith('iot-archive-flatten'));
    expect(alarms.map((alarm) => alarm.metric_name).sort()).toEqual(['Errors', 'RecordsFailedProcessing', 'Throttles']);
    for (const alarm of alarms) expect(alarm).toMatchObject({ alarm_actions: [topic], ok_actions: [topic] });
    expect(resource(pipeline, 'aws_cloudwatch_log_metric_filter', 'archive-processor_failed-records')).toMatchObject({
      pattern: '{ $.failedRecords > 0 }',
      metric_transformation: { name: 'RecordsFailedProcessing', value: '$.failedRecords' },
    });
  });

  it('rejects a timeout Firehose would not wait for', () => {
    expect(() =>
      Testing.synthScope((scope) => new ArchiveProcessor(scope, 'p', { namePrefix: 'x', package: handlerPackages()['archive-flatten'], logRetentionDays: 7, alarmActions: ['arn:topic'], timeoutSeconds: 301 })),
    ).toThrow(/ArchiveProcessor\.timeoutSeconds: must be 1 to 300/);
  });
});

describe('Athena workgroup and results', () => {
  it('enforces its settings: the results bucket, KMS encryption with the data key, and the configured scan limit', () => {
    expect(resource(pipeline, 'aws_athena_workgroup', 'archive-query_workgroup')).toMatchObject({
      name: 'iot-archive',
      state: 'ENABLED',
      configuration: {
        enforce_workgroup_configuration: true,
        bytes_scanned_cutoff_per_query: 25_000_000_000,
        engine_version: { selected_engine_version: 'Athena engine version 3' },
        result_configuration: {
          output_location: `s3://${ref('aws_s3_bucket', 'archive-query_results_bucket', 'bucket')}/results/`,
          encryption_configuration: { encryption_option: 'SSE_KMS', kms_key_arn: DATA_KEY },
        },
      },
    });
  });

  it('keeps results in a private, KMS-encrypted, TLS-only bucket that expires them after the configured days', () => {
    expect(resource(pipeline, 'aws_s3_bucket_public_access_block', 'archive-query_results_public-access-block')).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(resource(pipeline, 'aws_s3_bucket_server_side_encryption_configuration', 'archive-query_results_encryption')).toMatchObject({
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: DATA_KEY } }],
    });
    const [deny] = policyStatements(pipeline, resource(pipeline, 'aws_s3_bucket_policy', 'archive-query_results_policy').policy);
    expect(deny).toMatchObject({ effect: 'Deny', actions: ['s3:*'], resources: [RESULTS_BUCKET, `${RESULTS_BUCKET}/*`], condition: [{ variable: 'aws:SecureTransport', values: ['false'] }] });
    expect(resource(pipeline, 'aws_s3_bucket_lifecycle_configuration', 'archive-query_results_lifecycle')).toMatchObject({
      rule: [{ status: 'Enabled', expiration: [{ days: 3 }], abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }] }],
    });
  });

  it('passes the policy pack on its own with no violation and no suppression', () => {
    const report = check((stack) => {
      protectStatefulResources(stack); // as every PlatformStack does
      const key = new DataKey(stack, 'key', { aliasName: 'k', description: 'k' });
      const topic = new SnsTopic(stack, 'topic', { name: 'ops', kmsMasterKeyId: key.arn });
      new ArchiveProcessor(stack, 'processor', { namePrefix: 'x', package: handlerPackages()['archive-flatten'], logRetentionDays: 7, alarmActions: [topic.arn] });
      const { bucket: archive } = privateBucket(new Construct(stack, 'archive'), { namePrefix: 'archive', encryption: { kmsKeyArn: key.arn }, lifecycle: [{ id: 'keep', status: 'Enabled', filter: [{ prefix: '' }], abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }] }] });
      new ArchiveQuery(stack, 'query', { namePrefix: 'x', archiveBucketName: archive.bucket, archiveBucketArn: archive.arn, kmsKeyArn: key.arn });
    });
    expect(report.stacks[0]!.elementsChecked).toBeGreaterThan(20);
    expect(report.violations.map((violation) => violation.message)).toEqual([]);
    expect(report.suppressed).toEqual([]);
  });
});

describe('query policy', () => {
  const statements = () => policyStatements(pipeline, resource(pipeline, 'aws_iam_policy', 'archive-query_query-policy').policy);
  const bySid = (sid: string) => statements().find((statement) => statement.sid === sid)!;

  it('allows running queries in the workgroup only, and reading only the table, the archive\'s readings and the results', () => {
    for (const statement of statements()) {
      expect(statement.effect).toBe('Allow');
      for (const action of statement.actions as string[]) expect(action).not.toContain('*');
      for (const resourceName of statement.resources as string[]) expect(resourceName).toMatch(/^\$\{/);
    }
    expect(bySid('RunQueriesInTheWorkgroup').resources).toEqual([ref('aws_athena_workgroup', 'archive-query_workgroup', 'arn')]);
    expect(bySid('ReadTheTableDefinition')).toMatchObject({
      actions: ['glue:GetDatabase', 'glue:GetPartitions', 'glue:GetTable'],
      resources: [expect.stringContaining(':catalog'), ref('aws_glue_catalog_database', 'archive-query_database', 'arn'), ref('aws_glue_catalog_table', 'archive-query_table', 'arn')],
    });
    expect(bySid('ReadArchivedReadings')).toMatchObject({ actions: ['s3:GetObject'], resources: [`${ARCHIVE_BUCKET}/readings/*`] });
    expect(bySid('ListArchivedReadings')).toMatchObject({ resources: [ARCHIVE_BUCKET], condition: [{ test: 'StringLike', variable: 's3:prefix', values: ['readings/', 'readings/*'] }] });
    expect(bySid('WriteAndReadResults').resources).toEqual([`${RESULTS_BUCKET}/results/*`]);
    expect(bySid('UseTheDataKey')).toMatchObject({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [DATA_KEY] });
  });

  it('grants nothing that writes or deletes the archive or changes the catalogue beyond Athena\'s default database', () => {
    const actions = statements().flatMap((statement) => statement.actions as string[]);
    expect(actions.filter((action) => /^s3:(Put|Delete)/.test(action))).toEqual(['s3:PutObject']);
    expect(bySid('WriteAndReadResults').actions).toContain('s3:PutObject');
    expect(actions.filter((action) => /^glue:(Create|Update|Delete)/.test(action))).toEqual(['glue:CreateDatabase']);
    expect(bySid('AthenaDefaultDatabase').resources).toEqual([expect.stringContaining(':catalog'), expect.stringMatching(/"default"\)\}$/)]);
  });
});

describe('outputs and configuration', () => {
  it('publishes what `npm run query` and the people who query need', () => {
    expect(pipeline.output).toMatchObject({
      [PIPELINE_OUTPUTS.queryWorkgroup]: { value: ref('aws_athena_workgroup', 'archive-query_workgroup', 'name') },
      [PIPELINE_OUTPUTS.queryDatabase]: { value: ref('aws_glue_catalog_database', 'archive-query_database', 'name') },
      [PIPELINE_OUTPUTS.queryTable]: { value: ref('aws_glue_catalog_table', 'archive-query_table', 'name') },
      [PIPELINE_OUTPUTS.queryResultsLocation]: { value: `s3://${ref('aws_s3_bucket', 'archive-query_results_bucket', 'bucket')}/results/` },
      [PIPELINE_OUTPUTS.queryPolicyArn]: { value: ref('aws_iam_policy', 'archive-query_query-policy', 'arn') },
    });
  });

  it('defaults to the contract\'s values and rejects years that run backwards or span more than Athena should project, and a cutoff below 1 GB', () => {
    expect(configOf({}).query).toEqual(ARCHIVE_QUERY_DEFAULTS);
    expect(() => configOf({ query: { firstYear: 2030, lastYear: 2029 } })).toThrow(/query\.lastYear/);
    expect(() => configOf({ query: { firstYear: 2000, lastYear: 2100 } })).toThrow(/query\.lastYear/);
    expect(() => configOf({ query: { maxScanGigabytes: 0 } })).toThrow(/query\.maxScanGigabytes/);
  });
});
