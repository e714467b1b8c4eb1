/**
 * `npm run bench:handlers`: records/s of each stream handler with in-memory clients, next
 * to a bare loop that only base64-decodes and JSON.parses the same records, in one run.
 * Targets: store >= 50 % of the bare loop, alerts >= 40 %, with 1 KB readings in batches
 * of 1,000; the store handler keeping rollups >= 70 % of itself without (measured on the
 * same batches, its rollups table held in memory across them, so hours fill up with their
 * minutes' parts as they would; also per second of CPU time, steadier than elapsed time on
 * a shared machine). Every DynamoDB call is answered in memory without marshalling, on both
 * sides alike: a rollup PutItem costs what its command and item cost the handler, as a
 * BatchWriteItem or a catalogue update does. Also prints DynamoDB requests per batch.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { kinesisEvent } from '../__tests__/handlers/kinesis-event-fixture';
import { DEFAULT_FUTURE_TOLERANCE_SECONDS } from '../handlers/contract';
import { logger } from '../handlers/runtime';
import { createStoreReadingsHandler } from '../handlers/store-readings';
import { createThresholdAlertsHandler } from '../handlers/threshold-alerts';

const BATCH = 1000;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const THINGS = 50;
/**
 * Readings a second per sensor: at 10, a batch of 1,000 records is 2 s of the fleet, as
 * batches of a few seconds are in a deployment. The rollups' worst case, one reading per
 * series per minute (a batch then touches 20 minutes of each series), is measured beside it.
 */
const SENSOR_HZ = Number(process.env.BENCH_SENSOR_HZ ?? 10);
const SPARSE_HZ = 1 / 60;
/** Rounds of the store handler with and without rollups; each side's best is kept. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

logger.setLogLevel('SILENT');

/** A reading of about `bytes` of JSON: an id, a time and as many in-range metrics as fit. */
function reading(index: number, bytes: number, hertz = SENSOR_HZ): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: `things/harrow/${String(index % THINGS).padStart(3, '0')}`,
    // Each sensor reads `hertz` times a second, the fleet in step.
    timestamp: new Date(Date.UTC(2026, 10, 27) + Math.floor((Math.floor(index / THINGS) * 1000) / hertz)).toISOString(),
  };
  for (let metric = 0; JSON.stringify(data).length < bytes; metric++) data[`sensor_${metric}`] = (20 + ((index * 7 + metric) % 50) / 10).toFixed(2);
  return data;
}

const ROLLUPS_TABLE = 'iot-rollups';

type Command = { constructor: { name: string }; input: { RequestItems?: Record<string, { Keys?: Record<string, unknown>[] }>; TableName?: string; Item?: Record<string, unknown> } };

/**
 * Counts requests by command and answers like an empty, healthy DynamoDB, except for the
 * rollups table, whose items it keeps (puts stored, BatchGetItem answered from them).
 */
function inMemoryDynamo(counts: Map<string, number>): DynamoDBDocumentClient {
  const rollups = new Map<string, Record<string, unknown>>();
  const rollupKey = (item: Record<string, unknown>) => `${String(item.ThingID)}\u0000${String(item.Bucket)}`;
  const send = async (command: Command) => {
    const name = command.constructor.name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (name === 'PutCommand' && command.input.TableName === ROLLUPS_TABLE && command.input.Item !== undefined) {
      rollups.set(rollupKey(command.input.Item), command.input.Item);
      return {};
    }
    if (name === 'BatchGetCommand' && command.input.RequestItems?.[ROLLUPS_TABLE] !== undefined) {
      const keys = command.input.RequestItems[ROLLUPS_TABLE].Keys ?? [];
      return { Responses: { [ROLLUPS_TABLE]: keys.flatMap((key) => rollups.get(rollupKey(key)) ?? []) }, UnprocessedKeys: {} };
    }
    if (name === 'BatchGetCommand') {
      // Thresholds 18-25 for every series, as the 2016 report's test used.
      const responses = Object.fromEntries(
        Object.entries(command.input.RequestItems ?? {}).map(([table, request]) => [
          table,
          (request.Keys ?? []).map((key) => ({ ...(key as object), MinThreshold: 18, MaxThreshold: 25 })),
        ]),
      );
      return { Responses: responses, UnprocessedKeys: {} };
    }
    return { UnprocessedItems: {} };
  };
  return { send } as unknown as DynamoDBDocumentClient;
}

const unused = { send: async () => ({}) };

/** Records per second of elapsed time, and per second of this process's CPU time (GC threads included). */
interface Rates {
  readonly wall: number;
  readonly cpu: number;
}

