/**
 * `npm run cost`: what the platform costs per hour at a rate of readings, measured. It
 * starts the local platform with a usage meter (local/usage-meter.ts), sends a scaled-down
 * mix of readings (sensors × readings each, in batches of the given size) at the pace of
 * the fleet they stand for (cost-sample.ts), waits until every consumer has taken every
 * record and the archive has written them, and prices the units counted per reading at the
 * full rate (cost-model.ts, prices.ts).
 *
 *   npm run cost -- --rate 10 --reading-bytes 100 --fleet 10000 --sensors 100 --readings 200 --batch 500
 *   npm run cost -- --json
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { readJsonFile } from '../local/json-file';
import type { LocalPlatform } from '../local/platform';
import type { ConfigurationFile } from '../local/twin/synth';
import { UsageMeter, type Usage } from '../local/usage-meter';
import { positiveNumber, runCli, UsageError, wholeNumber } from './cli';
import { leadInReadings, minuteOfReadings, samplePace, sampleReadings, steadyStateStart, warmUpReadings, type Fleet, type SamplePace } from './cost-sample';
import { priceMeasurement, type CostReport, type Deployment, type Measurement, type Mix, type TableMode } from './cost-model';
import { PRICES } from './prices';

/** Longer than any sample runs: the stack's schedules (every minute) do not run while one does. */
const SCHEDULES_OFF_SECONDS = 86_400;

export interface SampleOptions {
  readonly sensors: number;
  readonly readingsPerSensor: number;
  /** Readings per request: 1 PUTs each, more go to the batch endpoint. */
  readonly batchSize: number;
  readonly readingBytes: number;
  /** Synthesize with this configuration instead of the user's. @default the user's */
  readonly configuration?: ConfigurationFile;
  /** Batch requests in flight. @default 4 */
  readonly concurrency?: number;
  /** Dates the readings at this fleet's pace and sends them in rounds of one consumer batch (samplePace), after a warm-up and a lead-in minute. @default all at once, 1 ms apart, nothing stored before */
  readonly fleet?: Omit<Fleet, 'streamReaders'>;
  /** Gives up waiting for the consumers after this long, each round. @default 300 000 */
  readonly timeoutMs?: number;
}

export interface Sample extends Measurement {
  /** How the sample was paced, if it was. */
  readonly pace?: SamplePace;
  /** Average size of the readings sent, as JSON. */
  readonly readingBytes: number;
  readonly deployment: Omit<Deployment, 'streamMode' | 'web'>;
}

