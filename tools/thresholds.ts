/**
 * `npm run thresholds -- set|get|list|delete ...`: the alert range of each series, in the
 * thresholds table of the local platform (default) or of a deployment.
 *
 *   npm run thresholds -- set things/harrow/001/temperature --min 18 --max 25
 *   npm run thresholds -- list
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { Command } from 'commander';
import { finiteNumber, runCli, throwParseErrors, UsageError } from './cli';
import { describeTarget, resolveTarget, targetDynamo, withTargetOptions, type TargetFlags } from './target';
import { deleteThresholds, getThresholds, listThresholds, setThresholds, thresholdProblems, type ThresholdEntry } from './threshold-store';

const range = (entry: ThresholdEntry) => `min ${entry.min ?? '-'}  max ${entry.max ?? '-'}`;

/** Alert state attributes the consumer keeps beside the bounds, shown as they are. */
const stateText = (entry: ThresholdEntry) =>
  Object.keys(entry.state).length === 0 ? 'no alert sent yet' : Object.entries(entry.state).map(([name, value]) => `${name}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`).join(' ');

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
      .description('set the range of a series: a bound not given is removed')
      .argument('<series>', 'series id, e.g. things/harrow/001/temperature')
      .option('--min <number>', 'lowest value that is not an alert', finiteNumber)
      .option('--max <number>', 'highest value that is not an alert', finiteNumber),
  ).action(async (series: string, options: { min?: number; max?: number }, command: Command) => {
    const bounds = { ...(options.min === undefined ? {} : { min: options.min }), ...(options.max === undefined ? {} : { max: options.max }) };
    const problems = thresholdProblems(series, bounds);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    const where = target(command);
    const dynamo = targetDynamo(where);
    try {
      await setThresholds(dynamo, where.tables.thresholds, series, bounds);
      const entry = await getThresholds(dynamo, where.tables.thresholds, series);
      if (json(command)) write(JSON.stringify(entry));
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
      const dynamo = targetDynamo(where);
      try {
        const entry = await getThresholds(dynamo, where.tables.thresholds, series);
        if (entry === undefined) {
          process.exitCode = 1;
          write(json(command) ? 'null' : `${series} has no thresholds (no alerts are sent for it)`);
        } else write(json(command) ? JSON.stringify(entry) : `${series}: ${range(entry)}\n  ${stateText(entry)}`);
      } finally {
        dynamo.destroy();
      }
    },
  );

  withTargetOptions(program.command('list').description('list every series that has thresholds')).action(async (_options: unknown, command: Command) => {
    const where = target(command);
    const dynamo = targetDynamo(where);
    try {
      const entries = await listThresholds(dynamo, where.tables.thresholds);
      if (json(command)) write(JSON.stringify(entries));
      else if (entries.length === 0) write(`No thresholds on ${describeTarget(where)}.`);
      else {
        const width = Math.max(...entries.map((entry) => entry.series.length));
        for (const entry of entries) write(`${entry.series.padEnd(width)}  ${range(entry)}`);
      }
    } finally {
      dynamo.destroy();
    }
  });

  withTargetOptions(program.command('delete').description('delete the thresholds (and alert state) of a series').argument('<series>', 'series id')).action(
    async (series: string, _options: unknown, command: Command) => {
      const where = target(command);
      const dynamo = targetDynamo(where);
      try {
        const deleted = await deleteThresholds(dynamo, where.tables.thresholds, series);
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
