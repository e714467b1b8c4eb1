/**
 * What the local twin does with each resource and data source type of a synthesized
 * stack: emulated (something local behaves as the AWS resource does, built from its
 * arguments), or control-plane only (it shapes access, cost, placement or observability
 * on AWS, and nothing local depends on it), each with its one-line reason. A type on
 * neither list stops start-up naming it, so nothing is skipped silently.
 *
 * Adding a resource type to the stacks means adding it here (and, if others reference
 * its computed attributes, to attributes.ts).
 */
import { ON_DEMAND_LOCAL_SHARDS } from './data-stores';
import type { LoadedStack } from './load-stack';
import { TwinResolutionError, type StackResource } from './stack';

export type Coverage = { readonly kind: 'emulated'; readonly how: string } | { readonly kind: 'control-plane'; readonly why: string };

const emulated = (how: string): Coverage => ({ kind: 'emulated', how });
const controlPlane = (why: string): Coverage => ({ kind: 'control-plane', why });

const BY_API_GATEWAY_TWIN = emulated('the API Gateway twin (local/api-gateway) serves the API from these resources');
const NO_IAM = controlPlane('IAM is not enforced locally: every local call is allowed');
const NO_NETWORK = controlPlane('networking: everything local listens on the loopback interface');
const NO_EC2 = controlPlane('container hosts: the web app runs in the platform process');
const NO_METRICS = controlPlane('CloudWatch metrics and alarms: the console and the data folder show what happens');
const BUCKET_SETTING = controlPlane('access, encryption and storage-class settings of the bucket: the local archive is a folder');
const RESOLVED = emulated('resolved to local values');
const NO_SIGN_IN = controlPlane('sign-in at the load balancer: locally the web app is open on the loopback interface');
const BY_QUERY_TOOL = emulated('`npm run query` runs SQL with DuckDB over the local archive as the same `readings` table (handlers/archive-format.ts)');

/** Managed resource types by name; data sources as `data.<type>`. */
export const TWIN_COVERAGE: Readonly<Record<string, Coverage>> = {
  // Data path
  aws_kinesis_stream: emulated(`a kinesalite stream with its shard count (on demand: ${ON_DEMAND_LOCAL_SHARDS} shards)`),
  aws_lambda_function: emulated('the zip in `filename` runs in a worker thread with its handler, environment, timeout and memory size'),
  aws_lambda_event_source_mapping: emulated("a poller per shard with the mapping's batching, retries, bisecting, record age, response types and on-failure destination"),
  aws_dynamodb_table: emulated('a dynalite table with its key schema; items past the TTL attribute are deleted'),
  aws_sqs_queue: emulated('a queue of the local SNS/SQS endpoint'),
  aws_sns_topic: emulated('a topic of the local SNS/SQS endpoint; every message published is shown on the console'),
  aws_sns_topic_subscription: emulated('email, SMS and HTTPS subscribers are listed at start; what each would receive is shown on the console'),
  aws_kinesis_firehose_delivery_stream: emulated(
    'reads the stream from LATEST, transforms records with its Lambda processor, and writes buffered, delimited, GZIP objects under its prefixes (failed records under the error prefix) into <data>/archive/<bucket>/',
  ),
  aws_s3_bucket: emulated('the folder <data>/archive/<bucket>/'),
  aws_scheduler_schedule: emulated('invokes its target function asynchronously on its rate, cron or at expression (UTC), with its input and context attributes; Lambda retries a failed run twice'),

  // Ingest API
  aws_api_gateway_rest_api: BY_API_GATEWAY_TWIN,
  aws_api_gateway_resource: BY_API_GATEWAY_TWIN,
  aws_api_gateway_method: BY_API_GATEWAY_TWIN,
  aws_api_gateway_method_response: BY_API_GATEWAY_TWIN,
  aws_api_gateway_integration: BY_API_GATEWAY_TWIN,
  aws_api_gateway_integration_response: BY_API_GATEWAY_TWIN,
  aws_api_gateway_gateway_response: BY_API_GATEWAY_TWIN,
  aws_api_gateway_model: BY_API_GATEWAY_TWIN,
  aws_api_gateway_request_validator: BY_API_GATEWAY_TWIN,
  aws_api_gateway_stage: BY_API_GATEWAY_TWIN,
  aws_api_gateway_method_settings: BY_API_GATEWAY_TWIN,
  aws_api_gateway_api_key: BY_API_GATEWAY_TWIN,
  aws_api_gateway_usage_plan: BY_API_GATEWAY_TWIN,
  aws_api_gateway_usage_plan_key: BY_API_GATEWAY_TWIN,
  aws_api_gateway_deployment: controlPlane('a snapshot of the API for its stage: the twin serves the API as synthesized'),
  aws_api_gateway_account: controlPlane("the account's CloudWatch role for API Gateway logs"),

  // Web service
  aws_ecs_task_definition: emulated("the web app runs with the container's environment, listening as its port mapping says"),
  aws_ecs_service: emulated('one task of its task definition'),
  aws_lb_target_group: emulated('the platform is ready once the health-check path answers as the matcher expects'),
  aws_lb: controlPlane("routing: the web app's own port stands in for the load balancer"),
  aws_lb_listener: controlPlane("routing: the web app's own port stands in for the listener"),
  aws_ecs_cluster: NO_EC2,
  aws_ecs_capacity_provider: NO_EC2,
  aws_ecs_cluster_capacity_providers: NO_EC2,
  aws_autoscaling_group: NO_EC2,
  aws_autoscaling_policy: NO_EC2,
  aws_launch_template: NO_EC2,
  aws_appautoscaling_target: controlPlane('task scaling: one local task'),
  aws_appautoscaling_policy: controlPlane('task scaling: one local task'),
  aws_ecr_repository: controlPlane('the image registry: the web app runs from source'),
  aws_ecr_lifecycle_policy: controlPlane('the image registry: the web app runs from source'),
  aws_cognito_user_pool: NO_SIGN_IN,
  aws_cognito_user_pool_client: NO_SIGN_IN,
  aws_cognito_user_pool_domain: NO_SIGN_IN,
  aws_cognito_user: NO_SIGN_IN,

  // SQL over the archive
  aws_glue_catalog_database: BY_QUERY_TOOL,
  aws_glue_catalog_table: BY_QUERY_TOOL,
  aws_athena_workgroup: controlPlane("Athena's results location, encryption and scan limit: locally DuckDB answers in the terminal"),

  // Access, keys, network, observability
  aws_iam_role: NO_IAM,
  aws_iam_role_policy: NO_IAM,
  aws_iam_role_policy_attachment: NO_IAM,
  aws_iam_instance_profile: NO_IAM,
  aws_iam_policy: NO_IAM,
  aws_sqs_queue_policy: NO_IAM,
  aws_s3_bucket_policy: BUCKET_SETTING,
  aws_s3_bucket_public_access_block: BUCKET_SETTING,
  aws_s3_bucket_ownership_controls: BUCKET_SETTING,
  aws_s3_bucket_server_side_encryption_configuration: BUCKET_SETTING,
  aws_s3_bucket_lifecycle_configuration: controlPlane('storage-class transitions and expiry after days or years'),
  aws_kms_key: controlPlane('encryption at rest: the local stores are not encrypted'),
  aws_kms_alias: controlPlane('encryption at rest: the local stores are not encrypted'),
  aws_vpc: NO_NETWORK,
  aws_subnet: NO_NETWORK,
  aws_internet_gateway: NO_NETWORK,
  aws_route_table: NO_NETWORK,
  aws_route_table_association: NO_NETWORK,
  aws_security_group: NO_NETWORK,
  aws_default_security_group: NO_NETWORK,
  aws_vpc_security_group_ingress_rule: NO_NETWORK,
  aws_vpc_security_group_egress_rule: NO_NETWORK,
  aws_cloudwatch_log_group: controlPlane('log storage: function and platform logs go to the console'),
  aws_cloudwatch_log_stream: controlPlane('log storage: function and platform logs go to the console'),
  aws_cloudwatch_metric_alarm: NO_METRICS,
  aws_cloudwatch_log_metric_filter: NO_METRICS,
  aws_cloudwatch_dashboard: NO_METRICS,

  // Data sources
  'data.aws_partition': RESOLVED,
  'data.aws_region': RESOLVED,
  'data.aws_caller_identity': RESOLVED,
  'data.aws_availability_zones': RESOLVED,
  'data.terraform_remote_state': emulated("resolved to the outputs of the sibling stack whose state it reads, with that stack's local values"),
  'data.aws_iam_policy_document': NO_IAM,
  'data.aws_iam_policy': NO_IAM,
  'data.aws_ecr_lifecycle_policy_document': controlPlane('the image registry: the web app runs from source'),
  'data.aws_ecr_image': controlPlane('the image registry: the web app runs from source, whatever digest the tag names'),
  'data.aws_ecr_images': controlPlane('the image registry: the web app runs from source, so nothing needs to be pushed'),
  'data.aws_elb_service_account': controlPlane('the account that delivers load balancer access logs: there is no load balancer locally'),
  'data.aws_ssm_parameter': controlPlane('the container hosts\' machine image: the web app runs in the platform process'),
};

