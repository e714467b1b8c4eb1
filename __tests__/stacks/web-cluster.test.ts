import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { applyPlatformPolicy } from '../../policy';
import { Network } from '../../stacks/network';
import { protectStatefulResources } from '../../stacks/prevent-destroy';
import {
  DYNAMIC_HOST_PORTS,
  WEB_TABLE_READ_ACTIONS,
  WebCluster,
  WebClusterProps,
  instanceArchitecture,
} from '../../stacks/web-cluster';

type Block = Record<string, unknown>;
interface Synthesized {
  resource?: Record<string, Record<string, Block>>;
  data?: Record<string, Record<string, Block>>;
  output?: Record<string, { value: unknown }>;
}

const TABLES = [
  { name: 'iot-things', arn: 'arn:aws:dynamodb:eu-west-2:111122223333:table/iot-things' },
  { name: 'iot-series', arn: 'arn:aws:dynamodb:eu-west-2:111122223333:table/iot-series' },
];
const REPOSITORY_ARN = 'arn:aws:ecr:eu-west-2:111122223333:repository/iot-web';

const baseProps: WebClusterProps = {
  namePrefix: 'iot',
  region: 'eu-west-2',
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-1', 'subnet-2'],
  imageUrl: '111122223333.dkr.ecr.eu-west-2.amazonaws.com/iot-web:v1',
  repositoryArn: REPOSITORY_ARN,
  logRetentionDays: 30,
  tables: TABLES,
  environment: { THINGS_TABLE: 'iot-things', SERIES_TABLE: 'iot-series' },
};

function synthWeb(overrides: Partial<WebClusterProps> = {}) {
  const stack = new TerraformStack(Testing.app(), 'test');
  new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
  const web = new WebCluster(stack, 'web', { ...baseProps, ...overrides });
  // Outputs show what the public members resolve to.
  new TerraformOutput(stack, 'web-url', { value: web.webUrl });
  new TerraformOutput(stack, 'cluster-name', { value: web.clusterName });
  new TerraformOutput(stack, 'service-name', { value: web.serviceName });
  new TerraformOutput(stack, 'asg-name', { value: web.autoScalingGroupName });
  new TerraformOutput(stack, 'task-role-arn', { value: web.taskRoleArn });
  const json = JSON.parse(Testing.synth(stack)) as Synthesized;

  const all = (type: string) => Object.values(json.resource?.[type] ?? {});
  /** Logical id of the resource (or data source) made by construct `web/<id>`. */
  const logicalId = (type: string, constructId: string, kind: 'resource' | 'data' = 'resource') => {
    const ids = Object.keys(json[kind]?.[type] ?? {}).filter((key) => key.startsWith(`web_${constructId}_`));
    if (ids.length !== 1) throw new Error(`expected one ${type} web/${constructId}, found ${ids.length}`);
    return ids[0] as string;
  };
  const one = (type: string, constructId: string) => json.resource?.[type]?.[logicalId(type, constructId)] as Block;
  const data = (type: string, constructId: string) => json.data?.[type]?.[logicalId(type, constructId, 'data')] as Block;
  const address = (type: string, constructId: string) => `${type}.${logicalId(type, constructId)}`;
  const ref = (type: string, constructId: string, attribute: string) => `\${${address(type, constructId)}.${attribute}}`;
  const dataRef = (type: string, constructId: string, attribute: string) =>
    `\${data.${type}.${logicalId(type, constructId, 'data')}.${attribute}}`;
  const containers = () => JSON.parse(one('aws_ecs_task_definition', 'task-definition').container_definitions as string) as Block[];
  return { json, all, one, data, address, ref, dataRef, containers };
}

