/**
 * `npm run bench:rollups`: how long the web app takes to answer a month of a 1 Hz series
 * drawn whole from its rollups, next to an hour of the same series' raw readings, in one run.
 *
 *   rollups   GET /api/rollups, 30 days of one series read once a second (2,592,000
 *             readings), step=auto as the dashboard asks (720 hour buckets)
 *   readings  GET /api/readings, the last hour of that series (3,600 readings) in one page of
 *             the API's largest size (5,000), as the dashboard fetches the points it draws
 *
 * Both are served by the real web app (buildApp with the DynamoDB repository) on the local
 * DynamoDB emulator (dynalite), whose tables are created from the pipeline stack synthesized
 * with the default configuration, as `npm start` creates them. The app is configured from
 * that stack's container environment, the store consumer from its function's. App, emulator
 * and client share this process, so a time includes the emulator's work. The rollups table
 * holds every minute, hour and day item of the month, encoded as the store consumer encodes
 * them and computed from the generated readings as they stream past (no reading is kept);
 * the last hour is stored by the store consumer itself, over Kinesis events in batches of
 * the stack's mapping size, so its raw readings and its rollups are the consumer's own work.
 * Before measuring, each answer is checked (buckets, readings counted, one complete page).
 *
 * Requests are sequential and alternate between the two routes, so a burst of other work
 * on a shared machine lands on both. Also printed: the DynamoDB read units each answer
 * costs (a Query bills the whole items it reads, an hour item's minute parts included).
 * Targets: the month drawn whole answers well under a second, 500 ms at p99, and its median
 * is at most 1.5 times the hour of raw points': a chart of any range costs about what a
 * chart of an hour costs, whatever the range holds.
 *
 *   npm run bench:rollups -- --days 30 --requests 200 --warmup 20
 */
import { DynamoDBClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Command, InvalidArgumentError } from 'commander';
import { kinesisEvent } from '../__tests__/handlers/kinesis-event-fixture';
import { ATTRIBUTES, HANDLER_ENV } from '../handlers/contract';
import { seriesId } from '../handlers/reading-item';
import { timestampOfMillis } from '../handlers/reading-timestamp';
import { rangeCondition, windowStart } from '../handlers/reading-segment';
import { STEP_MS, STORED_STEPS } from '../handlers/rollup';
import { loadSettings, logger } from '../handlers/runtime';
import { createStoreReadingsHandler, STORE_READINGS_SETTINGS, type StoreReadingsSettings } from '../handlers/store-readings';
import { exactDocumentClient } from '../handlers/stored-number';
import { startDynamoEmulator } from '../local/emulators';
import { ensureTables, tableSpecs } from '../local/twin/data-stores';
import { functionSpec } from '../local/twin/functions';
import { loadStack, type LoadedStack } from '../local/twin/load-stack';
import { mappingSpec } from '../local/twin/mappings';
import { synthesizeStacks } from '../local/twin/synth';
import { webServiceSpec } from '../local/twin/web-service';
import { fillRollups, SECOND_MS, valueAt } from './rollup-fill';
import type { RollupsResponse, ReadingsResponse } from '../web/api-types';
import { buildApp } from '../web/app';
import { loadWebConfig, type WebConfig } from '../web/config';
import { createWebDynamoClient } from '../web/dynamo-client';
import { createDynamoRepository, rollupItemRange } from '../web/dynamo-repository';
import { bucketCount, PAGE_LIMITS } from '../web/query';

const TARGET_P99_MS = 500;
const TARGET_RATIO = 1.5;
const THING = 'things/bench/001';
const METRIC = 'temperature';
const SERIES = seriesId(THING, METRIC);
const HOUR_MS = STEP_MS['1h'];
const DAY_MS = STEP_MS['1d'];
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

logger.setLogLevel('SILENT');

interface Options {
  readonly days: number;
  readonly requests: number;
  readonly warmup: number;
}

const wholeNumber =
  (name: string, least = 0) =>
  (text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < least) throw new InvalidArgumentError(`${name} must be a whole number of at least ${least}`);
    return value;
  };
const positive = (name: string) => wholeNumber(name, 1);