export interface CoverageReport {
  readonly emulated: readonly StackResource[];
  readonly controlPlane: readonly StackResource[];
  /** Types on neither list, with their resources' addresses. */
  readonly unknown: ReadonlyMap<string, readonly string[]>;
}

const coverageKey = (resource: StackResource): string => (resource.mode === 'data' ? `data.${resource.type}` : resource.type);

export function coverageOf(stack: Pick<LoadedStack, 'all'>, coverage: Readonly<Record<string, Coverage>> = TWIN_COVERAGE): CoverageReport {
  const emulatedResources: StackResource[] = [];
  const controlPlaneResources: StackResource[] = [];
  const unknown = new Map<string, string[]>();
  for (const resource of stack.all()) {
    const entry = coverage[coverageKey(resource)];
    if (entry === undefined) unknown.set(coverageKey(resource), [...(unknown.get(coverageKey(resource)) ?? []), resource.address]);
    else if (entry.kind === 'emulated') emulatedResources.push(resource);
    else controlPlaneResources.push(resource);
  }
  return { emulated: emulatedResources, controlPlane: controlPlaneResources, unknown };
}

/** The report, or a `TwinResolutionError` naming every type the twin does not know. */
export function checkCoverage(stack: Pick<LoadedStack, 'all' | 'file'>, coverage?: Readonly<Record<string, Coverage>>): CoverageReport {
  const report = coverageOf(stack, coverage);
  if (report.unknown.size > 0) {
    const types = [...report.unknown].map(([type, addresses]) => `${type} (${addresses.join(', ')})`);
    throw new TwinResolutionError(
      `${stack.file} holds resource types the local twin neither emulates nor lists as control-plane only: ${types.join('; ')}. ` +
        'Classify each in local/twin/coverage.ts.',
      [...report.unknown.values()][0]?.[0],
    );
  }
  return report;
}

/** The start-up line, e.g. `resources emulated 66 / control-plane only 120 / unknown 0`. */
export function coverageLine(report: CoverageReport): string {
  const unknown = [...report.unknown.values()].reduce((sum, addresses) => sum + addresses.length, 0);
  return `resources emulated ${report.emulated.length} / control-plane only ${report.controlPlane.length} / unknown ${unknown}`;
}
