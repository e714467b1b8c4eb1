/**
 * The attributes AWS computes for a resource (ARNs, ids, URLs) and the values of the data
 * sources, as the local twin gives them: shaped like AWS's, deterministic (derived from
 * the region, the local account and the resource's address), and pointing at the local
 * emulators where a URL is used to call something. An attribute that is also an argument
 * (a table's `name`, a method's `http_method`) is read from the arguments instead, so
 * only what AWS makes up needs an entry here.
 *
 * To teach the twin a new type, add its computed attributes below (most need only `id`
 * and `arn`) and classify the type in coverage.ts.
 */
import type { StackResource } from './stack';

/** Local services a computed URL can point at, once the platform listens. */
export type LocalService = 'sqs' | 'apiGateway' | 'loadBalancer';

export interface AttributeContext {
  readonly resource: StackResource;
  readonly region: string;
  readonly accountId: string;
  /** Another attribute of the same resource (computed or argument). */
  attribute(name: string): unknown;
  /** The same attribute of another resource, by address (`aws_api_gateway_rest_api.api`). */
  attributeOf(address: string, name: string): unknown;
  /** The resource that holds `value` as its `id`, among resources of `type` (for parent chains). */
  byId(type: string, value: unknown): StackResource | undefined;
  /** A token derived from the address (and `salt`) alone: same stack, same token, on every machine. */
  token(length: number, alphabet?: 'hex' | 'alnum' | 'digits', salt?: string): string;
  /** A version-4-shaped UUID derived the same way. */
  uuid(): string;
  /** `http://host:port` of a local service; undefined where the stack is read without a platform. */
  endpoint(service: LocalService): string | undefined;
  /** The value of an API key the stack gives none (AWS would generate one). */
  readonly apiKeyValue: string;
  /** Values of another stack's outputs, for `terraform_remote_state`. */
  remoteOutputs(): Readonly<Record<string, unknown>>;
}

export type ComputedAttribute = (context: AttributeContext) => unknown;

const arg = (context: AttributeContext, name: string): unknown => context.resource.config[name];
const str = (context: AttributeContext, name: string): string => String(context.attribute(name));

/** `name`, or `name_prefix` plus a unique suffix as Terraform makes it. */
const nameOrPrefix =
  (argument = 'name', prefixArgument = `${argument}_prefix`, suffix = 26): ComputedAttribute =>
  (context) =>
    arg(context, argument) ?? `${String(arg(context, prefixArgument) ?? 'terraform-')}${context.token(suffix, 'digits')}`;

const regional = (service: string, resource: ComputedAttribute): ComputedAttribute => (context) =>
  `arn:aws:${service}:${context.region}:${context.accountId}:${String(resource(context))}`;
const global = (service: string, resource: ComputedAttribute): ComputedAttribute => (context) => `arn:aws:${service}::${context.accountId}:${String(resource(context))}`;
const attr = (name: string): ComputedAttribute => (context) => context.attribute(name);

/** API Gateway ids: 10 lower-case letters and digits. */
const apiId: ComputedAttribute = (context) => context.token(10, 'alnum');
/** EC2 ids: a prefix and 17 hex digits. */
const ec2Id = (prefix: string): ComputedAttribute => (context) => `${prefix}-${context.token(17, 'hex', prefix)}`;
const ec2Arn = (kind: string): ComputedAttribute => regional('ec2', (context) => `${kind}/${str(context, 'id')}`);

/** Terraform's `path` of an API Gateway resource: its parents' path parts joined. */
const resourcePath: ComputedAttribute = (context) => {
  const parent = context.byId('aws_api_gateway_resource', arg(context, 'parent_id'));
  const above = parent === undefined ? '' : String(context.attributeOf(parent.address, 'path'));
  return `${above === '/' ? '' : above}/${String(arg(context, 'path_part'))}`;
};

const stageUrl = (context: AttributeContext): string => {
  const local = context.endpoint('apiGateway');
  return local ?? `https://${String(arg(context, 'rest_api_id'))}.execute-api.${context.region}.amazonaws.com`;
};

const elbArn = (kind: string): ComputedAttribute => regional('elasticloadbalancing', (context) => `${kind}/${str(context, 'name')}/${context.token(16, 'hex')}`);

