import { block, blocks, isTrue } from '../model';
import { finding, rule } from './rule';

export const pointInTimeRecovery = rule({
  id: 'DDB-001',
  category: 'data',
  title: 'DynamoDB tables have point-in-time recovery on',
  fix: 'Set `pointInTimeRecovery: { enabled: true }`.',
  equivalents: { checkov: [{ id: 'CKV_AWS_28' }], trivy: [{ id: 'AVD-AWS-0024' }] },
  check: (model) =>
    model.resources('aws_dynamodb_table')
      .filter((table) => !isTrue(block(table.config['point_in_time_recovery'])['enabled']))
      .map((table) => finding(table, 'point_in_time_recovery.enabled is not true')),
});

const SCANNING_FREQUENCIES = ['SCAN_ON_PUSH', 'CONTINUOUS_SCAN'];

export const scanOnPush = rule({
  id: 'ECR-001',
  category: 'data',
  title: 'ECR repositories scan images on push (repository setting or a registry scanning rule)',
  fix: 'Set `imageScanningConfiguration: { scanOnPush: true }`.',
  equivalents: { checkov: [{ id: 'CKV_AWS_163' }], trivy: [{ id: 'AVD-AWS-0030' }] },
  check(model) {
    const registryScans = model
      .resources('aws_ecr_registry_scanning_configuration')
      .some((registry) => blocks(registry.config['rule']).some((r) => SCANNING_FREQUENCIES.includes(String(r['scan_frequency']))));
    if (registryScans) return [];
    return model.resources('aws_ecr_repository')
      .filter((repository) => !isTrue(block(repository.config['image_scanning_configuration'])['scan_on_push']))
      .map((repository) => finding(repository, 'image_scanning_configuration.scan_on_push is not true'));
  },
});

export const containerInsights = rule({
  id: 'ECS-001',
  category: 'data',
  title: 'ECS clusters have Container Insights on',
  fix: 'Add `setting: [{ name: "containerInsights", value: "enabled" }]` (or `"enhanced"`).',
  equivalents: { checkov: [{ id: 'CKV_AWS_65' }], trivy: [{ id: 'AVD-AWS-0034' }] },
  check: (model) =>
    model.resources('aws_ecs_cluster')
      .filter((cluster) => !blocks(cluster.config['setting']).some((s) => s['name'] === 'containerInsights' && ['enabled', 'enhanced'].includes(String(s['value']))))
      .map((cluster) => finding(cluster, 'setting containerInsights is not "enabled" or "enhanced"')),
});

export const DATA_RULES = [pointInTimeRecovery, scanOnPush, containerInsights] as const;
