/**
 * `npm run system-test`: the 2016 report's system test (its appendix 6) made repeatable.
 * It sets a threshold, sends readings in the 2016 report's exact body format through the ingest
 * API, waits (polling, with a timeout) until every reading is in the table and visible
 * through the web app's API, checks each value and timestamp, checks that exactly the
 * expected alerts are in the alert history (table and web API), then lets the series fall
 * silent and checks that the scheduled no-data check raises one no-data alert (listed
 * across the fleet by the web API) and one recovery when a reading arrives again; prints a
 * pass/fail report, and removes only what it wrote, so it can run again at once.
 *
 * Each run uses a thing id of its own, so it never touches anyone else's data and two
 * runs never see each other's readings or alert state.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { randomBytes } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Command, InvalidArgumentError, Option } from 'commander';
import { RULE_LIMITS } from '../handlers/rule-item';
import { expectedNotices } from '../handlers/alert-rules';
import { Decimal } from '../handlers/decimal';
import { decodeNotice, type AlertHistoryEntry } from '../handlers/notice-item';
import { batchDeleteAll, TOOL_RETRY } from '../handlers/batch-write';
import { ATTRIBUTES, DEFAULT_ALERT_COOLDOWN_SECONDS } from '../handlers/contract';
import { seriesId } from '../handlers/reading-item';
import { decodeItem, type TimedReading } from '../handlers/reading-segment';
import { finiteNumber, noDataAfterOption, runCli, seedNumber, thingIdProblem, UsageError } from './cli';
import { gaussian, ReadingClock, SEED_READINGS, seededRandom, temperatureText } from './synthetic';
import { checkNoData } from './system-test-no-data';
import { putReading, queryAll, sequenceNumberOf, tableReadings, webItems, type Item, type SentReading } from './system-test-probes';
import { describeTarget, resolveTarget, targetDynamo, withTargetOptions, type Target, type TargetFlags } from './target';
import { deleteThresholds, setThresholds } from './threshold-store';

export interface SystemTestOptions {
  /** @default 10, as the 2016 report's script */
  readonly readings?: number;
  /** How long to wait for the pipeline. @default 120 */
  readonly timeoutSeconds?: number;
  /** @default 500 */
  readonly pollIntervalMs?: number;
  /** @default `things/system-test/<random run id>` */
  readonly thingId?: string;
  /** @default the 2016 report's 18 and 25 */
  readonly min?: number;
  readonly max?: number;
  /** The deployment's alert cooldown, to predict reminders. @default the configuration's */
  readonly cooldownSeconds?: number;
  /**
   * The no-data period given to the series once its readings are checked: the no-data
   * alert is due that long after the last reading, at the next run of the no-data check
   * (every minute as deployed; `npm start --schedule-interval-seconds` shortens it locally).
   * @default 60
   */
  readonly noDataAfterSeconds?: number;
  /** Leave out the no-data part. @default false */
  readonly skipNoData?: boolean;
  /** Seed of the value generator. @default random */
  readonly seed?: number;
  /** Leave the test's items in place for inspection. @default false */
  readonly keep?: boolean;
  /** Progress lines. @default nothing */
  readonly log?: (line: string) => void;
}

