/** Synthesizes the three stacks (`npm run synth`, `cdktf deploy repository pipeline scaling`). */
import './stacks/synth-setup';
import { App } from 'cdktf';
import { SYNTH_OUTDIR } from './stacks/backend';
import { loadConfig } from './stacks/config';
import { InputError } from './stacks/input-error';
import { definePlatform, synthWarnings } from './stacks/platform';
import { applyPlatformPolicy } from './policy';

try {
  const app = new App({ outdir: SYNTH_OUTDIR });
  definePlatform(app, loadConfig());
  // Security and reliability rules run on every synth; a violation fails it.
  applyPlatformPolicy(app);
  app.synth();
  for (const warning of synthWarnings(app)) console.warn(`warning: ${warning}`);
} catch (error) {
  // A configuration mistake is the user's to fix: show the list, not a stack trace.
  if (!(error instanceof InputError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
