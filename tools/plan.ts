/**
 * `npm run plan`: synthesizes the stacks, plans each one with terraform in its folder
 * (cdktf.out/stacks/<stack>) in deploy order, writes each plan's JSON beside it, and
 * reviews them (`npm run plan:review`).
 *
 *   npm run plan                                       synth, plan all three, review
 *   npm run plan -- --markdown > plan-review.md        the review as a pull-request comment
 *   npm run plan -- --allow-destroy aws_sqs_queue.consumers_failure-queue
 *
 * Each stack folder then holds `plan.tfplan` (apply it there with `terraform apply
 * plan.tfplan`) and `plan.json` (which holds sensitive values in clear: do not publish it).
 * Each plan reads the other stacks' current state, so plan a stack after applying the ones
 * before it. Progress goes to stderr, the review to stdout.
 *
 * Exit codes: 0 planned and reviewed, nothing that holds data lost; 1 the guard blocked a
 * plan, or terraform stopped with an error while planning (the review still shows what it
 * had planned); 2 it could not plan: no terraform, providers that cannot be installed,
 * no credentials, a stack not synthesized, synth failing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { STACK_NAMES, SYNTH_OUTDIR, type StackName } from '../stacks/output-names';
import { runCli, throwParseErrors, UsageError } from './cli';
import { allowDestroyAddress, checkFormat, EXIT_BLOCKED, formatReview, reviewFiles, type ReviewFormat } from './plan-review';
import { PROJECT_ROOT } from '../build/project-root';

/** The saved plan and its JSON form, in each stack's folder. */
export const PLAN_FILE = 'plan.tfplan';
export const PLAN_JSON = 'plan.json';

/** Terraform, its providers or the stacks are not there: nothing could be planned. Exit code 2. */
export class CannotPlanError extends UsageError {}

export interface CommandResult {
  readonly code: number;
  readonly output: string;
}

/** Runs a program to completion; `code` is -1 with `missing` set when it is not installed. */
export type Runner = (command: string, args: readonly string[], options: { readonly cwd: string; readonly showOutput?: boolean }) => CommandResult & { readonly missing?: boolean; readonly stdout: string };

export interface PlanOptions {
  /** Run synth first. @default true */
  readonly synth?: boolean;
  /** The synthesized output (holding stacks/<stack>). @default cdktf.out in the project */
  readonly outDir?: string;
  /** @default "terraform" on the PATH */
  readonly terraform?: string;
  readonly allowDestroy?: readonly string[];
  readonly format?: ReviewFormat;
}

export interface PlanDependencies {
  readonly run: Runner;
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
  /** The review (stdout). */
  readonly write: (text: string) => void;
}

const TERRAFORM_ENV = { TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };

/**
 * What the user must read of terraform's output: from the first `Error:` on, at most
 * `lines` lines, cut at the end of a paragraph (or the last lines when there is no Error:).
 */
export function terraformErrors(output: string, lines = 20): string {
  const all = output.split('\n').map((line) => line.replace(/^[│╷╵]\s?/, '').trimEnd());
  const start = all.findIndex((line) => /^Error: /.test(line));
  if (start < 0) return all.filter((line) => line !== '').slice(-5).join('\n');
  let shown = all.slice(start, start + lines);
  const lastBreak = shown.lastIndexOf('');
  if (start + lines < all.length && lastBreak > 0) shown = shown.slice(0, lastBreak);
  return shown.join('\n').trim();
}

/** True when terraform init failed because the providers could not be downloaded or found. */
export function providersUnavailable(output: string): boolean {
  return /Failed to (query available provider packages|install provider|retrieve provider)|could not connect to registry\.|Incompatible provider version|provider registry .* does not have/i.test(output);
}

function checkTerraform(terraform: string, deps: PlanDependencies): void {
  const version = deps.run(terraform, ['version'], { cwd: PROJECT_ROOT });
  if (version.missing === true) {
    throw new CannotPlanError(`terraform is not installed (no "${terraform}" on the PATH): install Terraform 1.10 or later (https://developer.hashicorp.com/terraform/install), or name it with --terraform <path>`);
  }
  if (version.code !== 0) throw new CannotPlanError(`"${terraform} version" failed: ${terraformErrors(version.output)}`);
}

function synthesize(deps: PlanDependencies): void {
  deps.log('synth: tsx main.ts');
  const synth = deps.run(process.execPath, ['--import', 'tsx', 'main.ts'], { cwd: PROJECT_ROOT, showOutput: true });
  if (synth.code !== 0) throw new CannotPlanError('synth failed (its messages are above): fix the configuration or the policy violation, then run again');
}

