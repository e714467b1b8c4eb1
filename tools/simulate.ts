/**
 * `npm run simulate -- --things N --rate R --duration D`: synthetic sensors like the
 * 2016 report's (Gaussian 20 ± 3 °C, thresholds 18 to 25) sending to the local platform
 * (default) or a deployment, with a progress bar of sent, acknowledged and failed
 * readings and a summary at the end.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { randomBytes } from 'node:crypto';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { seriesId } from '../handlers/reading-item';
import { finiteNumber, positiveNumber, runCli, seedNumber, thingIdProblem, UsageError, wholeNumber } from './cli';
import { gaussian, ReadingClock, SEED_READINGS, seedBody, seededRandom, seedTimestamp, temperatureText } from './synthetic';
import { describeTarget, resolveTarget, targetDynamo, withTargetOptions, type Target, type TargetFlags } from './target';
import { setThresholds } from './threshold-store';

export interface SimulationOptions {
  readonly things: number;
  /** Readings per second, all things together. */
  readonly rate: number;
  readonly durationSeconds: number;
  /** Readings per request: 1 sends each with PUT (the 2016 report's way), more go to the batch endpoint. @default 1 */
  readonly batchSize?: number;
  /** Requests in flight at most. @default 32 */
  readonly concurrency?: number;
  /** @default 'things/sim' */
  readonly thingPrefix?: string;
  /** Range used to count out-of-range readings (and set, with `setThresholds`). @default 18 to 25 */
  readonly min?: number;
  readonly max?: number;
  /** Write `min`/`max` as the thresholds of every simulated series first. @default false */
  readonly setThresholds?: boolean;
  readonly seed?: number;
  /** Called after every answer, for the progress bar. */
  readonly onProgress?: (progress: SimulationProgress) => void;
  /** Stops sending early (e.g. on Ctrl-C); requests in flight still finish. */
  readonly signal?: AbortSignal;
}

export interface SimulationProgress {
  readonly planned: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
}

export interface SimulationSummary extends SimulationProgress {
  readonly target: string;
  readonly things: readonly string[];
  readonly outOfRange: number;
  /** HTTP status (or `network`) → readings that failed with it. */
  readonly failures: Readonly<Record<string, number>>;
  /** First few distinct failure messages, for the person reading the summary. */
  readonly failureSamples: readonly string[];
  readonly elapsedMs: number;
  readonly acknowledgedPerSecond: number;
  /** Request latency percentiles in milliseconds. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number };
}

const SAMPLE_LIMIT = 5;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export const thingIds = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, index) => `${prefix}/${String(index + 1).padStart(Math.max(3, String(count).length), '0')}`);

export async function simulate(target: Target, options: SimulationOptions): Promise<SimulationSummary> {
  const batchSize = options.batchSize ?? 1;
  const concurrency = options.concurrency ?? 32;
  const min = options.min ?? SEED_READINGS.min;
  const max = options.max ?? SEED_READINGS.max;
  const things = thingIds(options.thingPrefix ?? 'things/sim', options.things);
  const random = seededRandom(options.seed ?? randomBytes(4).readUInt32LE());
  const clock = new ReadingClock();

  if (options.setThresholds === true) {
    const dynamo = targetDynamo(target);
    try {
      for (const thing of things) await setThresholds(dynamo, target.tables.thresholds, seriesId(thing, SEED_READINGS.metric), { min, max });
    } finally {
      dynamo.destroy();
    }
  }

  const planned = Math.max(1, Math.round(options.rate * options.durationSeconds));
  const counts = { planned, sent: 0, acknowledged: 0, failed: 0 };
  const failures: Record<string, number> = {};
  const failureSamples: string[] = [];
  const latencies: number[] = [];
  let outOfRange = 0;
  let next = 0;

  const fail = (reason: string, readings: number, sample: string) => {
    counts.failed += readings;
    failures[reason] = (failures[reason] ?? 0) + readings;
    if (failureSamples.length < SAMPLE_LIMIT && !failureSamples.includes(sample)) failureSamples.push(sample);
  };

  /** The next readings, round-robin over the things, as the 2016 report's `Data` objects. */
  const nextReadings = (count: number) =>
    Array.from({ length: count }, () => {
      const thing = things[next++ % things.length] as string;
      const temperature = temperatureText(gaussian(random, SEED_READINGS.mean, SEED_READINGS.stddev));
      if (Number(temperature) < min || Number(temperature) > max) outOfRange += 1;
      return { thing, temperature, timestamp: seedTimestamp(clock.next(thing)) };
    });

