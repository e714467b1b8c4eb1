import { Construct } from 'constructs';
import { Fn, Token } from 'cdktf';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { AutoscalingPolicy } from '@cdktf/provider-aws/lib/autoscaling-policy';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicy } from '@cdktf/provider-aws/lib/data-aws-iam-policy';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsSsmParameter } from '@cdktf/provider-aws/lib/data-aws-ssm-parameter';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';

export interface WebClusterTable {
  /** Table name (for readers of the construct tree; the policy uses the ARN). */
  readonly name: string;
  readonly arn: string;
}

export interface WebClusterProps {
  /** Prefix of every resource name; `${namePrefix}-web` must fit the load balancer's 32 characters. */
  readonly namePrefix: string;
  /** Region of the stack (the container's AWS_REGION and its log configuration). */
  readonly region: string;
  readonly vpcId: string;
  /** At least two subnets in different zones, with a route to the internet. */
  readonly subnetIds: readonly string[];
  /** Full image reference: repository URL (from the repository stack's state) + ':' + tag. */
  readonly imageUrl: string;
  /** ARN of the ECR repository the image comes from; the execution role may pull only from it. */
  readonly repositoryArn: string;
  /** @default 5000 */
  readonly containerPort?: number;
  /** Memory reserved for, and hard limit of, each task, MiB. @default 900 */
  readonly taskMemoryMiB?: number;
  /**
   * Instance type; Graviton types (t4g, m7g, ...) switch the AMI to arm64, and the image must
   * then be built for linux/arm64. x86_64 by default because the image is usually built on an
   * x86 laptop or CI runner, and a mismatch only shows as tasks that never start.
   * @default 't3.small'
   */
  readonly instanceType?: string;
  /** @default 1 */
  readonly minInstances?: number;
  /** @default 5 */
  readonly maxInstances?: number;
  /** Tasks at first deployment; afterwards the scaling stack owns the count. @default 1 */
  readonly desiredTasks?: number;
  /** Cluster memory reservation (%) at or above which one instance is added. @default 80 */
  readonly memoryScaleUpPercent?: number;
  /** Cluster memory reservation (%) at or below which one instance is removed. @default 40 */
  readonly memoryScaleDownPercent?: number;
  /** Cooldown of both instance scaling policies, seconds. @default 300 */
  readonly cooldownSeconds?: number;
  /** SR1: SSH is opened only when both `sshKeyName` and `sshCidr` are given. @default no SSH */
  readonly sshKeyName?: string;
  /** SR1: source of SSH; never 0.0.0.0/0 or ::/0. @default no SSH */
  readonly sshCidr?: string;
  /** Give instances public addresses (needed in public subnets without a NAT gateway). @default true */
  readonly assignPublicIp?: boolean;
  /** ACM certificate: the load balancer serves HTTPS on 443 and redirects 80 to it. @default HTTP on 80 only */
  readonly certificateArn?: string;
  /** Host name the certificate covers, used in `webUrl`; needs `certificateArn`. @default the load balancer's DNS name */
  readonly domainName?: string;
  /**
   * Path the target group checks. Liveness only: a check that read DynamoDB would mark every
   * task unhealthy during a DynamoDB outage and ECS would replace them in a loop.
   * @default '/livez'
   */
  readonly healthCheckPath?: string;
  /** Retention of the container log group, days. */
  readonly logRetentionDays: number;
  /** Tables the web app may read (GetItem, BatchGetItem, Query, Scan), and nothing else. */
  readonly tables: readonly WebClusterTable[];
  /** Container environment (table names etc.); PORT and AWS_REGION are set by the construct. */
  readonly environment: Readonly<Record<string, string>>;
}

/** The read actions the web app needs: items, series queries, and the small catalogue's Scan. */
export const WEB_TABLE_READ_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
] as const;

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

/** Host ports Docker hands out to bridge-mode tasks with hostPort 0 (the ECS default range). */
export const DYNAMIC_HOST_PORTS = { from: 32768, to: 65535 } as const;

