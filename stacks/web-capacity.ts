import { Construct } from 'constructs';
import { Fn, Token } from 'cdktf';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { DataAwsIamPolicy } from '@cdktf/provider-aws/lib/data-aws-iam-policy';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { EcsCapacityProvider } from '@cdktf/provider-aws/lib/ecs-capacity-provider';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsClusterCapacityProviders } from '@cdktf/provider-aws/lib/ecs-cluster-capacity-providers';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { ServiceRole } from './service-role';
import { CAPACITY_LIMITS, DEFAULT_INSTANCE_TYPE, instanceArchitecture } from './construct-defaults';
export { CAPACITY_LIMITS, DEFAULT_INSTANCE_TYPE, defaultCpuUnits, instanceArchitecture, instanceSize, knownInstanceTypes, type InstanceSize } from './construct-defaults';

export interface WebCapacityProps {
  /** Cluster, group and capacity provider name; a capacity provider name must not start with aws, ecs or fargate. */
  readonly name: string;
  readonly vpcId: string;
  /** Subnets in at least two zones with a route to the internet. */
  readonly subnetIds: readonly string[];
  /** Graviton types (t4g, m7g, ...) switch the AMI to arm64; the image must then be built for linux/arm64. @default DEFAULT_INSTANCE_TYPE */
  readonly instanceType?: string;
  /** @default CAPACITY_LIMITS.minInstances.default */
  readonly minInstances?: number;
  /** @default CAPACITY_LIMITS.maxInstances.default */
  readonly maxInstances?: number;
  /** Share of the instances' CPU and memory the tasks should reserve; below 100 keeps room so a new task starts without waiting for an instance. @default 100 */
  readonly targetCapacityPercent?: number;
  /** Seconds a new instance runs before its figures count for scaling. @default 300 */
  readonly instanceWarmupSeconds?: number;
  /** SSH to the instances from this network with this key pair (never the whole internet). @default no SSH: use Session Manager */
  readonly ssh?: { readonly keyName: string; readonly cidr: string };
  /** Public addresses for the instances (public subnets without a NAT gateway need them). @default true */
  readonly assignPublicIp?: boolean;
}

/** SSM public parameter of the latest ECS-optimised Amazon Linux 2023 AMI for the architecture. */
export function ecsOptimisedAmiParameter(architecture: 'x86_64' | 'arm64'): string {
  return `/aws/service/ecs/optimized-ami/amazon-linux-2023${architecture === 'arm64' ? '/arm64' : ''}/recommended/image_id`;
}

/** What the ECS agent does on its cluster: register, deregister, report task and container state. */
export const ECS_AGENT_CLUSTER_ACTIONS = [
  'ecs:DeregisterContainerInstance',
  'ecs:RegisterContainerInstance',
  'ecs:SubmitAttachmentStateChanges',
  'ecs:SubmitContainerStateChange',
  'ecs:SubmitTaskStateChange',
] as const;

/** What the ECS agent does as a registered instance: receive work, send telemetry. */
export const ECS_AGENT_INSTANCE_ACTIONS = ['ecs:Poll', 'ecs:StartTelemetrySession'] as const;

/**
 * The EC2 capacity of the web tier: ECS cluster, launch template (ECS-optimised Amazon Linux
 * 2023, IMDSv2 only, encrypted root volume) and an Auto Scaling group that ECS runs through a
 * capacity provider. Managed scaling adds instances when tasks wait for room (it counts tasks
 * that could not be placed), managed termination protection keeps ECS from losing an
 * instance that still runs tasks, and managed draining moves tasks off an instance before
 * scale-in or an instance refresh terminates it.
 */
export class WebCapacity extends Construct {
  public readonly clusterName: string;
  public readonly clusterId: string;
  public readonly capacityProviderName: string;
  public readonly autoScalingGroupName: string;
  /** The instances' security group; the load balancer opens the task ports in it. */
  public readonly instanceSecurityGroupId: string;
  public readonly instanceType: string;
  /** The association of the capacity provider with the cluster; a service using it must wait for it. */
  public readonly clusterCapacityProviders: EcsClusterCapacityProviders;