  async function send(count: number): Promise<void> {
    const readings = nextReadings(count);
    const single = batchSize === 1;
    const body = single
      ? seedBody(readings[0]!.thing, readings[0]!.temperature, readings[0]!.timestamp)
      : JSON.stringify({ Data: readings.map((reading) => ({ id: reading.thing, [SEED_READINGS.metric]: reading.temperature, timestamp: reading.timestamp })) });
    counts.sent += count;
    const started = performance.now();
    try {
      const response = await fetch(single ? target.ingestUrl : target.batchIngestUrl, {
        method: single ? 'PUT' : 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey },
        body,
      });
      const text = await response.text();
      latencies.push(performance.now() - started);
      // A batch the stream took only in part answers 503 and is sent again whole by a real client: none of it counts as acknowledged.
      if (response.status !== 200) fail(`HTTP ${response.status}`, count, `HTTP ${response.status}: ${text.slice(0, 160)}`);
      else counts.acknowledged += count;
    } catch (error) {
      latencies.push(performance.now() - started);
      fail('network', count, (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    }
    options.onProgress?.({ ...counts });
  }

  // Requests leave at an even pace; at most `concurrency` wait for an answer at once.
  const started = Date.now();
  const interval = (1000 * batchSize) / options.rate;
  const inFlight = new Set<Promise<void>>();
  const stopped = () => options.signal?.aborted === true;
  for (let request = 0; counts.sent < planned && !stopped(); request += 1) {
    const due = started + request * interval;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (stopped()) break;
    const pending = send(Math.min(batchSize, planned - counts.sent)).finally(() => inFlight.delete(pending));
    inFlight.add(pending);
  }
  await Promise.all(inFlight);

  const elapsedMs = Date.now() - started;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    ...counts,
    planned: counts.sent,
    target: describeTarget(target),
    things,
    outOfRange,
    failures,
    failureSamples,
    elapsedMs,
    acknowledgedPerSecond: counts.acknowledged / Math.max(elapsedMs / 1000, 0.001),
    latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 },
  };
}

export function formatSummary(summary: SimulationSummary, min: number, max: number): string {
  const lines = [
    '',
    `Sent ${summary.sent} readings from ${summary.things.length} things in ${(summary.elapsedMs / 1000).toFixed(1)} s to ${summary.target}`,
    `  acknowledged  ${summary.acknowledged} (${summary.acknowledgedPerSecond.toFixed(1)}/s)`,
    `  failed        ${summary.failed}${Object.keys(summary.failures).length === 0 ? '' : `  (${Object.entries(summary.failures).map(([reason, count]) => `${reason}: ${count}`).join(', ')})`}`,
    `  out of range  ${summary.outOfRange} outside ${min} to ${max} °C (alerts go out when a series leaves or re-enters its range)`,
    `  latency       p50 ${summary.latencyMs.p50.toFixed(1)} ms, p95 ${summary.latencyMs.p95.toFixed(1)} ms, p99 ${summary.latencyMs.p99.toFixed(1)} ms, max ${summary.latencyMs.max.toFixed(1)} ms`,
  ];
  for (const sample of summary.failureSamples) lines.push(`  e.g. ${sample}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const program = withTargetOptions(new Command('npm run simulate --'))
    .description('Synthetic temperature sensors (Gaussian 20 ± 3 °C, like those of the 2016 report) sending readings to the platform.')
    .addOption(new Option('--things <n>', 'number of sensors').argParser(wholeNumber('--things', 100_000)).default(5))
    .addOption(new Option('--rate <readings/s>', 'readings per second, all sensors together').argParser(positiveNumber('--rate', 100_000)).default(10))
    .addOption(new Option('--duration <seconds>', 'how long to send').argParser(positiveNumber('--duration', 86_400)).default(30))
    .addOption(new Option('--batch <n>', 'readings per request: 1 = PUT each (as in the 2016 report), more = the batch endpoint').argParser(wholeNumber('--batch', 500)).default(1))
    .addOption(new Option('--concurrency <n>', 'requests in flight at most').argParser(wholeNumber('--concurrency', 1000)).default(32))
    .option('--prefix <id>', 'thing id prefix', 'things/sim')
    .addOption(new Option('--min <number>', 'lower threshold').argParser(finiteNumber).default(SEED_READINGS.min))
    .addOption(new Option('--max <number>', 'upper threshold').argParser(finiteNumber).default(SEED_READINGS.max))
    .option('--set-thresholds', 'first set --min/--max as the thresholds of every simulated series', false)
    .addOption(new Option('--seed <n>', 'seed of the value generator, to repeat a run').argParser(seedNumber))
    .exitOverride()
    .parse();
  const flags = program.opts<TargetFlags & { things: number; rate: number; duration: number; batch: number; concurrency: number; prefix: string; min: number; max: number; setThresholds: boolean; seed?: number }>();
  if (flags.min > flags.max) throw new UsageError(`--min ${flags.min} is above --max ${flags.max}`);
  // The last id is the longest: if the ingest API takes it, it takes them all.
  const idProblem = thingIdProblem(thingIds(flags.prefix, flags.things).at(-1) as string);
  if (idProblem !== undefined) throw new UsageError(`--prefix ${JSON.stringify(flags.prefix)} gives thing ids the ingest API refuses: ${idProblem}`);
  const target = resolveTarget(flags);

  const planned = Math.max(1, Math.round(flags.rate * flags.duration));
  console.log(`Simulating ${flags.things} sensors at ${flags.rate} readings/s for ${flags.duration} s against ${describeTarget(target)}`);
  const bar = new SingleBar({
    format: ' {bar} {percentage}% | sent {sent} | acknowledged {acknowledged} | failed {failed} | {eta_formatted} left',
    hideCursor: true,
    noTTYOutput: false,
  });
  bar.start(planned, 0, { sent: 0, acknowledged: 0, failed: 0 });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  const summary = await simulate(target, {
    things: flags.things,
    rate: flags.rate,
    durationSeconds: flags.duration,
    batchSize: flags.batch,
    concurrency: flags.concurrency,
    thingPrefix: flags.prefix,
    min: flags.min,
    max: flags.max,
    setThresholds: flags.setThresholds,
    signal: stop.signal,
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    onProgress: (progress) => bar.update(progress.acknowledged + progress.failed, progress),
  });
  bar.stop();
  console.log(formatSummary(summary, flags.min, flags.max));
  process.exitCode = summary.failed > 0 ? 1 : 0;
}

if (require.main === module) runCli(main);