describe('WebCluster defaults', () => {
  const web = synthWeb();

  it('turns on Container Insights', () => {
    expect(web.one('aws_ecs_cluster', 'cluster').setting).toEqual([{ name: 'containerInsights', value: 'enabled' }]);
  });

  it('launches instances with IMDSv2 required and a hop limit that keeps bridge-mode containers off the instance role', () => {
    expect(web.one('aws_launch_template', 'launch-template').metadata_options).toEqual({
      http_endpoint: 'enabled',
      http_tokens: 'required',
      http_put_response_hop_limit: 1,
    });
  });

  it('encrypts the gp3 root volume', () => {
    expect(web.one('aws_launch_template', 'launch-template').block_device_mappings).toEqual([
      { device_name: '/dev/xvda', ebs: { volume_type: 'gp3', volume_size: 30, encrypted: 'true', delete_on_termination: 'true' } },
    ]);
  });

  it('uses the x86_64 ECS-optimised AMI from the SSM public parameter, shown in plans', () => {
    const template = web.one('aws_launch_template', 'launch-template');
    expect(template.instance_type).toBe('t3.small');
    expect(web.data('aws_ssm_parameter', 'ecs-optimised-ami').name).toBe('/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id');
    expect(template.image_id).toBe(web.dataRef('aws_ssm_parameter', 'ecs-optimised-ami', 'insecure_value'));
  });

  it('joins the cluster through base64 user data', () => {
    expect(web.one('aws_launch_template', 'launch-template').user_data).toBe(
      `\${base64encode("#!/bin/bash\\necho ECS_CLUSTER=${web.ref('aws_ecs_cluster', 'cluster', 'name')} >> /etc/ecs/ecs.config\\n")}`,
    );
  });

  it('gives the instances Session Manager and an ECS agent policy held to this cluster, and no SSH key', () => {
    const template = web.one('aws_launch_template', 'launch-template');
    expect(template.iam_instance_profile).toEqual({ arn: web.ref('aws_iam_instance_profile', 'instance-profile', 'arn') });
    expect(template.key_name).toBeUndefined();
    expect(web.one('aws_iam_instance_profile', 'instance-profile').role).toBe(web.ref('aws_iam_role', 'instance-role', 'name'));

    // The only managed policy is Session Manager's.
    expect(web.all('aws_iam_role_policy_attachment')).toEqual([
      expect.objectContaining({
        role: web.ref('aws_iam_role', 'instance-role', 'name'),
        policy_arn: web.dataRef('aws_iam_policy', 'session-manager-managed-policy', 'arn'),
      }),
    ]);
    expect(web.data('aws_iam_policy', 'session-manager-managed-policy').name).toBe('AmazonSSMManagedInstanceCore');

    const cluster = web.ref('aws_ecs_cluster', 'cluster', 'arn');
    expect(web.one('aws_iam_role_policy', 'instance-role-ecs-agent')).toMatchObject({
      role: web.ref('aws_iam_role', 'instance-role', 'id'),
      policy: web.dataRef('aws_iam_policy_document', 'instance-ecs-agent', 'json'),
    });
    expect(web.data('aws_iam_policy_document', 'instance-ecs-agent').statement).toEqual([
      {
        sid: 'JoinThisCluster',
        actions: [
          'ecs:DeregisterContainerInstance',
          'ecs:RegisterContainerInstance',
          'ecs:SubmitAttachmentStateChanges',
          'ecs:SubmitContainerStateChange',
          'ecs:SubmitTaskStateChange',
        ],
        resources: [cluster],
      },
      {
        sid: 'TalkToThisClusterAsItsInstance',
        actions: ['ecs:Poll', 'ecs:StartTelemetrySession'],
        resources: ['*'],
        condition: [{ test: 'ArnEquals', variable: 'ecs:cluster', values: [cluster] }],
      },
      { sid: 'FindTheControlPlane', actions: ['ecs:DiscoverPollEndpoint'], resources: ['*'] },
    ]);
  });

  it('runs 1..5 instances from the launch template, with no launch configuration or classic load balancer', () => {
    const group = web.one('aws_autoscaling_group', 'instances');
    expect(group).toMatchObject({
      min_size: 1,
      max_size: 5,
      vpc_zone_identifier: ['subnet-1', 'subnet-2'],
      launch_template: { id: web.ref('aws_launch_template', 'launch-template', 'id'), version: web.ref('aws_launch_template', 'launch-template', 'latest_version') },
    });
    // The memory alarms own the capacity; a fixed desired capacity would undo them on every apply.
    expect(group.desired_capacity).toBeUndefined();
    expect(group.launch_configuration).toBeUndefined();
    expect(web.json.resource?.aws_launch_configuration).toBeUndefined();
    expect(web.json.resource?.aws_elb).toBeUndefined();
    expect(web.one('aws_lb', 'load-balancer')).toMatchObject({ load_balancer_type: 'application', internal: false, drop_invalid_header_fields: true });
  });

  it.each([
    ['up', 'high', 80, 'GreaterThanOrEqualToThreshold', 1],
    ['down', 'low', 40, 'LessThanOrEqualToThreshold', -1],
  ] as const)('scales instances %s by one when memory reservation is %s (%i %%), cooldown 300', (direction, level, threshold, operator, adjustment) => {
    const alarm = web.one('aws_cloudwatch_metric_alarm', `memory-reservation-${direction}-alarm`);
    expect(alarm).toMatchObject({
      alarm_name: `iot-web-memory-reservation-${level}`,
      namespace: 'AWS/ECS',
      metric_name: 'MemoryReservation',
      dimensions: { ClusterName: web.ref('aws_ecs_cluster', 'cluster', 'name') },
      statistic: 'Average',
      period: 60,
      evaluation_periods: 1,
      threshold,
      comparison_operator: operator,
      alarm_actions: [web.ref('aws_autoscaling_policy', `scale-${direction}-policy`, 'arn')],
    });
    expect(web.one('aws_autoscaling_policy', `scale-${direction}-policy`)).toMatchObject({
      autoscaling_group_name: web.ref('aws_autoscaling_group', 'instances', 'name'),
      policy_type: 'SimpleScaling',
      adjustment_type: 'ChangeInCapacity',
      scaling_adjustment: adjustment,
      cooldown: 300,
    });
  });

  it('opens only the load balancer to the internet, and only on port 80 without a certificate', () => {
    const world = web.all('aws_vpc_security_group_ingress_rule').filter((rule) => rule.cidr_ipv4 !== undefined || rule.cidr_ipv6 !== undefined);
    expect(world).toEqual([
      expect.objectContaining({
        security_group_id: web.ref('aws_security_group', 'load-balancer-security-group', 'id'),
        cidr_ipv4: '0.0.0.0/0',
        ip_protocol: 'tcp',
        from_port: 80,
        to_port: 80,
      }),
    ]);
    for (const group of web.all('aws_security_group')) {
      expect(group.ingress).toBeUndefined();
      expect(group.egress).toBeUndefined();
    }
  });

  it('lets instances be reached only from the load balancer security group, on the dynamic host ports', () => {
    const instanceGroup = web.ref('aws_security_group', 'instance-security-group', 'id');
    const instanceIngress = web.all('aws_vpc_security_group_ingress_rule').filter((rule) => rule.security_group_id === instanceGroup);
    expect(instanceIngress).toEqual([
      expect.objectContaining({
        referenced_security_group_id: web.ref('aws_security_group', 'load-balancer-security-group', 'id'),
        ip_protocol: 'tcp',
        from_port: DYNAMIC_HOST_PORTS.from,
        to_port: DYNAMIC_HOST_PORTS.to,
      }),
    ]);
    expect(instanceIngress[0]?.cidr_ipv4).toBeUndefined();
    expect(DYNAMIC_HOST_PORTS).toEqual({ from: 32768, to: 65535 });
  });

  it('lets the load balancer out only to the instances, and the instances out only on HTTPS', () => {
    const egress = web.all('aws_vpc_security_group_egress_rule').map((rule) => [rule.security_group_id, rule.from_port, rule.to_port, rule.referenced_security_group_id ?? rule.cidr_ipv4]);
    expect(egress).toEqual(
      expect.arrayContaining([
        [web.ref('aws_security_group', 'load-balancer-security-group', 'id'), 32768, 65535, web.ref('aws_security_group', 'instance-security-group', 'id')],
        [web.ref('aws_security_group', 'instance-security-group', 'id'), 443, 443, '0.0.0.0/0'],
      ]),
    );
    expect(egress).toHaveLength(2);
  });

  it('checks task liveness on /livez (not DynamoDB-backed /healthz) through an instance target group that drains quickly', () => {
    const targetGroup = web.one('aws_lb_target_group', 'target-group');
    expect(targetGroup).toMatchObject({ target_type: 'instance', protocol: 'HTTP', vpc_id: 'vpc-0abc', deregistration_delay: '30' });
    expect(targetGroup.health_check).toMatchObject({ enabled: true, path: '/livez', matcher: '200' });
  });

  it('forwards port 80 to the tasks when there is no certificate', () => {
    expect(web.all('aws_lb_listener')).toEqual([
      expect.objectContaining({
        port: 80,
        protocol: 'HTTP',
        load_balancer_arn: web.ref('aws_lb', 'load-balancer', 'arn'),
        default_action: [{ type: 'forward', target_group_arn: web.ref('aws_lb_target_group', 'target-group', 'arn') }],
      }),
    ]);
    expect(web.json.output?.['web-url']?.value).toBe(`http://${web.ref('aws_lb', 'load-balancer', 'dns_name')}`);
  });

  it('defines a bridge-mode task on a dynamic host port with 900 MiB, the given image and logs to its own group', () => {
    const definition = web.one('aws_ecs_task_definition', 'task-definition');
    expect(definition).toMatchObject({
      family: 'iot-web',
      network_mode: 'bridge',
      requires_compatibilities: ['EC2'],
      task_role_arn: web.ref('aws_iam_role', 'task-role', 'arn'),
      execution_role_arn: web.ref('aws_iam_role', 'execution-role', 'arn'),
    });
    expect(web.containers()).toEqual([
      expect.objectContaining({
        name: 'web',
        image: baseProps.imageUrl,
        essential: true,
        memory: 900,
        portMappings: [{ containerPort: 5000, hostPort: 0, protocol: 'tcp' }],
        logConfiguration: {
          logDriver: 'awslogs',
          options: { 'awslogs-group': web.ref('aws_cloudwatch_log_group', 'log-group', 'name'), 'awslogs-region': 'eu-west-2', 'awslogs-stream-prefix': 'web' },
        },
      }),
    ]);
    expect(web.one('aws_cloudwatch_log_group', 'log-group')).toMatchObject({ name: '/ecs/iot-web', retention_in_days: 30 });
  });

  it('passes the environment with PORT and AWS_REGION added, in a stable order', () => {
    expect(web.containers()[0]?.environment).toEqual([
      { name: 'AWS_REGION', value: 'eu-west-2' },
      { name: 'PORT', value: '5000' },
      { name: 'SERIES_TABLE', value: 'iot-series' },
      { name: 'THINGS_TABLE', value: 'iot-things' },
    ]);
  });

  it('lets the task role read exactly the given tables and do nothing else', () => {
    expect(web.data('aws_iam_policy_document', 'task-read-tables').statement).toEqual([
      { sid: 'ReadTables', actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'], resources: TABLES.map((table) => table.arn) },
    ]);
    expect([...WEB_TABLE_READ_ACTIONS]).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']);
    const taskRole = web.ref('aws_iam_role', 'task-role', 'id');
    const taskPolicies = web.all('aws_iam_role_policy').filter((policy) => policy.role === taskRole);
    expect(taskPolicies).toEqual([expect.objectContaining({ policy: web.dataRef('aws_iam_policy_document', 'task-read-tables', 'json') })]);
    const taskRoleName = web.ref('aws_iam_role', 'task-role', 'name');
    expect(web.all('aws_iam_role_policy_attachment').filter((attachment) => attachment.role === taskRoleName)).toEqual([]);
    expect(web.json.output?.['task-role-arn']?.value).toBe(web.ref('aws_iam_role', 'task-role', 'arn'));
  });

  it('lets the execution role pull only from the given repository and write only to the task log group', () => {
    expect(web.data('aws_iam_policy_document', 'execution-pull-and-log').statement).toEqual([
      { sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
      { sid: 'PullWebImage', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], resources: [REPOSITORY_ARN] },
      {
        sid: 'WriteTaskLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${web.ref('aws_cloudwatch_log_group', 'log-group', 'arn')}:log-stream:*`],
      },
    ]);
  });

  it('uses no wildcard action in any policy and trusts only the right service per role', () => {
    const documents = Object.values(web.json.data?.aws_iam_policy_document ?? {});
    const actions = documents.flatMap((document) => (document.statement as { actions: string[] }[]).flatMap((statement) => statement.actions));
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    const trust = (id: string) => (web.data('aws_iam_policy_document', id).statement as Block[])[0]?.principals;
    expect(trust('instance-trust')).toEqual([{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }]);
    expect(trust('task-trust')).toEqual([{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }]);
    expect(trust('execution-trust')).toEqual([{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }]);
  });

  it('runs the service on EC2 with circuit-breaker rollback, behind the target group, after the listener exists', () => {
    expect(web.one('aws_ecs_service', 'service')).toMatchObject({
      name: 'iot-web',
      cluster: web.ref('aws_ecs_cluster', 'cluster', 'id'),
      task_definition: web.ref('aws_ecs_task_definition', 'task-definition', 'arn'),
      launch_type: 'EC2',
      desired_count: 1,
      deployment_circuit_breaker: { enable: true, rollback: true },
      load_balancer: [{ target_group_arn: web.ref('aws_lb_target_group', 'target-group', 'arn'), container_name: 'web', container_port: 5000 }],
      depends_on: [web.address('aws_lb_listener', 'http-listener')],
      // The scaling stack owns the task count after the first deployment.
      lifecycle: { ignore_changes: ['desired_count'] },
    });
  });

  it('exposes the names the scaling stack reads', () => {
    expect(web.json.output?.['cluster-name']?.value).toBe(web.ref('aws_ecs_cluster', 'cluster', 'name'));
    expect(web.json.output?.['service-name']?.value).toBe(web.ref('aws_ecs_service', 'service', 'name'));
    expect(web.json.output?.['asg-name']?.value).toBe(web.ref('aws_autoscaling_group', 'instances', 'name'));
  });
});

describe('WebCluster with a certificate', () => {
  const certificateArn = 'arn:aws:acm:eu-west-2:111122223333:certificate/abc';
  const web = synthWeb({ certificateArn, domainName: 'charts.example.org' });

  it('serves HTTPS on 443 with a TLS 1.2+ policy and redirects 80 to it', () => {
    const listeners = web.all('aws_lb_listener');
    expect(listeners).toHaveLength(2);
    expect(web.one('aws_lb_listener', 'https-listener')).toMatchObject({
      port: 443,
      protocol: 'HTTPS',
      certificate_arn: certificateArn,
      ssl_policy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      default_action: [{ type: 'forward', target_group_arn: web.ref('aws_lb_target_group', 'target-group', 'arn') }],
    });
    expect(web.one('aws_lb_listener', 'http-redirect-listener')).toMatchObject({
      port: 80,
      protocol: 'HTTP',
      default_action: [{ type: 'redirect', redirect: { port: '443', protocol: 'HTTPS', status_code: 'HTTP_301' } }],
    });
  });

  it('opens 80 and 443 on the load balancer only', () => {
    const world = web.all('aws_vpc_security_group_ingress_rule').filter((rule) => rule.cidr_ipv4 === '0.0.0.0/0');
    const opened = world.map((rule) => [rule.security_group_id, rule.from_port, rule.to_port]);
    expect(opened.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
      [web.ref('aws_security_group', 'load-balancer-security-group', 'id'), 80, 80],
      [web.ref('aws_security_group', 'load-balancer-security-group', 'id'), 443, 443],
    ]);
  });

  it('waits for the HTTPS listener and reports an https URL on the certificate’s name', () => {
    const service = web.one('aws_ecs_service', 'service');
    expect(service.depends_on).toEqual([web.address('aws_lb_listener', 'https-listener')]);
    expect(web.json.output?.['web-url']?.value).toBe('https://charts.example.org');
  });

  it('falls back to the load balancer name in the URL', () => {
    const plain = synthWeb({ certificateArn });
    expect(plain.json.output?.['web-url']?.value).toBe(`https://${plain.ref('aws_lb', 'load-balancer', 'dns_name')}`);
  });
});

