/** Synthesizes the three stacks (`npm run synth`, `cdktf deploy repository pipeline scaling`). */
import './stacks/synth-setup';
import { App } from 'cdktf';
import { SYNTH_OUTDIR } from './stacks/output-names';
import { loadConfig } from './stacks/config';
import { InputError } from './stacks/input-error';
import { definePlatform, synthWarnings } from './stacks/platform';
import { applyPlatformPolicy } from './policy';

/** How cdktf words a failed stack validation, which is how the policy pack fails synth. */
const POLICY_FAILURE = 'Validation failed with the following errors';

try {
  const app = new App({ outdir: SYNTH_OUTDIR });
  definePlatform(app, loadConfig());
  // Security and reliability rules run on every synth; a violation fails it.
  applyPlatformPolicy(app);
  app.synth();
  for (const warning of synthWarnings(app)) console.warn(`warning: ${warning}`);
} catch (error) {
  // A configuration mistake or a policy violation is the user's to fix: show the list, not a stack trace.
  const listed = error instanceof InputError || (error instanceof Error && error.message.startsWith(POLICY_FAILURE));
  if (!listed) throw error;
  console.error((error as Error).message);
  process.exitCode = 1;
}
