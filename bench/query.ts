/**
 * `npm run bench:query`: seconds `npm run query` takes locally (DuckDB, the tool's own code
 * path) for a daily-mean query over 10 M archived readings, laid out as Firehose writes
 * them: an object per 5-minute buffer, hourly partitions, gzipped JSON lines. Beside it, in
 * the same run: a bare `count(*)` over the same objects (the cost of reading them at all)
 * and an hours-above-a-threshold query.
 *
 *   npm run bench:query -- --readings 10000000 --series 100 --days 30 --runs 3
 *
 * The archive is generated once into --data-dir and reused while its parameters match
 * (--regenerate forces it).
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { flattenRecords } from '../handlers/archive-flatten';
import { Decimal } from '../handlers/decimal';
import type { Reading } from '../handlers/reading';
import { writeArchiveObject } from '../__tests__/tools/archive-fixture';
import { archiveGlob, runLocalQuery } from '../tools/query-local';

const BUFFER_MS = 300_000;
const START = Date.UTC(2026, 9, 1);

interface Options {
  readonly readings: number;
  readonly series: number;
  readonly days: number;
  readonly runs: number;
  readonly dataDir: string;
  readonly regenerate: boolean;
}

const positive = (text: string) => {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError('a whole number, 1 or more');
  return value;
};

/** Readings spread evenly over the days, series taking turns; each arrives a second after it was taken. */
function generate(options: Options): { objects: number; bytes: number; seconds: number } {
  const started = performance.now();
  const span = options.days * 86_400_000;
  const step = span / options.readings;
  let objects = 0;
  let bytes = 0;
  let pending: Reading[] = [];
  let bufferStart = START;
  const flush = () => {
    if (pending.length === 0) return;
    bytes += statSync(writeArchiveObject(options.dataDir, new Date(bufferStart + 1_000), pending)).size;
    objects += 1;
    pending = [];
  };
  for (let index = 0; index < options.readings; index++) {
    const at = START + Math.floor(index * step);
    if (at + 1_000 >= bufferStart + BUFFER_MS) {
      flush();
      bufferStart = Math.floor((at + 1_000) / BUFFER_MS) * BUFFER_MS;
    }
    const series = index % options.series;
    // A daily cycle of 20 ± 5, different per series.
    const value = Math.round((20 + 5 * Math.sin((at / 86_400_000 + series / options.series) * 2 * Math.PI)) * 100) / 100;
    const timestamp = `${new Date(at).toISOString().slice(0, 23)}000Z`;
    pending.push({ id: `things/bench/${String(series).padStart(3, '0')}`, timestamp, metrics: new Map([['temperature', Decimal.fromNumber(value)!]]) });
  }
  flush();
  return { objects, bytes, seconds: (performance.now() - started) / 1000 };
}