function policyDocument(context: AttributeContext): string {
  const list = (value: unknown): unknown => (Array.isArray(value) && value.length === 1 ? value[0] : value);
  const statements = ((arg(context, 'statement') as Record<string, unknown>[] | undefined) ?? []).map((statement) => ({
    ...(statement.sid === undefined ? {} : { Sid: statement.sid }),
    Effect: statement.effect === undefined ? 'Allow' : statement.effect === 'Deny' ? 'Deny' : 'Allow',
    ...(statement.actions === undefined ? {} : { Action: list(statement.actions) }),
    ...(statement.resources === undefined ? {} : { Resource: list(statement.resources) }),
    ...(statement.principals === undefined
      ? {}
      : { Principal: Object.fromEntries((statement.principals as { type: string; identifiers: unknown }[]).map((principal) => [principal.type, list(principal.identifiers)])) }),
    ...(statement.condition === undefined
      ? {}
      : {
          Condition: Object.fromEntries(
            (statement.condition as { test: string; variable: string; values: unknown }[]).map((condition) => [condition.test, { [condition.variable]: list(condition.values) }]),
          ),
        }),
  }));
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** Computed attributes by type: managed resources under their type, data sources under `data.<type>`. */
export const COMPUTED_ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, ComputedAttribute>>>> = {
  // Data sources
  'data.aws_partition': { partition: () => 'aws', id: () => 'aws', dns_suffix: () => 'amazonaws.com', reverse_dns_prefix: () => 'com.amazonaws' },
  'data.aws_region': {
    name: (context) => context.region,
    region: (context) => context.region,
    id: (context) => context.region,
    endpoint: (context) => `ec2.${context.region}.amazonaws.com`,
    description: (context) => context.region,
  },
  'data.aws_caller_identity': {
    account_id: (context) => context.accountId,
    id: (context) => context.accountId,
    arn: (context) => `arn:aws:iam::${context.accountId}:user/local`,
    user_id: () => 'LOCAL',
  },
  'data.aws_availability_zones': {
    id: (context) => context.region,
    names: (context) => ['a', 'b', 'c'].map((zone) => `${context.region}${zone}`),
    zone_ids: (context) => [1, 2, 3].map((zone) => `${context.region.replace(/^(\w\w)-(\w)\w*-(\d+)$/, '$1$2$3')}-az${zone}`),
    group_names: (context) => [context.region],
  },
  'data.terraform_remote_state': { outputs: (context) => context.remoteOutputs(), id: (context) => context.token(12, 'hex') },
  'data.aws_iam_policy_document': { json: policyDocument, minified_json: policyDocument, id: (context) => context.token(10, 'digits') },
  'data.aws_iam_policy': { arn: (context) => `arn:aws:iam::aws:policy/${String(arg(context, 'name'))}`, id: attr('arn') },
  // The web app runs from source: whatever the tag names stands for it, with a digest of its own.
  'data.aws_ecr_image': {
    image_digest: (context) => `sha256:${context.token(64, 'hex')}`,
    id: attr('image_digest'),
    image_tags: (context) => [arg(context, 'image_tag') ?? 'latest'],
  },
  'data.aws_ecr_images': { image_ids: () => [], id: (context) => String(arg(context, 'repository_name')) },

  // Data path
  aws_dynamodb_table: { id: attr('name'), arn: regional('dynamodb', (context) => `table/${str(context, 'name')}`) },
  aws_kinesis_stream: { id: attr('arn'), arn: regional('kinesis', (context) => `stream/${str(context, 'name')}`) },
  aws_kinesis_firehose_delivery_stream: { id: attr('arn'), arn: regional('firehose', (context) => `deliverystream/${str(context, 'name')}`) },
  aws_sqs_queue: {
    name: nameOrPrefix(),
    id: attr('url'),
    arn: regional('sqs', attr('name')),
    url: (context) => `${context.endpoint('sqs') ?? `https://sqs.${context.region}.amazonaws.com`}/${context.accountId}/${str(context, 'name')}`,
  },
  aws_sns_topic: { name: nameOrPrefix(), id: attr('arn'), arn: regional('sns', attr('name')) },
  aws_sns_topic_subscription: {
    id: attr('arn'),
    arn: (context) => `${String(arg(context, 'topic_arn'))}:${context.uuid()}`,
  },
  aws_lambda_function: {
    id: attr('function_name'),
    arn: regional('lambda', (context) => `function:${str(context, 'function_name')}`),
    qualified_arn: (context) => `${str(context, 'arn')}:$LATEST`,
    invoke_arn: (context) => `arn:aws:apigateway:${context.region}:lambda:path/2015-03-31/functions/${str(context, 'arn')}/invocations`,
    version: () => '$LATEST',
  },
  aws_scheduler_schedule: {
    name: nameOrPrefix(),
    id: (context) => `${String(arg(context, 'group_name') ?? 'default')}/${str(context, 'name')}`,
    arn: regional('scheduler', (context) => `schedule/${String(arg(context, 'group_name') ?? 'default')}/${str(context, 'name')}`),
  },
  aws_lambda_event_source_mapping: {
    id: attr('uuid'),
    uuid: (context) => context.uuid(),
    function_arn: (context) => arg(context, 'function_name'),
  },
  aws_s3_bucket: {
    bucket: nameOrPrefix('bucket'),
    id: attr('bucket'),
    arn: (context) => `arn:aws:s3:::${str(context, 'bucket')}`,
    bucket_domain_name: (context) => `${str(context, 'bucket')}.s3.amazonaws.com`,
    bucket_regional_domain_name: (context) => `${str(context, 'bucket')}.s3.${context.region}.amazonaws.com`,
  },
  aws_ecr_repository: {
    id: attr('name'),
    arn: regional('ecr', (context) => `repository/${str(context, 'name')}`),
    registry_id: (context) => context.accountId,
    repository_url: (context) => `${context.accountId}.dkr.ecr.${context.region}.amazonaws.com/${str(context, 'name')}`,
  },

  // API Gateway
  aws_api_gateway_rest_api: {
    id: apiId,
    root_resource_id: (context) => context.token(10, 'alnum', 'root'),
    arn: (context) => `arn:aws:apigateway:${context.region}::/restapis/${str(context, 'id')}`,
    execution_arn: regional('execute-api', attr('id')),
  },
  aws_api_gateway_resource: { id: apiId, path: resourcePath },
  aws_api_gateway_method: { id: (context) => `agm-${String(arg(context, 'rest_api_id'))}-${String(arg(context, 'resource_id'))}-${String(arg(context, 'http_method'))}` },
  aws_api_gateway_method_response: {
    id: (context) => `agmr-${String(arg(context, 'rest_api_id'))}-${String(arg(context, 'resource_id'))}-${String(arg(context, 'http_method'))}-${String(arg(context, 'status_code'))}`,
  },
  aws_api_gateway_integration: { id: (context) => `agi-${String(arg(context, 'rest_api_id'))}-${String(arg(context, 'resource_id'))}-${String(arg(context, 'http_method'))}` },
  aws_api_gateway_integration_response: {
    id: (context) => `agir-${String(arg(context, 'rest_api_id'))}-${String(arg(context, 'resource_id'))}-${String(arg(context, 'http_method'))}-${String(arg(context, 'status_code'))}`,
  },
  aws_api_gateway_gateway_response: { id: (context) => `aggr-${String(arg(context, 'rest_api_id'))}-${String(arg(context, 'response_type'))}` },
  aws_api_gateway_model: { id: apiId },
  aws_api_gateway_request_validator: { id: apiId },
  aws_api_gateway_deployment: {
    id: apiId,
    invoke_url: (context) => `${stageUrl(context)}/`,
    execution_arn: (context) => `arn:aws:execute-api:${context.region}:${context.accountId}:${String(arg(context, 'rest_api_id'))}/`,
  },
  aws_api_gateway_stage: {
    id: (context) => `ags-${String(arg(context, 'rest_api_id'))}-${String(arg(context, 'stage_name'))}`,
    arn: (context) => `arn:aws:apigateway:${context.region}::/restapis/${String(arg(context, 'rest_api_id'))}/stages/${String(arg(context, 'stage_name'))}`,
    invoke_url: (context) => `${stageUrl(context)}/${String(arg(context, 'stage_name'))}`,
    execution_arn: (context) => `arn:aws:execute-api:${context.region}:${context.accountId}:${String(arg(context, 'rest_api_id'))}/${String(arg(context, 'stage_name'))}`,
  },
  aws_api_gateway_method_settings: { id: (context) => `${String(arg(context, 'rest_api_id'))}-${String(arg(context, 'stage_name'))}-${String(arg(context, 'method_path'))}` },
  aws_api_gateway_api_key: { id: apiId, value: (context) => arg(context, 'value') ?? context.apiKeyValue, arn: (context) => `arn:aws:apigateway:${context.region}::/apikeys/${str(context, 'id')}` },
  aws_api_gateway_usage_plan: { id: (context) => context.token(6, 'alnum'), arn: (context) => `arn:aws:apigateway:${context.region}::/usageplans/${str(context, 'id')}` },
  aws_api_gateway_usage_plan_key: { id: (context) => arg(context, 'key_id') },
  aws_api_gateway_account: { id: () => 'api-gateway-account' },

  // Web service
  aws_ecs_cluster: { id: attr('arn'), arn: regional('ecs', (context) => `cluster/${str(context, 'name')}`) },
  aws_ecs_service: { id: attr('arn'), arn: regional('ecs', (context) => `service/${String(arg(context, 'cluster')).split('/').pop() ?? ''}/${str(context, 'name')}`) },
  aws_ecs_task_definition: {
    id: attr('family'),
    revision: () => 1,
    arn: regional('ecs', (context) => `task-definition/${str(context, 'family')}:1`),
    arn_without_revision: regional('ecs', (context) => `task-definition/${str(context, 'family')}`),
  },
  aws_lb: {
    id: attr('arn'),
    arn: elbArn('loadbalancer/app'),
    arn_suffix: (context) => str(context, 'arn').split(':loadbalancer/')[1],
    dns_name: (context) => context.endpoint('loadBalancer')?.replace(/^https?:\/\//, '') ?? `${str(context, 'name')}-${context.token(10, 'digits')}.${context.region}.elb.amazonaws.com`,
    zone_id: () => 'ZHURV8PSTC4K8',
  },
  aws_lb_target_group: { id: attr('arn'), arn: elbArn('targetgroup'), arn_suffix: (context) => str(context, 'arn').split(':').pop() },
  aws_lb_listener: { id: attr('arn'), arn: regional('elasticloadbalancing', (context) => `listener/app/${context.token(16, 'hex')}`) },
  aws_autoscaling_group: {
    name: nameOrPrefix(),
    id: attr('name'),
    arn: regional('autoscaling', (context) => `autoScalingGroup:${context.token(8, 'hex')}:autoScalingGroupName/${str(context, 'name')}`),
  },
  aws_autoscaling_policy: { id: attr('name'), arn: regional('autoscaling', (context) => `scalingPolicy:${context.token(8, 'hex')}:policyName/${str(context, 'name')}`) },
  aws_launch_template: { id: ec2Id('lt'), arn: ec2Arn('launch-template'), latest_version: () => 1, default_version: () => 1 },

  // Network
  aws_vpc: { id: ec2Id('vpc'), arn: ec2Arn('vpc'), default_security_group_id: ec2Id('sg'), main_route_table_id: ec2Id('rtb') },
  aws_subnet: { id: ec2Id('subnet'), arn: ec2Arn('subnet') },
  aws_security_group: { id: ec2Id('sg'), arn: ec2Arn('security-group') },
  aws_default_security_group: { id: ec2Id('sg'), arn: ec2Arn('security-group') },
  aws_vpc_security_group_ingress_rule: { id: ec2Id('sgr'), arn: ec2Arn('security-group-rule') },
  aws_vpc_security_group_egress_rule: { id: ec2Id('sgr'), arn: ec2Arn('security-group-rule') },
  aws_internet_gateway: { id: ec2Id('igw'), arn: ec2Arn('internet-gateway') },
  aws_route_table: { id: ec2Id('rtb'), arn: ec2Arn('route-table') },
  aws_route_table_association: { id: ec2Id('rtbassoc') },

  // Identity, keys, logs, alarms
  aws_iam_role: { name: nameOrPrefix(), id: attr('name'), arn: global('iam', (context) => `role/${str(context, 'name')}`), unique_id: (context) => `AROA${context.token(17, 'alnum').toUpperCase()}` },
  aws_iam_role_policy: { id: (context) => `${String(arg(context, 'role'))}:${String(arg(context, 'name'))}` },
  aws_iam_role_policy_attachment: { id: (context) => `${String(arg(context, 'role'))}-${context.token(26, 'digits')}` },
  aws_iam_instance_profile: { name: nameOrPrefix(), id: attr('name'), arn: global('iam', (context) => `instance-profile/${str(context, 'name')}`) },
  aws_iam_policy: { name: nameOrPrefix(), id: attr('arn'), arn: global('iam', (context) => `policy/${str(context, 'name')}`) },
  aws_kms_key: {
    id: attr('key_id'),
    key_id: (context) => context.uuid(),
    arn: regional('kms', (context) => `key/${str(context, 'key_id')}`),
  },
  aws_kms_alias: { id: attr('name'), arn: regional('kms', attr('name')), target_key_arn: (context) => arg(context, 'target_key_id') },
  aws_cloudwatch_log_group: { name: nameOrPrefix(), id: attr('name'), arn: regional('logs', (context) => `log-group:${str(context, 'name')}`) },
  aws_cloudwatch_log_stream: { id: attr('name'), arn: regional('logs', (context) => `log-group:${String(arg(context, 'log_group_name'))}:log-stream:${str(context, 'name')}`) },
  aws_cloudwatch_metric_alarm: { id: attr('alarm_name'), arn: regional('cloudwatch', (context) => `alarm:${str(context, 'alarm_name')}`) },
  aws_cloudwatch_dashboard: { id: attr('dashboard_name'), dashboard_arn: global('cloudwatch', (context) => `dashboard/${str(context, 'dashboard_name')}`) },
};