const count = (value: number) => value.toLocaleString('en');

// ---------------------------------------------------------------------------
// The last hour, stored by the store consumer
// ---------------------------------------------------------------------------

/** The store consumer's function in the stack: the one given the rollups table. */
function storeConsumer(stack: LoadedStack, endpoint: string): { settings: StoreReadingsSettings; batchSize: number } {
  const functions = stack.resources('aws_lambda_function').map((resource) => functionSpec(stack, resource));
  const store = functions.find((fn) => fn.environment[HANDLER_ENV.rollupsTable] !== undefined && fn.environment[HANDLER_ENV.failureQueueUrl] !== undefined);
  if (store === undefined) throw new Error('the pipeline stack has no function with a rollups table and a failure queue: which one stores the readings?');
  const mapping = stack
    .resources('aws_lambda_event_source_mapping')
    .map(mappingSpec)
    .find((spec) => spec.functionName === store.arn || spec.functionName === store.name);
  if (mapping === undefined) throw new Error(`no event source mapping of the pipeline stack invokes ${store.name}`);
  return { settings: loadSettings({ ...store.environment, AWS_ENDPOINT_URL_DYNAMODB: endpoint }, STORE_READINGS_SETTINGS), batchSize: mapping.settings.batchSize };
}

/** Runs the store consumer over the readings from `fromMs` to `toMs` (exclusive), in Kinesis batches of `batchSize`. */
async function storeWithConsumer(dynamo: DynamoDBDocumentClient, settings: StoreReadingsSettings, batchSize: number, fromMs: number, toMs: number): Promise<{ readings: number; batches: number }> {
  const refused: string[] = [];
  // The failure queue gets what the consumer cannot store: here that is a broken benchmark.
  const sqs = { send: async (command: { input: unknown }) => void refused.push(JSON.stringify(command.input).slice(0, 300)) } as unknown as SQSClient;
  const handler = createStoreReadingsHandler({ dynamo, sqs, settings, logger });
  let position = 0;
  let batches = 0;
  for (let batchStart = fromMs; batchStart < toMs; batchStart += batchSize * SECOND_MS) {
    const payloads: Record<string, unknown>[] = [];
    for (let at = batchStart; at < Math.min(toMs, batchStart + batchSize * SECOND_MS); at += SECOND_MS) {
      payloads.push({ id: THING, timestamp: new Date(at).toISOString(), [METRIC]: valueAt(at) });
    }
    const response = await handler(kinesisEvent(payloads, position));
    position += payloads.length;
    batches++;
    if (response.batchItemFailures.length > 0 || refused.length > 0) {
      throw new Error(`the store consumer did not store batch ${batches} whole: ${JSON.stringify(response.batchItemFailures.slice(0, 3))} ${refused[0] ?? ''}`);
    }
  }
  return { readings: position, batches };
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

interface Route {
  readonly name: string;
  readonly path: string;
  readonly timesMs: number[];
  bytes: number;
}

/** The web app as the stack's container runs it (its environment), on the emulator. */
async function serveWebApp(stack: LoadedStack, endpoint: string): Promise<{ base: string; config: WebConfig; close: () => Promise<void> }> {
  const service = webServiceSpec(stack);
  if (service === undefined) throw new Error('the pipeline stack has no web service');
  const config = loadWebConfig({ ...service.environment, AWS_ENDPOINT_URL_DYNAMODB: endpoint });
  const client = createWebDynamoClient({ region: config.region, endpoint, credentials: CREDENTIALS });
  const app = buildApp({
    repository: createDynamoRepository({ client, tables: config.tables, seriesCacheSeconds: config.seriesCacheSeconds }),
    assets: new Map(),
    rollupRetentionDays: config.rollupRetentionDays,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  return {
    base,
    config,
    close: async () => {
      await app.close();
      client.destroy();
    },
  };
}

async function timedGet(base: string, route: Route): Promise<string> {
  const started = performance.now();
  const response = await fetch(`${base}${route.path}`);
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`GET ${route.path} answered ${response.status}: ${body.slice(0, 300)}`);
  route.timesMs.push(elapsed);
  route.bytes = Buffer.byteLength(body);
  return body;
}

const percentile = (sorted: readonly number[], fraction: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;

/** DynamoDB read units of a Query, every page, eventually consistent as the repository reads. */
async function readUnits(client: DynamoDBClient, input: Omit<QueryCommandInput, 'ReturnConsumedCapacity' | 'Select'>): Promise<number> {
  let units = 0;
  let start: QueryCommandInput['ExclusiveStartKey'];
  do {
    const page = await client.send(new QueryCommand({ ...input, Select: 'COUNT', ReturnConsumedCapacity: 'TOTAL', ExclusiveStartKey: start }));
    units += page.ConsumedCapacity?.CapacityUnits ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return units;
}

async function main(): Promise<void> {
  const options = new Command('bench:rollups')
    .description('GET /api/rollups over a month of a 1 Hz series against GET /api/readings over its last hour, on the DynamoDB emulator')
    .option('--days <n>', 'days of readings the rollups request covers (a smaller figure runs faster)', positive('days'), 30)
    .option('--requests <n>', 'measured requests per route, alternating', positive('requests'), 200)
    .option('--warmup <n>', 'unmeasured requests per route first (JIT, connection)', wholeNumber('warmup'), 20)
    .parse()
    .opts<Options>();

  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const synth = await synthesizeStacks({ configuration: {} });
  const stack = loadStack(synth.stackFile('pipeline'));
  const emulator = await startDynamoEmulator({ host: '127.0.0.1', port: 0 });
  const lowLevel = new DynamoDBClient({ endpoint: emulator.endpoint, region: stack.region, credentials: CREDENTIALS, requestHandler: new NodeHttpHandler() });
  const dynamo = exactDocumentClient(new DynamoDBClient({ endpoint: emulator.endpoint, region: stack.region, credentials: CREDENTIALS, requestHandler: new NodeHttpHandler() }));
  let web: Awaited<ReturnType<typeof serveWebApp>> | undefined;
  try {
    await ensureTables(lowLevel, tableSpecs(stack));
    const consumer = storeConsumer(stack, emulator.endpoint);
    console.log(`tables of the pipeline stack (${synth.reused ? 'synth reused' : 'synthesized'}) created on dynalite at ${seconds()} s`);

    // The month ends at the last whole hour; its last hour goes through the store consumer.
    const endMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    const fromMs = endMs - options.days * DAY_MS;
    const consumerFromMs = endMs - HOUR_MS;
    const filled = await fillRollups(dynamo, consumer.settings, SERIES, fromMs, consumerFromMs);
    console.log(
      `rollups of ${count(filled.readings)} readings written at ${seconds()} s: ${STORED_STEPS.map((step) => `${count(filled.items[step])} ${step}`).join(', ')} items`,
    );
    const stored = await storeWithConsumer(dynamo, consumer.settings, consumer.batchSize, consumerFromMs, endMs);
    console.log(`last hour stored by the store consumer at ${seconds()} s: ${count(stored.readings)} readings in ${stored.batches} batches of up to ${consumer.batchSize}`);

    web = await serveWebApp(stack, emulator.endpoint);
    const { base, config } = web;

    const lastMs = endMs - 1;
    const range = (from: number) => ({ thing: SERIES, from: new Date(from).toISOString(), to: new Date(lastMs).toISOString() });
    const rollups: Route = { name: `/api/rollups ${options.days} d`, path: `/api/rollups?${new URLSearchParams({ ...range(fromMs), step: 'auto' })}`, timesMs: [], bytes: 0 };
    const readings: Route = { name: '/api/readings 1 h', path: `/api/readings?${new URLSearchParams({ ...range(consumerFromMs), limit: String(PAGE_LIMITS.max) })}`, timesMs: [], bytes: 0 };

    // The answers are checked once: a fast wrong answer would measure nothing.
    const rolled = JSON.parse(await timedGet(base, rollups)) as RollupsResponse;
    const rolledReadings = rolled.items.reduce((sum, bucket) => sum + Number(bucket.count), 0);
    const expectedBuckets = bucketCount(fromMs, lastMs, rolled.step);
    if (rolledReadings !== options.days * 86_400 || rolled.items.length !== expectedBuckets) {
      throw new Error(`/api/rollups answered ${rolled.items.length} buckets of ${rolled.step} counting ${count(rolledReadings)} readings; expected ${expectedBuckets} counting ${count(options.days * 86_400)}`);
    }
    const page = JSON.parse(await timedGet(base, readings)) as ReadingsResponse;
    if (page.items.length !== 3_600 || page.nextCursor !== null) throw new Error(`/api/readings answered ${page.items.length} readings${page.nextCursor === null ? '' : ' and a next page'}; expected 3,600 in one page`);

    // The items the repository reads for that step (hours come from their days' parts).
    const items = rollupItemRange({ step: rolled.step, from: timestampOfMillis(fromMs), to: timestampOfMillis(lastMs) });
    const bucketRange = { ':s': { S: SERIES }, ':a': { S: items.from }, ':b': { S: items.to } };
    const [rollupUnits, readingUnits] = await Promise.all([
      readUnits(lowLevel, { TableName: config.tables.rollups, KeyConditionExpression: `${ATTRIBUTES.series} = :s AND #b BETWEEN :a AND :b`, ExpressionAttributeNames: { '#b': ATTRIBUTES.bucket }, ExpressionAttributeValues: bucketRange }),
      readUnits(lowLevel, {
        TableName: config.tables.things,
        KeyConditionExpression: `${ATTRIBUTES.series} = :s AND #t BETWEEN :a AND :b`,
        ExpressionAttributeNames: { '#t': ATTRIBUTES.timestamp },
        // The segment items that can hold the range's readings (handlers/reading-segment.ts).
        ExpressionAttributeValues: { ':s': { S: SERIES }, ':a': { S: windowStart(timestampOfMillis(consumerFromMs)) }, ':b': { S: rangeCondition(undefined, timestampOfMillis(lastMs)).values[':to'] as string } },
      }),
    ]);

    for (let index = 0; index < options.warmup; index++) {
      await timedGet(base, rollups);
      await timedGet(base, readings);
    }
    rollups.timesMs.length = 0;
    readings.timesMs.length = 0;
    for (let index = 0; index < options.requests; index++) {
      await timedGet(base, rollups);
      await timedGet(base, readings);
    }
    console.log(`measured at ${seconds()} s\n`);
    console.log(`GET ${rollups.path}\n  ${count(rolled.items.length)} buckets of ${rolled.step}, ${count(rolledReadings)} readings`);
    console.log(`GET ${readings.path}\n  ${count(page.items.length)} readings, one page\n`);
    report(options, [
      [rollups, rollupUnits],
      [readings, readingUnits],
    ]);
  } finally {
    await web?.close();
    lowLevel.destroy();
    dynamo.destroy();
    await emulator.stop();
  }
}

function report(options: Options, routes: readonly (readonly [Route, number])[]): void {
  const summary = routes.map(([route, units]) => {
    const sorted = [...route.timesMs].sort((a, b) => a - b);
    return { route, units, median: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] as number };
  });
  const rows = [
    ['route', 'median ms', 'p99 ms', 'max ms', 'bytes', 'read units'],
    ...summary.map(({ route, units, median, p99, max }) => [route.name, median.toFixed(1), p99.toFixed(1), max.toFixed(1), count(route.bytes), units.toFixed(1)]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length))) ?? [];
  console.log(`${options.requests} sequential requests per route, alternating, after ${options.warmup} each to warm up`);
  for (const row of rows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join('  '));

  const [rollups, readings] = summary as [(typeof summary)[number], (typeof summary)[number]];
  const ratio = rollups.median / readings.median;
  const passed = rollups.p99 <= TARGET_P99_MS && ratio <= TARGET_RATIO;
  console.log(
    `\n${options.days} days whole / 1 hour of raw readings, medians: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}); rollups p99 ${rollups.p99.toFixed(0)} ms (target <= ${TARGET_P99_MS}): ${passed ? 'PASS' : 'FAIL'}`,
  );
  if (!passed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