async function timed(sql: string, options: Options): Promise<{ seconds: number[]; rows: number }> {
  const seconds: number[] = [];
  let rows = 0;
  for (let run = 0; run < options.runs; run++) {
    const result = await runLocalQuery(sql, options.dataDir);
    seconds.push(result.elapsedMs / 1000);
    rows = result.rows.length;
  }
  return { seconds, rows };
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The Firehose processor on 1 MB events (its buffer size) of ~100-byte, two-metric readings,
 * beside a bare loop that only base64-decodes, JSON.parses and re-encodes each record.
 */
function processorThroughput(events: number): { flattenMBps: number; bareMBps: number } {
  const records = [];
  for (let size = 0, index = 0; size < 1_000_000; index++) {
    const data = Buffer.from(JSON.stringify({ id: `things/harrow/${String(index % 100).padStart(3, '0')}`, timestamp: new Date(START + index * 1000).toISOString(), temperature: '19.57', humidity: '40.2' })).toString('base64');
    records.push({ recordId: String(index), approximateArrivalTimestamp: START, data });
    size += Buffer.byteLength(data, 'base64');
  }
  const event: FirehoseTransformationEvent = { invocationId: 'bench', deliveryStreamArn: 'arn:bench', region: 'eu-west-2', records };
  const megabytes = records.reduce((total, record) => total + Buffer.byteLength(record.data, 'base64'), 0) / 1e6;
  const rate = (work: () => void) => {
    work();
    const started = performance.now();
    for (let run = 0; run < events; run++) work();
    return (megabytes * events) / ((performance.now() - started) / 1000);
  };
  const bare = () => {
    for (const record of event.records) Buffer.from(JSON.stringify(JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'))), 'utf8').toString('base64');
  };
  // Alternate, so a burst of other work on the machine hits both sides.
  const flatten: number[] = [];
  const bareRates: number[] = [];
  for (let round = 0; round < 3; round++) {
    flatten.push(rate(() => flattenRecords(event)));
    bareRates.push(rate(bare));
  }
  return { flattenMBps: median(flatten), bareMBps: median(bareRates) };
}

async function main(): Promise<void> {
  const options = new Command('npm run bench:query --')
    .option('--readings <n>', 'archived readings (one metric each, so one row each)', positive, 10_000_000)
    .option('--series <n>', 'series they belong to', positive, 100)
    .option('--days <n>', 'days they span', positive, 30)
    .option('--runs <n>', 'runs of each query (the median is reported)', positive, 3)
    .option('--data-dir <dir>', 'where the generated archive is kept between runs', path.join(tmpdir(), 'iot-bench-query'))
    .option('--regenerate', 'generate the archive again even if one with these parameters exists', false)
    .parse()
    .opts<Options>();

  const processor = processorThroughput(10);
  console.log(
    `archive-flatten (Firehose processor), 1 MB events of ~100-byte readings with 2 metrics: ${processor.flattenMBps.toFixed(1)} MB/s in, ` +
      `${(processor.flattenMBps / processor.bareMBps).toFixed(2)}x a bare decode + JSON.parse + encode loop (${processor.bareMBps.toFixed(1)} MB/s); ` +
      `at 10 MB/s of readings one such core is busy ${(10 / processor.flattenMBps).toFixed(2)} s per second\n`,
  );

  const marker = path.join(options.dataDir, 'bench-parameters.json');
  const parameters = JSON.stringify({ readings: options.readings, series: options.series, days: options.days, layout: 1 });
  if (options.regenerate || !existsSync(marker) || readFileSync(marker, 'utf8') !== parameters) {
    rmSync(options.dataDir, { recursive: true, force: true });
    console.log(`Generating ${options.readings.toLocaleString('en-US')} archived readings of ${options.series} series over ${options.days} days in ${options.dataDir} ...`);
    const generated = generate(options);
    writeFileSync(marker, parameters);
    console.log(`  ${generated.objects.toLocaleString('en-US')} objects, ${(generated.bytes / 1e6).toFixed(0)} MB gzipped, in ${generated.seconds.toFixed(1)} s`);
  } else console.log(`Reusing the archive in ${options.dataDir} (${archiveGlob(options.dataDir)})`);

  const queries = [
    ['bare count(*) over every object', 'SELECT count(*) FROM readings'],
    ['daily mean per series', "SELECT series, date_trunc('day', ts) AS day, avg(value) AS mean FROM readings GROUP BY 1, 2 ORDER BY 1, 2"],
    ['hours above 24 per series', "SELECT series, date_trunc('hour', ts) AS hour_start, max(value) AS peak FROM readings WHERE value > 24 GROUP BY 1, 2"],
  ] as const;
  const results = [];
  for (const [name, sql] of queries) results.push({ name, ...(await timed(sql, options)) });

  const bare = median(results[0]!.seconds);
  console.log(`\nnpm run query locally (DuckDB), ${options.readings.toLocaleString('en-US')} rows, median of ${options.runs} runs:`);
  for (const result of results) {
    const seconds = median(result.seconds);
    console.log(
      `  ${result.name.padEnd(34)} ${seconds.toFixed(2).padStart(6)} s  ${((options.readings / seconds) / 1e6).toFixed(1).padStart(5)} M rows/s  ` +
        `${(seconds / bare).toFixed(2)}x the bare count  (${result.rows.toLocaleString('en-US')} result rows; runs ${result.seconds.map((value) => value.toFixed(2)).join(', ')} s)`,
    );
  }
  // With at least a reading per series per day, every series has a mean for every day.
  const expectedDays = results[1]!.rows;
  if (options.readings >= options.series * options.days && expectedDays !== options.series * options.days) {
    console.error(`daily means: expected ${options.series * options.days} rows (series x days), got ${expectedDays}`);
    process.exitCode = 1;
  }
}

void main();
