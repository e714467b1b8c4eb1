import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import Ajv04 from 'ajv-draft-04';
import { DEFAULT_ALERT_COOLDOWN_SECONDS, DEFAULT_FUTURE_TOLERANCE_SECONDS, DEFAULT_HOT_RETENTION_DAYS, DEFAULT_ROLLUP_RETENTION_DAYS, EVENT_SOURCE, HANDLER_ENV, TABLES } from '../../handlers/contract';
import { batchIngestBodySchema, singleIngestBodySchema } from '../../handlers/reading-schema';
import { PIPELINE_OUTPUTS } from '../../stacks/output-names';
import { configOf, only, policyStatements, ref, resource, resources, synthPlatform, type TerraformJson } from './synth-helpers';

let pipeline: TerraformJson;
let pipelineText: string;

beforeAll(() => {
  ({ json: pipeline, text: pipelineText } = synthPlatform(configOf({ alerts: { emails: ['ops@example.com', 'oncall@example.org'] } })).pipeline);
});
const templateOf = (resourceJson: Record<string, unknown>, key = 'request_templates') => (resourceJson[key] as Record<string, string>)['application/json']!;

describe('ingest API', () => {
  it('has the ingest resource with PUT (PutRecord) and a batch resource with POST (PutRecords), both AWS integrations to Kinesis', () => {
    expect(resource(pipeline, 'aws_api_gateway_resource', 'ingest-api_ingest-resource').path_part).toBe('thingsstream');
    expect(resource(pipeline, 'aws_api_gateway_resource', 'ingest-api_batch-resource')).toMatchObject({
      path_part: 'batch',
      parent_id: ref('aws_api_gateway_resource', 'ingest-api_ingest-resource', 'id'),
    });
    const single = resource(pipeline, 'aws_api_gateway_integration', 'ingest-api_put-reading-integration');
    const batch = resource(pipeline, 'aws_api_gateway_integration', 'ingest-api_post-batch-integration');
    expect(single).toMatchObject({ type: 'AWS', integration_http_method: 'POST', passthrough_behavior: 'NEVER' });
    expect(single.uri).toMatch(/:apigateway:eu-west-2:kinesis:action\/PutRecord$/);
    expect(batch.uri).toMatch(/:apigateway:eu-west-2:kinesis:action\/PutRecords$/);
    expect(resource(pipeline, 'aws_api_gateway_method', 'ingest-api_put-reading').http_method).toBe('PUT');
    expect(resource(pipeline, 'aws_api_gateway_method', 'ingest-api_post-batch').http_method).toBe('POST');
  });

  it('requires an API key and validates every body against a model generated from the shared schema', () => {
    const validator = only(pipeline, 'aws_api_gateway_request_validator');
    expect(validator.validate_request_body).toBe(true);
    const models = resources(pipeline, 'aws_api_gateway_model');
    for (const [methodId, schema] of [['ingest-api_put-reading', singleIngestBodySchema], ['ingest-api_post-batch', batchIngestBodySchema]] as const) {
      const method = resource(pipeline, 'aws_api_gateway_method', methodId);
      expect(method).toMatchObject({ api_key_required: true, authorization: 'NONE', request_validator_id: ref('aws_api_gateway_request_validator', 'ingest-api_body-validator', 'id') });
      const model = models[`${methodId}-model`]!;
      expect(JSON.parse(String(model.schema))).toEqual(schema);
      expect(method.request_models).toEqual({ 'application/json': ref('aws_api_gateway_model', `${methodId}-model`, 'name') });
    }
  });

  it('accepts the 2016 report\'s reading under the model (draft-04), and rejects one without id', () => {
    const model = resource(pipeline, 'aws_api_gateway_model', 'ingest-api_put-reading-model');
    const validate = new Ajv04({ allErrors: true }).compile(JSON.parse(String(model.schema)));
    expect(validate({ Data: { id: 'things/harrow/001', temperature: '19.57', timestamp: '2016-09-09 13:33:07.381019' } })).toBe(true);
    expect(validate({ Data: { temperature: '19.57', timestamp: '2016-09-09 13:33:07.381019' } })).toBe(false);
  });

  it('partitions by Data.id and writes the object under Data as the record', () => {
    const single = templateOf(resource(pipeline, 'aws_api_gateway_integration', 'ingest-api_put-reading-integration'));
    expect(single).toContain(`"PartitionKey": $input.json('$.Data.id')`);
    expect(single).toContain(`"Data": "$util.base64Encode($input.json('$.Data'))"`);
    expect(single).toContain('"StreamName": "iot-readings"');
    expect(single).not.toMatch(/pk4/);
    const batch = templateOf(resource(pipeline, 'aws_api_gateway_integration', 'ingest-api_post-batch-integration'));
    expect(batch).toContain('#set($json = $input.json($readingPath))');
    expect(batch).toContain('#set($bucket = $reading.id.hashCode() % 2)');
    expect(batch).toContain('"ExplicitHashKey": "$hashKeys.get($bucket)"');
  });

  it('holds no Terraform interpolation in its templates', () => {
    for (const integration of Object.values(resources(pipeline, 'aws_api_gateway_integration'))) {
      expect(templateOf(integration)).not.toContain('${');
    }
  });

  it('answers Kinesis errors with 4xx/5xx, never 200, and turns partial PutRecords failures into 503', () => {
    const responses = resources(pipeline, 'aws_api_gateway_integration_response');
    for (const method of ['put-reading', 'post-batch']) {
      expect(responses[`ingest-api_${method}-integration-ok`]).toMatchObject({ status_code: '200' });
      expect(responses[`ingest-api_${method}-integration-ok`]!.selection_pattern).toBeUndefined();
      expect(responses[`ingest-api_${method}-integration-client-error`]).toMatchObject({ selection_pattern: '4\\d{2}', status_code: '500' });
      expect(responses[`ingest-api_${method}-integration-server-error`]).toMatchObject({ selection_pattern: '5\\d{2}', status_code: '503' });
      const clientError = templateOf(responses[`ingest-api_${method}-integration-client-error`]!, 'response_templates');
      expect(clientError).toMatch(/ProvisionedThroughputExceeded[\s\S]*responseOverride\.status = 429/);
      expect(clientError).toMatch(/ValidationException[\s\S]*responseOverride\.status = 400/);
    }
    const batchOk = templateOf(responses['ingest-api_post-batch-integration-ok']!, 'response_templates');
    expect(batchOk).toMatch(/#if\(\$failed > 0\)\s*#set\(\$context\.responseOverride\.status = 503\)/);
    expect(batchOk).toContain('send the whole batch again');
  });

  // Gateway-response templates get plain $context substitution, no Velocity:
  // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html
  // (the API Gateway twin's tests pin the answers themselves).
  it('answers a bad body with 400 from a template that plain substitution turns into JSON', () => {
    const response = resource(pipeline, 'aws_api_gateway_gateway_response', 'ingest-api_gateway-bad-request-body');
    expect(response.response_type).toBe('BAD_REQUEST_BODY');
    expect(response.status_code).toBe('400');
    const template = templateOf(response, 'response_templates');
    expect(template).not.toMatch(/\$util|#(set|if|foreach)|validationErrorString/);
    const filled = template.replace('$context.error.messageString', JSON.stringify('Invalid "request" body')).replace('$context.requestId', 'c0ffee00-0000-4000-8000-000000000000');
    expect(JSON.parse(filled)).toMatchObject({ message: 'Invalid "request" body', details: expect.stringContaining('the body does not match the reading schema') });
  });

  it('serves stage prod with access logs into a log group with retention, metrics and throttling', () => {
    const stage = only(pipeline, 'aws_api_gateway_stage');
    expect(stage.stage_name).toBe('prod');
    const accessLogs = stage.access_log_settings as { destination_arn: string; format: string };
    expect(accessLogs.destination_arn).toBe(ref('aws_cloudwatch_log_group', 'ingest-api_access-logs', 'arn'));
    expect(JSON.parse(accessLogs.format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(resource(pipeline, 'aws_cloudwatch_log_group', 'ingest-api_access-logs').retention_in_days).toBe(30);
    const settings = only(pipeline, 'aws_api_gateway_method_settings');
    expect(settings).toMatchObject({ method_path: '*/*', settings: { metrics_enabled: true, throttling_rate_limit: 1000, throttling_burst_limit: 2000 } });
  });

  it('puts the API key under a usage plan with the configured rate, burst and quota', () => {
    expect(only(pipeline, 'aws_api_gateway_usage_plan')).toMatchObject({
      throttle_settings: { rate_limit: 1000, burst_limit: 2000 },
      quota_settings: { limit: 100_000_000, period: 'DAY' },
      api_stages: [{ api_id: ref('aws_api_gateway_rest_api', 'ingest-api_rest-api', 'id'), stage: ref('aws_api_gateway_stage', 'ingest-api_stage', 'stage_name') }],
    });
    expect(only(pipeline, 'aws_api_gateway_usage_plan_key')).toMatchObject({ key_type: 'API_KEY', key_id: ref('aws_api_gateway_api_key', 'ingest-api_device-key', 'id') });
  });

  it('redeploys when the API definition changes (api-definition.test.ts), creating the new deployment before removing the old', () => {
    const deployment = only(pipeline, 'aws_api_gateway_deployment');
    expect(deployment.triggers).toEqual({ definition: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(deployment.lifecycle).toEqual({ create_before_destroy: true });
    // Every method, integration and response is in place before a deployment is taken.
    expect(deployment.depends_on).toEqual(expect.arrayContaining(['aws_api_gateway_integration.ingest-api_put-reading-integration', 'aws_api_gateway_integration_response.ingest-api_post-batch-integration-ok']));
  });

  it('lets API Gateway only put records on the stream', () => {
    const role = resource(pipeline, 'aws_iam_role_policy', 'ingest-api_integration-role_policy');
    expect(policyStatements(pipeline, role.policy)).toEqual([
      expect.objectContaining({ actions: ['kinesis:PutRecord', 'kinesis:PutRecords'], resources: [ref('aws_kinesis_stream', 'stream_stream', 'arn')] }),
      expect.objectContaining({ actions: ['kms:GenerateDataKey'], resources: [ref('aws_kms_key', 'data-key_key', 'arn')] }),
    ]);
  });
});

describe('stream and consumers', () => {
  it('encrypts the provisioned stream (2 shards) with the data key', () => {
    expect(only(pipeline, 'aws_kinesis_stream')).toMatchObject({
      name: 'iot-readings',
      shard_count: 2,
      stream_mode_details: { stream_mode: 'PROVISIONED' },
      encryption_type: 'KMS',
      kms_key_id: ref('aws_kms_key', 'data-key_key', 'arn'),
    });
    expect(resource(pipeline, 'aws_kms_key', 'data-key_key').enable_key_rotation).toBe(true);
  });

  it.each(['store-readings', 'threshold-alerts'])('runs %s on nodejs22.x arm64 from its bundle, logging to its own group', (name) => {
    const fn = resource(pipeline, 'aws_lambda_function', `consumers_${name}`);
    expect(fn).toMatchObject({ runtime: 'nodejs22.x', architectures: ['arm64'], handler: 'index.handler', function_name: `iot-${name}` });
    expect(fn.filename).toMatch(new RegExp(`^assets/consumers_${name}-code/[0-9a-f]{64}/${name}\\.zip$`));
    expect(fn.source_code_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(fn.logging_config).toEqual({ log_format: 'JSON', log_group: ref('aws_cloudwatch_log_group', `consumers_${name}-logs`, 'name') });
    expect(pipelineText).toHaveResourceWithProperties(CloudwatchLogGroup, { name: `/aws/lambda/iot-${name}`, retention_in_days: 30 });
  });

  it('sets the environment each handler reads, the same failure queue and future tolerance everywhere', () => {
    const queueUrl = ref('aws_sqs_queue', 'consumers_failure-queue', 'url');
    const table = (key: string) => ref('aws_dynamodb_table', `tables_${key}`, 'name');
    expect((resource(pipeline, 'aws_lambda_function', 'consumers_store-readings').environment as { variables: object }).variables).toEqual({
      POWERTOOLS_SERVICE_NAME: 'store-readings',
      [HANDLER_ENV.thingsTable]: table('things'),
      [HANDLER_ENV.seriesTable]: table('series'),
      [HANDLER_ENV.rollupsTable]: table('rollups'),
      [HANDLER_ENV.failureQueueUrl]: queueUrl,
      [HANDLER_ENV.futureToleranceSeconds]: String(DEFAULT_FUTURE_TOLERANCE_SECONDS),
      [HANDLER_ENV.hotRetentionDays]: String(DEFAULT_HOT_RETENTION_DAYS),
      [HANDLER_ENV.hourRollupRetentionDays]: String(DEFAULT_ROLLUP_RETENTION_DAYS['1h']),
    });
    expect((resource(pipeline, 'aws_lambda_function', 'consumers_threshold-alerts').environment as { variables: object }).variables).toEqual({
      POWERTOOLS_SERVICE_NAME: 'threshold-alerts',
      [HANDLER_ENV.thresholdsTable]: table('thresholds'),
      [HANDLER_ENV.alertsTable]: table('alerts'),
      [HANDLER_ENV.alertTopicArn]: ref('aws_sns_topic', 'alert-topic_topic', 'arn'),
      [HANDLER_ENV.alertCooldownSeconds]: String(DEFAULT_ALERT_COOLDOWN_SECONDS),
      [HANDLER_ENV.failureQueueUrl]: queueUrl,
      [HANDLER_ENV.futureToleranceSeconds]: String(DEFAULT_FUTURE_TOLERANCE_SECONDS),
    });
  });

  it.each(['store-readings', 'threshold-alerts'])('maps the stream to %s with partial batch responses, bisect, bounded retries and the failure queue', (name) => {
    expect(resource(pipeline, 'aws_lambda_event_source_mapping', `consumers_${name}-mapping`)).toMatchObject({
      event_source_arn: ref('aws_kinesis_stream', 'stream_stream', 'arn'),
      function_name: ref('aws_lambda_function', `consumers_${name}`, 'arn'),
      starting_position: 'TRIM_HORIZON',
      batch_size: EVENT_SOURCE.batchSize,
      maximum_batching_window_in_seconds: EVENT_SOURCE.maximumBatchingWindowSeconds,
      function_response_types: ['ReportBatchItemFailures'],
      bisect_batch_on_function_error: true,
      maximum_retry_attempts: EVENT_SOURCE.maximumRetryAttempts,
      maximum_record_age_in_seconds: EVENT_SOURCE.maximumRecordAgeSeconds,
      destination_config: { on_failure: { destination_arn: ref('aws_sqs_queue', 'consumers_failure-queue', 'arn') } },
      depends_on: [`aws_iam_role_policy.consumers_${name}-role_policy`],
    });
  });

  it('encrypts the failure queue with the data key, keeps messages 14 days and refuses plain HTTP', () => {
    expect(only(pipeline, 'aws_sqs_queue')).toMatchObject({ kms_master_key_id: ref('aws_kms_key', 'data-key_key', 'arn'), message_retention_seconds: 1_209_600 });
    const [deny] = policyStatements(pipeline, only(pipeline, 'aws_sqs_queue_policy').policy);
    expect(deny).toMatchObject({ effect: 'Deny', condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }] });
  });

  it('gives each consumer exact actions on exact resources', () => {
    const statements = (name: string) =>
      Object.fromEntries(
        policyStatements(pipeline, resource(pipeline, 'aws_iam_role_policy', `consumers_${name}-role_policy`).policy).map((statement) => [statement.sid, statement]),
      );
    const store = statements('store-readings');
    expect(store.WriteReadings).toMatchObject({ actions: ['dynamodb:BatchWriteItem', 'dynamodb:Query'], resources: [ref('aws_dynamodb_table', 'tables_things', 'arn')] });
    expect(store.UpdateSeries).toMatchObject({ actions: ['dynamodb:UpdateItem'], resources: [ref('aws_dynamodb_table', 'tables_series', 'arn')] });
    expect(store.KeepRollups).toMatchObject({ actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'], resources: [ref('aws_dynamodb_table', 'tables_rollups', 'arn')] });
    expect(store.PublishAlerts).toBeUndefined();
    const alerts = statements('threshold-alerts');
    expect(alerts.PublishAlerts).toMatchObject({ actions: ['sns:Publish'], resources: [ref('aws_sns_topic', 'alert-topic_topic', 'arn')] });
    expect(alerts.WriteReadings).toBeUndefined();
    for (const byName of [store, alerts]) {
      expect(byName.ReadStream).toMatchObject({ resources: [ref('aws_kinesis_stream', 'stream_stream', 'arn')] });
      expect(byName.SendFailures).toMatchObject({ actions: ['sqs:SendMessage'], resources: [ref('aws_sqs_queue', 'consumers_failure-queue', 'arn')] });
    }
  });
});

describe('tables', () => {
  it.each(Object.entries(TABLES))('creates %s on demand with PITR, encryption, deletion protection and the contract\'s keys', (key, definition) => {
    const table = resource(pipeline, 'aws_dynamodb_table', `tables_${key}`);
    expect(table).toMatchObject({
      billing_mode: 'PAY_PER_REQUEST',
      hash_key: definition.hashKey,
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true },
      deletion_protection_enabled: true,
    });
    expect(table.range_key).toBe('rangeKey' in definition ? definition.rangeKey : undefined);
    expect(table.ttl).toEqual('ttlAttribute' in definition ? { enabled: true, attribute_name: 'ExpiresAt' } : undefined);
  });

  it('names the tables as the shared contract does', () => {
    const names = Object.values(resources(pipeline, 'aws_dynamodb_table')).map((table) => table.name);
    expect(names.sort()).toEqual(['iot-alerts', 'iot-rollups', 'iot-series', 'iot-things', 'iot-thresholds']);
  });
});

describe('alerts', () => {
  it('encrypts the alert topic and subscribes each configured address once', () => {
    expect(resource(pipeline, 'aws_sns_topic', 'alert-topic_topic').kms_master_key_id).toBe(ref('aws_kms_key', 'data-key_key', 'arn'));
    const subscriptions = Object.values(resources(pipeline, 'aws_sns_topic_subscription')).filter((subscription) => subscription.topic_arn === ref('aws_sns_topic', 'alert-topic_topic', 'arn'));
    expect(subscriptions.map((subscription) => [subscription.protocol, subscription.endpoint]).sort()).toEqual([
      ['email', 'oncall@example.org'],
      ['email', 'ops@example.com'],
    ]);
  });
});

describe('archive', () => {
  it('delivers the stream to S3 date-partitioned and gzipped', () => {
    const delivery = only(pipeline, 'aws_kinesis_firehose_delivery_stream');
    expect(delivery.kinesis_source_configuration).toMatchObject({ kinesis_stream_arn: ref('aws_kinesis_stream', 'stream_stream', 'arn') });
    expect(delivery.extended_s3_configuration).toMatchObject({
      bucket_arn: ref('aws_s3_bucket', 'archive_bucket', 'arn'),
      compression_format: 'GZIP',
      prefix: 'readings/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
    });
  });

  it('keeps the bucket private, encrypted, TLS-only, moving objects to Glacier after 30 days', () => {
    const bucket = ref('aws_s3_bucket', 'archive_bucket', 'id');
    expect(pipelineText).toHaveResourceWithProperties(S3BucketPublicAccessBlock, { bucket, block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(resource(pipeline, 'aws_s3_bucket_server_side_encryption_configuration', 'archive_encryption')).toMatchObject({
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: ref('aws_kms_key', 'data-key_key', 'arn') } }],
    });
    const [deny] = policyStatements(pipeline, resource(pipeline, 'aws_s3_bucket_policy', 'archive_policy').policy);
    expect(deny).toMatchObject({ effect: 'Deny', resources: [ref('aws_s3_bucket', 'archive_bucket', 'arn'), `${ref('aws_s3_bucket', 'archive_bucket', 'arn')}/*`] });
    expect(pipelineText).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      bucket,
      rule: [expect.objectContaining({ status: 'Enabled', transition: [expect.objectContaining({ days: 30, storage_class: 'GLACIER_IR' })] })],
    });
  });
});

describe('IAM', () => {
  const ownPolicies = () => Object.entries(resources(pipeline, 'aws_iam_role_policy'));

  it('has no wildcard action in any role policy, and no wildcard resource in the roles of the data path', () => {
    const dataPathRoles = ['consumers_store-readings-role_policy', 'consumers_threshold-alerts-role_policy', 'ingest-api_integration-role_policy', 'archive_role_policy'];
    for (const [id, policy] of ownPolicies()) {
      for (const statement of policyStatements(pipeline, policy.policy)) {
        for (const action of statement.actions as string[]) expect(action).not.toMatch(/(^\*$|:\*$)/);
        if (dataPathRoles.includes(id)) {
          for (const resourceName of statement.resources as string[]) expect(resourceName).toMatch(/^\$\{aws_[a-z0-9_]+\.[A-Za-z0-9_-]+\.arn\}(:\*|\/\*)?$/);
        }
      }
    }
    expect(ownPolicies().map(([id]) => id)).toEqual(expect.arrayContaining(dataPathRoles));
  });

  it('lets each role be assumed by one service only', () => {
    for (const role of Object.values(resources(pipeline, 'aws_iam_role'))) {
      const [trust] = policyStatements(pipeline, role.assume_role_policy);
      expect((trust!.principals as { identifiers: string[] }[])[0]!.identifiers).toHaveLength(1);
    }
  });
});

describe('web and network wiring', () => {
  it('runs the digest the configured tag names in the repository named by the repository stack\'s state', () => {
    const image = '${data.terraform_remote_state.repository-state.outputs.repository_url}@${data.aws_ecr_image.web-service_image.image_digest}';
    expect(pipeline.data?.aws_ecr_image?.['web-service_image']).toMatchObject({ image_tag: 'latest', repository_name: '${data.terraform_remote_state.repository-state.outputs.repository_name}' });
    expect(pipeline.output?.[PIPELINE_OUTPUTS.imageUrl]?.value).toBe(image);
    const [container] = JSON.parse(String(only(pipeline, 'aws_ecs_task_definition').container_definitions)) as { image: string; cpu: number; memory: number }[];
    expect(container).toMatchObject({ image, memory: 900, cpu: 900 });
  });

  it('lets the web task read the four tables and the fleet index, acknowledge alerts, create silences, set rules and record their changes, and nothing else', () => {
    const statements = policyStatements(pipeline, resource(pipeline, 'aws_iam_role_policy', 'web-service_task-role_policy').policy);
    const grants = Object.fromEntries(statements.map((statement) => [statement.sid, { actions: statement.actions, resources: statement.resources }]));
    const table = (key: string) => ref('aws_dynamodb_table', `tables_${key}`, 'arn');
    expect(grants).toEqual({
      ReadTables: { actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'], resources: Object.keys(TABLES).map(table) },
      QueryIndexes: { actions: ['dynamodb:Query'], resources: [`${table('alerts')}/index/fleet`] },
      AcknowledgeAlertsSetRules: { actions: ['dynamodb:UpdateItem'], resources: [table('thresholds'), table('alerts')] },
      RecordSilencesRuleChanges: { actions: ['dynamodb:PutItem'], resources: [table('alerts')] },
    });
  });

  it('tells the web app who signs users in, or that nobody does', () => {
    const environment = (document: typeof pipeline) => JSON.parse(String(only(document, 'aws_ecs_task_definition').container_definitions))[0].environment as { name: string; value: string }[];
    expect(environment(pipeline)).toContainEqual({ name: 'WEB_USER_IDENTITY', value: 'none' });
    expect(environment(pipeline).some((variable) => variable.name === 'WEB_LOAD_BALANCER_ARN')).toBe(false);
  });

  it('places the web tasks through the cluster\'s capacity provider', () => {
    expect(only(pipeline, 'aws_ecs_service').capacity_provider_strategy).toEqual([{ capacity_provider: ref('aws_ecs_capacity_provider', 'web-capacity_capacity-provider', 'name'), weight: 1 }]);
  });
});

describe('outputs', () => {
  it('publishes every pipeline output with a description, the API key as sensitive', () => {
    const outputs = pipeline.output ?? {};
    expect(Object.keys(outputs).sort()).toEqual(Object.values(PIPELINE_OUTPUTS).sort());
    for (const output of Object.values(outputs)) expect(output.description?.length).toBeGreaterThan(10);
    expect(outputs[PIPELINE_OUTPUTS.apiKey]!.sensitive).toBe(true);
    expect(outputs[PIPELINE_OUTPUTS.ingestUrl]!.value).toBe('${aws_api_gateway_stage.ingest-api_stage.invoke_url}/thingsstream');
  });

  it('tags every resource through the provider\'s default tags', () => {
    expect(pipeline.provider.aws[0]!.default_tags[0]!.tags).toEqual({ Project: 'iot-analytics', ManagedBy: 'cdktf', Stack: 'pipeline' });
  });
});

describe('a deployment made before the web tier was split', () => {
  const moved = () => (pipeline as unknown as { moved?: { from: string; to: string }[] }).moved ?? [];

  it('keeps its load balancer, cluster, service and roles: Terraform moves them instead of re-creating them', () => {
    expect(moved()).toEqual(
      expect.arrayContaining([
        { from: 'aws_lb.web_load-balancer', to: 'aws_lb.web-load-balancer_load-balancer' },
        { from: 'aws_ecs_cluster.web_cluster', to: 'aws_ecs_cluster.web-capacity_cluster' },
        { from: 'aws_ecs_service.web_service', to: 'aws_ecs_service.web-service_service' },
        { from: 'aws_iam_role.web_task-role', to: 'aws_iam_role.web-service_task-role_role' },
        { from: 'aws_cloudwatch_metric_alarm.operations_api-5xx-alarm', to: 'aws_cloudwatch_metric_alarm.ingest-api_server-errors-alarm' },
      ]),
    );
  });

  it('moves only to resources that exist, each once', () => {
    for (const { to } of moved()) {
      const [type = '', id = ''] = to.split('.');
      expect(resources(pipeline, type)[id]).toBeDefined();
    }
    expect(new Set(moved().map(({ to }) => to)).size).toBe(moved().length);
    // The world-open port 80 rule of the old default has no place to go when the app is closed.
    expect(moved().map(({ from }) => from)).not.toContain('aws_vpc_security_group_ingress_rule.web_load-balancer-ingress-80');
  });
});
