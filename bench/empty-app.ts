/** The baseline of `npm run bench:synth`: a cdktf app with one empty stack, synthesized. */
import { App, TerraformStack } from 'cdktf';

const outdir = process.argv[2];
if (outdir === undefined) throw new Error('usage: tsx bench/empty-app.ts <outdir>');
const app = new App({ outdir });
new TerraformStack(app, 'empty');
app.synth();
