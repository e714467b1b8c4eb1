import type { TerraformStack } from 'cdktf';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { EcsCapacityProvider, type EcsCapacityProviderAutoScalingGroupProvider } from '@cdktf/provider-aws/lib/ecs-capacity-provider';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsClusterCapacityProviders } from '@cdktf/provider-aws/lib/ecs-cluster-capacity-providers';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { check, expectClean, expectViolations } from '../harness';

const DRAINING: Omit<EcsCapacityProviderAutoScalingGroupProvider, 'autoScalingGroupArn'> = {
  managedScaling: { status: 'ENABLED', targetCapacity: 100 },
  managedTerminationProtection: 'ENABLED',
  managedDraining: 'ENABLED',
};

function provider(stack: TerraformStack, id: string, settings: Omit<EcsCapacityProviderAutoScalingGroupProvider, 'autoScalingGroupArn'>, protectFromScaleIn = true) {
  const group = new AutoscalingGroup(stack, `${id}-group`, { name: id, minSize: 0, maxSize: 2, protectFromScaleIn, launchTemplate: { id: 'lt-1' } });
  return new EcsCapacityProvider(stack, id, { name: id, autoScalingGroupProvider: { autoScalingGroupArn: group.arn, ...settings } });
}

describe('ECS-002 capacity providers drain before instances go', () => {
  // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instance-draining.html
  it('fires on draining or termination protection off or unset, managed scaling off, and a group that does not protect instances', () => {
    const report = check((stack) => {
      provider(stack, 'no-draining', { ...DRAINING, managedDraining: 'DISABLED' });
      provider(stack, 'unprotected', { managedScaling: { status: 'ENABLED' }, managedDraining: 'ENABLED' });
      provider(stack, 'unmanaged', { ...DRAINING, managedScaling: { status: 'DISABLED' } });
      provider(stack, 'scale-in', DRAINING, false);
    });
    const found = expectViolations(report, 'ECS-002', [
      'aws_ecs_capacity_provider.no-draining',
      'aws_ecs_capacity_provider.unprotected',
      'aws_ecs_capacity_provider.unmanaged',
      'aws_autoscaling_group.scale-in-group',
    ]);
    expect(found.find((v) => v.address === 'aws_ecs_capacity_provider.unprotected')?.problem).toBe(
      'managed_termination_protection is null, so an instance that still runs tasks can be terminated on scale-in',
    );
  });

  it('stays silent on a provider that drains, protects and scales, over a protected group', () => {
    expectClean(check((stack) => provider(stack, 'good', DRAINING)), 'ECS-002');
  });
});

describe('ECS-003 services place tasks through a capacity provider', () => {
  const service = (stack: TerraformStack, id: string, cluster: EcsCluster, extra: Partial<ConstructorParameters<typeof EcsService>[2]> = {}) =>
    new EcsService(stack, id, { name: id, cluster: cluster.id, taskDefinition: 'web:1', desiredCount: 1, ...extra });

  it('fires on launch_type EC2, and on a service with neither strategy nor cluster default', () => {
    const report = check((stack) => {
      const cluster = new EcsCluster(stack, 'cluster', { name: 'web' });
      service(stack, 'ec2', cluster, { launchType: 'EC2' });
      service(stack, 'implicit', cluster);
    });
    expectViolations(report, 'ECS-003', ['aws_ecs_service.ec2', 'aws_ecs_service.implicit']);
  });

  it('stays silent on a strategy of its own, on the cluster default strategy, and on Fargate', () => {
    const report = check((stack) => {
      const cluster = new EcsCluster(stack, 'cluster', { name: 'web' });
      const capacity = provider(stack, 'capacity', DRAINING);
      new EcsClusterCapacityProviders(stack, 'association', { clusterName: cluster.name, capacityProviders: [capacity.name], defaultCapacityProviderStrategy: [{ capacityProvider: capacity.name, weight: 1 }] });
      service(stack, 'own', cluster, { capacityProviderStrategy: [{ capacityProvider: capacity.name, weight: 1 }] });
      service(stack, 'default', cluster);
      service(stack, 'fargate', cluster, { launchType: 'FARGATE' });
    });
    expectClean(report, 'ECS-003');
  });
});