const CONTAINER_NAME = 'web';
const RESERVED_ENVIRONMENT = ['PORT', 'AWS_REGION'] as const;

/** Everything the construct builds from, defaults applied and checked. */
interface ResolvedWebClusterProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly imageUrl: string;
  readonly repositoryArn: string;
  readonly containerPort: number;
  readonly taskMemoryMiB: number;
  readonly instanceType: string;
  readonly architecture: 'x86_64' | 'arm64';
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly desiredTasks: number;
  readonly memoryScaleUpPercent: number;
  readonly memoryScaleDownPercent: number;
  readonly cooldownSeconds: number;
  readonly ssh?: { readonly keyName: string; readonly cidr: string };
  readonly assignPublicIp: boolean;
  readonly https?: { readonly certificateArn: string; readonly domainName?: string };
  readonly healthCheckPath: string;
  readonly logRetentionDays: number;
  readonly tableArns: string[];
  readonly environment: Record<string, string>;
}

/**
 * The web app on ECS with EC2 capacity: cluster, launch template and Auto Scaling group
 * scaled on the cluster's memory reservation, application load balancer, task definition
 * and service. Instances take traffic only from the load balancer.
 */
export class WebCluster extends Construct {
  public readonly clusterName: string;
  public readonly serviceName: string;
  public readonly autoScalingGroupName: string;
  public readonly loadBalancerDnsName: string;
  /** `http://` or `https://` URL of the web app. */
  public readonly webUrl: string;
  /** For CloudWatch metrics of the load balancer (dimension LoadBalancer). */
  public readonly loadBalancerArnSuffix: string;
  /** For CloudWatch metrics of the target group (dimension TargetGroup). */
  public readonly targetGroupArnSuffix: string;
  public readonly taskRoleArn: string;

