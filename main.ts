/** Wires the three stacks (`npm run synth`, `cdktf deploy repository pipeline scaling`). */
import { App } from 'cdktf';
import { SYNTH_OUTDIR } from './stacks/backend';
import { ConfigError, loadConfig } from './stacks/config';
import { PipelineStack } from './stacks/pipeline-stack';
import { RepositoryStack } from './stacks/repository-stack';
import { ScalingStack } from './stacks/scaling-stack';

function synth(): void {
  const config = loadConfig();
  const app = new App({ outdir: SYNTH_OUTDIR });
  const repository = new RepositoryStack(app, config);
  const pipeline = new PipelineStack(app, config);
  const scaling = new ScalingStack(app, config);
  // Remote state is not a cdktf cross-stack reference, so the deploy order is declared.
  pipeline.addDependency(repository);
  scaling.addDependency(pipeline);
  app.synth();
}

try {
  synth();
} catch (error) {
  // A configuration mistake is the user's to fix: show the list, not a stack trace.
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
