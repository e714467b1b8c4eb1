/**
 * `npm run cost`: what the platform costs per hour at a rate of readings, measured. It
 * starts the local platform with a usage meter (local/usage-meter.ts), sends a scaled-down
 * mix of readings (sensors × readings each, in batches of the given size), waits until
 * every consumer has taken every record and the archive has written them, and prices the
 * units counted per reading at the full rate (cost-model.ts, prices.ts).
 *
 *   npm run cost -- --rate 10 --reading-bytes 100 --sensors 100 --readings 200 --batch 500
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
import { positiveNumber, runCli, thingIdProblem, UsageError, wholeNumber } from './cli';
import { priceMeasurement, type CostReport, type Deployment, type Measurement, type Mix, type TableMode } from './cost-model';
import { PRICES } from './prices';
import { seedTimestamp } from './synthetic';

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
  /** Gives up waiting for the consumers after this long. @default 300 000 */
  readonly timeoutMs?: number;
}

export interface Sample extends Measurement {
  /** Average size of the readings sent, as JSON. */
  readonly readingBytes: number;
  readonly deployment: Omit<Deployment, 'streamMode' | 'web'>;
}

/**
 * Readings of `bytes` bytes of JSON each, round-robin over `sensors`: the thing id is
 * lengthened to reach the size, so every reading is one metric like the 2016 report's.
 * A sensor's readings are a millisecond apart, each 1 µs past its millisecond: never on a
 * whole second, which seedTimestamp writes without a fraction, so the padding (and the
 * sensor's id) is the same for all of them.
 */