  constructor(scope: Construct, id: string, props: WebClusterProps) {
    super(scope, id);
    const config = resolveWebClusterProps(props);
    const name = `${config.namePrefix}-web`;

    const cluster = new EcsCluster(this, 'cluster', {
      name,
      setting: [{ name: 'containerInsights', value: 'enabled' }],
    });

    // --- Security groups: the world reaches the load balancer, only the load balancer reaches instances.
    const loadBalancerSecurityGroup = new SecurityGroup(this, 'load-balancer-security-group', {
      name: `${name}-load-balancer`,
      description: 'Web load balancer: HTTP(S) from anywhere, out only to the web instances',
      vpcId: config.vpcId,
      tags: { Name: `${name}-load-balancer` },
    });
    const instanceSecurityGroup = new SecurityGroup(this, 'instance-security-group', {
      name: `${name}-instances`,
      description: 'Web instances: task ports from the load balancer only, HTTPS out to AWS APIs',
      vpcId: config.vpcId,
      tags: { Name: `${name}-instances` },
    });
    const listenerPorts = config.https ? [80, 443] : [80];
    for (const port of listenerPorts) {
      new VpcSecurityGroupIngressRule(this, `load-balancer-ingress-${port}`, {
        securityGroupId: loadBalancerSecurityGroup.id,
        description: `HTTP${port === 443 ? 'S' : ''} from the internet`,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        cidrIpv4: '0.0.0.0/0',
      });
    }
    new VpcSecurityGroupEgressRule(this, 'load-balancer-egress-to-tasks', {
      securityGroupId: loadBalancerSecurityGroup.id,
      description: 'Requests and health checks to task host ports',
      ipProtocol: 'tcp',
      fromPort: DYNAMIC_HOST_PORTS.from,
      toPort: DYNAMIC_HOST_PORTS.to,
      referencedSecurityGroupId: instanceSecurityGroup.id,
    });
    new VpcSecurityGroupIngressRule(this, 'instance-ingress-from-load-balancer', {
      securityGroupId: instanceSecurityGroup.id,
      description: 'Task host ports from the load balancer',
      ipProtocol: 'tcp',
      fromPort: DYNAMIC_HOST_PORTS.from,
      toPort: DYNAMIC_HOST_PORTS.to,
      referencedSecurityGroupId: loadBalancerSecurityGroup.id,
    });
    if (config.ssh) {
      const ipv6 = config.ssh.cidr.includes(':');
      new VpcSecurityGroupIngressRule(this, 'instance-ingress-ssh', {
        securityGroupId: instanceSecurityGroup.id,
        description: 'SSH from the configured administration network (SR1)',
        ipProtocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        ...(ipv6 ? { cidrIpv6: config.ssh.cidr } : { cidrIpv4: config.ssh.cidr }),
      });
    }
    // ECS, ECR, S3 (image layers), SSM, CloudWatch and DynamoDB are all HTTPS; DNS and time
    // go to the VPC's link-local services, which security groups do not filter.
    new VpcSecurityGroupEgressRule(this, 'instance-egress-https', {
      securityGroupId: instanceSecurityGroup.id,
      description: 'HTTPS to AWS service endpoints',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });

    // --- Instances: ECS-optimised Amazon Linux 2023, IMDSv2 only, encrypted root volume.
    const instanceRole = new IamRole(this, 'instance-role', {
      name: `${name}-instance`,
      description: 'Web container instances: ECS agent on this cluster and SSM Session Manager',
      assumeRolePolicy: servicePrincipalTrust(this, 'instance-trust', 'ec2.amazonaws.com').json,
    });
    // The ECS agent's part of AmazonEC2ContainerServiceforEC2Role, held to this cluster. Image
    // pulls and task logs go through the task execution role, so no ecr or logs actions here.
    const ecsAgent = new DataAwsIamPolicyDocument(this, 'instance-ecs-agent', {
      statement: [
        {
          sid: 'JoinThisCluster',
          actions: [...ECS_AGENT_CLUSTER_ACTIONS],
          resources: [cluster.arn],
        },
        {
          // These act on the container instance, whose ARN exists only once it has registered.
          sid: 'TalkToThisClusterAsItsInstance',
          actions: [...ECS_AGENT_INSTANCE_ACTIONS],
          resources: ['*'],
          condition: [{ test: 'ArnEquals', variable: 'ecs:cluster', values: [cluster.arn] }],
        },
        {
          // No resource-level permissions exist for this action.
          sid: 'FindTheControlPlane',
          actions: ['ecs:DiscoverPollEndpoint'],
          resources: ['*'],
        },
      ],
    });
    new IamRolePolicy(this, 'instance-role-ecs-agent', {
      name: 'ecs-agent',
      role: instanceRole.id,
      policy: ecsAgent.json,
    });
    const sessionManager = new DataAwsIamPolicy(this, 'session-manager-managed-policy', { name: 'AmazonSSMManagedInstanceCore' });
    new IamRolePolicyAttachment(this, 'instance-role-session-manager', {
      role: instanceRole.name,
      policyArn: sessionManager.arn,
    });
    const instanceProfile = new IamInstanceProfile(this, 'instance-profile', {
      name: `${name}-instance`,
      role: instanceRole.name,
    });

    const amiParameter = new DataAwsSsmParameter(this, 'ecs-optimised-ami', {
      name: ecsOptimisedAmiParameter(config.architecture),
    });
    const launchTemplate = new LaunchTemplate(this, 'launch-template', {
      name: `${name}-instances`,
      description: `ECS container instances of ${name}`,
      // insecure_value: the parameter is public and not secret, so plans show the AMI id change.
      imageId: amiParameter.insecureValue,
      instanceType: config.instanceType,
      keyName: config.ssh?.keyName,
      iamInstanceProfile: { arn: instanceProfile.arn },
      networkInterfaces: [
        {
          deviceIndex: 0,
          associatePublicIpAddress: String(config.assignPublicIp),
          securityGroups: [instanceSecurityGroup.id],
          deleteOnTermination: 'true',
        },
      ],
      // IMDSv2 only. Hop limit 1 keeps bridge-mode containers (one hop further) away from the
      // instance role; tasks get credentials from their task role and the region from AWS_REGION.
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpTokens: 'required',
        httpPutResponseHopLimit: 1,
      },
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          ebs: { volumeType: 'gp3', volumeSize: 30, encrypted: 'true', deleteOnTermination: 'true' },
        },
      ],
      monitoring: { enabled: true },
      userData: Fn.base64encode(`#!/bin/bash\necho ECS_CLUSTER=${cluster.name} >> /etc/ecs/ecs.config\n`),
      tagSpecifications: [
        { resourceType: 'instance', tags: { Name: `${name}-instance` } },
        { resourceType: 'volume', tags: { Name: `${name}-instance` } },
      ],
      updateDefaultVersion: true,
    });

    const autoScalingGroup = new AutoscalingGroup(this, 'instances', {
      name: `${name}-instances`,
      minSize: config.minInstances,
      maxSize: config.maxInstances,
      // No desired capacity: it starts at minSize and belongs to the memory alarms after that.
      vpcZoneIdentifier: config.subnetIds,
      launchTemplate: { id: launchTemplate.id, version: Token.asString(launchTemplate.latestVersion) },
      healthCheckType: 'EC2',
      healthCheckGracePeriod: 120,
      // A new AMI or template version replaces instances one at a time, new before old.
      instanceRefresh: {
        strategy: 'Rolling',
        preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200 },
      },
      enabledMetrics: ['GroupDesiredCapacity', 'GroupInServiceInstances', 'GroupMinSize', 'GroupMaxSize'],
      metricsGranularity: '1Minute',
      tag: [{ key: 'Name', value: `${name}-instance`, propagateAtLaunch: true }],
    });

    // --- Instance scaling on memory reservation (the seed's alarms and policies).
    const scaling = [
      {
        direction: 'up',
        adjustment: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: config.memoryScaleUpPercent,
        description: 'Tasks reserve most of the cluster memory: add an instance',
      },
      {
        direction: 'down',
        adjustment: -1,
        comparisonOperator: 'LessThanOrEqualToThreshold',
        threshold: config.memoryScaleDownPercent,
        description: 'Much of the cluster memory is unreserved: remove an instance',
      },
    ] as const;
    for (const step of scaling) {
      // Simple scaling: the only EC2 policy type that honours a cooldown, as the seed's did.
      const policy = new AutoscalingPolicy(this, `scale-${step.direction}-policy`, {
        name: `${name}-instances-scale-${step.direction}`,
        autoscalingGroupName: autoScalingGroup.name,
        policyType: 'SimpleScaling',
        adjustmentType: 'ChangeInCapacity',
        scalingAdjustment: step.adjustment,
        cooldown: config.cooldownSeconds,
      });
      new CloudwatchMetricAlarm(this, `memory-reservation-${step.direction}-alarm`, {
        alarmName: `${name}-memory-reservation-${step.direction === 'up' ? 'high' : 'low'}`,
        alarmDescription: step.description,
        namespace: 'AWS/ECS',
        metricName: 'MemoryReservation',
        dimensions: { ClusterName: cluster.name },
        statistic: 'Average',
        period: 60,
        evaluationPeriods: 1,
        threshold: step.threshold,
        comparisonOperator: step.comparisonOperator,
        alarmActions: [policy.arn],
      });
    }

    // --- Load balancer.
    const loadBalancer = new Lb(this, 'load-balancer', {
      name,
      loadBalancerType: 'application',
      internal: false,
      securityGroups: [loadBalancerSecurityGroup.id],
      subnets: config.subnetIds,
      dropInvalidHeaderFields: true,
    });
    const targetGroup = new LbTargetGroup(this, 'target-group', {
      name,
      vpcId: config.vpcId,
      targetType: 'instance',
      protocol: 'HTTP',
      // ECS registers each task on its dynamic host port; this port is only the default.
      port: config.containerPort,
      deregistrationDelay: '30',
      healthCheck: {
        enabled: true,
        path: config.healthCheckPath,
        protocol: 'HTTP',
        matcher: '200',
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
    });
    const forwardToTasks = [{ type: 'forward', targetGroupArn: targetGroup.arn }];
    let trafficListener: LbListener;
    if (config.https) {
      trafficListener = new LbListener(this, 'https-listener', {
        loadBalancerArn: loadBalancer.arn,
        port: 443,
        protocol: 'HTTPS',
        certificateArn: config.https.certificateArn,
        sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        defaultAction: forwardToTasks,
      });
      new LbListener(this, 'http-redirect-listener', {
        loadBalancerArn: loadBalancer.arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: [{ type: 'redirect', redirect: { port: '443', protocol: 'HTTPS', statusCode: 'HTTP_301' } }],
      });
    } else {
      trafficListener = new LbListener(this, 'http-listener', {
        loadBalancerArn: loadBalancer.arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: forwardToTasks,
      });
    }

    // --- Task: roles, logs, definition.
    const logGroup = new CloudwatchLogGroup(this, 'log-group', {
      name: `/ecs/${name}`,
      retentionInDays: config.logRetentionDays,
    });

    const taskRole = new IamRole(this, 'task-role', {
      name: `${name}-task`,
      description: 'Web app: read the tables it charts, nothing else',
      assumeRolePolicy: servicePrincipalTrust(this, 'task-trust', 'ecs-tasks.amazonaws.com').json,
    });
    const readTables = new DataAwsIamPolicyDocument(this, 'task-read-tables', {
      statement: [{ sid: 'ReadTables', actions: [...WEB_TABLE_READ_ACTIONS], resources: config.tableArns }],
    });
    new IamRolePolicy(this, 'task-role-read-tables', {
      name: 'read-tables',
      role: taskRole.id,
      policy: readTables.json,
    });

    const executionRole = new IamRole(this, 'execution-role', {
      name: `${name}-execution`,
      description: 'ECS agent for the web task: pull its image, write its logs',
      assumeRolePolicy: servicePrincipalTrust(this, 'execution-trust', 'ecs-tasks.amazonaws.com').json,
    });
    const pullImageWriteLogs = new DataAwsIamPolicyDocument(this, 'execution-pull-and-log', {
      statement: [
        // GetAuthorizationToken has no resource-level permissions: AWS only accepts "*" here.
        { sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
        {
          sid: 'PullWebImage',
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
          resources: [config.repositoryArn],
        },
        {
          sid: 'WriteTaskLogs',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`${logGroup.arn}:log-stream:*`],
        },
      ],
    });
    new IamRolePolicy(this, 'execution-role-pull-and-log', {
      name: 'pull-image-write-logs',
      role: executionRole.id,
      policy: pullImageWriteLogs.json,
    });

    const taskDefinition = new EcsTaskDefinition(this, 'task-definition', {
      family: name,
      requiresCompatibilities: ['EC2'],
      networkMode: 'bridge',
      taskRoleArn: taskRole.arn,
      executionRoleArn: executionRole.arn,
      containerDefinitions: JSON.stringify([
        {
          name: CONTAINER_NAME,
          image: config.imageUrl,
          essential: true,
          // Hard limit equal to the reservation: a leaking task is restarted, the host is not starved.
          memory: config.taskMemoryMiB,
          portMappings: [{ containerPort: config.containerPort, hostPort: 0, protocol: 'tcp' }],
          environment: Object.entries(config.environment)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => ({ name: key, value })),
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': logGroup.name,
              'awslogs-region': config.region,
              'awslogs-stream-prefix': CONTAINER_NAME,
            },
          },
        },
      ]),
    });

    const service = new EcsService(this, 'service', {
      name,
      cluster: cluster.id,
      taskDefinition: taskDefinition.arn,
      launchType: 'EC2',
      desiredCount: config.desiredTasks,
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriodSeconds: 60,
      loadBalancer: [{ targetGroupArn: targetGroup.arn, containerName: CONTAINER_NAME, containerPort: config.containerPort }],
      orderedPlacementStrategy: [
        { type: 'spread', field: 'attribute:ecs.availability-zone' },
        { type: 'binpack', field: 'memory' },
      ],
      enableEcsManagedTags: true,
      propagateTags: 'SERVICE',
      // The target group must be attached to a listener before ECS registers tasks in it.
      dependsOn: [trafficListener],
      // The scaling stack changes the task count; a redeploy of this stack must not reset it.
      lifecycle: { ignoreChanges: ['desired_count'] },
    });

    this.clusterName = cluster.name;
    this.serviceName = service.name;
    this.autoScalingGroupName = autoScalingGroup.name;
    this.loadBalancerDnsName = loadBalancer.dnsName;
    this.webUrl = config.https
      ? `https://${config.https.domainName ?? loadBalancer.dnsName}`
      : `http://${loadBalancer.dnsName}`;
    this.loadBalancerArnSuffix = loadBalancer.arnSuffix;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;
    this.taskRoleArn = taskRole.arn;
  }
}

