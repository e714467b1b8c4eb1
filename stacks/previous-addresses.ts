/**
 * Where the pipeline stack's resources lived before the web tier was split into capacity,
 * load balancer and service, and before the alarms moved beside what they watch. Each
 * becomes a Terraform `moved` block, so a deployment made before keeps its objects: Terraform
 * renames them in the state instead of destroying and re-creating them, which would change
 * the load balancer's address and clash on names (roles, cluster, target group) on the way.
 */
import { TerraformResource, type TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';
import type { PlatformConfig } from './config';
import { emailSubscriptionId } from './alert-topic';

/** [Terraform type, previous logical id, construct path below the stack now]. */
type Move = readonly [type: string, previousId: string, path: string];

const WEB_MOVES: readonly Move[] = [
  ['aws_ecs_cluster', 'web_cluster', 'web-capacity/cluster'],
  ['aws_autoscaling_group', 'web_instances', 'web-capacity/instances'],
  ['aws_launch_template', 'web_launch-template', 'web-capacity/launch-template'],
  ['aws_security_group', 'web_instance-security-group', 'web-capacity/instance-security-group'],
  ['aws_vpc_security_group_egress_rule', 'web_instance-egress-https', 'web-capacity/instance-egress-https'],
  ['aws_vpc_security_group_ingress_rule', 'web_instance-ingress-ssh', 'web-capacity/instance-ingress-ssh'],
  ['aws_iam_role', 'web_instance-role', 'web-capacity/instance-role/role'],
  ['aws_iam_role_policy', 'web_instance-role-ecs-agent', 'web-capacity/instance-role/policy'],
  ['aws_iam_role_policy_attachment', 'web_instance-role-session-manager', 'web-capacity/instance-role/managed-policy-1'],
  ['aws_iam_instance_profile', 'web_instance-profile', 'web-capacity/instance-profile'],
  ['aws_security_group', 'web_load-balancer-security-group', 'web-load-balancer/security-group'],
  ['aws_vpc_security_group_ingress_rule', 'web_load-balancer-ingress-80', 'web-load-balancer/ingress-80-1'],
  ['aws_vpc_security_group_ingress_rule', 'web_load-balancer-ingress-443', 'web-load-balancer/ingress-443-1'],
  ['aws_vpc_security_group_egress_rule', 'web_load-balancer-egress-to-tasks', 'web-load-balancer/egress-to-tasks'],
  ['aws_vpc_security_group_ingress_rule', 'web_instance-ingress-from-load-balancer', 'web-load-balancer/instance-ingress-from-load-balancer'],
  ['aws_lb', 'web_load-balancer', 'web-load-balancer/load-balancer'],
  ['aws_lb_target_group', 'web_target-group', 'web-load-balancer/target-group'],
  ['aws_lb_listener', 'web_http-listener', 'web-load-balancer/http-listener'],
  ['aws_lb_listener', 'web_https-listener', 'web-load-balancer/https-listener'],
  ['aws_lb_listener', 'web_http-redirect-listener', 'web-load-balancer/http-redirect-listener'],
  ['aws_cloudwatch_log_group', 'web_log-group', 'web-service/log-group'],
  ['aws_iam_role', 'web_task-role', 'web-service/task-role/role'],
  ['aws_iam_role_policy', 'web_task-role-read-tables', 'web-service/task-role/policy'],
  ['aws_iam_role', 'web_execution-role', 'web-service/execution-role/role'],
  ['aws_iam_role_policy', 'web_execution-role-pull-and-log', 'web-service/execution-role/policy'],
  ['aws_ecs_task_definition', 'web_task-definition', 'web-service/task-definition'],
  ['aws_ecs_service', 'web_service', 'web-service/service'],
];

function alarmMoves(): Move[] {
  const alarm = (previousId: string, path: string): Move => ['aws_cloudwatch_metric_alarm', `operations_${previousId}`, path];
  return [
    alarm('stream-iterator-age-alarm', 'stream/iterator-age-alarm'),
    ...['store-readings', 'threshold-alerts'].flatMap((name) =>
      ['iterator-age', 'errors', 'throttles'].map((kind) => alarm(`lambda-${name}-${kind}-alarm`, `consumers/${name}-${kind}-alarm`)),
    ),
    alarm('failure-queue-messages-alarm', 'consumers/failure-queue-messages-alarm'),
    alarm('api-5xx-alarm', 'ingest-api/server-errors-alarm'),
    // The tables that had their alarm there; later tables never did.
    ...['things', 'thresholds', 'alerts', 'series'].map((key) => alarm(`table-${key}-throttles-alarm`, `tables/${key}-throttles-alarm`)),
    alarm('web-5xx-alarm', 'web-load-balancer/server-errors-alarm'),
    alarm('web-healthy-tasks-alarm', 'web-load-balancer/healthy-tasks-alarm'),
  ];
}

/** Operations subscriptions were numbered in the order of the addresses; assumes the list is unchanged in the same apply. */
function subscriptionMoves(config: PlatformConfig): Move[] {
  return config.operations.emails.map((email, index) => ['aws_sns_topic_subscription', `operations_email-${index + 1}`, `operations/${emailSubscriptionId(email)}`]);
}

/** Adds a `moved` block from each previous address to the resource there now (where it still exists). */
export function movePreviousAddresses(stack: TerraformStack, config: PlatformConfig): void {
  for (const [type, previousId, path] of [...WEB_MOVES, ...alarmMoves(), ...subscriptionMoves(config)]) {
    const found = path.split('/').reduce<IConstruct | undefined>((scope, id) => scope?.node.tryFindChild(id), stack);
    if (found !== undefined && TerraformResource.isTerraformResource(found) && found.terraformResourceType === type) found.moveFromId(`${type}.${previousId}`);
  }
}
