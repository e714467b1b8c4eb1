/**
 * `npm run thresholds -- set|get|list|delete ...`: the alert rule of each series (range,
 * waiting period, hysteresis, no-data period, recipients), in the thresholds table of the
 * local platform (default) or of a deployment.
 *
 *   npm run thresholds -- set things/harrow/001/temperature --min 18 --max 25 --for 120 --hysteresis 0.5
 *   npm run thresholds -- set things/coldstore/004/temperature --max -18 --no-data-after 600 --recipients plant-7
 *   npm run thresholds -- list
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { Command, InvalidArgumentError } from 'commander';
import { describeDecimalProblem, type Decimal } from '../handlers/decimal';
import { parseNumericString } from '../handlers/reading';
import { exactJson } from '../web/json';
import { noDataAfterOption, runCli, secondsOption, throwParseErrors, UsageError } from './cli';
import { describeTarget, resolveTarget, targetDynamo, withTargetOptions, type Target, type TargetFlags } from './target';
import { deleteThresholds, getThresholds, listThresholds, setThresholds, thresholdProblems, type ThresholdEntry } from './threshold-store';

/** The rule in one line: the range, then only the fields that are set. */
const range = (entry: ThresholdEntry) =>
  [
    `min ${entry.min?.text ?? '-'}  max ${entry.max?.text ?? '-'}`,
    entry.forSeconds === undefined ? '' : `for ${entry.forSeconds} s`,
    entry.hysteresis === undefined ? '' : `hysteresis ${entry.hysteresis.text}`,
    entry.noDataAfterSeconds === undefined ? '' : `no data after ${entry.noDataAfterSeconds} s`,
    entry.recipients === undefined ? '' : `recipients ${entry.recipients}`,
  ]
    .filter((part) => part !== '')
    .join('  ');

/** Alert state attributes the consumer keeps beside the bounds, shown as they are. */
const stateText = (entry: ThresholdEntry) =>
  Object.keys(entry.state).length === 0 ? 'no alert sent yet' : Object.entries(entry.state).map(([name, value]) => `${name}=${typeof value === 'object' && value !== null ? exactJson(value) : String(value)}`).join(' ');

/**
 * Option parser for a bound: a decimal written as readings write numeric strings, kept
 * exactly (a bound is compared with exact values). `0x10`, ` 12 ` and `1e-200` are refused
 * rather than read as 16, 12 or a number DynamoDB cannot hold.
 */
export function boundOption(text: string): Decimal {
  const parsed = parseNumericString(text);
  if (parsed.ok) return parsed.value;
  throw new InvalidArgumentError(
    parsed.problem === 'syntax'
      ? 'write a decimal number such as 18, -2.5 or 1.5e3 (no spaces, no hexadecimal)'
      : `${describeDecimalProblem(parsed.problem)}: DynamoDB numbers have at most 38 significant digits and magnitudes from 1e-130 to below 1e126`,
  );
}

/** The target's client, reading every number exactly. */
const exactDynamo = (where: Target) => targetDynamo(where, { exactNumbers: true });