function servicePrincipalTrust(scope: Construct, id: string, service: string): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: [{ actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: [service] }] }],
  });
}

/** Graviton families carry a `g` among the letters after the generation digit (t4g, m7gd, c6gn); a1 is the first. */
export function instanceArchitecture(instanceType: string): 'x86_64' | 'arm64' {
  const family = instanceType.split('.')[0] ?? '';
  return family === 'a1' || /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) ? 'arm64' : 'x86_64';
}

/** SSM public parameter of the latest ECS-optimised Amazon Linux 2023 AMI for the architecture. */
export function ecsOptimisedAmiParameter(architecture: 'x86_64' | 'arm64'): string {
  const path = architecture === 'arm64' ? 'amazon-linux-2023/arm64' : 'amazon-linux-2023';
  return `/aws/service/ecs/optimized-ami/${path}/recommended/image_id`;
}

/** Applies the defaults and rejects contradictory or unsafe props, in one place. */
export function resolveWebClusterProps(props: WebClusterProps): ResolvedWebClusterProps {
  const problems: string[] = [];
  const fail = (message: string) => problems.push(message);

  const namePrefix = props.namePrefix;
  // Load balancer and target group names: at most 32 letters, digits and hyphens.
  if (!/^[a-z][a-z0-9-]*$/.test(namePrefix) || `${namePrefix}-web`.length > 32) {
    fail(`namePrefix '${namePrefix}' must be lower-case letters, digits and hyphens, starting with a letter, and at most 28 characters (load balancer names are limited to 32).`);
  }

  const containerPort = props.containerPort ?? 5000;
  checkInteger('containerPort', containerPort, 1, 65535, fail);
  const taskMemoryMiB = props.taskMemoryMiB ?? 900;
  checkInteger('taskMemoryMiB', taskMemoryMiB, 128, 30_000, fail);
  const minInstances = props.minInstances ?? 1;
  const maxInstances = props.maxInstances ?? 5;
  checkInteger('minInstances', minInstances, 1, 100, fail);
  checkInteger('maxInstances', maxInstances, 1, 100, fail);
  if (maxInstances < minInstances) fail(`maxInstances (${maxInstances}) is below minInstances (${minInstances}).`);
  const desiredTasks = props.desiredTasks ?? 1;
  checkInteger('desiredTasks', desiredTasks, 0, 1000, fail);
  const memoryScaleUpPercent = props.memoryScaleUpPercent ?? 80;
  const memoryScaleDownPercent = props.memoryScaleDownPercent ?? 40;
  checkInteger('memoryScaleUpPercent', memoryScaleUpPercent, 1, 100, fail);
  checkInteger('memoryScaleDownPercent', memoryScaleDownPercent, 0, 99, fail);
  if (memoryScaleDownPercent >= memoryScaleUpPercent) {
    fail(`memoryScaleDownPercent (${memoryScaleDownPercent}) must be below memoryScaleUpPercent (${memoryScaleUpPercent}), or the instance count would flap.`);
  }
  const cooldownSeconds = props.cooldownSeconds ?? 300;
  checkInteger('cooldownSeconds', cooldownSeconds, 0, 86_400, fail);
  const logRetentionDays = props.logRetentionDays;
  checkInteger('logRetentionDays', logRetentionDays, 1, 3653, fail);

  if (props.subnetIds.length < 2) fail(`subnetIds has ${props.subnetIds.length} subnet(s); the load balancer needs at least 2 in different zones.`);
  if (props.tables.length === 0) fail('tables is empty; the web app needs at least one table to read.');

  let ssh: ResolvedWebClusterProps['ssh'];
  if ((props.sshKeyName === undefined) !== (props.sshCidr === undefined)) {
    fail('SR1: SSH needs both sshKeyName and sshCidr; give both, or neither (Session Manager then gives shell access).');
  } else if (props.sshKeyName !== undefined && props.sshCidr !== undefined) {
    const cidrProblem = sshCidrProblem(props.sshCidr);
    if (cidrProblem) fail(cidrProblem);
    else ssh = { keyName: props.sshKeyName, cidr: props.sshCidr };
  }

  if (props.domainName !== undefined && props.certificateArn === undefined) {
    fail('domainName is only used with HTTPS; give certificateArn too, or remove domainName.');
  }
  const https = props.certificateArn !== undefined
    ? { certificateArn: props.certificateArn, domainName: props.domainName }
    : undefined;

  const healthCheckPath = props.healthCheckPath ?? '/livez';
  if (!healthCheckPath.startsWith('/')) fail(`healthCheckPath '${healthCheckPath}' must start with '/'.`);

  for (const key of RESERVED_ENVIRONMENT) {
    if (key in props.environment) fail(`environment must not set ${key}; the construct sets it from ${key === 'PORT' ? 'containerPort' : 'region'}.`);
  }

  const instanceType = props.instanceType ?? 't3.small';
  if (problems.length > 0) {
    throw new Error(`WebCluster: invalid props:\n- ${problems.join('\n- ')}`);
  }
  return {
    namePrefix,
    region: props.region,
    vpcId: props.vpcId,
    subnetIds: [...props.subnetIds],
    imageUrl: props.imageUrl,
    repositoryArn: props.repositoryArn,
    containerPort,
    taskMemoryMiB,
    instanceType,
    architecture: instanceArchitecture(instanceType),
    minInstances,
    maxInstances,
    desiredTasks,
    memoryScaleUpPercent,
    memoryScaleDownPercent,
    cooldownSeconds,
    ssh,
    assignPublicIp: props.assignPublicIp ?? true,
    https,
    healthCheckPath,
    logRetentionDays,
    tableArns: props.tables.map((table) => table.arn),
    environment: { ...props.environment, PORT: String(containerPort), AWS_REGION: props.region },
  };
}

function checkInteger(name: string, value: number, min: number, max: number, fail: (message: string) => void): void {
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} is ${value}; use a whole number from ${min} to ${max}.`);
}

/** SR1: an IPv4 or IPv6 CIDR block that is not the whole internet. */
function sshCidrProblem(cidr: string): string | undefined {
  const match = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr);
  const isIpv6 = cidr.includes(':');
  const prefix = Number(match?.[2]);
  if (!match || (isIpv6 ? prefix > 128 : prefix > 32 || !/^(\d{1,3}\.){3}\d{1,3}$/.test(match[1] ?? ''))) {
    return `SR1: sshCidr '${cidr}' is not a CIDR block such as '203.0.113.10/32'.`;
  }
  if (prefix === 0) {
    return `SR1: sshCidr '${cidr}' opens SSH to the whole internet; use your administration network, e.g. '203.0.113.10/32', or use Session Manager.`;
  }
  return undefined;
}
