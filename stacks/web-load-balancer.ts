import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener, type LbListenerDefaultAction } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { AccessLogBucket } from './access-log-bucket';
import { notifyingAlarm } from './alarm';

export interface WebHttps {
  readonly certificateArn: string;
  /** The host name the certificate covers, and the one users open. */
  readonly domainName: string;
  /** Runs before every request is forwarded (sign-in); without it the app is served to whoever may reach the listener. @default no sign-in */
  readonly signIn?: LbListenerDefaultAction;
}

export interface WebLoadBalancerProps {
  /** Load balancer and target group name (at most 32 characters). */
  readonly name: string;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** At least two subnets in different zones. */
  readonly subnetIds: readonly string[];
  /** The instances' group: the load balancer reaches the task ports there, and nothing else does. */
  readonly instanceSecurityGroupId: string;
  /** Default port of the target group (ECS registers each task on its dynamic host port). */
  readonly containerPort: number;
  /** Liveness only: a check that read DynamoDB would have ECS replace every task in a DynamoDB outage. @default '/livez' */
  readonly healthCheckPath?: string;
  /** HTTPS on 443 (HTTP then only redirects). @default HTTP on 80 */
  readonly https?: WebHttps;
  /** Networks that may reach the listeners. Empty: the whole internet when HTTPS has sign-in, nobody otherwise. */
  readonly allowedCidrs: readonly string[];
  /** Days the access logs are kept. */
  readonly accessLogRetentionDays: number;
  /** Notified when the app answers with server errors or no task is healthy, and on recovery. */
  readonly alarmActions: readonly string[];
}

/** Host ports Docker hands out to bridge-mode tasks with hostPort 0 (the ECS default range). */
export const DYNAMIC_HOST_PORTS = { from: 32768, to: 65535 } as const;

/** Who may reach the listeners. */
export type WebReach = 'internet-with-sign-in' | 'allowed-networks' | 'nobody';

/**
 * The web app's application load balancer: a security group that admits only the allowed
 * networks (or, behind sign-in, the internet), HTTPS with sign-in when a certificate is given
 * and HTTP redirected to it, a target group checking task liveness, access logs in their own
 * bucket, and the alarms on what users see (server errors, no healthy task).
 */
export class WebLoadBalancer extends Construct {
  public readonly targetGroupArn: string;
  /** The listener that forwards to the tasks; the service must wait for it. */
  public readonly trafficListener: ITerraformDependable;
  /** `https://<domain>` or `http://<load balancer DNS name>`. */
  public readonly webUrl: string;
  /** Where the domain's DNS record must point (CNAME or alias). */
  public readonly dnsName: string;
  public readonly reach: WebReach;
  /** The load balancer's ARN: the `signer` of the claims it passes to the app about signed-in users. */
  public readonly arn: string;
  /** Whether it signs users in before forwarding. */
  public readonly signsIn: boolean;
  /** For CloudWatch metrics of the load balancer (dimension LoadBalancer) and of the target group (TargetGroup). */
  public readonly loadBalancerArnSuffix: string;
  public readonly targetGroupArnSuffix: string;
  public readonly alarmArns: string[];