describe('WebCluster SSH (SR1)', () => {
  it('opens SSH from the given network only when a key and a CIDR are both given', () => {
    const web = synthWeb({ sshKeyName: 'admin', sshCidr: '203.0.113.10/32' });
    expect(web.one('aws_launch_template', 'launch-template').key_name).toBe('admin');
    expect(web.one('aws_vpc_security_group_ingress_rule', 'instance-ingress-ssh')).toMatchObject({
      security_group_id: web.ref('aws_security_group', 'instance-security-group', 'id'),
      cidr_ipv4: '203.0.113.10/32',
      from_port: 22,
      to_port: 22,
    });
  });

  it('accepts an IPv6 administration network', () => {
    const web = synthWeb({ sshKeyName: 'admin', sshCidr: '2001:db8::/48' });
    expect(web.one('aws_vpc_security_group_ingress_rule', 'instance-ingress-ssh')).toMatchObject({ cidr_ipv6: '2001:db8::/48' });
  });

  it('has no port 22 rule by default', () => {
    const web = synthWeb();
    expect(web.all('aws_vpc_security_group_ingress_rule').filter((rule) => rule.from_port === 22)).toEqual([]);
  });

  it.each<[string, Partial<WebClusterProps>, RegExp]>([
    ['SSH from the whole IPv4 internet', { sshKeyName: 'admin', sshCidr: '0.0.0.0/0' }, /whole internet/],
    ['SSH from the whole IPv6 internet', { sshKeyName: 'admin', sshCidr: '::/0' }, /whole internet/],
    ['a key without a CIDR', { sshKeyName: 'admin' }, /needs both sshKeyName and sshCidr/],
    ['a CIDR without a key', { sshCidr: '203.0.113.10/32' }, /needs both sshKeyName and sshCidr/],
    ['a malformed CIDR', { sshKeyName: 'admin', sshCidr: '203.0.113.10' }, /not a CIDR block/],
  ])('rejects %s', (_case, overrides, message) => {
    expect(() => synthWeb(overrides)).toThrow(message);
  });
});

