import { TerraformOutput } from 'cdktf';
import {
  CAPACITY_LIMITS,
  WebCapacity,
  defaultCpuUnits,
  instanceArchitecture,
  instanceSize,
  knownInstanceTypes,
  type WebCapacityProps,
} from '../../stacks/web-capacity';
import { constructStack, policyStatements, synthJson, type TerraformJson } from './synth-helpers';

const baseProps: WebCapacityProps = { name: 'iot-web', vpcId: 'vpc-0abc', subnetIds: ['subnet-1', 'subnet-2'] };

function synthCapacity(overrides: Partial<WebCapacityProps> = {}) {
  const stack = constructStack();
  const capacity = new WebCapacity(stack, 'web-capacity', { ...baseProps, ...overrides });
  new TerraformOutput(stack, 'names', { value: [capacity.clusterName, capacity.capacityProviderName, capacity.autoScalingGroupName] });
  const json = synthJson(stack);
  const one = (type: string, id: string) => {
    const found = json.resource[type]?.[`web-capacity_${id}`];
    if (found === undefined) throw new Error(`no ${type} web-capacity_${id}`);
    return found;
  };
  return { json, one, capacity };
}
const ref = (type: string, id: string, attribute: string) => `\${${type}.web-capacity_${id}.${attribute}}`;
const data = (json: TerraformJson, type: string, id: string) => json.data?.[type]?.[`web-capacity_${id}`] as Record<string, unknown>;

describe('WebCapacity defaults', () => {
  const { json, one } = synthCapacity();

  it('turns on Container Insights', () => {
    expect(one('aws_ecs_cluster', 'cluster')).toMatchObject({ name: 'iot-web', setting: [{ name: 'containerInsights', value: 'enabled' }] });
  });

  it('launches t3.small instances from the x86_64 ECS-optimised AMI with IMDSv2 required, hop limit 1, and an encrypted gp3 root volume', () => {
    const template = one('aws_launch_template', 'launch-template');
    expect(template.instance_type).toBe('t3.small');
    expect(data(json, 'aws_ssm_parameter', 'ecs-optimised-ami').name).toBe('/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id');
    expect(template.image_id).toBe('${data.aws_ssm_parameter.web-capacity_ecs-optimised-ami.insecure_value}');
    expect(template.metadata_options).toEqual({ http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 });
    expect(template.block_device_mappings).toEqual([{ device_name: '/dev/xvda', ebs: { volume_type: 'gp3', volume_size: 30, encrypted: 'true', delete_on_termination: 'true' } }]);
    expect(template.user_data).toBe(`\${base64encode("#!/bin/bash\\necho ECS_CLUSTER=${ref('aws_ecs_cluster', 'cluster', 'name')} >> /etc/ecs/ecs.config\\n")}`);
    expect(template.key_name).toBeUndefined();
  });

  it('gives the instances Session Manager and an ECS agent policy held to this cluster, through a ServiceRole', () => {
    const cluster = ref('aws_ecs_cluster', 'cluster', 'arn');
    const policy = one('aws_iam_role_policy', 'instance-role_policy');
    expect(policyStatements(json, policy.policy)).toEqual([
      expect.objectContaining({ sid: 'JoinThisCluster', actions: expect.arrayContaining(['ecs:RegisterContainerInstance', 'ecs:SubmitTaskStateChange']), resources: [cluster] }),
      expect.objectContaining({
        sid: 'TalkToThisClusterAsItsInstance',
        actions: ['ecs:Poll', 'ecs:StartTelemetrySession'],
        resources: ['*'],
        condition: [{ test: 'ArnEquals', variable: 'ecs:cluster', values: [cluster] }],
      }),
      expect.objectContaining({ sid: 'FindTheControlPlane', actions: ['ecs:DiscoverPollEndpoint'], resources: ['*'] }),
    ]);
    expect(one('aws_iam_role_policy_attachment', 'instance-role_managed-policy-1').policy_arn).toBe('${data.aws_iam_policy.web-capacity_session-manager-managed-policy.arn}');
    expect(one('aws_iam_instance_profile', 'instance-profile').role).toBe(ref('aws_iam_role', 'instance-role_role', 'name'));
    const [trust] = policyStatements(json, one('aws_iam_role', 'instance-role_role').assume_role_policy);
    expect(trust?.principals).toEqual([{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }]);
  });

  it('protects every instance from scale-in, refreshes protected instances too, and lets ECS own the desired capacity', () => {
    const group = one('aws_autoscaling_group', 'instances');
    expect(group).toMatchObject({
      min_size: 1,
      max_size: 5,
      vpc_zone_identifier: ['subnet-1', 'subnet-2'],
      protect_from_scale_in: true,
      force_delete: true,
      instance_refresh: { strategy: 'Rolling', preferences: { min_healthy_percentage: 100, max_healthy_percentage: 200, scale_in_protected_instances: 'Refresh' } },
      launch_template: { id: ref('aws_launch_template', 'launch-template', 'id'), version: ref('aws_launch_template', 'launch-template', 'latest_version') },
    });
    expect(group.desired_capacity).toBeUndefined();
    // ECS tags the group when the capacity provider takes it; declaring the tag keeps Terraform from removing it.
    expect(group.tag).toContainEqual({ key: 'AmazonECSManaged', value: 'true', propagate_at_launch: true });
    expect(json.resource.aws_autoscaling_policy).toBeUndefined();
  });

  it('runs the group through a capacity provider with managed scaling, termination protection and draining', () => {
    expect(one('aws_ecs_capacity_provider', 'capacity-provider')).toMatchObject({
      name: 'iot-web',
      auto_scaling_group_provider: {
        auto_scaling_group_arn: ref('aws_autoscaling_group', 'instances', 'arn'),
        managed_scaling: { status: 'ENABLED', target_capacity: 100, instance_warmup_period: 300, minimum_scaling_step_size: 1 },
        managed_termination_protection: 'ENABLED',
        managed_draining: 'ENABLED',
      },
    });
    expect(one('aws_ecs_cluster_capacity_providers', 'cluster-capacity-providers')).toMatchObject({
      cluster_name: ref('aws_ecs_cluster', 'cluster', 'name'),
      capacity_providers: [ref('aws_ecs_capacity_provider', 'capacity-provider', 'name')],
      lifecycle: { replace_triggered_by: ['${aws_ecs_capacity_provider.web-capacity_capacity-provider}'] },
    });
  });

  it('lets instances out only on HTTPS and in on nothing by itself', () => {
    expect(Object.keys(json.resource.aws_vpc_security_group_egress_rule ?? {})).toEqual(['web-capacity_instance-egress-https']);
    expect(one('aws_vpc_security_group_egress_rule', 'instance-egress-https')).toMatchObject({ from_port: 443, to_port: 443, cidr_ipv4: '0.0.0.0/0' });
    expect(json.resource.aws_vpc_security_group_ingress_rule).toBeUndefined();
  });
});