export function thresholdsProgram(write: (line: string) => void = console.log): Command {
  const program = new Command('npm run thresholds --')
    .description('Set, show, list and delete the alert thresholds of series ("<thing id>/<metric>").')
    .option('--json', 'print JSON instead of text', false)
    .showHelpAfterError('(add --help for usage)');
  const target = (command: Command) => resolveTarget(command.optsWithGlobals<TargetFlags>());
  const json = (command: Command) => command.optsWithGlobals<{ json: boolean }>().json;

  withTargetOptions(
    program
      .command('set')
      .description('set the alert rule of a series: a field not given is removed')
      .argument('<series>', 'series id, e.g. things/harrow/001/temperature')
      .option('--min <number>', 'lowest value that is not an alert', boundOption)
      .option('--max <number>', 'highest value that is not an alert', boundOption)
      .option('--for <seconds>', 'how long (reading time) a value must stay out of range before the alert is sent (default 0: at once)', secondsOption)
      .option('--hysteresis <number>', 'how far back inside the range a value must come before the alert recovers (default 0)', boundOption)
      .addOption(noDataAfterOption('send a no-data alert when the series sends nothing for this long, and one when it reports again'))
      .option('--recipients <group>', 'recipient group (alerts.recipientGroups in the configuration) that gets its alerts (default: the alert emails)'),
  ).action(async (series: string, options: { min?: Decimal; max?: Decimal; for?: number; hysteresis?: Decimal; noDataAfter?: number; recipients?: string }, command: Command) => {
    const bounds = {
      ...(options.min === undefined ? {} : { min: options.min }),
      ...(options.max === undefined ? {} : { max: options.max }),
      ...(options.for === undefined ? {} : { forSeconds: options.for }),
      ...(options.hysteresis === undefined ? {} : { hysteresis: options.hysteresis }),
      ...(options.noDataAfter === undefined ? {} : { noDataAfterSeconds: options.noDataAfter }),
      ...(options.recipients === undefined ? {} : { recipients: options.recipients }),
    };
    const problems = thresholdProblems(series, bounds);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    const where = target(command);
    const dynamo = exactDynamo(where);
    try {
      await setThresholds(dynamo, where.tables.thresholds, series, bounds);
      const entry = await getThresholds(dynamo, where.tables.thresholds, series);
      if (json(command)) write(exactJson(entry));
      else {
        write(`${series}: ${entry === undefined ? '?' : range(entry)}  (on ${describeTarget(where)})`);
        // threshold-alerts caches thresholds for a minute across warm invocations.
        write('The alert consumer applies a change within about a minute.');
      }
    } finally {
      dynamo.destroy();
    }
  });

  withTargetOptions(program.command('get').description('show the range and alert state of a series').argument('<series>', 'series id')).action(
    async (series: string, _options: unknown, command: Command) => {
      const where = target(command);
      const dynamo = exactDynamo(where);
      try {
        const entry = await getThresholds(dynamo, where.tables.thresholds, series);
        if (entry === undefined) {
          process.exitCode = 1;
          write(json(command) ? 'null' : `${series} has no thresholds (no alerts are sent for it)`);
        } else write(json(command) ? exactJson(entry) : `${series}: ${range(entry)}\n  ${stateText(entry)}`);
      } finally {
        dynamo.destroy();
      }
    },
  );

  withTargetOptions(program.command('list').description('list every series that has thresholds')).action(async (_options: unknown, command: Command) => {
    const where = target(command);
    const dynamo = exactDynamo(where);
    try {
      const entries = await listThresholds(dynamo, where.tables.thresholds);
      if (json(command)) write(exactJson(entries));
      else if (entries.length === 0) write(`No thresholds on ${describeTarget(where)}.`);
      else {
        const width = Math.max(...entries.map((entry) => entry.series.length));
        for (const entry of entries) write(`${entry.series.padEnd(width)}  ${range(entry)}`);
      }
    } finally {
      dynamo.destroy();
    }
  });

  withTargetOptions(program.command('delete').description('delete the alert rule (and alert state) of a series; its open alerts are marked resolved').argument('<series>', 'series id')).action(
    async (series: string, _options: unknown, command: Command) => {
      const where = target(command);
      const dynamo = exactDynamo(where);
      try {
        const deleted = await deleteThresholds(dynamo, where.tables.thresholds, series, where.tables.alerts);
        if (!deleted) process.exitCode = 1;
        write(json(command) ? JSON.stringify({ series, deleted }) : deleted ? `Deleted the thresholds of ${series}.` : `${series} had no thresholds.`);
      } finally {
        dynamo.destroy();
      }
    },
  );
  return program;
}

if (require.main === module) runCli(() => throwParseErrors(thresholdsProgram()).parseAsync());