/** A notice in the alert history: `kind` as the web API names it (a reminder is `reminder`), `value` the reading's. */
export interface ExpectedAlert {
  readonly timestamp: string;
  readonly kind: AlertHistoryEntry['kind'];
  readonly value: number;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface SystemTestReport {
  readonly ok: boolean;
  readonly target: string;
  readonly thingId: string;
  readonly series: string;
  readonly readings: readonly SentReading[];
  readonly expectedAlerts: readonly ExpectedAlert[];
  readonly checks: readonly Check[];
  /** From the last reading sent until everything was visible (or the timeout). */
  readonly waitedMs: number;
  /** Items removed afterwards (0 with `keep`). */
  readonly removedItems: number;
}

/**
 * Seed-like values (Gaussian 20 ± 3): if chance gave no reading out of range followed by
 * one back inside, the second becomes a breach and the third a reading back in range, so
 * every run of three or more readings proves both kinds of alert.
 */
export function testTemperatures(count: number, random: () => number, min: number, max: number): string[] {
  const values = Array.from({ length: count }, () => temperatureText(gaussian(random, SEED_READINGS.mean, SEED_READINGS.stddev)));
  const outside = (text: string) => Number(text) < min || Number(text) > max;
  const recovers = values.some((value, index) => outside(value) && index + 1 < count && !outside(values[index + 1] as string));
  if (count >= 3 && !recovers) {
    values[1] = temperatureText(max + 1 + random() * 3);
    values[2] = temperatureText(min + (max - min) * (0.25 + random() / 2));
  }
  return values;
}

/** The alert history the rules (handlers/alert-rules.ts) produce for these readings, in order, with each notice's reading value. */
function expectedAlerts(readings: readonly { value: number; timestamp: string }[], min: number, max: number, cooldownSeconds: number): ExpectedAlert[] {
  const exact = (value: number) => Decimal.fromNumber(value) as Decimal;
  const valueAt = new Map(readings.map((reading) => [reading.timestamp, reading.value]));
  const observations = readings.map((reading) => ({ timestamp: reading.timestamp, value: exact(reading.value) }));
  return expectedNotices({ min: exact(min), max: exact(max) }, observations, cooldownSeconds).map((notice) => ({ ...notice, value: valueAt.get(notice.timestamp) as number }));
}

/** A history item as the system test compares it. */
const alertRow = (item: Item): ExpectedAlert => {
  const entry = decodeNotice(item);
  return { timestamp: entry.timestamp, kind: entry.kind, value: Number(entry.value?.text) };
};

/** Compares expected and actual rows by a key; describes every difference in a few words. */
function compare<T>(expected: readonly T[], actual: readonly T[], keyOf: (row: T) => string, show: (row: T) => string): string[] {
  const problems: string[] = [];
  const remaining = new Map<string, number>();
  for (const row of actual) remaining.set(keyOf(row), (remaining.get(keyOf(row)) ?? 0) + 1);
  for (const row of expected) {
    const count = remaining.get(keyOf(row)) ?? 0;
    if (count === 0) problems.push(`missing ${show(row)}`);
    else remaining.set(keyOf(row), count - 1);
  }
  for (const row of actual) {
    const count = remaining.get(keyOf(row)) ?? 0;
    if (count > 0) {
      problems.push(`unexpected ${show(row)}`);
      remaining.set(keyOf(row), count - 1);
    }
  }
  return problems;
}

const summarise = (problems: readonly string[]): string => (problems.length <= 5 ? problems.join('; ') : `${problems.slice(0, 5).join('; ')}; and ${problems.length - 5} more`);

interface Observed {
  table: TimedReading[];
  web: Item[];
  alertTable: Item[];
  alertWeb: Item[];
}

export async function runSystemTest(target: Target, options: SystemTestOptions = {}): Promise<SystemTestReport> {
  const count = options.readings ?? 10;
  const min = options.min ?? SEED_READINGS.min;
  const max = options.max ?? SEED_READINGS.max;
  const cooldownSeconds = options.cooldownSeconds ?? DEFAULT_ALERT_COOLDOWN_SECONDS;
  const log = options.log ?? (() => undefined);
  const thingId = options.thingId ?? `things/system-test/${randomBytes(5).toString('hex')}`;
  const series = seriesId(thingId, SEED_READINGS.metric);
  const random = seededRandom(options.seed ?? randomBytes(4).readUInt32LE());
  const dynamo = targetDynamo(target);
  const checks: Check[] = [];
  let removedItems = 0;
  let waitedMs = 0;
  const sent: SentReading[] = [];
  let alerts: ExpectedAlert[] = [];

  try {
    log(`System test against ${describeTarget(target)}`);
    log(`  series ${series}, thresholds ${min} to ${max}, ${count} readings`);
    await setThresholds(dynamo, target.tables.thresholds, series, { min, max });

    const clock = new ReadingClock();
    for (const temperature of testTemperatures(count, random, min, max)) sent.push(await putReading(target, thingId, temperature, clock.next(thingId)));
    const accepted = sent.filter((reading) => reading.status === 200 && sequenceNumberOf(reading.response) !== undefined);
    checks.push({
      name: `API accepted all ${count} readings (HTTP 200 with a sequence number)`,
      ok: accepted.length === count,
      ...(accepted.length === count ? {} : { detail: summarise(sent.filter((reading) => !accepted.includes(reading)).map((reading) => `HTTP ${reading.status} ${reading.response.slice(0, 120)}`)) }),
    });

    const points = sent.map((reading) => ({ value: Number(reading.temperature), timestamp: reading.normalised }));
    alerts = expectedAlerts(points, min, max, cooldownSeconds);
    log(`  sent ${count} readings; expecting ${alerts.length} alert(s)${alerts.length === 0 ? '' : `: ${alerts.map((alert) => `${alert.kind} at ${alert.value}`).join(', ')}`}`);

    // Poll until everything is visible; never a fixed sleep.
    const started = Date.now();
    const deadline = started + (options.timeoutSeconds ?? 120) * 1000;
    let observed: Observed = { table: [], web: [], alertTable: [], alertWeb: [] };
    let lastProgress = '';
    // Only this run's time span counts, should --thing name a series with older data.
    const first = sent[0]?.normalised ?? '';
    const last = sent[sent.length - 1]?.normalised ?? '';
    const inRun = (timestamp: unknown) => typeof timestamp === 'string' && timestamp >= first && timestamp <= last;
    for (;;) {
      observed = {
        table: await tableReadings(dynamo, target.tables.things, series, first, last),
        web: (await webItems(target.webUrl, 'readings', series)).filter((item) => inRun(item.timestamp)),
        alertTable: (await queryAll(dynamo, target.tables.alerts, series)).filter((item) => inRun(item[ATTRIBUTES.timestamp])),
        alertWeb: (await webItems(target.webUrl, 'alerts', series)).filter((item) => inRun(item.timestamp)),
      };
      const progress = `table ${observed.table.length}/${accepted.length}, web ${observed.web.length}/${accepted.length}, alerts ${observed.alertTable.length}/${alerts.length} (web ${observed.alertWeb.length})`;
      if (progress !== lastProgress) log(`  waiting: ${progress} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      lastProgress = progress;
      const complete =
        observed.table.length >= accepted.length && observed.web.length >= accepted.length && observed.alertTable.length >= alerts.length && observed.alertWeb.length >= alerts.length;
      if (complete || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs ?? 500));
    }
    waitedMs = Date.now() - started;
    if (waitedMs >= (options.timeoutSeconds ?? 120) * 1000) checks.push({ name: `pipeline finished within ${options.timeoutSeconds ?? 120} s`, ok: false, detail: lastProgress });

    const expectedRows = accepted.map((reading) => ({ timestamp: reading.normalised, value: Number(reading.temperature) }));
    const showReading = (row: { timestamp: string; value: unknown }) => `${row.value} at ${row.timestamp}`;
    const readingKey = (row: { timestamp: string; value: unknown }) => `${row.timestamp}|${String(row.value)}`;
    const tableRows = observed.table.map((reading) => ({ timestamp: reading.timestamp, value: reading.value.text }));
    const tableProblems = compare(expectedRows, tableRows, readingKey, showReading);
    checks.push({ name: `every reading in table ${target.tables.things} with its value and timestamp`, ok: tableProblems.length === 0, ...(tableProblems.length === 0 ? {} : { detail: summarise(tableProblems) }) });

    const webRows = observed.web.map((item) => ({ timestamp: String(item.timestamp), value: item.value }));
    const webProblems = compare(expectedRows, webRows, readingKey, showReading);
    checks.push({ name: 'every reading through the web API (/api/readings) with its value and timestamp', ok: webProblems.length === 0, ...(webProblems.length === 0 ? {} : { detail: summarise(webProblems) }) });

    const showAlert = (row: { timestamp: string; kind: string; value: unknown }) => `${row.kind} for ${String(row.value)} at ${row.timestamp}`;
    const alertKey = (row: { timestamp: string; kind: string; value: unknown }) => `${row.timestamp}|${row.kind}|${String(row.value)}`;
    const alertProblems = compare(alerts, observed.alertTable.map(alertRow), alertKey, showAlert);
    checks.push({
      name: `exactly the ${alerts.length} expected alert(s) in the alert history (table ${target.tables.alerts})`,
      ok: alertProblems.length === 0,
      ...(alertProblems.length === 0 ? {} : { detail: summarise(alertProblems) }),
    });
    const unsent = observed.alertTable.filter((item) => decodeNotice(item).messageId === null);
    checks.push({ name: 'every alert in the history was published (has an SNS message id)', ok: unsent.length === 0, ...(unsent.length === 0 ? {} : { detail: `${unsent.length} without a message id` }) });

    const webAlertRows = observed.alertWeb.map((item) => ({ timestamp: String(item.timestamp), kind: String(item.kind), value: item.value }));
    const webAlertProblems = compare<{ timestamp: string; kind: string; value: unknown }>(alerts, webAlertRows, alertKey, showAlert);
    checks.push({ name: 'the same alerts through the web API (/api/alerts)', ok: webAlertProblems.length === 0, ...(webAlertProblems.length === 0 ? {} : { detail: summarise(webAlertProblems) }) });

    if (options.skipNoData !== true && accepted.length > 0) {
      const resumed = await checkNoData(target, dynamo, { series, thingId, min, max, last: sent[sent.length - 1] as SentReading, clock, options, log, checks });
      if (resumed !== undefined) sent.push(resumed);
    }
  } catch (error) {
    checks.push({ name: 'the test ran to the end', ok: false, detail: (error as Error).message });
  } finally {
    if (options.keep !== true) {
      try {
        removedItems = await removeTestItems(dynamo, target, series, sent.map((reading) => reading.normalised));
      } catch (error) {
        checks.push({ name: "removed the test's items", ok: false, detail: (error as Error).message });
      }
    }
    dynamo.destroy();
  }

  return {
    ok: checks.length > 0 && checks.every((check) => check.ok),
    target: describeTarget(target),
    thingId,
    series,
    readings: sent,
    expectedAlerts: alerts,
    checks,
    waitedMs,
    removedItems,
  };
}

/** Deletes exactly what this run caused to be written: its readings, its series' catalogue entry, alerts and thresholds. */
async function removeTestItems(dynamo: DynamoDBDocumentClient, target: Target, series: string, timestamps: readonly string[]): Promise<number> {
  const sorted = [...timestamps].sort();
  const first = sorted[0] ?? '';
  const last = sorted[sorted.length - 1] ?? '';
  const alertKeys = (await queryAll(dynamo, target.tables.alerts, series))
    .filter((item) => String(item[ATTRIBUTES.timestamp]) >= first && String(item[ATTRIBUTES.timestamp]) <= last)
    .map((item) => ({ [ATTRIBUTES.series]: series, [ATTRIBUTES.timestamp]: item[ATTRIBUTES.timestamp] }));
  // The items holding only this run's readings (segments, and one-reading items of older versions).
  const readingKeys = (await queryAll(dynamo, target.tables.things, series))
    .filter((item) => {
      const readings = decodeItem(item)?.readings ?? [];
      return readings.length > 0 && readings.every((reading) => reading.timestamp >= first && reading.timestamp <= last);
    })
    .map((item) => ({ [ATTRIBUTES.series]: series, [ATTRIBUTES.timestamp]: item[ATTRIBUTES.timestamp] }));
  let removed = 0;
  for (const [table, keys] of [
    [target.tables.things, readingKeys],
    [target.tables.alerts, alertKeys],
  ] as const) {
    await batchDeleteAll(dynamo, table, keys, TOOL_RETRY);
    removed += keys.length;
  }
  // The catalogue entry goes only if its latest reading is one of this run's.
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: target.tables.series,
        Key: { [ATTRIBUTES.series]: series },
        ConditionExpression: '#latest BETWEEN :first AND :last',
        ExpressionAttributeNames: { '#latest': ATTRIBUTES.latestTimestamp },
        ExpressionAttributeValues: { ':first': first, ':last': last },
      }),
    );
    removed += 1;
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
  if (await deleteThresholds(dynamo, target.tables.thresholds, series)) removed += 1;
  return removed;
}

/** The report as printed. */
export function formatReport(report: SystemTestReport): string {
  const lines = ['', ...report.checks.map((check) => `  ${check.ok ? 'PASS' : 'FAIL'}  ${check.name}${check.detail === undefined ? '' : `\n        ${check.detail}`}`), ''];
  const passed = report.checks.filter((check) => check.ok).length;
  lines.push(
    `RESULT: ${report.ok ? 'PASS' : 'FAIL'} (${passed} of ${report.checks.length} checks passed; pipeline visible after ${(report.waitedMs / 1000).toFixed(1)} s; ` +
      `${report.removedItems === 0 ? 'test items kept' : `removed the ${report.removedItems} items it wrote`})`,
  );
  return lines.join('\n');
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 5000) throw new InvalidArgumentError('a whole number from 1 to 5000');
  return value;
}

function nonNegative(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new InvalidArgumentError('a number, 0 or more');
  return value;
}

async function configuredCooldown(): Promise<number> {
  // Loaded only when asked for: validating the configuration pulls in ajv.
  const { ConfigError, loadConfig } = await import('../stacks/config');
  try {
    return loadConfig().alerts.cooldownSeconds;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Guessing the default would test the deployment against the wrong cooldown.
    throw new UsageError(`the alert cooldown to expect comes from the platform configuration, which is invalid; fix it or pass --cooldown-seconds.\n${error.message}`);
  }
}

async function main(): Promise<void> {
  const program = withTargetOptions(new Command('npm run system-test --'))
    .description('End-to-end test of the local platform (default) or a deployment: ingest → stream → table, web API and alerts.')
    .addOption(new Option('--readings <n>', 'readings to send').argParser(positiveInteger).default(10))
    .addOption(new Option('--timeout <seconds>', 'how long to wait for the pipeline').argParser(nonNegative).default(120))
    .option('--thing <id>', 'thing id to use; its temperature thresholds are replaced, then removed (default: a fresh things/system-test/<run id>)')
    .addOption(new Option('--min <number>', 'lower threshold').argParser(finiteNumber).default(SEED_READINGS.min))
    .addOption(new Option('--max <number>', 'upper threshold').argParser(finiteNumber).default(SEED_READINGS.max))
    .addOption(new Option('--cooldown-seconds <seconds>', "the platform's alert cooldown (default: from the configuration)").argParser(nonNegative))
    .addOption(noDataAfterOption('then let the series fall silent for this long and expect one no-data alert, and one recovery for a reading after it (default 60; the check runs every minute as deployed, every --schedule-interval-seconds locally)'))
    .option('--skip-no-data', 'leave out the no-data part', false)
    .addOption(new Option('--seed <n>', 'seed of the value generator, to repeat a run').argParser(seedNumber))
    .option('--keep', 'keep the items it wrote, for inspection', false)
    .option('--json', 'print the report as JSON', false)
    .exitOverride()
    .parse();
  const flags = program.opts<
    TargetFlags & { readings: number; timeout: number; thing?: string; min: number; max: number; cooldownSeconds?: number; noDataAfter?: number; skipNoData: boolean; seed?: number; keep: boolean; json: boolean }
  >();
  // Refused before anything is written: a bad range or id would otherwise fail half-way, after setting thresholds.
  if (flags.min > flags.max) throw new UsageError(`--min ${flags.min} is above --max ${flags.max}`);
  const idProblem = flags.thing === undefined ? undefined : thingIdProblem(flags.thing);
  if (idProblem !== undefined) throw new UsageError(`--thing ${JSON.stringify(flags.thing)} is not a thing id the ingest API takes: ${idProblem}`);
  const { min: shortest, max: longest } = RULE_LIMITS.noDataAfterSeconds;
  if (flags.noDataAfter !== undefined && (flags.noDataAfter < shortest || flags.noDataAfter > longest)) throw new UsageError(`--no-data-after must be from ${shortest} to ${longest} seconds, got ${flags.noDataAfter}`);
  const target = resolveTarget(flags);
  const report = await runSystemTest(target, {
    readings: flags.readings,
    timeoutSeconds: flags.timeout,
    min: flags.min,
    max: flags.max,
    cooldownSeconds: flags.cooldownSeconds ?? (await configuredCooldown()),
    keep: flags.keep,
    skipNoData: flags.skipNoData,
    ...(flags.noDataAfter === undefined ? {} : { noDataAfterSeconds: flags.noDataAfter }),
    ...(flags.thing === undefined ? {} : { thingId: flags.thing }),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    ...(flags.json ? {} : { log: (line: string) => console.log(line) }),
  });
  console.log(flags.json ? JSON.stringify(report, null, 2) : formatReport(report));
  process.exitCode = report.ok ? 0 : 1;
}

if (require.main === module) runCli(main);