describe('WebCapacity settings', () => {
  it('carries the instance range, target capacity and warm-up through, down to no instance at all', () => {
    const { one } = synthCapacity({ minInstances: 0, maxInstances: 3, targetCapacityPercent: 80, instanceWarmupSeconds: 90 });
    expect(one('aws_autoscaling_group', 'instances')).toMatchObject({ min_size: 0, max_size: 3 });
    expect(one('aws_ecs_capacity_provider', 'capacity-provider')).toMatchObject({ auto_scaling_group_provider: { managed_scaling: { target_capacity: 80, instance_warmup_period: 90 } } });
  });

  it('opens SSH from the given network only, with the key pair, over IPv4 or IPv6', () => {
    const { one } = synthCapacity({ ssh: { keyName: 'admin', cidr: '203.0.113.10/32' } });
    expect(one('aws_launch_template', 'launch-template').key_name).toBe('admin');
    expect(one('aws_vpc_security_group_ingress_rule', 'instance-ingress-ssh')).toMatchObject({ cidr_ipv4: '203.0.113.10/32', from_port: 22, to_port: 22 });
    expect(synthCapacity({ ssh: { keyName: 'admin', cidr: '2001:db8::/48' } }).one('aws_vpc_security_group_ingress_rule', 'instance-ingress-ssh')).toMatchObject({ cidr_ipv6: '2001:db8::/48' });
  });

  it('switches to the arm64 AMI for Graviton instance types', () => {
    const { json } = synthCapacity({ instanceType: 't4g.small' });
    expect(data(json, 'aws_ssm_parameter', 'ecs-optimised-ami').name).toBe('/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id');
  });

  it.each([
    ['t3.small', 'x86_64'],
    ['m7i-flex.large', 'x86_64'],
    ['c5n.large', 'x86_64'],
    ['t4g.small', 'arm64'],
    ['m7gd.large', 'arm64'],
    ['c6gn.medium', 'arm64'],
    ['a1.medium', 'arm64'],
  ])('treats %s as %s', (instanceType, architecture) => {
    expect(instanceArchitecture(instanceType)).toBe(architecture);
  });

  it('defaults to one instance, at most five, filled to 100 % (ECS accepts 1 to 100)', () => {
    expect(CAPACITY_LIMITS.minInstances).toEqual({ min: 0, max: 100, default: 1 });
    expect(CAPACITY_LIMITS.targetCapacityPercent).toEqual({ min: 1, max: 100, default: 100 });
  });
});

describe('instance sizes and the web task CPU', () => {
  it.each([
    ['t3.small', { vcpus: 2, memoryMiB: 2048 }],
    ['t4g.medium', { vcpus: 2, memoryMiB: 4096 }],
    ['t3.xlarge', { vcpus: 4, memoryMiB: 16_384 }],
    ['m6i.large', { vcpus: 2, memoryMiB: 8192 }],
    ['c7g.xlarge', { vcpus: 4, memoryMiB: 8192 }],
    ['r6g.2xlarge', { vcpus: 8, memoryMiB: 65_536 }],
  ])('knows %s (https://aws.amazon.com/ec2/instance-types/)', (type, size) => {
    expect(instanceSize(type)).toEqual(size);
    expect(knownInstanceTypes()).toContain(type);
  });

  it.each(['x2iedn.large', 't3.nano', 'm5.metal', 'nonsense'])('does not guess the size of %s', (type) => {
    expect(instanceSize(type)).toBeUndefined();
  });

  it('reserves the share of the CPU that matches the share of memory, between 128 units and the whole instance', () => {
    expect(defaultCpuUnits({ vcpus: 2, memoryMiB: 2048 }, 900)).toBe(900);
    expect(defaultCpuUnits({ vcpus: 2, memoryMiB: 8192 }, 900)).toBe(225);
    expect(defaultCpuUnits({ vcpus: 8, memoryMiB: 65_536 }, 512)).toBe(128);
    expect(defaultCpuUnits({ vcpus: 2, memoryMiB: 2048 }, 2048)).toBe(2048);
  });
});
