/**
 * `npm run plan`: terraform init, plan and show in each stack's folder in deploy order, then
 * the review. Terraform's own provider (`terraform_data`) needs no download, so the real
 * terraform plans small stand-in stacks here; the AWS provider cannot be downloaded on
 * every machine, and where it cannot, the tool must say so and stop.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { RepositoryStack } from '../../stacks/repository-stack';
import { PIPELINE_OUTPUTS, REPOSITORY_OUTPUTS, SCALING_OUTPUTS, STACK_NAMES, type StackName } from '../../stacks/output-names';
import { CannotPlanError, PLAN_FILE, PLAN_JSON, planAndReview, providersUnavailable, runCommand, terraformErrors, type PlanOptions } from '../../tools/plan';
import type { Review } from '../../tools/plan-analysis';
import { configOf } from '../stacks/synth-helpers';
import { PROJECT_ROOT } from '../../build/project-root';

const FIXTURES = path.join(__dirname, 'fixtures', 'plans');

const terraformInstalled = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
if (!terraformInstalled) console.warn('Skipping the plans made by terraform itself: the terraform CLI is not installed.');
const withTerraform = terraformInstalled ? describe : describe.skip;

/** The real repository stack: it needs the AWS provider, which not every machine can download. */
const repository = JSON.parse(Testing.synth(new RepositoryStack(Testing.app(), configOf()))) as unknown;
const providersMissing = ((): boolean => {
  if (!terraformInstalled) return false;
  const probe = mkdtempSync(path.join(tmpdir(), 'plan-probe-'));
  try {
    writeFileSync(path.join(probe, 'cdk.tf.json'), JSON.stringify(repository));
    const init = runCommand('terraform', ['init', '-backend=false', '-input=false', '-no-color'], { cwd: probe });
    return init.code !== 0 && providersUnavailable(init.output);
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();
if (terraformInstalled && !providersMissing) console.warn('Skipping the missing-provider case of npm run plan: this machine can install the AWS provider.');

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'plan-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

/** A folder shaped like cdktf.out: stacks/<stack>/cdk.tf.json for each stack given. */
function outDir(name: string, stacks: Partial<Record<StackName, unknown>>): string {
  const dir = path.join(scratch, name);
  for (const [stack, config] of Object.entries(stacks)) {
    mkdirSync(path.join(dir, 'stacks', stack), { recursive: true });
    writeFileSync(path.join(dir, 'stacks', stack, 'cdk.tf.json'), JSON.stringify(config, null, 2));
  }
  return dir;
}

function plan(options: PlanOptions): { code: number; log: string; out: string } {
  const log: string[] = [];
  const out: string[] = [];
  const code = planAndReview({ synth: false, ...options }, { run: runCommand, log: (line) => log.push(line), write: (text) => out.push(text) });
  return { code, log: log.join('\n'), out: out.join('\n') };
}

/** The command as `npm run plan` runs it, for its exit code and streams. */
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tools', 'plan.ts'), ...args], { cwd: PROJECT_ROOT, encoding: 'utf8' });

/**
 * A stand-in stack of terraform_data resources whose outputs carry the stack's output names
 * (so the review recognises it): terraform plans it without downloading anything.
 */
function standIn(outputs: Readonly<Record<string, string>>, key: string, protect = false): unknown {
  return {
    resource: {
      terraform_data: {
        table: { input: { hash_key: key }, triggers_replace: [key], ...(protect ? { lifecycle: { prevent_destroy: true } } : {}) },
      },
    },
    output: Object.fromEntries(Object.values(outputs).map((name) => [name, { value: '${terraform_data.table.id}' }])),
  };
}

withTerraform('npm run plan with the real terraform', () => {
  const stacks = (key: string, protect = false) => ({
    repository: standIn(REPOSITORY_OUTPUTS, 'a'),
    pipeline: standIn(PIPELINE_OUTPUTS, key, protect),
    scaling: standIn(SCALING_OUTPUTS, 'a'),
  });

  it('plans each stack in its folder in deploy order, writes each plan and its JSON, and reviews them', () => {
    const dir = outDir('first', stacks('a'));
    const { code, log, out } = plan({ outDir: dir, format: { json: true } });
    expect(log.split('\n').filter((line) => /terraform (init|plan)/.test(line))).toEqual(STACK_NAMES.flatMap((stack) => [`${stack}: terraform init`, `${stack}: terraform plan`]));
    for (const stack of STACK_NAMES) {
      expect(existsSync(path.join(dir, 'stacks', stack, PLAN_FILE))).toBe(true);
      expect(JSON.parse(readFileSync(path.join(dir, 'stacks', stack, PLAN_JSON), 'utf8'))).toMatchObject({ format_version: expect.stringMatching(/^1\./), resource_changes: [expect.objectContaining({ address: 'terraform_data.table' })] });
    }
    const review = JSON.parse(out) as Review;
    expect(review.stacks.map((stack) => [stack.stack, stack.counts.create])).toEqual([
      ['repository', 1],
      ['pipeline', 1],
      ['scaling', 1],
    ]);
    expect(code).toBe(0);
  }, 120_000);

  it('reviews what terraform planned when it stops on prevent_destroy, exits 1, and points at the teardown setting', () => {
    const dir = outDir('protected', stacks('a', true));
    // Apply the pipeline stand-in, then change what forces its replacement.
    const pipeline = path.join(dir, 'stacks', 'pipeline');
    for (const args of [['init', '-input=false', '-no-color'], ['apply', '-auto-approve', '-input=false', '-no-color']]) expect(runCommand('terraform', args, { cwd: pipeline }).code).toBe(0);
    writeFileSync(path.join(pipeline, 'cdk.tf.json'), JSON.stringify(stacks('b', true).pipeline));

    const { code, log, out } = plan({ outDir: dir });
    expect(out).toContain('pipeline stack (');
    expect(out).toContain('0 to create, 0 to update, 1 to replace, 0 to destroy');
    expect(out).toContain('! Terraform stopped with an error while planning: this plan cannot be applied');
    expect(out).toContain('-/+ terraform_data.table: replace (an attribute cannot change in place; destroy then create)');
    expect(out).toContain('forced by triggers_replace: ["a"] → ["b"]');
    expect(log).toContain('pipeline: terraform stopped with an error, so this plan cannot be applied:\nError: Instance cannot be destroyed');
    expect(log).toContain('see "Teardown" in docs/deploy.md (allowDestroy)');
    expect(code).toBe(1);
  }, 120_000);
});

/** A stand-in terraform that records its calls and answers with the fixtures: a plan of each stack without any provider. */
function fakeTerraform(plans: Record<StackName, string>): { program: string; calls: () => { args: string[]; stack: string }[] } {
  const dir = mkdtempSync(path.join(scratch, 'fake-terraform-'));
  const program = path.join(dir, 'terraform');
  const calls = path.join(dir, 'calls.jsonl');
  writeFileSync(
    program,
    `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const stack = path.basename(process.cwd());
fs.appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ args, stack }) + '\\n');
const plans = ${JSON.stringify(plans)};
if (args[0] === 'plan') fs.writeFileSync(args.find((arg) => arg.startsWith('-out=')).slice(5), plans[stack]);
if (args[0] === 'show') process.stdout.write(fs.readFileSync(fs.readFileSync(args[2], 'utf8')));
`,
  );
  chmodSync(program, 0o755);
  return { program, calls: () => readFileSync(calls, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { args: string[]; stack: string }) };
}

describe('npm run plan with a stand-in terraform', () => {
  const plans = { repository: path.join(FIXTURES, 'no-op.json'), pipeline: path.join(FIXTURES, 'table-key-schema-replaced.json'), scaling: path.join(FIXTURES, 'ordinary-update.json') };

  it('runs init, plan -out and show -json per stack in deploy order, and the guard blocks the replaced table', () => {
    const terraform = fakeTerraform(plans);
    const dir = outDir('fake', { repository: {}, pipeline: {}, scaling: {} });
    const { code, out } = plan({ outDir: dir, terraform: terraform.program });
    expect(terraform.calls()).toEqual([
      { args: ['version'], stack: path.basename(PROJECT_ROOT) },
      ...STACK_NAMES.flatMap((stack) => [
        { args: ['init', '-input=false', '-no-color'], stack },
        { args: ['plan', '-input=false', '-no-color', `-out=${PLAN_FILE}`], stack },
        { args: ['show', '-json', PLAN_FILE], stack },
      ]),
    ]);
    expect(readFileSync(path.join(dir, 'stacks', 'pipeline', PLAN_JSON), 'utf8')).toBe(readFileSync(plans.pipeline, 'utf8'));
    expect(out).toContain('Guard: BLOCKED. 1 resource that holds data would be destroyed or replaced:\n  pipeline: aws_dynamodb_table.tables_things');
    expect(code).toBe(1);
  });

  it('passes --allow-destroy and the output form to the review', () => {
    const terraform = fakeTerraform(plans);
    const dir = outDir('fake-allowed', { repository: {}, pipeline: {}, scaling: {} });
    const { code, out } = plan({ outDir: dir, terraform: terraform.program, allowDestroy: ['aws_dynamodb_table.tables_things'], format: { markdown: true } });
    expect(out).toMatch(/^## Terraform plan review\n\n\*\*Guard: passed\.\*\*/);
    expect(code).toBe(0);
    const exit = cli('--no-synth', '--dir', dir, '--terraform', terraform.program, '--allow-destroy', 'aws_dynamodb_table.tables_things');
    expect(exit.status).toBe(0);
    expect(exit.stdout).toContain('Guard: passed.');
    expect(exit.stderr).toContain(`pipeline: ${path.relative(PROJECT_ROOT, path.join(dir, 'stacks', 'pipeline', PLAN_JSON))}`);
  });
});

describe('npm run plan where it cannot plan', () => {
  it('says terraform is missing and exits 2', () => {
    expect(() => plan({ terraform: path.join(scratch, 'no-such-terraform') })).toThrow(CannotPlanError);
    const exit = cli('--no-synth', '--terraform', path.join(scratch, 'no-such-terraform'));
    expect(exit.status).toBe(2);
    expect(exit.stderr).toMatch(/^error: terraform is not installed \(no ".*no-such-terraform" on the PATH\): install Terraform 1\.10 or later/);
  });

  it('says which stack is not synthesized', () => {
    const terraform = fakeTerraform({ repository: '', pipeline: '', scaling: '' });
    expect(() => plan({ outDir: outDir('empty', {}), terraform: terraform.program })).toThrow(/the repository stack is not synthesized \(.*stacks\/repository\/cdk\.tf\.json is missing\): run npm run synth, or drop --no-synth/);
  });

  it('refuses --dir without --no-synth, and --json with --markdown, before running anything', () => {
    expect(cli('--dir', scratch).stderr).toContain('--dir needs --no-synth: synth always writes cdktf.out');
    const both = cli('--no-synth', '--json', '--markdown', '--terraform', path.join(scratch, 'no-such-terraform'));
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('choose one of --json and --markdown');
  });

  (providersMissing ? it : it.skip)('says the providers cannot be installed, and exits 2 before planning anything', () => {
    const dir = outDir('real', { repository, pipeline: {}, scaling: {} });
    const exit = cli('--no-synth', '--dir', dir);
    expect(exit.status).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain('repository: terraform init\nerror: repository: terraform init could not install the providers, so no stack can be planned on this machine:\nError: Failed to query available provider packages');
    expect(exit.stderr).toContain('Run the plan where registry.terraform.io is reachable, or give terraform the providers from a mirror or cache');
    expect(exit.stderr).not.toContain('pipeline: terraform');
    expect(existsSync(path.join(dir, 'stacks', 'repository', PLAN_JSON))).toBe(false);
  });
});

describe("terraform's messages", () => {
  const initOutput = [
    'Initializing the backend...',
    'Initializing provider plugins...',
    '- Finding hashicorp/aws versions matching "6.25.0"...',
    '╷',
    '│ Error: Failed to query available provider packages',
    '│ ',
    '│ Could not retrieve the list of available versions for provider hashicorp/aws:',
    '│ could not connect to registry.terraform.io: failed to request discovery document',
    '│ ',
    '│ To see which modules are currently depending on hashicorp/aws and what',
    '│ versions are specified, run the following command:',
    '│     terraform providers',
    '╵',
  ].join('\n');

  it('are cut to the error, at the end of a paragraph', () => {
    expect(terraformErrors(initOutput, 5)).toBe(
      'Error: Failed to query available provider packages\n\nCould not retrieve the list of available versions for provider hashicorp/aws:\ncould not connect to registry.terraform.io: failed to request discovery document',
    );
    expect(terraformErrors('line 1\nline 2\n\nthe end\n')).toBe('line 1\nline 2\nthe end');
  });

  it('tell a provider that cannot be installed from other init failures', () => {
    expect(providersUnavailable(initOutput)).toBe(true);
    expect(providersUnavailable('Error: Backend initialization required, please run "terraform init"')).toBe(false);
  });
});