async function measureRates(events: KinesisStreamEvent[], run: (event: KinesisStreamEvent) => Promise<unknown>): Promise<Rates> {
  for (const event of events.slice(0, 2)) await run(event); // warm-up
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const event of events) await run(event);
  const used = process.cpuUsage(cpu);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { wall: (events.length * BATCH) / seconds, cpu: (events.length * BATCH) / ((used.user + used.system) / 1e6) };
}

const measure = async (events: KinesisStreamEvent[], run: (event: KinesisStreamEvent) => Promise<unknown>): Promise<number> => (await measureRates(events, run)).wall;

const best = (a: Rates, b: Rates): Rates => ({ wall: Math.max(a.wall, b.wall), cpu: Math.max(a.cpu, b.cpu) });

async function main(): Promise<void> {
  for (const bytes of [1024, 200]) {
    const events = Array.from({ length: BATCHES }, (_, batch) =>
      kinesisEvent(Array.from({ length: BATCH }, (_, i) => reading(batch * BATCH + i, bytes)), batch * BATCH),
    );
    const metrics = Object.keys(reading(0, bytes)).length - 2;

    const bare = await measure(events, async (event) => {
      for (const record of event.Records) JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
    });

    const storeWith = (counts: Map<string, number>, rollupsTable?: string) =>
      createStoreReadingsHandler({
        dynamo: inMemoryDynamo(counts),
        sqs: unused as unknown as SQSClient,
        settings: { thingsTable: 'iot-things', failureQueueUrl: 'http://queue', seriesTable: 'iot-series', rollupsTable, futureToleranceSeconds: DEFAULT_FUTURE_TOLERANCE_SECONDS } as never,
        logger,
      });
    const storeCounts = new Map<string, number>();
    const rollupCounts = new Map<string, number>();
    // Alternated, so a burst of other work on a shared machine does not land on one side only;
    // CPU time as well as elapsed time, as other jobs on a shared machine stretch the latter.
    let store: Rates = { wall: 0, cpu: 0 };
    let rollup: Rates = { wall: 0, cpu: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      store = best(store, await measureRates(events, storeWith(round === 0 ? storeCounts : new Map())));
      rollup = best(rollup, await measureRates(events, storeWith(round === 0 ? rollupCounts : new Map(), ROLLUPS_TABLE)));
    }

    const alertCounts = new Map<string, number>();
    const alerts = createThresholdAlertsHandler({
      dynamo: inMemoryDynamo(alertCounts),
      sns: unused as unknown as SNSClient,
      settings: { thresholdsTable: 'iot-thresholds', alertsTable: 'iot-alerts', alertTopicArn: 'arn:topic', alertCooldownSeconds: 900, futureToleranceSeconds: DEFAULT_FUTURE_TOLERANCE_SECONDS },
      logger,
      cacheTtlMs: 0, // every batch reads its thresholds, the cold-cache worst case
    });
    const alertRate = await measure(events, alerts);

    const perBatch = (counts: Map<string, number>) =>
      [...counts].map(([command, count]) => `${command.replace('Command', '')} ${(count / (BATCHES + 2)).toFixed(1)}`).join(', ');
    console.log(`\n${bytes} B readings (${metrics} metrics, ${THINGS * metrics} series), ${BATCHES} batches of ${BATCH}:`);
    console.log(`  bare decode+parse : ${Math.round(bare).toLocaleString('en')} records/s`);
    console.log(`  store-readings    : ${Math.round(store.wall).toLocaleString('en')} records/s  ratio ${(store.wall / bare).toFixed(2)} (target 0.50)`);
    console.log(`    DynamoDB requests per batch: ${perBatch(storeCounts)} (items/batch ${BATCH * metrics}, ceil(items/25) = ${Math.ceil((BATCH * metrics) / 25)})`);
    console.log(
      `  store + rollups   : ${Math.round(rollup.wall).toLocaleString('en')} records/s  ratio to store without rollups ${(rollup.wall / store.wall).toFixed(2)} (target 0.70); per CPU second ${Math.round(rollup.cpu).toLocaleString('en')} against ${Math.round(store.cpu).toLocaleString('en')}, ratio ${(rollup.cpu / store.cpu).toFixed(2)}`,
    );
    console.log(`    DynamoDB requests per batch: ${perBatch(rollupCounts)} (series/batch ${THINGS * metrics}: a conditional PutItem per changed hour and day, the hour holding its minutes)`);
    console.log(`  threshold-alerts  : ${Math.round(alertRate).toLocaleString('en')} records/s  ratio ${(alertRate / bare).toFixed(2)} (target 0.40)`);
    console.log(`    DynamoDB requests per batch: ${perBatch(alertCounts)} (distinct series ${THINGS * metrics})`);
  }
}

void main();