  constructor(scope: Construct, id: string, props: WebCapacityProps) {
    super(scope, id);
    const instanceType = props.instanceType ?? DEFAULT_INSTANCE_TYPE;
    const cluster = new EcsCluster(this, 'cluster', { name: props.name, setting: [{ name: 'containerInsights', value: 'enabled' }] });

    const instanceGroup = new SecurityGroup(this, 'instance-security-group', {
      name: `${props.name}-instances`,
      description: 'Web instances: task ports from the load balancer only, HTTPS out to AWS APIs',
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-instances` },
    });
    // ECS, ECR, S3 (image layers), SSM, CloudWatch and DynamoDB are all HTTPS; DNS and time
    // go to the VPC's link-local services, which security groups do not filter.
    new VpcSecurityGroupEgressRule(this, 'instance-egress-https', {
      securityGroupId: instanceGroup.id,
      description: 'HTTPS to AWS service endpoints',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });
    if (props.ssh !== undefined) {
      new VpcSecurityGroupIngressRule(this, 'instance-ingress-ssh', {
        securityGroupId: instanceGroup.id,
        description: 'SSH from the configured administration network',
        ipProtocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        ...(props.ssh.cidr.includes(':') ? { cidrIpv6: props.ssh.cidr } : { cidrIpv4: props.ssh.cidr }),
      });
    }

    // The ECS agent's part of AmazonEC2ContainerServiceforEC2Role, held to this cluster. Image
    // pulls and task logs go through the task execution role, so no ecr or logs actions here.
    const role = new ServiceRole(this, 'instance-role', {
      roleName: `${props.name}-instance`,
      service: 'ec2.amazonaws.com',
      description: 'Web container instances: ECS agent on this cluster and SSM Session Manager',
      grants: [
        { sid: 'JoinThisCluster', actions: ECS_AGENT_CLUSTER_ACTIONS, resources: [cluster.arn] },
        // These act on the container instance, whose ARN exists only once it has registered.
        {
          sid: 'TalkToThisClusterAsItsInstance',
          actions: ECS_AGENT_INSTANCE_ACTIONS,
          resources: ['*'],
          conditions: [{ test: 'ArnEquals', variable: 'ecs:cluster', values: [cluster.arn] }],
        },
        // No resource-level permissions exist for this action.
        { sid: 'FindTheControlPlane', actions: ['ecs:DiscoverPollEndpoint'], resources: ['*'] },
      ],
      managedPolicyArns: [new DataAwsIamPolicy(this, 'session-manager-managed-policy', { name: 'AmazonSSMManagedInstanceCore' }).arn],
    });
    const profile = new IamInstanceProfile(this, 'instance-profile', { name: `${props.name}-instance`, role: role.name });

    const ami = new DataAwsSsmParameter(this, 'ecs-optimised-ami', { name: ecsOptimisedAmiParameter(instanceArchitecture(instanceType)) });
    const template = new LaunchTemplate(this, 'launch-template', {
      name: `${props.name}-instances`,
      description: `ECS container instances of ${props.name}`,
      // insecure_value: the parameter is public and not secret, so plans show the AMI id change.
      imageId: ami.insecureValue,
      instanceType,
      keyName: props.ssh?.keyName,
      iamInstanceProfile: { arn: profile.arn },
      networkInterfaces: [
        { deviceIndex: 0, associatePublicIpAddress: String(props.assignPublicIp ?? true), securityGroups: [instanceGroup.id], deleteOnTermination: 'true' },
      ],
      // IMDSv2 only. Hop limit 1 keeps bridge-mode containers (one hop further) away from the
      // instance role; tasks get credentials from their task role and the region from AWS_REGION.
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeType: 'gp3', volumeSize: 30, encrypted: 'true', deleteOnTermination: 'true' } }],
      monitoring: { enabled: true },
      userData: Fn.base64encode(`#!/bin/bash\necho ECS_CLUSTER=${cluster.name} >> /etc/ecs/ecs.config\n`),
      tagSpecifications: [
        { resourceType: 'instance', tags: { Name: `${props.name}-instance` } },
        { resourceType: 'volume', tags: { Name: `${props.name}-instance` } },
      ],
      updateDefaultVersion: true,
    });

    const group = new AutoscalingGroup(this, 'instances', {
      name: `${props.name}-instances`,
      minSize: props.minInstances ?? CAPACITY_LIMITS.minInstances.default,
      maxSize: props.maxInstances ?? CAPACITY_LIMITS.maxInstances.default,
      // No desired capacity: it starts at minSize and belongs to ECS managed scaling after that.
      vpcZoneIdentifier: [...props.subnetIds],
      launchTemplate: { id: template.id, version: Token.asString(template.latestVersion) },
      healthCheckType: 'EC2',
      healthCheckGracePeriod: 120,
      // Managed termination protection needs every instance protected from scale-in; ECS lifts it once an instance runs no task.
      protectFromScaleIn: true,
      // A new AMI or template version replaces instances one at a time, new before old. Protected
      // instances are replaced too ("Refresh"); managed draining moves their tasks first.
      instanceRefresh: {
        strategy: 'Rolling',
        preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, scaleInProtectedInstances: 'Refresh' },
      },
      // Deleting the group (terraform destroy) must not wait for protected instances that nothing will ever unprotect.
      forceDelete: true,
      enabledMetrics: ['GroupDesiredCapacity', 'GroupInServiceInstances', 'GroupMinSize', 'GroupMaxSize'],
      metricsGranularity: '1Minute',
      tag: [
        { key: 'Name', value: `${props.name}-instance`, propagateAtLaunch: true },
        // ECS adds this tag when the capacity provider is created; declaring it keeps Terraform from removing it.
        { key: 'AmazonECSManaged', value: 'true', propagateAtLaunch: true },
      ],
    });

    const provider = new EcsCapacityProvider(this, 'capacity-provider', {
      name: props.name,
      autoScalingGroupProvider: {
        autoScalingGroupArn: group.arn,
        managedScaling: {
          status: 'ENABLED',
          targetCapacity: props.targetCapacityPercent ?? CAPACITY_LIMITS.targetCapacityPercent.default,
          instanceWarmupPeriod: props.instanceWarmupSeconds ?? CAPACITY_LIMITS.instanceWarmupSeconds.default,
          minimumScalingStepSize: 1,
          maximumScalingStepSize: 2,
        },
        managedTerminationProtection: 'ENABLED',
        managedDraining: 'ENABLED',
      },
    });
    this.clusterCapacityProviders = new EcsClusterCapacityProviders(this, 'cluster-capacity-providers', {
      clusterName: cluster.name,
      capacityProviders: [provider.name],
      defaultCapacityProviderStrategy: [{ capacityProvider: provider.name, weight: 1 }],
      // A replaced capacity provider cannot be deleted while the cluster still lists it.
      lifecycle: { replaceTriggeredBy: [provider] },
    });

    this.clusterName = cluster.name;
    this.clusterId = cluster.id;
    this.capacityProviderName = provider.name;
    this.autoScalingGroupName = group.name;
    this.instanceSecurityGroupId = instanceGroup.id;
    this.instanceType = instanceType;
  }
}