  constructor(scope: Construct, id: string, props: WebLoadBalancerProps) {
    super(scope, id);
    const group = new SecurityGroup(this, 'security-group', {
      name: `${props.name}-load-balancer`,
      description: 'Web load balancer: HTTP(S) from the allowed networks, out to the web instances (and the sign-in provider)',
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-load-balancer` },
    });
    const signIn = props.https?.signIn;
    this.reach = props.allowedCidrs.length > 0 ? 'allowed-networks' : signIn !== undefined ? 'internet-with-sign-in' : 'nobody';
    const sources = this.reach === 'allowed-networks' ? props.allowedCidrs : this.reach === 'internet-with-sign-in' ? ['0.0.0.0/0'] : [];
    for (const port of props.https === undefined ? [80] : [80, 443]) {
      sources.forEach((cidr, index) => {
        new VpcSecurityGroupIngressRule(this, `ingress-${port}-${index + 1}`, {
          securityGroupId: group.id,
          description: `HTTP${port === 443 ? 'S' : ''} from ${cidr === '0.0.0.0/0' ? 'the internet (sign-in required)' : 'an allowed network'}`,
          ipProtocol: 'tcp',
          fromPort: port,
          toPort: port,
          cidrIpv4: cidr,
        });
      });
    }
    new VpcSecurityGroupEgressRule(this, 'egress-to-tasks', {
      securityGroupId: group.id,
      description: 'Requests and health checks to task host ports',
      ipProtocol: 'tcp',
      fromPort: DYNAMIC_HOST_PORTS.from,
      toPort: DYNAMIC_HOST_PORTS.to,
      referencedSecurityGroupId: props.instanceSecurityGroupId,
    });
    new VpcSecurityGroupIngressRule(this, 'instance-ingress-from-load-balancer', {
      securityGroupId: props.instanceSecurityGroupId,
      description: 'Task host ports from the load balancer',
      ipProtocol: 'tcp',
      fromPort: DYNAMIC_HOST_PORTS.from,
      toPort: DYNAMIC_HOST_PORTS.to,
      referencedSecurityGroupId: group.id,
    });
    if (signIn !== undefined) {
      // The load balancer calls the identity provider's token and user-info endpoints itself.
      new VpcSecurityGroupEgressRule(this, 'egress-to-sign-in', {
        securityGroupId: group.id,
        description: 'HTTPS to the sign-in provider',
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrIpv4: '0.0.0.0/0',
      });
    }

    const logs = new AccessLogBucket(this, 'access-logs', {
      namePrefix: `${props.name}-access-logs`,
      region: props.region,
      accountId: props.accountId,
      retentionDays: props.accessLogRetentionDays,
    });
    const loadBalancer = new Lb(this, 'load-balancer', {
      name: props.name,
      loadBalancerType: 'application',
      internal: false,
      securityGroups: [group.id],
      subnets: [...props.subnetIds],
      dropInvalidHeaderFields: true,
      accessLogs: { bucket: logs.bucketName, enabled: true },
      // Turning logging on fails unless the bucket already lets the load balancer write.
      dependsOn: [logs.policy],
    });
    const targetGroup = new LbTargetGroup(this, 'target-group', {
      name: props.name,
      vpcId: props.vpcId,
      targetType: 'instance',
      protocol: 'HTTP',
      port: props.containerPort,
      deregistrationDelay: '30',
      healthCheck: { enabled: true, path: props.healthCheckPath ?? '/livez', protocol: 'HTTP', matcher: '200', interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
    });
    const forward: LbListenerDefaultAction = { type: 'forward', targetGroupArn: targetGroup.arn, order: signIn === undefined ? undefined : 2 };
    if (props.https !== undefined) {
      this.trafficListener = new LbListener(this, 'https-listener', {
        loadBalancerArn: loadBalancer.arn,
        port: 443,
        protocol: 'HTTPS',
        certificateArn: props.https.certificateArn,
        sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        defaultAction: signIn === undefined ? [forward] : [signIn, forward],
      });
      new LbListener(this, 'http-redirect-listener', {
        loadBalancerArn: loadBalancer.arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: [{ type: 'redirect', redirect: { port: '443', protocol: 'HTTPS', statusCode: 'HTTP_301' } }],
      });
    } else {
      this.trafficListener = new LbListener(this, 'http-listener', { loadBalancerArn: loadBalancer.arn, port: 80, protocol: 'HTTP', defaultAction: [forward] });
    }

    const dimensions = { LoadBalancer: loadBalancer.arnSuffix };
    const count = (queryId: string, metricName: string) => ({
      id: queryId,
      returnData: false,
      metric: { namespace: 'AWS/ApplicationELB', metricName, dimensions, stat: 'Sum', period: 300 },
    });
    const serverErrors = notifyingAlarm(this, 'server-errors-alarm', {
      alarmName: `${props.name}-5xx`,
      alarmDescription: 'The web app or its load balancer answered with server errors',
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      metricQuery: [
        count('balancer', 'HTTPCode_ELB_5XX_Count'),
        count('tasks', 'HTTPCode_Target_5XX_Count'),
        { id: 'errors', expression: 'FILL(balancer, 0) + FILL(tasks, 0)', label: '5XX responses', returnData: true },
      ],
    }, props.alarmActions);
    const noHealthyTask = notifyingAlarm(this, 'healthy-tasks-alarm', {
      alarmName: `${props.name}-no-healthy-task`,
      alarmDescription: 'No web task passes the load balancer health check: the dashboard is down',
      namespace: 'AWS/ApplicationELB',
      metricName: 'HealthyHostCount',
      dimensions: { ...dimensions, TargetGroup: targetGroup.arnSuffix },
      statistic: 'Minimum',
      period: 60,
      evaluationPeriods: 3,
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      // The load balancer reports this every minute; silence means something is wrong too.
      treatMissingData: 'breaching',
    }, props.alarmActions);

    this.targetGroupArn = targetGroup.arn;
    this.arn = loadBalancer.arn;
    this.signsIn = signIn !== undefined;
    this.webUrl = props.https !== undefined ? `https://${props.https.domainName}` : `http://${loadBalancer.dnsName}`;
    this.dnsName = loadBalancer.dnsName;
    this.loadBalancerArnSuffix = loadBalancer.arnSuffix;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;
    this.alarmArns = [serverErrors.arn, noHealthyTask.arn];
  }
}
