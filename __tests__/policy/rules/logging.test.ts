import { ApiGatewayMethodSettings } from '@cdktf/provider-aws/lib/api-gateway-method-settings';
import { ApiGatewayRestApi } from '@cdktf/provider-aws/lib/api-gateway-rest-api';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { check, expectClean, expectViolations } from '../harness';
import { lambdaFunction, logGroup, serviceRole } from '../fixtures';

describe('LOG-001 log retention', () => {
  it('fires on a log group that never expires', () => {
    const report = check((stack) => {
      new CloudwatchLogGroup(stack, 'forever', { name: 'forever' });
      new CloudwatchLogGroup(stack, 'zero', { name: 'zero', retentionInDays: 0 });
    });
    expectViolations(report, 'LOG-001', ['aws_cloudwatch_log_group.forever', 'aws_cloudwatch_log_group.zero'], /never expires/);
  });

  it('stays silent on a retention', () => {
    expectClean(check((stack) => logGroup(stack, 'g', 'g')), 'LOG-001');
  });
});

const fnProps = (name: string, role: string) => ({ functionName: name, role, runtime: 'nodejs22.x', handler: 'index.handler', filename: 'bundle.zip' });

describe('LOG-002 each Lambda function has its own log group', () => {
  it('fires on a function with no log group, two functions sharing one, and a function not ordered after its group', () => {
    const report = check((stack) => {
      new LambdaFunction(stack, 'orphan', fnProps('orphan', serviceRole(stack, 'orphan-role').arn));
      const shared = logGroup(stack, 'shared-logs', '/iot/consumers');
      for (const name of ['first', 'second']) {
        new LambdaFunction(stack, name, { ...fnProps(name, serviceRole(stack, `${name}-role`).arn), loggingConfig: { logFormat: 'JSON', logGroup: shared.name } });
      }
      logGroup(stack, 'racy-logs', '/aws/lambda/racy');
      new LambdaFunction(stack, 'racy', fnProps('racy', serviceRole(stack, 'racy-role').arn));
    });
    const found = expectViolations(report, 'LOG-002', [
      'aws_lambda_function.orphan',
      'aws_lambda_function.first',
      'aws_lambda_function.second',
      'aws_lambda_function.racy',
    ]);
    expect(found.find((v) => v.address.endsWith('.orphan'))?.problem).toMatch(/no log group in the stack is named \/aws\/lambda\/orphan/);
    expect(found.find((v) => v.address.endsWith('.first'))?.problem).toMatch(/shares its log group aws_cloudwatch_log_group.shared-logs with aws_lambda_function.second/);
    expect(found.find((v) => v.address.endsWith('.racy'))?.problem).toMatch(/does not depend on its log group/);
  });

  it('fires when the group is named from the function itself (created after it)', () => {
    const report = check((stack) => {
      const fn = new LambdaFunction(stack, 'late', fnProps('late', serviceRole(stack, 'late-role').arn));
      logGroup(stack, 'late-logs', `/aws/lambda/${fn.functionName}`);
    });
    expectViolations(report, 'LOG-002', ['aws_lambda_function.late'], /does not depend on its log group aws_cloudwatch_log_group.late-logs/);
  });

  it('stays silent on /aws/lambda/<name> with dependsOn, and on a logging_config pointing at its own group', () => {
    const report = check((stack) => {
      lambdaFunction(stack, 'store');
      const own = logGroup(stack, 'alerts-logs', '/iot/alerts');
      new LambdaFunction(stack, 'alerts', { ...fnProps('alerts', serviceRole(stack, 'alerts-role').arn), loggingConfig: { logFormat: 'JSON', logGroup: own.name } });
    });
    expectClean(report, 'LOG-002');
  });
});

describe('LOG-003 service-created log groups are declared', () => {
  it('fires on execution logging without its group, containers without awslogs, undeclared groups and awslogs-create-group', () => {
    const report = check((stack) => {
      const api = new ApiGatewayRestApi(stack, 'api', { name: 'ingest' });
      new ApiGatewayMethodSettings(stack, 'settings', { restApiId: api.id, stageName: 'prod', methodPath: '*/*', settings: { loggingLevel: 'INFO' } });
      new EcsTaskDefinition(stack, 'silent', { family: 'a', containerDefinitions: JSON.stringify([{ name: 'web', image: 'x' }]) });
      new EcsTaskDefinition(stack, 'undeclared', {
        family: 'b',
        containerDefinitions: JSON.stringify([{ name: 'web', image: 'x', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web' } } }]),
      });
      const group = logGroup(stack, 'web-logs', '/ecs/web');
      new EcsTaskDefinition(stack, 'creating', {
        family: 'c',
        containerDefinitions: JSON.stringify([{ name: 'web', image: 'x', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': group.name, 'awslogs-create-group': 'true' } } }]),
      });
    });
    const found = expectViolations(report, 'LOG-003', [
      'aws_api_gateway_method_settings.settings',
      'aws_ecs_task_definition.silent',
      'aws_ecs_task_definition.undeclared',
      'aws_ecs_task_definition.creating',
    ]);
    expect(found.find((v) => v.address.endsWith('.creating'))?.problem).toMatch(/awslogs-create-group/);
  });

  it('stays silent on a declared execution log group and awslogs into a declared group', () => {
    const report = check((stack) => {
      const api = new ApiGatewayRestApi(stack, 'api', { name: 'ingest' });
      logGroup(stack, 'execution-logs', `API-Gateway-Execution-Logs_${api.id}/prod`);
      new ApiGatewayMethodSettings(stack, 'settings', { restApiId: api.id, stageName: 'prod', methodPath: '*/*', settings: { loggingLevel: 'ERROR' } });
      new ApiGatewayMethodSettings(stack, 'quiet', { restApiId: api.id, stageName: 'test', methodPath: '*/*', settings: { loggingLevel: 'OFF' } });
      const group = logGroup(stack, 'web-logs', '/ecs/web');
      new EcsTaskDefinition(stack, 'web', {
        family: 'web',
        containerDefinitions: JSON.stringify([{ name: 'web', image: 'x', logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': group.name } } }]),
      });
    });
    expectClean(report, 'LOG-003');
  });
});

describe('LOG-004 application load balancers write access logs', () => {
  it('fires on a load balancer without access logs, with them off, or without a bucket', () => {
    const report = check((stack) => {
      new Lb(stack, 'unset', { name: 'a', subnets: ['subnet-a'] });
      new Lb(stack, 'off', { name: 'b', subnets: ['subnet-a'], accessLogs: { bucket: 'logs', enabled: false } });
      new Lb(stack, 'nowhere', { name: 'c', subnets: ['subnet-a'], accessLogs: { bucket: '', enabled: true } });
    });
    const found = expectViolations(report, 'LOG-004', ['aws_lb.unset', 'aws_lb.off', 'aws_lb.nowhere']);
    expect(found.find((v) => v.address === 'aws_lb.nowhere')?.problem).toBe('access_logs has no bucket');
  });

  it('stays silent on logs to a bucket, and on network load balancers', () => {
    const report = check((stack) => {
      new Lb(stack, 'logged', { name: 'a', subnets: ['subnet-a'], accessLogs: { bucket: 'logs', enabled: true } });
      new Lb(stack, 'network', { name: 'b', loadBalancerType: 'network', subnets: ['subnet-a'] });
    });
    expectClean(report, 'LOG-004');
  });
});
