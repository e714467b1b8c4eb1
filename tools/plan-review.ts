/**
 * `npm run plan:review -- <plan.json>...`: a readable review of Terraform plans, one per
 * stack, and a guard against losing data.
 *
 *   terraform plan -out=plan.tfplan && terraform show -json plan.tfplan > pipeline.json
 *   npm run plan:review -- pipeline.json
 *   npm run plan:review -- cdktf.out/stacks/{repository,pipeline,scaling}/plan.json --markdown > comment.md
 *   npm run plan:review -- pipeline.json --allow-destroy aws_sqs_queue.consumers_failure-queue
 *
 * Exit codes: 0 reviewed and nothing that holds data is lost; 1 a table, stream, bucket,
 * key, queue, repository or user pool would be destroyed or replaced without
 * --allow-destroy; 2 the plans could not be read.
 */
import { Command, InvalidArgumentError } from 'commander';
import { runCli, throwParseErrors, UsageError } from './cli';
import { reviewPlans, type Review } from './plan-analysis';
import { readPlanFile } from './plan-format';
import { markdownReport, textReport } from './plan-render';

/** Exit code when the guard blocks the plans. */
export const EXIT_BLOCKED = 1;

const ADDRESS = /^(module\.[\w-]+(\[[^\]]+\])?\.)*[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*(\[[^\]]+\])?$/;

/** Option parser: a resource address such as `aws_dynamodb_table.tables_things`, collected. */
export function allowDestroyAddress(text: string, previous: string[]): string[] {
  if (!ADDRESS.test(text)) throw new InvalidArgumentError('a resource address as the plan names it, e.g. aws_dynamodb_table.tables_things');
  return [...previous, text];
}

/** Reads and reviews the plan files (throws a UsageError naming the file that is not a plan). */
export function reviewFiles(files: readonly string[], allowDestroy: readonly string[] = []): Review {
  return reviewPlans(files.map((file) => ({ file, plan: readPlanFile(file) })), allowDestroy);
}

export interface ReviewFormat {
  readonly json?: boolean;
  readonly markdown?: boolean;
}

/** Refuses --json together with --markdown. */
export function checkFormat(format: ReviewFormat): void {
  if (format.json === true && format.markdown === true) throw new UsageError('choose one of --json and --markdown');
}

/** The review in the chosen form: text, `--json` or `--markdown`. */
export function formatReview(review: Review, format: ReviewFormat): string {
  checkFormat(format);
  if (format.json === true) return JSON.stringify(review, null, 2);
  return format.markdown === true ? markdownReport(review) : textReport(review).join('\n');
}

export function planReviewProgram(write: (text: string) => void = console.log): Command {
  return new Command('npm run plan:review --')
    .description('Review Terraform plans (terraform show -json <planfile>, one per stack): counts, replacements and destructions, security-relevant changes, and a guard that fails when a resource holding data would be destroyed or replaced.')
    .argument('<plan.json...>', 'plans in Terraform\'s JSON form; the stack is recognised from its outputs')
    .option('--allow-destroy <address>', 'let this resource that holds data be destroyed or replaced (repeat for each)', allowDestroyAddress, [])
    .option('--json', 'print the review as JSON, for machines', false)
    .option('--markdown', 'print the review as Markdown, for a pull-request comment', false)
    .showHelpAfterError('(add --help for usage)')
    .action((files: string[], options: { allowDestroy: string[] } & ReviewFormat) => {
      const review = reviewFiles(files, options.allowDestroy);
      write(formatReview(review, options));
      if (!review.guard.passed) process.exitCode = EXIT_BLOCKED;
    });
}

if (require.main === module) runCli(() => throwParseErrors(planReviewProgram()).parseAsync());
