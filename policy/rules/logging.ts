import { block, isSet, literalNumber, strings, type Element, type StackModel } from '../model';
import { finding, NO_EQUIVALENT, rule, type Finding } from './rule';

export const logRetention = rule({
  id: 'LOG-001',
  category: 'logging',
  title: 'Every CloudWatch log group has a finite retention',
  fix: 'Set `retentionInDays` (e.g. 30) on the log group.',
  equivalents: {
    checkov: [{ id: 'CKV_AWS_66' }],
    trivy: [],
    note: 'CKV_AWS_338 (a year or more) is not enforced: any finite retention passes.',
  },
  check: (model) =>
    model.resources('aws_cloudwatch_log_group').flatMap((group) => {
      const days = literalNumber(group.config['retention_in_days']);
      return days !== undefined && days > 0 ? [] : [finding(group, `retention_in_days is ${JSON.stringify(group.config['retention_in_days'] ?? null)} (never expires)`)];
    }),
});

/** The log groups a function writes to: its `logging_config` target, or `/aws/lambda/<name>`. */
function logGroupsOf(model: StackModel, fn: Element): Element[] {
  const target = block(fn.config['logging_config'])['log_group'];
  const name = fn.config['function_name'];
  return model.resources('aws_cloudwatch_log_group').filter((group) => {
    if (target !== undefined) return model.designates(target, group, 'name');
    const groupName = group.config['name'];
    return (
      (typeof name === 'string' && groupName === `/aws/lambda/${name}`) ||
      (typeof groupName === 'string' && groupName.startsWith('/aws/lambda/') && model.refersTo(groupName, fn, 'function_name'))
    );
  });
}

export const lambdaOwnLogGroup = rule({
  id: 'LOG-002',
  category: 'logging',
  title:
    'Every Lambda function has its own log group in the stack (`/aws/lambda/<name>` or its `loggingConfig.logGroup`), created before the function',
  fix: 'Declare a log group named `/aws/lambda/<function name>` with a retention, and make the function depend on it (`dependsOn` or `loggingConfig.logGroup: group.name`).',
  equivalents: NO_EQUIVALENT,
  check(model) {
    const findings: Finding[] = [];
    const functions = model.resources('aws_lambda_function');
    const groupsByFunction = new Map(functions.map((fn) => [fn, logGroupsOf(model, fn)]));
    for (const [fn, groups] of groupsByFunction) {
      const group = groups[0];
      if (group === undefined) {
        findings.push(finding(fn, `no log group in the stack is named /aws/lambda/${String(fn.config['function_name'] ?? '<name>')} or set as its logging_config.log_group`));
        continue;
      }
      const sharing = functions.filter((other) => other !== fn && groupsByFunction.get(other)?.includes(group));
      if (sharing.length > 0) {
        findings.push(finding(fn, `shares its log group ${group.address} with ${sharing.map((other) => other.address).join(', ')}`));
      }
      const ordered = strings(fn.config['depends_on']).includes(group.address) || model.refersTo(fn.config['logging_config'], group);
      if (!ordered) {
        findings.push(finding(fn, `does not depend on its log group ${group.address}, so Lambda may create it first (with no retention)`, 'Name the log group from the same value as the function (not from the function\'s attribute), then add it to the function\'s `dependsOn` or set `loggingConfig.logGroup` to the log group\'s name attribute.'));
      }
    }
    return findings;
  },
});

const EXECUTION_LOGS_PREFIX = 'API-Gateway-Execution-Logs_';

export const serviceLogGroupsDeclared = rule({
  id: 'LOG-003',
  category: 'logging',
  title:
    'Log groups that services would create on their own are declared (with retention): API Gateway execution logs when a logging level is set, ECS `awslogs` groups',
  fix: 'Declare the log group in the stack and point the service at it; never rely on `awslogs-create-group` or implicit creation.',
  equivalents: NO_EQUIVALENT,
  check(model) {
    const findings: Finding[] = [];
    const groups = model.resources('aws_cloudwatch_log_group');
    for (const settings of model.resources('aws_api_gateway_method_settings')) {
      const level = block(settings.config['settings'])['logging_level'];
      if (level !== 'INFO' && level !== 'ERROR') continue;
      const apis = model.referencedElements(settings.config['rest_api_id'], 'aws_api_gateway_rest_api');
      const declared = groups.some((group) => {
        const name = group.config['name'];
        if (typeof name !== 'string' || !name.startsWith(EXECUTION_LOGS_PREFIX)) return false;
        return apis.some((api) => model.refersTo(name, api)) || name.includes(String(settings.config['rest_api_id']));
      });
      if (!declared) {
        findings.push(finding(settings, `logging_level is ${level} but no log group named ${EXECUTION_LOGS_PREFIX}<api id>/<stage> is declared, so API Gateway creates one that never expires`));
      }
    }
    for (const task of model.resources('aws_ecs_task_definition')) {
      const definitions = task.config['container_definitions'];
      const text = typeof definitions === 'string' ? definitions : JSON.stringify(definitions ?? null);
      if (!text.includes('awslogs-group')) {
        findings.push(finding(task, 'container_definitions have no awslogs log configuration, so container output is lost'));
      } else if (model.referencedElements(definitions, 'aws_cloudwatch_log_group').length === 0) {
        findings.push(finding(task, 'awslogs-group does not reference a log group declared in the stack'));
      }
      if (/awslogs-create-group["\\]*\s*[:=]\s*["\\]*true/.test(text)) {
        findings.push(finding(task, 'awslogs-create-group is true, so ECS creates a log group with no retention'));
      }
    }
    return findings;
  },
});

export const loadBalancerAccessLogs = rule({
  id: 'LOG-004',
  category: 'logging',
  title: 'Application load balancers write access logs (`access_logs` enabled, to a bucket)',
  fix: 'Set `accessLogs: { bucket: bucket.bucket, enabled: true }` on the load balancer, with a bucket policy that lets Elastic Load Balancing write, and make the load balancer depend on that policy.',
  equivalents: { checkov: [{ id: 'CKV_AWS_91' }], trivy: [] },
  check: (model) =>
    [...model.resources('aws_lb'), ...model.resources('aws_alb')]
      .filter((balancer) => (balancer.config['load_balancer_type'] ?? 'application') === 'application')
      .flatMap((balancer) => {
        const logs = block(balancer.config['access_logs']);
        if (logs['enabled'] !== true && logs['enabled'] !== 'true') return [finding(balancer, 'access_logs.enabled is not true, so requests leave no record')];
        return isSet(logs['bucket']) ? [] : [finding(balancer, 'access_logs has no bucket')];
      }),
});

export const LOGGING_RULES = [logRetention, lambdaOwnLogGroup, serviceLogGroupsDeclared, loadBalancerAccessLogs] as const;