/** init, plan and show in one stack's folder; returns the plan JSON's path and whether terraform stopped with an error. */
function planStack(stack: StackName, outDir: string, terraform: string, deps: PlanDependencies): { readonly file: string; readonly errors?: string } {
  const cwd = path.join(outDir, 'stacks', stack);
  const shown = path.relative(PROJECT_ROOT, cwd) || cwd;
  if (!existsSync(path.join(cwd, 'cdk.tf.json'))) throw new CannotPlanError(`the ${stack} stack is not synthesized (${shown}/cdk.tf.json is missing): run npm run synth, or drop --no-synth`);

  deps.log(`${stack}: terraform init`);
  const init = deps.run(terraform, ['init', '-input=false', '-no-color'], { cwd });
  if (init.code !== 0) {
    if (providersUnavailable(init.output)) {
      throw new CannotPlanError(
        `${stack}: terraform init could not install the providers, so no stack can be planned on this machine:\n${terraformErrors(init.output, 8)}\n` +
          '\nRun the plan where registry.terraform.io is reachable, or give terraform the providers from a mirror or cache (TF_PLUGIN_CACHE_DIR, or provider_installation in the CLI configuration).',
      );
    }
    throw new CannotPlanError(`${stack}: terraform init failed in ${shown}:\n${terraformErrors(init.output)}`);
  }

  deps.log(`${stack}: terraform plan`);
  const planFile = path.join(cwd, PLAN_FILE);
  rmSync(planFile, { force: true });
  const plan = deps.run(terraform, ['plan', '-input=false', '-no-color', `-out=${PLAN_FILE}`], { cwd });
  // Terraform saves a plan that stopped with an error (prevent_destroy, for one): show and review it too.
  if (plan.code !== 0 && !existsSync(planFile)) throw new CannotPlanError(`${stack}: terraform plan failed in ${shown}:\n${terraformErrors(plan.output)}`);

  const show = deps.run(terraform, ['show', '-json', PLAN_FILE], { cwd });
  if (show.code !== 0) throw new CannotPlanError(`${stack}: terraform show -json ${PLAN_FILE} failed in ${shown}:\n${terraformErrors(show.output)}`);
  const file = path.join(cwd, PLAN_JSON);
  writeFileSync(file, show.stdout);
  deps.log(`${stack}: ${path.relative(PROJECT_ROOT, file) || file}`);
  return plan.code === 0 ? { file } : { file, errors: terraformErrors(plan.output) };
}

/** Synth, plan every stack in deploy order, review; returns the exit code (0 or 1; 2 is thrown as CannotPlanError). */
export function planAndReview(options: PlanOptions, deps: PlanDependencies): number {
  const terraform = options.terraform ?? 'terraform';
  const outDir = options.outDir ?? path.join(PROJECT_ROOT, SYNTH_OUTDIR);
  checkTerraform(terraform, deps);
  if (options.synth !== false) synthesize(deps);
  const planned = STACK_NAMES.map((stack) => ({ stack, ...planStack(stack, outDir, terraform, deps) }));
  const review = reviewFiles(planned.map((p) => p.file), options.allowDestroy ?? []);
  deps.write(formatReview(review, options.format ?? {}));
  const errored = planned.filter((p) => p.errors !== undefined);
  for (const { stack, errors = '' } of errored) {
    deps.log(`${stack}: terraform stopped with an error, so this plan cannot be applied:\n${errors}`);
    if (/prevent_destroy/.test(errors)) {
      deps.log('prevent_destroy protects a resource that holds data from this plan. If destroying it is intended, see "Teardown" in docs/deploy.md (allowDestroy).');
    }
  }
  return !review.guard.passed || errored.length > 0 ? EXIT_BLOCKED : 0;
}

/** Runs a program, capturing its output (or letting it print, for synth). */
export const runCommand: Runner = (command, args, options) => {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...TERRAFORM_ENV },
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    stdio: options.showOutput === true ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  if (result.error !== undefined && !missing) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout ?? '', output: `${result.stdout ?? ''}${result.stderr ?? ''}`, ...(missing ? { missing } : {}) };
};

export function planProgram(deps: PlanDependencies = { run: runCommand, log: (line) => console.error(line), write: (text) => console.log(text) }): Command {
  return new Command('npm run plan --')
    .description('Synthesize, run terraform init and plan in each stack\'s folder in deploy order (repository, pipeline, scaling), write each plan\'s JSON, and review them.')
    .option('--no-synth', 'plan the stacks already synthesized, without running synth first')
    .option('--dir <folder>', `synthesized output holding stacks/<stack> (with --no-synth; default ${SYNTH_OUTDIR})`)
    .option('--terraform <path>', 'the terraform program', 'terraform')
    .option('--allow-destroy <address>', 'let this resource that holds data be destroyed or replaced (repeat for each)', allowDestroyAddress, [])
    .option('--json', 'print the review as JSON, for machines', false)
    .option('--markdown', 'print the review as Markdown, for a pull-request comment', false)
    .showHelpAfterError('(add --help for usage)')
    .action((options: { synth: boolean; dir?: string; terraform: string; allowDestroy: string[] } & ReviewFormat) => {
      if (options.dir !== undefined && options.synth) throw new UsageError(`--dir needs --no-synth: synth always writes ${SYNTH_OUTDIR}`);
      checkFormat(options); // before minutes of planning, not after
      const code = planAndReview(
        {
          synth: options.synth,
          ...(options.dir === undefined ? {} : { outDir: path.resolve(options.dir) }),
          terraform: options.terraform,
          allowDestroy: options.allowDestroy,
          format: { json: options.json, markdown: options.markdown },
        },
        deps,
      );
      if (code !== 0) process.exitCode = code;
    });
}

if (require.main === module) runCli(() => throwParseErrors(planProgram()).parseAsync());
