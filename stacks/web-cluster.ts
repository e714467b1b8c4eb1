import { Construct } from 'constructs';

export interface WebClusterTable {
  /** Table name (for reference only; the policy uses the ARN). */
  readonly name: string;
  readonly arn: string;
}

export interface WebClusterProps {
  /** Prefix of every resource name; `${namePrefix}-web` must fit the load balancer's 32 characters. */
  readonly namePrefix: string;
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
  /** Memory reserved for (and hard limit of) each task, MiB. @default 900 */
  readonly taskMemoryMiB?: number;
  /** x86_64 by default, because the web image is usually built on an x86 laptop or CI runner. @default 't3.small' */
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
  /** ACM certificate: the load balancer serves HTTPS on 443 and redirects 80 to it. @default HTTP on 80 only */
  readonly certificateArn?: string;
  /** Host name the certificate covers, used in `webUrl`. @default the load balancer's DNS name */
  readonly domainName?: string;
  /** @default '/healthz' */
  readonly healthCheckPath?: string;
  /** Retention of the container log group, days. */
  readonly logRetentionDays: number;
  /** Tables the web app may read (GetItem, BatchGetItem, Query, Scan), and nothing else. */
  readonly tables: readonly WebClusterTable[];
  /** Container environment (table names etc.); PORT and AWS_REGION are set by the construct. */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * The web app on ECS/EC2: cluster, launch template and Auto Scaling group scaled on memory
 * reservation, application load balancer, task definition and service.
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
    void props;
    throw new Error('WebCluster: implementation in progress (skeleton commit for the stack author).');
  }
}
