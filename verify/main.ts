/**
 * `npm run verify`: checks the platform's promises and prints what it found.
 *
 * 1. the policy pack over the three synthesized stacks (rules, resources, violations,
 *    suppressions with their reasons);
 * 2. every failure drill (verify/drills), each against a local platform of its own;
 * 3. one table: rules checked and violations, drills run and passed, bad inputs tried and
 *    handled, readings sent vs stored vs in the failure queue; then each failed check.
 *
 * Exits 1 when a rule is violated or a drill check fails, so CI can run it as it is.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { writeFileSync } from 'node:fs';
import Table from 'cli-table3';
import { Command, InvalidArgumentError } from 'commander';
import { runCli, throwParseErrors } from '../tools/cli';
import { failures, passed, runDrill, type DrillResult } from './drill';
import { DRILLS } from './drills';
import { policyReport, type PolicyReport } from './policy-report';
import { count, seconds } from './probe';

interface VerifyOptions {
  readonly only?: readonly string[];
  readonly policy: boolean;
  readonly json?: string;
}

const drillIds = (text: string): string[] => {
  const ids = text.split(',').map((id) => id.trim());
  const unknown = ids.filter((id) => !DRILLS.some((drill) => drill.id === id));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown drill ${unknown.join(', ')}; the drills are ${DRILLS.map((drill) => drill.id).join(', ')}`);
  return ids;
};

/** Colours only on a terminal: CI logs and files get plain text. */
const TABLE_STYLE = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };

function policyTable(report: PolicyReport): string {
  const table = new Table({ head: ['stack', 'rules checked', 'resources', 'violations', 'suppressions'], ...TABLE_STYLE });
  for (const stack of report.stacks) table.push([stack.stack, stack.rulesChecked, stack.resourcesInspected, stack.violations, stack.suppressions]);
  table.push(['all', report.total.rulesChecked, report.total.resourcesInspected, report.total.violations, report.total.suppressions]);
  return table.toString();
}

function drillTable(results: readonly DrillResult[]): string {
  const table = new Table({ head: ['drill', 'checks passed', 'readings sent', 'stored', 'failure queue', 'bad inputs handled', 'time', 'result'], ...TABLE_STYLE });
  for (const result of results) {
    const ok = result.checks.filter((entry) => entry.ok).length;
    table.push([
      result.drill,
      `${ok} / ${result.checks.length}`,
      result.readings === undefined ? '' : count(result.readings.sent),
      result.readings === undefined ? '' : count(result.readings.stored),
      result.readings === undefined ? '' : count(result.readings.failureQueue),
      result.badInputs === undefined ? '' : `${result.badInputs.handled} / ${result.badInputs.tried}`,
      seconds(result.durationMs),
      passed(result) ? 'passed' : 'FAILED',
    ]);
  }
  return table.toString();
}

/** The four figures the platform promises, one row each. */
export function summaryTable(report: PolicyReport | undefined, results: readonly DrillResult[]): string {
  const sum = (pick: (result: DrillResult) => number | undefined) => results.reduce((total, result) => total + (pick(result) ?? 0), 0);
  const table = new Table({ head: ['promise', 'figures', 'verdict'], ...TABLE_STYLE });
  if (report !== undefined) {
    table.push(['policy rules checked / violations', `${report.total.rulesChecked} rules on ${report.total.resourcesInspected} resources / ${report.total.violations} violations (${report.total.suppressions} suppressed)`, report.total.violations === 0 ? 'ok' : 'FAILED']);
  }
  const drillsPassed = results.filter(passed).length;
  table.push(['failure drills run / passed', `${results.length} / ${drillsPassed}`, drillsPassed === results.length ? 'ok' : 'FAILED']);
  const tried = sum((result) => result.badInputs?.tried);
  const handled = sum((result) => result.badInputs?.handled);
  table.push(['bad inputs tried / handled', `${tried} / ${handled}`, tried === handled ? 'ok' : 'FAILED']);
  // Every record that reached the stream is either stored or in the failure queue with its reason: none vanished.
  const accounted = results.every((result) => result.readings === undefined || result.readings.sent === result.readings.stored + result.readings.failureQueue);
  table.push([
    'readings sent / stored / in the failure queue',
    `${count(sum((result) => result.readings?.sent))} / ${count(sum((result) => result.readings?.stored))} / ${count(sum((result) => result.readings?.failureQueue))}`,
    accounted ? 'ok' : 'FAILED',
  ]);
  return table.toString();
}

async function main(): Promise<void> {
  const program = throwParseErrors(
    new Command('npm run verify --')
      .description('Check the policy pack on the synthesized stacks and run every failure drill against local platforms; print a report.')
      .option('--only <ids>', `run only these drills (comma-separated): ${DRILLS.map((drill) => drill.id).join(', ')}`, drillIds)
      .option('--no-policy', 'skip the policy pack')
      .option('--json <file>', 'also write the full results (every check and figure) as JSON'),
  ).parse();
  const options = program.opts<VerifyOptions>();
  const log = (line: string) => console.log(`  ${line}`);

  let report: PolicyReport | undefined;
  if (options.policy) {
    console.log('Policy pack on the synthesized stacks...');
    report = policyReport();
    console.log(policyTable(report));
    for (const suppression of report.suppressions) console.log(`  suppressed ${suppression.ruleId} on ${suppression.resource}: ${suppression.reason}`);
    for (const violation of report.violations) console.log(`  ${violation.message}`);
  }

  const results: DrillResult[] = [];
  for (const drill of DRILLS.filter((candidate) => options.only === undefined || options.only.includes(candidate.id))) {
    console.log(`\nDrill ${drill.id}: ${drill.title}`);
    const result = await runDrill(drill, log);
    for (const entry of result.checks) console.log(`  ${entry.ok ? 'ok  ' : 'FAIL'} ${entry.name}: ${entry.detail}`);
    results.push(result);
  }

  console.log(`\n${drillTable(results)}\n\n${summaryTable(report, results)}`);
  const failed = results.filter((result) => !passed(result));
  if (failed.length > 0) console.log(`\nFailed checks:\n${failed.map(failures).join('\n')}`);
  if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify({ policy: report, drills: results }, null, 2)}\n`);
  if (failed.length > 0 || (report?.total.violations ?? 0) > 0) process.exitCode = 1;
}

if (require.main === module) runCli(main);
