import type { Construct } from 'constructs';
import { remoteState } from './backend';
import { resourceName, type PlatformConfig } from './config';
import { PIPELINE_OUTPUTS, SCALING_OUTPUTS } from './output-names';
import { namedOutput } from './outputs';
import { PlatformStack } from './platform-stack';
import { ServiceStepScaling } from './service-scaling';

/** Scales the web service's task count on CPU; every name comes from the pipeline stack's state. */
export class ScalingStack extends PlatformStack {
  public readonly scaling: ServiceStepScaling;

  constructor(scope: Construct, config: PlatformConfig) {
    super(scope, 'scaling', config);
    const pipeline = remoteState(this, 'pipeline-state', config.backend, 'pipeline');
    const { cpuMetric, ...limits } = config.scaling;

    this.scaling = new ServiceStepScaling(this, 'web-service-scaling', {
      namePrefix: resourceName(config, 'iot'),
      clusterName: pipeline.getString(PIPELINE_OUTPUTS.clusterName),
      serviceName: pipeline.getString(PIPELINE_OUTPUTS.serviceName),
      ...limits,
      cpuMetric: cpuMetric === 'instances' ? { kind: 'instances', autoScalingGroupName: pipeline.getString(PIPELINE_OUTPUTS.autoScalingGroupName) } : { kind: 'service' },
    });

    namedOutput(this, SCALING_OUTPUTS.scalableTargetResourceId, this.scaling.resourceId, 'Application Auto Scaling resource id of the web service');
    namedOutput(this, SCALING_OUTPUTS.scaleOutAlarmName, this.scaling.scaleOutAlarmName, 'Alarm that adds a web task');
    namedOutput(this, SCALING_OUTPUTS.scaleInAlarmName, this.scaling.scaleInAlarmName, 'Alarm that removes a web task');
  }
}
