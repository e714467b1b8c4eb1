/**
 * `terraform validate` on every synthesized stack, and `terraform plan` of the repository
 * stack. They need the terraform CLI and the AWS provider (plan also AWS credentials);
 * where those cannot be had, the tests are skipped and say why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Testing } from 'cdktf';
import { SYNTH_OUTDIR } from '../../stacks/output-names';
import { STACK_NAMES } from '../../stacks/output-names';
import { definePlatform } from '../../stacks/platform';
import { RepositoryStack } from '../../stacks/repository-stack';
import { configOf, handlerPackages } from './synth-helpers';

/** The provider the stacks pin, as they synthesize it. */
const AWS_PROVIDER = (JSON.parse(Testing.synth(new RepositoryStack(Testing.app(), configOf()))) as { terraform: { required_providers: { aws: { version: string } } } })
  .terraform.required_providers.aws;

function terraform(args: string[], cwd: string): { ok: boolean; output: string } {
  const result = spawnSync('terraform', args, { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' } });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** Why terraform cannot run here, or undefined when it can. */
function whyUnavailable(): string | undefined {
  try {
    execFileSync('terraform', ['version'], { stdio: 'pipe', timeout: 30_000 });
  } catch {
    return 'the terraform CLI is not installed';
  }
  const probe = mkdtempSync(path.join(tmpdir(), 'terraform-probe-'));
  try {
    writeFileSync(path.join(probe, 'main.tf.json'), JSON.stringify({ terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: AWS_PROVIDER.version } } } }));
    const init = terraform(['init', '-backend=false', '-input=false', '-no-color'], probe);
    if (init.ok) return undefined;
    const reason = init.output.split('\n').find((line) => /Error:/.test(line))?.replace(/^[\s│]*/, '') ?? 'terraform init failed';
    return `the AWS provider ${AWS_PROVIDER.version} cannot be installed (${reason.trim()})`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const unavailable = whyUnavailable();
const hasCredentials = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'].some((name) => process.env[name]);
if (unavailable !== undefined) console.warn(`Skipping terraform validate and plan: ${unavailable}.`);
else if (!hasCredentials) console.warn('Skipping terraform plan: no AWS credentials in the environment.');

const withTerraform = unavailable === undefined ? describe : describe.skip;
const withCredentials = unavailable === undefined && hasCredentials ? it : it.skip;

withTerraform(`terraform${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`, () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'terraform-stacks-'));
    const app = new App({ outdir: path.join(root, SYNTH_OUTDIR) });
    definePlatform(app, configOf(), { handlerPackages: handlerPackages() });
    app.synth();
  }, 300_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(STACK_NAMES)('validates the %s stack', (stack) => {
    const dir = path.join(root, SYNTH_OUTDIR, 'stacks', stack);
    const init = terraform(['init', '-backend=false', '-input=false', '-no-color'], dir);
    expect(init).toMatchObject({ ok: true });
    const validate = terraform(['validate', '-json', '-no-color'], dir);
    expect(JSON.parse(validate.output)).toMatchObject({ valid: true, error_count: 0 });
  }, 300_000);

  withCredentials(`plans the repository stack${hasCredentials ? '' : ' (skipped: no AWS credentials)'}`, () => {
    const dir = path.join(root, SYNTH_OUTDIR, 'stacks', 'repository');
    expect(terraform(['init', '-input=false', '-no-color'], dir)).toMatchObject({ ok: true });
    const plan = terraform(['plan', '-input=false', '-lock=false', '-no-color', '-detailed-exitcode'], dir);
    expect(plan.output).toMatch(/aws_ecr_repository\.web-images_repository will be created|No changes/);
  }, 300_000);
});