describe('WebCluster settings', () => {
  it('carries non-default sizes, thresholds and cooldown through', () => {
    const web = synthWeb({
      containerPort: 8080,
      taskMemoryMiB: 512,
      minInstances: 2,
      maxInstances: 4,
      desiredTasks: 3,
      memoryScaleUpPercent: 70,
      memoryScaleDownPercent: 30,
      cooldownSeconds: 120,
      healthCheckPath: '/ready',
    });
    expect(web.one('aws_autoscaling_group', 'instances')).toMatchObject({ min_size: 2, max_size: 4 });
    expect(web.one('aws_cloudwatch_metric_alarm', 'memory-reservation-up-alarm').threshold).toBe(70);
    expect(web.one('aws_cloudwatch_metric_alarm', 'memory-reservation-down-alarm').threshold).toBe(30);
    expect(web.one('aws_autoscaling_policy', 'scale-up-policy').cooldown).toBe(120);
    expect(web.one('aws_autoscaling_policy', 'scale-down-policy').cooldown).toBe(120);
    expect(web.one('aws_ecs_service', 'service')).toMatchObject({ desired_count: 3, load_balancer: [expect.objectContaining({ container_port: 8080 })] });
    expect(web.containers()[0]).toMatchObject({ memory: 512, portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }] });
    expect(web.containers()[0]?.environment).toContainEqual({ name: 'PORT', value: '8080' });
    expect(web.one('aws_lb_target_group', 'target-group').health_check).toMatchObject({ path: '/ready' });
  });

  it('switches to the arm64 AMI for Graviton instance types', () => {
    const web = synthWeb({ instanceType: 't4g.small' });
    expect(web.data('aws_ssm_parameter', 'ecs-optimised-ami').name).toBe('/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id');
  });

  it.each([
    ['t3.small', 'x86_64'],
    ['m7i-flex.large', 'x86_64'],
    ['g4dn.xlarge', 'x86_64'],
    ['c5n.large', 'x86_64'],
    ['t4g.small', 'arm64'],
    ['m7gd.large', 'arm64'],
    ['c6gn.medium', 'arm64'],
    ['im4gn.large', 'arm64'],
    ['a1.medium', 'arm64'],
  ])('treats %s as %s', (instanceType, architecture) => {
    expect(instanceArchitecture(instanceType)).toBe(architecture);
  });

  it.each<[string, Partial<WebClusterProps>, RegExp]>([
    ['a name prefix too long for a load balancer name', { namePrefix: 'a'.repeat(29) }, /at most 28 characters/],
    ['an upper-case name prefix', { namePrefix: 'IoT' }, /lower-case/],
    ['more minimum than maximum instances', { minInstances: 3, maxInstances: 2 }, /maxInstances \(2\) is below minInstances \(3\)/],
    ['a scale-down threshold at or above the scale-up one', { memoryScaleUpPercent: 50, memoryScaleDownPercent: 50 }, /would flap/],
    ['a fractional cooldown', { cooldownSeconds: 1.5 }, /cooldownSeconds is 1.5/],
    ['a single subnet', { subnetIds: ['subnet-1'] }, /at least 2/],
    ['no table to read', { tables: [] }, /tables is empty/],
    ['a domain name without a certificate', { domainName: 'charts.example.org' }, /give certificateArn too/],
    ['a relative health check path', { healthCheckPath: 'healthz' }, /must start with '\/'/],
    ['an environment that sets PORT', { environment: { PORT: '80' } }, /must not set PORT/],
  ])('rejects %s', (_case, overrides, message) => {
    expect(() => synthWeb(overrides)).toThrow(message);
  });

  it('lists every problem in one error', () => {
    expect(() => synthWeb({ minInstances: 0, tables: [], sshCidr: '0.0.0.0/0' })).toThrow(
      /minInstances is 0[\s\S]*tables is empty[\s\S]*needs both sshKeyName and sshCidr/,
    );
  });
});

