import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { EcrRegistryScanningConfiguration } from '@cdktf/provider-aws/lib/ecr-registry-scanning-configuration';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { check, expectClean, expectViolations } from '../harness';

const attribute = [{ name: 'ThingID', type: 'S' }];

describe('DDB-001 point-in-time recovery', () => {
  it('fires on tables without it, or with it off', () => {
    const report = check((stack) => {
      new DynamodbTable(stack, 'unset', { name: 'a', hashKey: 'ThingID', attribute });
      new DynamodbTable(stack, 'off', { name: 'b', hashKey: 'ThingID', attribute, pointInTimeRecovery: { enabled: false } });
    });
    expectViolations(report, 'DDB-001', ['aws_dynamodb_table.unset', 'aws_dynamodb_table.off']);
  });

  it('stays silent when it is on', () => {
    expectClean(check((stack) => new DynamodbTable(stack, 't', { name: 't', hashKey: 'ThingID', attribute, pointInTimeRecovery: { enabled: true } })), 'DDB-001');
  });
});

describe('ECR-001 scan on push', () => {
  it('fires on a repository that does not scan on push', () => {
    const report = check((stack) => {
      new EcrRepository(stack, 'unset', { name: 'a' });
      new EcrRepository(stack, 'off', { name: 'b', imageScanningConfiguration: { scanOnPush: false } });
    });
    expectViolations(report, 'ECR-001', ['aws_ecr_repository.unset', 'aws_ecr_repository.off']);
  });

  it('stays silent on scan on push, or a registry-wide scanning rule', () => {
    expectClean(check((stack) => new EcrRepository(stack, 'r', { name: 'r', imageScanningConfiguration: { scanOnPush: true } })), 'ECR-001');
    const registry = check((stack) => {
      new EcrRepository(stack, 'r', { name: 'r' });
      new EcrRegistryScanningConfiguration(stack, 'scanning', { scanType: 'BASIC', rule: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilter: [{ filter: '*', filterType: 'WILDCARD' }] }] });
    });
    expectClean(registry, 'ECR-001');
  });
});

describe('ECS-001 Container Insights', () => {
  it('fires on a cluster without it, or with it disabled', () => {
    const report = check((stack) => {
      new EcsCluster(stack, 'unset', { name: 'a' });
      new EcsCluster(stack, 'disabled', { name: 'b', setting: [{ name: 'containerInsights', value: 'disabled' }] });
    });
    expectViolations(report, 'ECS-001', ['aws_ecs_cluster.unset', 'aws_ecs_cluster.disabled']);
  });

  it('stays silent when enabled or enhanced', () => {
    const report = check((stack) => {
      new EcsCluster(stack, 'enabled', { name: 'a', setting: [{ name: 'containerInsights', value: 'enabled' }] });
      new EcsCluster(stack, 'enhanced', { name: 'b', setting: [{ name: 'containerInsights', value: 'enhanced' }] });
    });
    expectClean(report, 'ECS-001');
  });
});
