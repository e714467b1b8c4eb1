import { AnnotationMetadataEntryType, type App } from 'cdktf';
import type { PlatformConfig } from './config';
import { PipelineStack, type PipelineStackOptions } from './pipeline-stack';
import { RepositoryStack } from './repository-stack';
import { ScalingStack } from './scaling-stack';

export interface PlatformStacks {
  readonly repository: RepositoryStack;
  readonly pipeline: PipelineStack;
  readonly scaling: ScalingStack;
}

/** The three stacks in deploy order; each reads the state of the one before it. */
export function definePlatform(app: App, config: PlatformConfig, options: PipelineStackOptions = {}): PlatformStacks {
  const repository = new RepositoryStack(app, config);
  const pipeline = new PipelineStack(app, config, options);
  const scaling = new ScalingStack(app, config);
  // Remote state is not a cdktf cross-stack reference, so the order is declared for `cdktf deploy`.
  pipeline.addDependency(repository);
  scaling.addDependency(pipeline);
  return { repository, pipeline, scaling };
}

/** The warnings the stacks' constructs raised (cdktf's CLI prints them too; `npm run synth` runs without it). */
export function synthWarnings(app: App): string[] {
  return app.node
    .findAll()
    .flatMap((construct) => construct.node.metadata)
    .filter((entry) => entry.type === AnnotationMetadataEntryType.WARN)
    .map((entry) => String(entry.data));
}