describe('WebCluster under the platform policy', () => {
  it.each([
    ['over HTTP', {}],
    ['over HTTPS with SSH', { certificateArn: 'arn:aws:acm:eu-west-2:111122223333:certificate/abc', sshKeyName: 'admin', sshCidr: '203.0.113.0/24' }],
  ])('breaks no platform rule %s when wired to a network, tables and a repository by their attributes', (_case, overrides: Partial<WebClusterProps>) => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'policy');
    new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
    protectStatefulResources(stack); // as every PlatformStack does
    const network = new Network(stack, 'network', { namePrefix: 'iot' });
    const table = new DynamodbTable(stack, 'things', {
      name: 'iot-things',
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'ThingID',
      attribute: [{ name: 'ThingID', type: 'S' }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
    });
    const repository = new EcrRepository(stack, 'repository', {
      name: 'iot-web',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'KMS' }],
    });
    new WebCluster(stack, 'web', {
      ...baseProps,
      ...overrides,
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      imageUrl: `${repository.repositoryUrl}:v1`,
      repositoryArn: repository.arn,
      tables: [{ name: table.name, arn: table.arn }],
    });
    const report = applyPlatformPolicy(app, { failOnViolation: false, log: () => undefined });
    Testing.synth(stack, true);
    expect(report.stacks).toHaveLength(1);
    // The fixture's own table lacks the throttle alarm the Operations construct adds; judge only the constructs here.
    const ours = report.violations.filter((violation) => /^policy\/(web|network)\//.test(violation.path));
    expect(ours.map((violation) => violation.message)).toEqual([]);
    expect(report.violations.map((violation) => violation.ruleId)).toEqual(['OPS-006']);
  });
});
