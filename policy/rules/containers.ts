import { block, isTrue, type StackModel } from '../model';
import { finding, NO_EQUIVALENT, rule, type Finding } from './rule';

/** A setting of a capacity provider's Auto Scaling group that must be ENABLED, and why. */
const MANAGED = [
  ['managed_draining', 'ECS does not move tasks off an instance before scale-in or an instance refresh terminates it'],
  ['managed_termination_protection', 'an instance that still runs tasks can be terminated on scale-in'],
] as const;

export const capacityProvidersDrain = rule({
  id: 'ECS-002',
  category: 'containers',
  title:
    'EC2 capacity for ECS drains before it is terminated: every Auto Scaling group capacity provider has managed draining, managed termination protection and managed scaling on, and its group protects new instances from scale-in',
  fix: 'Set `managedDraining: "ENABLED"`, `managedTerminationProtection: "ENABLED"` and `managedScaling: { status: "ENABLED", ... }` on the capacity provider, and `protectFromScaleIn: true` on the Auto Scaling group.',
  equivalents: { ...NO_EQUIVALENT, note: 'Closest: AWS Config ecs-capacity-provider-termination-check (termination protection only).' },
  check(model) {
    const findings: Finding[] = [];
    for (const provider of model.resources('aws_ecs_capacity_provider')) {
      const group = block(provider.config['auto_scaling_group_provider']);
      if (Object.keys(group).length === 0) continue;
      for (const [setting, consequence] of MANAGED) {
        if (group[setting] !== 'ENABLED') findings.push(finding(provider, `${setting} is ${JSON.stringify(group[setting] ?? null)}, so ${consequence}`));
      }
      if (block(group['managed_scaling'])['status'] !== 'ENABLED') {
        findings.push(finding(provider, 'managed_scaling is not ENABLED, so termination protection does not work and tasks that do not fit never get an instance'));
      }
      for (const autoScalingGroup of model.referencedElements(group['auto_scaling_group_arn'], 'aws_autoscaling_group')) {
        if (!isTrue(autoScalingGroup.config['protect_from_scale_in'])) {
          findings.push(finding(autoScalingGroup, 'protect_from_scale_in is not true, so managed termination protection cannot keep instances that run tasks'));
        }
      }
    }
    return findings;
  },
});

/** Clusters with a default capacity provider strategy, by the references that name them. */
function clustersWithDefaultStrategy(model: StackModel): ReturnType<StackModel['referencedElements']> {
  return model
    .resources('aws_ecs_cluster_capacity_providers')
    .filter((association) => Array.isArray(association.config['default_capacity_provider_strategy']) && (association.config['default_capacity_provider_strategy'] as unknown[]).length > 0)
    .flatMap((association) => model.referencedElements(association.config['cluster_name'], 'aws_ecs_cluster'));
}

export const servicesUseCapacityProviders = rule({
  id: 'ECS-003',
  category: 'containers',
  title: 'ECS services on EC2 place tasks through a capacity provider (a strategy of their own or the cluster\'s default), never `launch_type = "EC2"`, so a task that does not fit makes the cluster grow instead of waiting for ever',
  fix: 'Remove `launchType` and set `capacityProviderStrategy: [{ capacityProvider: provider.name, weight: 1 }]`, with the provider associated to the cluster.',
  equivalents: NO_EQUIVALENT,
  check(model) {
    const defaults = new Set(clustersWithDefaultStrategy(model));
    return model.resources('aws_ecs_service').flatMap((service) => {
      const launchType = service.config['launch_type'];
      if (launchType === 'EC2') return [finding(service, 'launch_type is EC2: tasks that do not fit stay pending and no instance is added')];
      if (launchType !== undefined || Array.isArray(service.config['capacity_provider_strategy'])) return [];
      const clusters = model.referencedElements(service.config['cluster'], 'aws_ecs_cluster');
      return clusters.some((cluster) => defaults.has(cluster)) ? [] : [finding(service, 'neither a capacity provider strategy nor a cluster default strategy is set, so ECS uses the EC2 launch type')];
    });
  },
});

export const CONTAINER_RULES = [capacityProvidersDrain, servicesUseCapacityProviders] as const;
