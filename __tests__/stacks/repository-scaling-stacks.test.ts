import { EcrRepositoryPolicy } from '@cdktf/provider-aws/lib/ecr-repository-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { REPOSITORY_OUTPUTS, SCALING_OUTPUTS } from '../../stacks/output-names';
import { configOf, only, resources, synthPlatform, type Synthesized } from './synth-helpers';

let platform: Synthesized;
let onInstances: Synthesized;

beforeAll(() => {
  platform = synthPlatform(configOf());
  onInstances = synthPlatform(configOf({ scaling: { cpuMetric: 'instances', minTasks: 2, maxTasks: 8, cpuHighPercent: 60, cpuLowPercent: 20, cooldownSeconds: 120 }, web: { desiredTasks: 2 } }));
});
describe('repository stack', () => {
  it('scans on push, encrypts with KMS and has no repository policy', () => {
    const { json } = platform.repository;
    expect(only(json, 'aws_ecr_repository')).toMatchObject({
      name: 'iot-webapp',
      image_scanning_configuration: { scan_on_push: true },
      encryption_configuration: [{ encryption_type: 'KMS' }],
    });
    expect(platform.repository.text).not.toHaveResource(EcrRepositoryPolicy);
    expect(platform.repository.text).not.toMatch(/"Principal"\s*:\s*"\*"/);
  });

  it('expires untagged images and keeps the last 10', () => {
    const { json } = platform.repository;
    const lifecycle = json.data!.aws_ecr_lifecycle_policy_document!['web-images_lifecycle-document']!;
    expect(lifecycle.rule).toEqual([
      expect.objectContaining({ priority: 1, selection: [{ tag_status: 'untagged', count_type: 'sinceImagePushed', count_unit: 'days', count_number: 7 }], action: [{ type: 'expire' }] }),
      expect.objectContaining({ priority: 2, selection: [{ tag_status: 'any', count_type: 'imageCountMoreThan', count_number: 10 }], action: [{ type: 'expire' }] }),
    ]);
    expect(only(json, 'aws_ecr_lifecycle_policy').policy).toBe('${data.aws_ecr_lifecycle_policy_document.web-images_lifecycle-document.json}');
  });

  it('outputs URL, ARN and name with descriptions', () => {
    const outputs = platform.repository.json.output!;
    expect(Object.keys(outputs).sort()).toEqual(Object.values(REPOSITORY_OUTPUTS).sort());
    expect(outputs[REPOSITORY_OUTPUTS.repositoryUrl]).toMatchObject({ value: '${aws_ecr_repository.web-images_repository.repository_url}', description: expect.stringMatching(/URL/) });
  });
});

describe('scaling stack', () => {
  const stateOutput = (name: string) => `\${data.terraform_remote_state.pipeline-state.outputs.${name}}`;

  it('targets the web service named by the pipeline state, 1 to 5 tasks', () => {
    expect(only(platform.scaling.json, 'aws_appautoscaling_target')).toMatchObject({
      service_namespace: 'ecs',
      scalable_dimension: 'ecs:service:DesiredCount',
      resource_id: `service/${stateOutput('cluster_name')}/${stateOutput('service_name')}`,
      min_capacity: 1,
      max_capacity: 5,
    });
  });

  it('adds one task and removes one, each with a 300 s cooldown', () => {
    const policies = resources(platform.scaling.json, 'aws_appautoscaling_policy');
    expect(policies['web-service-scaling_scale-out']!.step_scaling_policy_configuration).toEqual({
      adjustment_type: 'ChangeInCapacity',
      cooldown: 300,
      metric_aggregation_type: 'Average',
      step_adjustment: [{ metric_interval_lower_bound: '0', scaling_adjustment: 1 }],
    });
    expect(policies['web-service-scaling_scale-in']!.step_scaling_policy_configuration).toEqual({
      adjustment_type: 'ChangeInCapacity',
      cooldown: 300,
      metric_aggregation_type: 'Average',
      step_adjustment: [{ metric_interval_upper_bound: '0', scaling_adjustment: -1 }],
    });
  });

  it('raises the scale-out alarm at CPU >= 40 % and the scale-in alarm at <= 10 %, on the service\'s own CPU', () => {
    const alarms = resources(platform.scaling.json, 'aws_cloudwatch_metric_alarm');
    const dimensions = { ClusterName: stateOutput('cluster_name'), ServiceName: stateOutput('service_name') };
    expect(alarms['web-service-scaling_cpu-high']).toMatchObject({
      namespace: 'AWS/ECS',
      metric_name: 'CPUUtilization',
      dimensions,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
      threshold: 40,
      alarm_actions: ['${aws_appautoscaling_policy.web-service-scaling_scale-out.arn}'],
    });
    expect(alarms['web-service-scaling_cpu-low']).toMatchObject({
      dimensions,
      comparison_operator: 'LessThanOrEqualToThreshold',
      threshold: 10,
      alarm_actions: ['${aws_appautoscaling_policy.web-service-scaling_scale-in.arn}'],
    });
  });

  it('watches the instances of the Auto Scaling group from the pipeline state when configured so, with the configured bounds', () => {
    const { json } = onInstances.scaling;
    expect(only(json, 'aws_appautoscaling_target')).toMatchObject({ min_capacity: 2, max_capacity: 8 });
    const high = resources(json, 'aws_cloudwatch_metric_alarm')['web-service-scaling_cpu-high']!;
    expect(high).toMatchObject({ namespace: 'AWS/EC2', dimensions: { AutoScalingGroupName: stateOutput('autoscaling_group_name') }, threshold: 60 });
    expect(resources(json, 'aws_appautoscaling_policy')['web-service-scaling_scale-in']!.step_scaling_policy_configuration).toMatchObject({ cooldown: 120 });
  });

  it('creates no IAM role (Application Auto Scaling uses its service-linked role) and outputs its alarms', () => {
    expect(platform.scaling.text).not.toHaveResource(IamRole);
    expect(Object.keys(platform.scaling.json.output!).sort()).toEqual(Object.values(SCALING_OUTPUTS).sort());
  });
});