async function send(platform: LocalPlatform, readings: readonly Record<string, string>[], batchSize: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < readings.length) {
      const slice = readings.slice(next, next + batchSize);
      next += batchSize;
      const single = batchSize === 1;
      const response = await fetch(single ? platform.urls.ingest : platform.urls.batchIngest, {
        method: single ? 'PUT' : 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': platform.apiKey },
        body: JSON.stringify({ Data: single ? slice[0] : slice }),
      });
      if (response.status !== 200) throw new Error(`the ingest API answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Records each event source mapping and delivery stream has taken (done, given up on, or buffered), by name. */
function recordsTaken(platform: LocalPlatform): Map<string, number> {
  return new Map([
    ...Object.entries(platform.consumers()).map(([name, stats]) => [name, stats.recordsDone + stats.recordsDiscarded] as const),
    ...Object.entries(platform.deliveries()).map(([name, stats]) => [name, stats.records + stats.dropped + stats.failed + stats.buffered] as const),
  ]);
}

/**
 * Waits until every event source mapping has finished (or given up on) every record put on
 * the stream since the meter was reset, when each had taken `before` (recordsTaken), and
 * every delivery stream has read them all (stopping writes what it buffers).
 */
async function drained(platform: LocalPlatform, meter: UsageMeter, before: ReadonlyMap<string, number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = meter.usage().kinesis.records;
    const behind = [...recordsTaken(platform)].map(([name, count]) => [name, count - (before.get(name) ?? 0)] as const).filter(([, count]) => count < records);
    if (behind.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the consumers and the archive did not take all ${records} records within ${timeoutMs / 1000} s: ${behind.map(([name, count]) => `${name} ${count}`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs the sample on a fresh local platform and returns what was counted while it ran. With
 * a pace, the readings are dated at the fleet's pace from a steady-state start, the warm-up
 * is stored first (not counted), and the sample is sent in rounds of one consumer batch.
 */
export async function measureSample(options: SampleOptions): Promise<Sample> {
  const concurrency = options.concurrency ?? 4;
  const timeoutMs = options.timeoutMs ?? 300_000;
  // The platform (emulators, servers) loads only when a sample runs: `--help` and bad flags answer at once.
  const [{ startLocalPlatform }, { deliverySettings }, { loadStack }] = await Promise.all([import('../local/platform'), import('../local/twin/delivery-streams'), import('../local/twin/load-stack')]);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cost-'));
  const meter = new UsageMeter();
  const problems: string[] = [];
  let platform: LocalPlatform | undefined;
  try {
    platform = await startLocalPlatform({
      dataDir,
      clean: true,
      ports: { ingest: 0, web: 0, dynamodb: 0, kinesis: 0, messaging: 0 },
      meter,
      // Scheduled checks run by the clock, not per reading: kept out of what is measured per reading.
      scheduleIntervalSeconds: SCHEDULES_OFF_SECONDS,
      ...(options.configuration === undefined ? {} : { configuration: options.configuration }),
      log: (line) => {
        if (/error|fail|giving up/i.test(line)) problems.push(line);
      },
    });
    const stack = loadStack(platform.stackFile);
    const architectures = Object.fromEntries(
      stack.resources('aws_lambda_function').map((fn) => [String(fn.config.function_name), ((fn.config.architectures as string[] | undefined)?.[0] ?? 'x86_64') as 'arm64' | 'x86_64']),
    );
    const archiveBuffers = stack.resources('aws_kinesis_firehose_delivery_stream').map((resource) => {
      const settings = deliverySettings(resource);
      return { bytes: settings.bufferBytes, seconds: settings.bufferSeconds };
    });
    const streamReaders = stack.resources('aws_lambda_event_source_mapping').length + archiveBuffers.length;
    const pace = options.fleet === undefined ? undefined : samplePace({ ...options.fleet, streamReaders });
    const startMicros = pace === undefined ? Date.now() * 1000 : steadyStateStart(Date.now());
    const intervalMicros = pace === undefined ? 1000 : Math.round(1e6 / pace.readingsPerSecond);
    const readings = sampleReadings(options.sensors, options.readingsPerSensor, options.readingBytes, { startMicros, intervalMicros });
    const roundSize = options.sensors * (pace?.readingsPerBatch ?? options.readingsPerSensor);
    // Each round is drained before the next: what the consumers take is counted from the meter's reset.
    // A round is one consumer batch either way; ending the window once it is on the stream saves waiting it out.
    const running = platform;
    const inRounds = async (sent: readonly Record<string, string>[], size = roundSize) => {
      meter.reset();
      const before = recordsTaken(running);
      for (let start = 0; start < sent.length; start += size) {
        await send(running, sent.slice(start, start + size), options.batchSize, concurrency);
        running.endBatchingWindows();
        await drained(running, meter, before, timeoutMs);
      }
    };
    // Start-up (tables, stream, the first polls), the warm-up and the lead-in are not the pipeline's work per reading.
    if (pace !== undefined) {
      const warmUp = warmUpReadings(options.sensors, options.readingBytes, startMicros);
      await inRounds(warmUp, warmUp.length);
      await inRounds(leadInReadings(options.sensors, options.readingsPerSensor, options.readingBytes, startMicros, intervalMicros));
      // The archive writes what it buffered of them before the sample is counted.
      await platform.flushDeliveries();
    }
    await inRounds(readings);
    // Stopping writes what the archive buffers, as its interval would.
    await platform.stop();
    platform = undefined;
    if (problems.length > 0) throw new Error('the platform reported problems while measuring');
    const usage: Usage = meter.usage();
    const readingBytes = readings.reduce((sum, reading) => sum + Buffer.byteLength(JSON.stringify(reading)), 0) / readings.length;
    return { readings: readings.length, usage, architectures, readingBytes, deployment: { archiveBuffers }, ...(pace === undefined ? {} : { pace }) };
  } catch (error) {
    // What the platform logged says why a request or a batch failed.
    if (error instanceof Error && problems.length > 0) error.message += `:\n  ${problems.slice(0, 5).join('\n  ')}`;
    throw error;
  } finally {
    await platform?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Per-reading figures of a sample: what each reading cost in each unit. */
export function perReading(sample: Pick<Sample, 'readings' | 'usage'>): Record<string, number> {
  const { usage, readings } = sample;
  const of = (total: number) => total / readings;
  const tables = Object.entries(usage.dynamodb);
  const functions = Object.entries(usage.lambda);
  return {
    apiRequests: of(usage.api.requests),
    streamRecords: of(usage.kinesis.records),
    streamBytes: of(usage.kinesis.bytes),
    putPayloadUnits: of(usage.kinesis.putPayloadUnits),
    streamBytesRead: of(usage.kinesis.bytesRead),
    dynamoWriteUnits: of(tables.reduce((sum, [, table]) => sum + table.writeUnits, 0)),
    dynamoReadUnits: of(tables.reduce((sum, [, table]) => sum + table.readUnits, 0)),
    ...Object.fromEntries(
      tables.flatMap(([name, table]) => [
        [`writeUnits:${name}`, of(table.writeUnits)],
        [`readUnits:${name}`, of(table.readUnits)],
        [`itemsPut:${name}`, of(table.itemsPut)],
      ]),
    ),
    firehoseRecords: of(usage.firehose.records),
    firehoseBilledBytes: of(usage.firehose.billedBytes),
    archiveBytes: of(usage.s3.bytes),
    lambdaInvocations: of(functions.reduce((sum, [, fn]) => sum + fn.invocations, 0)),
    lambdaGbSeconds: of(functions.reduce((sum, [, fn]) => sum + fn.gbSeconds, 0)),
  };
}

const dollars = (value: number): string => `$${value < 10 ? value.toFixed(3) : value.toFixed(2)}`;

export function formatReport(report: CostReport, modes: readonly TableMode[], header: readonly string[], units: Record<string, number>): string {
  const table = new Table({ head: ['service', 'per hour at the rate', ...modes.map((mode) => `${mode} tables`)], style: { head: [], border: [] }, wordWrap: true, colWidths: [32, 64, ...modes.map(() => 20)] });
  for (const line of report.lines) table.push([`${line.service}${line.measured ? '' : ' *'}`, line.detail, ...modes.map((mode) => dollars(line.dollarsPerHour[mode]))]);
  table.push(['total', '', ...modes.map((mode) => dollars(report.totals[mode]))]);
  const measured = Object.entries(units)
    .filter(([name]) => !name.includes(':'))
    .map(([name, value]) => `${name} ${Number(value.toPrecision(4))}`)
    .join(', ');
  // How many readings each item put holds, by table (the things table's packing shows here).
  const perItem = Object.entries(units)
    .filter(([name, value]) => name.startsWith('itemsPut:') && value > 0)
    .map(([name, value]) => `${name.slice('itemsPut:'.length)} ${Number((1 / value).toPrecision(4))}`)
    .join(', ');
  return [...header, `Measured per reading: ${measured}`, ...(perItem === '' ? [] : [`Readings per item put: ${perItem}`]), 'Dollars per hour:', table.toString(), '* sized from the rate and the stack configuration, not measured per reading'].join('\n');
}

async function main(): Promise<void> {
  const flags = new Command('npm run cost --')
    .description('Measures what the pipeline does per reading on the local platform and prices it per hour at a rate.')
    .addOption(new Option('--rate <MB/s>', 'megabytes (10^6 bytes) of readings per second to price').argParser(positiveNumber('--rate', 10_000)).default(10))
    .addOption(new Option('--reading-bytes <n>', 'size of each reading as JSON').argParser(wholeNumber('--reading-bytes', 100_000)).default(100))
    .addOption(new Option('--sensors <n>', 'sensors in the sample run').argParser(wholeNumber('--sensors', 10_000)).default(100))
    .addOption(new Option('--readings <n>', 'readings per sensor in the sample run (default: a minute of each at the fleet\'s pace)').argParser(wholeNumber('--readings', 10_000)))
    .addOption(new Option('--fleet <n>', 'sensors sharing the rate: sets how often each sends, so how many of its readings a consumer batch holds').argParser(wholeNumber('--fleet', 10_000_000)).default(10_000))
    .addOption(new Option('--batch <n>', 'readings per request: 1 PUTs each, more use the batch endpoint').argParser(wholeNumber('--batch', 500)).default(500))
    .addOption(new Option('--tables <mode>', 'table capacity mode to price').choices(['on-demand', 'provisioned', 'both']).default('both'))
    .option('--config <file>', 'price this platform.config.json instead of the checkout\'s configuration (and PLATFORM_* variables)')
    .option('--json', 'print the figures as JSON', false)
    .exitOverride()
    .parse()
    .opts<{ rate: number; readingBytes: number; sensors: number; readings?: number; fleet: number; batch: number; tables: TableMode | 'both'; config?: string; json: boolean }>();
  const perSensor = flags.readings ?? Math.min(minuteOfReadings({ sensors: flags.fleet, megabytesPerSecond: flags.rate, readingBytes: flags.readingBytes }), Math.floor(1_000_000 / flags.sensors));
  if (flags.sensors * perSensor > 1_000_000) throw new UsageError(`--sensors × --readings is ${flags.sensors * perSensor}: at most 1,000,000 readings per sample`);

  // The configuration schema (ajv) loads only once the flags are good.
  const { loadConfig } = await import('../stacks/config');
  const file = flags.config === undefined ? undefined : path.resolve(flags.config);
  const config = loadConfig(file === undefined ? {} : { env: { PLATFORM_CONFIG: file } });
  const configuration = file === undefined ? undefined : readJsonFile<ConfigurationFile>(file, {});
  if (!flags.json) console.error(`Measuring ${flags.sensors} sensors × ${perSensor} readings of ${flags.readingBytes} bytes in batches of ${flags.batch} on the local platform...`);
  const mix: Mix = { megabytesPerSecond: flags.rate, readingBytes: flags.readingBytes };
  const fleet = { sensors: flags.fleet, megabytesPerSecond: flags.rate, readingBytes: flags.readingBytes, batchWindowSeconds: config.consumers.batchWindowSeconds };
  const sample = await measureSample({ sensors: flags.sensors, readingsPerSensor: perSensor, batchSize: flags.batch, readingBytes: flags.readingBytes, fleet, ...(configuration === undefined ? {} : { configuration }) });
  const pace = sample.pace as SamplePace;
  const deployment: Deployment = { ...sample.deployment, streamMode: config.stream.mode, web: config.cluster };
  const report = priceMeasurement(sample, mix, deployment, PRICES);
  const modes: TableMode[] = flags.tables === 'both' ? ['on-demand', 'provisioned'] : [flags.tables];
  const units = perReading(sample);
  if (flags.json) {
    const totals = Object.fromEntries(modes.map((mode) => [mode, report.totals[mode]]));
    console.log(JSON.stringify({ mix, sample: { sensors: flags.sensors, readingsPerSensor: perSensor, batchSize: flags.batch, readings: sample.readings, readingBytes: sample.readingBytes },
        fleet: { sensors: flags.fleet, ...pace }, perReading: units, usage: sample.usage, prices: { region: PRICES.region, checked: PRICES.checked }, readingsPerSecond: report.readingsPerSecond, lines: report.lines, totals }, null, 2));
    return;
  }
  const header = [
    `${flags.rate} MB/s of ${flags.readingBytes}-byte readings = ${Math.round(report.readingsPerSecond).toLocaleString('en-US')} readings/s, in requests of ${flags.batch}; ${config.stream.mode} stream`,
    `Fleet: ${flags.fleet.toLocaleString('en-US')} sensors, ${Number(pace.readingsPerSecond.toPrecision(3))} readings/s each; a consumer batch gathers ${Number(pace.batchSeconds.toPrecision(3))} s (the batching window${pace.batchSeconds < fleet.batchWindowSeconds ? ', cut short by the 6 MB payload' : ''}): ${pace.readingsPerBatch} readings of a series`,
    `Sample: ${sample.readings} readings from ${flags.sensors} sensors (${sample.readingBytes.toFixed(0)} bytes each) through the local platform, in rounds of ${pace.readingsPerBatch} per sensor, after a warm-up that fills each series' hour and day rollups halfway and, for a sample of a minute or more, a lead-in minute at the pace`,
    `Prices: ${PRICES.region} list prices as of ${PRICES.checked} (tools/prices.ts); the stacks deploy to ${config.region}`,
  ];
  console.log(formatReport(report, modes, header, units));
}

if (require.main === module) runCli(main);
