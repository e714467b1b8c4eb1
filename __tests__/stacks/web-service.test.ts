import { TerraformOutput } from 'cdktf';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { EcsClusterCapacityProviders } from '@cdktf/provider-aws/lib/ecs-cluster-capacity-providers';
import { WEB_TABLE_READ_ACTIONS, WebService, type WebServiceProps } from '../../stacks/web-service';
import { constructStack, policyStatements, synthJson } from './synth-helpers';

const TABLES = ['arn:aws:dynamodb:eu-west-2:111122223333:table/iot-things', 'arn:aws:dynamodb:eu-west-2:111122223333:table/iot-series'];
const REPOSITORY = { repositoryUrl: '111122223333.dkr.ecr.eu-west-2.amazonaws.com/iot-webapp', repositoryName: 'iot-webapp', repositoryArn: 'arn:aws:ecr:eu-west-2:111122223333:repository/iot-webapp' };

function synthService(overrides: Partial<WebServiceProps> = {}) {
  const stack = constructStack();
  const listener = new LbListener(stack, 'listener', { loadBalancerArn: 'arn:lb', port: 80, defaultAction: [{ type: 'forward', targetGroupArn: 'arn:tg' }] });
  const association = new EcsClusterCapacityProviders(stack, 'association', { clusterName: 'iot-web', capacityProviders: ['iot-web'] });
  const service = new WebService(stack, 'web-service', {
    name: 'iot-web',
    region: 'eu-west-2',
    clusterId: 'cluster-id',
    capacityProviderName: 'iot-web',
    capacityAssociation: association,
    image: { ...REPOSITORY, tag: 'v7' },
    targetGroupArn: 'arn:tg',
    listener,
    cpuUnits: 900,
    logRetentionDays: 30,
    tableArns: TABLES,
    environment: { THINGS_TABLE: 'iot-things', SERIES_TABLE: 'iot-series' },
    ...overrides,
  });
  new TerraformOutput(stack, 'image', { value: service.imageReference });
  const json = synthJson(stack);
  const one = (type: string, id: string) => {
    const found = json.resource[type]?.[`web-service_${id}`];
    if (found === undefined) throw new Error(`no ${type} web-service_${id}`);
    return found;
  };
  const container = () => (JSON.parse(String(one('aws_ecs_task_definition', 'task-definition').container_definitions)) as Record<string, unknown>[])[0]!;
  return { json, one, container };
}

describe('WebService image', () => {
  const { json, container } = synthService();

  it('runs the repository URL at the digest the configured tag names, so each push and deploy rolls out', () => {
    expect(container().image).toBe(`${REPOSITORY.repositoryUrl}@\${data.aws_ecr_image.web-service_image.image_digest}`);
    expect(json.data?.aws_ecr_image?.['web-service_image']).toMatchObject({ repository_name: 'iot-webapp', image_tag: 'v7' });
    expect(json.output?.image?.value).toBe(container().image);
  });

  it('stops the plan with what to run when the tag was never pushed, before ECR is asked for the image', () => {
    expect(json.data?.aws_ecr_images?.['web-service_pushed-images']).toMatchObject({ repository_name: 'iot-webapp' });
    const [precondition] = (json.data?.aws_ecr_image?.['web-service_image']?.lifecycle as { precondition: { condition: string; error_message: string }[] }).precondition;
    expect(precondition?.condition).toBe('${contains([ for key, val in toset(data.aws_ecr_images.web-service_pushed-images.image_ids): val.image_tag], "v7")}');
    expect(precondition?.error_message).toBe('No image tagged "v7" in the web image repository yet: run npm run image:push (it pushes web.imageTag), then cdktf deploy pipeline again.');
  });
});

describe('WebService task', () => {
  const { one, json, container } = synthService();

  it('reserves the given CPU and 900 MiB for a bridge-mode container on a dynamic host port, logging to its own group', () => {
    expect(one('aws_ecs_task_definition', 'task-definition')).toMatchObject({
      family: 'iot-web',
      network_mode: 'bridge',
      requires_compatibilities: ['EC2'],
      task_role_arn: '${aws_iam_role.web-service_task-role_role.arn}',
      execution_role_arn: '${aws_iam_role.web-service_execution-role_role.arn}',
    });
    expect(container()).toMatchObject({
      name: 'web',
      essential: true,
      cpu: 900,
      memory: 900,
      portMappings: [{ containerPort: 5000, hostPort: 0, protocol: 'tcp' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '${aws_cloudwatch_log_group.web-service_log-group.name}', 'awslogs-region': 'eu-west-2', 'awslogs-stream-prefix': 'web' } },
    });
    expect(one('aws_cloudwatch_log_group', 'log-group')).toMatchObject({ name: '/ecs/iot-web', retention_in_days: 30 });
  });

  it('passes the environment with PORT and AWS_REGION added, in a stable order', () => {
    expect(container().environment).toEqual([
      { name: 'AWS_REGION', value: 'eu-west-2' },
      { name: 'PORT', value: '5000' },
      { name: 'SERIES_TABLE', value: 'iot-series' },
      { name: 'THINGS_TABLE', value: 'iot-things' },
    ]);
  });

  it('lets the task role read exactly the given tables, and the execution role pull only this repository and write only this log group', () => {
    expect(policyStatements(json, one('aws_iam_role_policy', 'task-role_policy').policy)).toEqual([
      { sid: 'ReadTables', effect: 'Allow', actions: [...WEB_TABLE_READ_ACTIONS], resources: TABLES },
    ]);
    expect(policyStatements(json, one('aws_iam_role_policy', 'execution-role_policy').policy)).toEqual([
      { sid: 'EcrLogin', effect: 'Allow', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
      { sid: 'PullWebImage', effect: 'Allow', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], resources: [REPOSITORY.repositoryArn] },
      { sid: 'WriteTaskLogs', effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: ['${aws_cloudwatch_log_group.web-service_log-group.arn}:log-stream:*'] },
    ]);
    for (const role of ['task-role', 'execution-role']) {
      const [trust] = policyStatements(json, one('aws_iam_role', `${role}_role`).assume_role_policy);
      expect(trust?.principals).toEqual([{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }]);
    }
  });
});

describe('WebService service', () => {
  it('places tasks through the capacity provider, not a launch type, after the listener and the provider association exist', () => {
    const service = synthService().one('aws_ecs_service', 'service');
    expect(service).toMatchObject({
      name: 'iot-web',
      cluster: 'cluster-id',
      capacity_provider_strategy: [{ capacity_provider: 'iot-web', weight: 1 }],
      desired_count: 1,
      deployment_minimum_healthy_percent: 100,
      deployment_maximum_percent: 200,
      deployment_circuit_breaker: { enable: true, rollback: true },
      load_balancer: [{ target_group_arn: 'arn:tg', container_name: 'web', container_port: 5000 }],
      depends_on: ['aws_lb_listener.listener', 'aws_ecs_cluster_capacity_providers.association'],
      // The scaling stack owns the task count after the first deployment.
      lifecycle: { ignore_changes: ['desired_count'] },
    });
    expect(service.launch_type).toBeUndefined();
  });

  it('carries a non-default port, memory and task count through', () => {
    const { one, container } = synthService({ containerPort: 8080, memoryMiB: 512, desiredTasks: 3, cpuUnits: 256 });
    expect(one('aws_ecs_service', 'service')).toMatchObject({ desired_count: 3, load_balancer: [expect.objectContaining({ container_port: 8080 })] });
    expect(container()).toMatchObject({ cpu: 256, memory: 512, portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }] });
    expect(container().environment).toContainEqual({ name: 'PORT', value: '8080' });
  });
});
