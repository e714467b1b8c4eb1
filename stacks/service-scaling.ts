import { Construct } from 'constructs';
import { AppautoscalingPolicy } from '@cdktf/provider-aws/lib/appautoscaling-policy';
import { AppautoscalingTarget } from '@cdktf/provider-aws/lib/appautoscaling-target';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SERVICE_SCALING_LIMITS } from './construct-defaults';
export { SERVICE_SCALING_LIMITS } from './construct-defaults';

export interface ServiceStepScalingProps {
  /** Prefix of the policy and alarm names. */
  readonly namePrefix: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /** @default SERVICE_SCALING_LIMITS.minTasks.default */
  readonly minTasks?: number;
  /** @default SERVICE_SCALING_LIMITS.maxTasks.default */
  readonly maxTasks?: number;
  /** Average CPU (%) at or above which one task is added; below cpuHighPercent. @default SERVICE_SCALING_LIMITS.cpuHighPercent.default */
  readonly cpuHighPercent?: number;
  /** Average CPU (%) at or below which one task is removed. @default SERVICE_SCALING_LIMITS.cpuLowPercent.default */
  readonly cpuLowPercent?: number;
  /** Seconds between scaling actions of each policy. @default SERVICE_SCALING_LIMITS.cooldownSeconds.default */
  readonly cooldownSeconds?: number;
  /**
   * `service`: the web service's own CPU (AWS/ECS), measured against the CPU its tasks
   * reserve. `instances`: the cluster instances' CPU (AWS/EC2 by Auto Scaling group).
   * @default { kind: 'service' }
   */
  readonly cpuMetric?: { readonly kind: 'service' } | { readonly kind: 'instances'; readonly autoScalingGroupName: string };
}


/** Period of the alarms: ECS publishes every minute; EC2 basic monitoring every five. */
const PERIOD_SECONDS = { service: 60, instances: 300 } as const;

/**
 * Step scaling of an ECS service's task count: +1 task when CPU is high, -1 when it is
 * low, each with a cooldown. Application Auto Scaling acts through its service-linked
 * role, so no role is created here.
 */
export class ServiceStepScaling extends Construct {
  public readonly resourceId: string;
  public readonly scaleOutAlarmName: string;
  public readonly scaleInAlarmName: string;

  constructor(scope: Construct, id: string, props: ServiceStepScalingProps) {
    super(scope, id);
    const cpuHighPercent = props.cpuHighPercent ?? SERVICE_SCALING_LIMITS.cpuHighPercent.default;
    const cpuLowPercent = props.cpuLowPercent ?? SERVICE_SCALING_LIMITS.cpuLowPercent.default;
    const cooldown = props.cooldownSeconds ?? SERVICE_SCALING_LIMITS.cooldownSeconds.default;
    const cpuMetric = props.cpuMetric ?? { kind: 'service' };

    const target = new AppautoscalingTarget(this, 'target', {
      serviceNamespace: 'ecs',
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${props.clusterName}/${props.serviceName}`,
      minCapacity: props.minTasks ?? SERVICE_SCALING_LIMITS.minTasks.default,
      maxCapacity: props.maxTasks ?? SERVICE_SCALING_LIMITS.maxTasks.default,
    });
    const stepPolicy = (policyId: string, name: string, step: { metricIntervalLowerBound?: string; metricIntervalUpperBound?: string; scalingAdjustment: number }) =>
      new AppautoscalingPolicy(this, policyId, {
        name: `${props.namePrefix}-${name}`,
        policyType: 'StepScaling',
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        stepScalingPolicyConfiguration: {
          adjustmentType: 'ChangeInCapacity',
          cooldown,
          metricAggregationType: 'Average',
          stepAdjustment: [step],
        },
      });
    const scaleOut = stepPolicy('scale-out', 'web-tasks-scale-out', { metricIntervalLowerBound: '0', scalingAdjustment: 1 });
    const scaleIn = stepPolicy('scale-in', 'web-tasks-scale-in', { metricIntervalUpperBound: '0', scalingAdjustment: -1 });

    const metric: { namespace: string; dimensions: Record<string, string> } =
      cpuMetric.kind === 'service'
        ? { namespace: 'AWS/ECS', dimensions: { ClusterName: props.clusterName, ServiceName: props.serviceName } }
        : { namespace: 'AWS/EC2', dimensions: { AutoScalingGroupName: cpuMetric.autoScalingGroupName } };
    const alarm = (alarmId: string, name: string, comparisonOperator: string, threshold: number, policyArn: string, description: string) =>
      new CloudwatchMetricAlarm(this, alarmId, {
        alarmName: `${props.namePrefix}-${name}`,
        alarmDescription: description,
        ...metric,
        metricName: 'CPUUtilization',
        statistic: 'Average',
        period: PERIOD_SECONDS[cpuMetric.kind],
        evaluationPeriods: 1,
        comparisonOperator,
        threshold,
        alarmActions: [policyArn],
      });
    const high = alarm('cpu-high', 'web-cpu-high', 'GreaterThanOrEqualToThreshold', cpuHighPercent, scaleOut.arn, `Adds a web task when average CPU >= ${cpuHighPercent} %`);
    const low = alarm('cpu-low', 'web-cpu-low', 'LessThanOrEqualToThreshold', cpuLowPercent, scaleIn.arn, `Removes a web task when average CPU <= ${cpuLowPercent} %`);

    this.resourceId = target.resourceId;
    this.scaleOutAlarmName = high.alarmName;
    this.scaleInAlarmName = low.alarmName;
  }
}