export function sampleReadings(sensors: number, perSensor: number, bytes: number, startMicros = Date.now() * 1000): Record<string, string>[] {
  const firstMicros = Math.floor(startMicros / 1000) * 1000 + 1;
  const readings: Record<string, string>[] = [];
  for (let index = 0; index < sensors * perSensor; index += 1) {
    const sensor = index % sensors;
    const reading = { id: `things/cost/${String(sensor).padStart(5, '0')}`, temperature: (18 + (index % 800) / 100).toFixed(2), timestamp: seedTimestamp(firstMicros + Math.floor(index / sensors) * 1000) };
    const missing = bytes - Buffer.byteLength(JSON.stringify(reading));
    if (missing < 0) throw new UsageError(`readings cannot be as small as ${bytes} bytes: the smallest this tool sends is ${bytes - missing}`);
    if (missing > 0) reading.id += `-${'x'.repeat(missing - 1)}`;
    readings.push(reading);
  }
  const problem = thingIdProblem(readings.at(-1)?.id ?? '');
  if (problem !== undefined) throw new UsageError(`readings of ${bytes} bytes need thing ids the ingest API refuses: ${problem}`);
  return readings;
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

/**
 * Waits until every event source mapping has finished (or given up on) every record put on
 * the stream, and every delivery stream has read them all (stopping writes what it buffers).
 */
async function drained(platform: LocalPlatform, meter: UsageMeter, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = meter.usage().kinesis.records;
    const taken = [
      ...Object.entries(platform.consumers()).map(([name, stats]) => [name, stats.recordsDone + stats.recordsDiscarded] as const),
      ...Object.entries(platform.deliveries()).map(([name, stats]) => [name, stats.records + stats.dropped + stats.failed + stats.buffered] as const),
    ];
    const behind = taken.filter(([, count]) => count < records);
    if (behind.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the consumers and the archive did not take all ${records} records within ${timeoutMs / 1000} s: ${behind.map(([name, count]) => `${name} ${count}`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs the sample on a fresh local platform and returns what was counted while it ran. */
export async function measureSample(options: SampleOptions): Promise<Sample> {
  const readings = sampleReadings(options.sensors, options.readingsPerSensor, options.readingBytes);
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
    // Start-up (tables, stream, the first polls) is not the pipeline's work per reading.
    meter.reset();
    await send(platform, readings, options.batchSize, options.concurrency ?? 4);
    await drained(platform, meter, options.timeoutMs ?? 300_000);
    // Stopping writes what the archive buffers, as its interval would.
    await platform.stop();
    platform = undefined;
    if (problems.length > 0) throw new Error(`the platform reported problems while measuring:\n  ${problems.slice(0, 5).join('\n  ')}`);
    const usage: Usage = meter.usage();
    const readingBytes = readings.reduce((sum, reading) => sum + Buffer.byteLength(JSON.stringify(reading)), 0) / readings.length;
    return { readings: readings.length, usage, architectures, readingBytes, deployment: { archiveBuffers } };
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
    .addOption(new Option('--readings <n>', 'readings per sensor in the sample run').argParser(wholeNumber('--readings', 10_000)).default(200))
    .addOption(new Option('--batch <n>', 'readings per request: 1 PUTs each, more use the batch endpoint').argParser(wholeNumber('--batch', 500)).default(500))
    .addOption(new Option('--tables <mode>', 'table capacity mode to price').choices(['on-demand', 'provisioned', 'both']).default('both'))
    .option('--config <file>', 'price this platform.config.json instead of the checkout\'s configuration (and PLATFORM_* variables)')
    .option('--json', 'print the figures as JSON', false)
    .exitOverride()
    .parse()
    .opts<{ rate: number; readingBytes: number; sensors: number; readings: number; batch: number; tables: TableMode | 'both'; config?: string; json: boolean }>();
  if (flags.sensors * flags.readings > 1_000_000) throw new UsageError(`--sensors × --readings is ${flags.sensors * flags.readings}: at most 1,000,000 readings per sample`);

  // The configuration schema (ajv) loads only once the flags are good.
  const { loadConfig } = await import('../stacks/config');
  const file = flags.config === undefined ? undefined : path.resolve(flags.config);
  const config = loadConfig(file === undefined ? {} : { env: { PLATFORM_CONFIG: file } });
  const configuration = file === undefined ? undefined : readJsonFile<ConfigurationFile>(file, {});
  if (!flags.json) console.error(`Measuring ${flags.sensors} sensors × ${flags.readings} readings of ${flags.readingBytes} bytes in batches of ${flags.batch} on the local platform...`);
  const sample = await measureSample({ sensors: flags.sensors, readingsPerSensor: flags.readings, batchSize: flags.batch, readingBytes: flags.readingBytes, ...(configuration === undefined ? {} : { configuration }) });
  const mix: Mix = { megabytesPerSecond: flags.rate, readingBytes: flags.readingBytes };
  const deployment: Deployment = { ...sample.deployment, streamMode: config.stream.mode, web: config.cluster };
  const report = priceMeasurement(sample, mix, deployment, PRICES);
  const modes: TableMode[] = flags.tables === 'both' ? ['on-demand', 'provisioned'] : [flags.tables];
  const units = perReading(sample);
  if (flags.json) {
    const totals = Object.fromEntries(modes.map((mode) => [mode, report.totals[mode]]));
    console.log(JSON.stringify({ mix, sample: { sensors: flags.sensors, readingsPerSensor: flags.readings, batchSize: flags.batch, readings: sample.readings, readingBytes: sample.readingBytes }, perReading: units, usage: sample.usage, prices: { region: PRICES.region, checked: PRICES.checked }, readingsPerSecond: report.readingsPerSecond, lines: report.lines, totals }, null, 2));
    return;
  }
  const header = [
    `${flags.rate} MB/s of ${flags.readingBytes}-byte readings = ${Math.round(report.readingsPerSecond).toLocaleString('en-US')} readings/s, in requests of ${flags.batch}; ${config.stream.mode} stream`,
    `Sample: ${sample.readings} readings from ${flags.sensors} sensors (${sample.readingBytes.toFixed(0)} bytes each) through the local platform`,
    `Prices: ${PRICES.region} list prices as of ${PRICES.checked} (tools/prices.ts); the stacks deploy to ${config.region}`,
  ];
  console.log(formatReport(report, modes, header, units));
}

if (require.main === module) runCli(main);
