/**
 * `npm run bench:handlers`: readings/s of each stream handler with in-memory clients, next
 * to a bare loop that only base64-decodes and JSON.parses the same records, in one run, for
 * two shapes of Kinesis event side by side:
 * - one reading per record, in batches of 1,000 records: what single PUTs and other
 *   producers put on the stream (and what every producer made before the batch API packed);
 * - packed records, as a deployment's batch API makes them: batches of 500 readings of the
 *   fleet rendered by the stack's own PutRecords template (stacks/ingest-templates.ts, the
 *   default buckets) with the local Velocity engine, each shard's records filled into Lambda
 *   batches as the event source mapping fills them (up to its batch size and Lambda's 6 MB
 *   invocation payload).
 * Targets: store >= 50 % of the bare loop and alerts >= 40 %, judged on one-reading records
 * of 1 KB in batches of 1,000 (the shape they were set on, and still what single PUTs make);
 * the store handler keeping rollups >= 70 % of itself without, judged on both shapes (packed
 * records are what a consumer behind the batch API is handed; one-reading records, with far
 * fewer readings per series in a batch, are the harder case, as rollups cost per series per
 * batch). Each is printed for both shapes. Rollups are measured on the same batches, their table held in memory across
 * them, so hours fill up with their minutes' parts as they would; also per second of CPU
 * time, steadier than elapsed time on a shared machine. Every DynamoDB call is answered in
 * memory without marshalling, on both sides alike: a rollup PutItem costs what its command
 * and item cost the handler, as a BatchWriteItem or a catalogue update does. Also prints
 * DynamoDB requests per batch.
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import Table from 'cli-table3';
import { deliveredAsIs, kinesisEvent, kinesisRecord } from '../__tests__/handlers/kinesis-event-fixture';
import { DEFAULT_FUTURE_TOLERANCE_SECONDS, EVENT_SOURCE, MAX_PAYLOAD_BYTES, recordPayloadBytes } from '../handlers/contract';
import { logger } from '../handlers/runtime';
import { createStoreReadingsHandler } from '../handlers/store-readings';
import { createThresholdAlertsHandler } from '../handlers/threshold-alerts';
import { MappingTemplate } from '../local/api-gateway/vtl';
import { batchBuckets, READING_STREAM_LIMITS } from '../stacks/construct-defaults';
import { putRecordsTemplate } from '../stacks/ingest-templates';

/** One-reading records per batch, and batches of them. */
const BATCH = 1000;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
/** Lambda batches of packed records (their size is the event source mapping's, so the readings in each follow from the reading size). */
const PACKED_BATCHES = Number(process.env.BENCH_PACKED_BATCHES ?? 20);
/** Readings a sensor sends in one request to the batch API. */
const API_BATCH = 500;
/** The default stream (provisioned, default shards) and so its default buckets: bucket b lands on shard b. */
const BUCKETS = batchBuckets({ mode: 'provisioned', shardCount: READING_STREAM_LIMITS.shardCount.default });
/** Batches run before each measurement, and counted in the requests per batch. */
const WARMUP = 2;
const THINGS = 50;
/**
 * Readings a second per sensor: at 10, a batch of 1,000 records is 2 s of the fleet, as
 * batches of a few seconds are in a deployment (BENCH_SENSOR_HZ=0.0166 gives the rollups'
 * worst case, one reading per series per minute).
 */
const SENSOR_HZ = Number(process.env.BENCH_SENSOR_HZ ?? 10);
/** Rounds of every measurement, alternated; each one's best is kept. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

logger.setLogLevel('SILENT');

/** A reading of about `bytes` of JSON: an id, a time and as many in-range metrics as fit. */
function reading(index: number, bytes: number): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: `things/harrow/${String(index % THINGS).padStart(3, '0')}`,
    // Each sensor reads SENSOR_HZ times a second, the fleet in step.
    timestamp: new Date(Date.UTC(2026, 10, 27) + Math.floor((Math.floor(index / THINGS) * 1000) / SENSOR_HZ)).toISOString(),
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

/** Events of one shape, with the readings each holds (rates are readings per second). */
interface Workload {
  readonly shape: string;
  readonly events: KinesisStreamEvent[];
  readonly readings: readonly number[];
  readonly records: number;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** One reading per record, `BATCHES` Lambda batches of `BATCH` records. */
function oneReadingWorkload(bytes: number): Workload {
  const events = Array.from({ length: BATCHES }, (_, batch) => kinesisEvent(Array.from({ length: BATCH }, (_, i) => reading(batch * BATCH + i, bytes)), batch * BATCH));
  return { shape: 'one reading per record', events, readings: events.map(() => BATCH), records: BATCHES * BATCH };
}

/**
 * The fleet's readings sent to the batch API `API_BATCH` at a time, each request rendered by
 * the stack's PutRecords template, and each shard's records gathered into Lambda batches
 * as the event source mapping gathers them (it stops before the batch size or the payload
 * limit), until `WARMUP + PACKED_BATCHES` batches are full. A shard's last, partly filled
 * batch is left out: a busy stream's batches are full ones.
 */
function packedWorkload(bytes: number): Workload {
  const template = new MappingTemplate(putRecordsTemplate('iot-readings', BUCKETS), 'batch request template');
  const shards = Array.from({ length: BUCKETS }, () => ({ records: [] as KinesisStreamRecord[], readings: 0, payload: 0, position: 0 }));
  const events: KinesisStreamEvent[] = [];
  const readings: number[] = [];
  let records = 0;
  for (let request = 0; events.length < WARMUP + PACKED_BATCHES; request++) {
    const body = JSON.stringify({ Data: Array.from({ length: API_BATCH }, (_, i) => reading(request * API_BATCH + i, bytes)) });
    const rendered = JSON.parse(template.render({ payload: { body, params: { path: {}, querystring: {}, header: {} } }, context: {}, stageVariables: {} })) as { Records: { PartitionKey: string; Data: string }[] };
    for (const { PartitionKey, Data } of rendered.Records) {
      const shard = shards[Number(PartitionKey)];
      if (shard === undefined) throw new Error(`the template put a record in bucket ${PartitionKey}, outside the ${BUCKETS} buckets`);
      const data = Buffer.from(Data, 'base64');
      const size = recordPayloadBytes(data.length);
      if (shard.records.length === EVENT_SOURCE.batchSize || (shard.records.length > 0 && shard.payload + size > MAX_PAYLOAD_BYTES)) {
        events.push({ Records: shard.records });
        readings.push(shard.readings);
        records += shard.records.length;
        Object.assign(shard, { records: [], readings: 0, payload: 0 });
      }
      shard.records.push(kinesisRecord(deliveredAsIs(Data), shard.position++, PartitionKey));
      shard.readings += (JSON.parse(data.toString('utf8')) as unknown[]).length;
      shard.payload += size;
    }
  }
  return { shape: 'packed (batch API)', events, readings, records };
}

/** Readings per second of elapsed time, and per second of this process's CPU time (GC threads included). */
interface Rates {
  readonly wall: number;
  readonly cpu: number;
}

/** Runs the first `WARMUP` events, then times the rest (readings counted after the warm-up). */
async function measureRates(workload: Workload, run: (event: KinesisStreamEvent) => Promise<unknown>): Promise<Rates> {
  for (const event of workload.events.slice(0, WARMUP)) await run(event);
  const measured = workload.events.slice(WARMUP);
  const readings = sum(workload.readings.slice(WARMUP));
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const event of measured) await run(event);
  const used = process.cpuUsage(cpu);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { wall: readings / seconds, cpu: readings / ((used.user + used.system) / 1e6) };
}

const best = (a: Rates, b: Rates): Rates => ({ wall: Math.max(a.wall, b.wall), cpu: Math.max(a.cpu, b.cpu) });

interface ShapeFigures {
  readonly workload: Workload;
  readonly bare: Rates;
  readonly store: Rates;
  readonly rollup: Rates;
  readonly alerts: Rates;
  readonly requests: { readonly store: Map<string, number>; readonly rollup: Map<string, number>; readonly alerts: Map<string, number> };
}

const storeWith = (counts: Map<string, number>, rollupsTable?: string) =>
  createStoreReadingsHandler({
    dynamo: inMemoryDynamo(counts),
    sqs: unused as unknown as SQSClient,
    settings: { thingsTable: 'iot-things', failureQueueUrl: 'http://queue', seriesTable: 'iot-series', rollupsTable, futureToleranceSeconds: DEFAULT_FUTURE_TOLERANCE_SECONDS } as never,
    logger,
  });

const alertsWith = (counts: Map<string, number>) =>
  createThresholdAlertsHandler({
    dynamo: inMemoryDynamo(counts),
    sns: unused as unknown as SNSClient,
    settings: { thresholdsTable: 'iot-thresholds', alertsTable: 'iot-alerts', alertTopicArn: 'arn:topic', alertCooldownSeconds: 900, futureToleranceSeconds: DEFAULT_FUTURE_TOLERANCE_SECONDS },
    logger,
    cacheTtlMs: 0, // every batch reads its thresholds, the cold-cache worst case
  });

const bareLoop = async (event: KinesisStreamEvent): Promise<void> => {
  for (const record of event.Records) JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
};

/**
 * Every measurement `ROUNDS` times, alternated, each keeping its best: a burst of other work
 * on a shared machine then does not land on one side only. CPU time as well as elapsed
 * time, as other jobs on a shared machine stretch the latter. Requests are counted in the first round.
 */
async function measureShape(workload: Workload): Promise<ShapeFigures> {
  const requests = { store: new Map<string, number>(), rollup: new Map<string, number>(), alerts: new Map<string, number>() };
  const none: Rates = { wall: 0, cpu: 0 };
  let [bare, store, rollup, alerts] = [none, none, none, none];
  for (let round = 0; round < ROUNDS; round++) {
    const counted = (counts: Map<string, number>) => (round === 0 ? counts : new Map<string, number>());
    bare = best(bare, await measureRates(workload, bareLoop));
    store = best(store, await measureRates(workload, storeWith(counted(requests.store))));
    rollup = best(rollup, await measureRates(workload, storeWith(counted(requests.rollup), ROLLUPS_TABLE)));
    alerts = best(alerts, await measureRates(workload, alertsWith(counted(requests.alerts))));
  }
  return { workload, bare, store, rollup, alerts, requests };
}

const count = (value: number): string => Math.round(value).toLocaleString('en');
const ratio = (value: number, of: number): string => `${(value / of).toFixed(2)}×`;

/** Requests of each command per batch (the warm-up batches included, as they were counted). */
const perBatch = (counts: Map<string, number>, batches: number): string =>
  [...counts].map(([command, total]) => `${command.replace('Command', '')} ${(total / batches).toFixed(1)}`).join(', ');

function report(bytes: number, shapes: readonly ShapeFigures[]): void {
  const metrics = Object.keys(reading(0, bytes)).length - 2;
  console.log(`\n${bytes} B readings (${metrics} metrics, ${THINGS * metrics} series from ${THINGS} sensors at ${SENSOR_HZ} Hz); readings/s, each the best of ${ROUNDS} alternated rounds:`);
  const table = new Table({ head: ['', ...shapes.map((figures) => figures.workload.shape), 'target'], style: { head: [], border: [] } });
  const row = (label: string, cell: (figures: ShapeFigures) => string, target = '') => table.push([label, ...shapes.map(cell), target]);
  const measuredBatches = (figures: ShapeFigures) => figures.workload.events.length - WARMUP;
  row('Lambda batches measured', (f) => `${measuredBatches(f)} (+${WARMUP} warm-up)`);
  row('records per batch', (f) => (f.workload.records / f.workload.events.length).toFixed(1));
  row('readings per record', (f) => (sum(f.workload.readings) / f.workload.records).toFixed(1));
  row('readings per batch', (f) => count(sum(f.workload.readings) / f.workload.events.length));
  row('bare decode+parse', (f) => count(f.bare.wall));
  row('store-readings', (f) => `${count(f.store.wall)} (${ratio(f.store.wall, f.bare.wall)} bare)`, '0.50× bare, one reading per record (1 KB)');
  row('store + rollups', (f) => `${count(f.rollup.wall)} (${ratio(f.rollup.wall, f.store.wall)} store)`, '0.70× store, both shapes');
  row('  per CPU second', (f) => `${count(f.rollup.cpu)} against ${count(f.store.cpu)} (${ratio(f.rollup.cpu, f.store.cpu)})`, '0.70× store, both shapes');
  row('threshold-alerts', (f) => `${count(f.alerts.wall)} (${ratio(f.alerts.wall, f.bare.wall)} bare)`, '0.40× bare, one reading per record (1 KB)');
  console.log(table.toString());
  for (const figures of shapes) {
    const batches = figures.workload.events.length;
    console.log(`  DynamoDB requests per batch, ${figures.workload.shape}:`);
    console.log(`    store   : ${perBatch(figures.requests.store, batches)} (BatchWriteItem = ceil(items/25), a segment item per series and hour window; a catalogue update per distinct series)`);
    console.log(`    rollups : ${perBatch(figures.requests.rollup, batches)} (a consistent BatchGetItem of the series' open minutes; once a series' newest minute is past, a Query counting the minutes since and a conditional PutItem per changed hour and day, then the open-minute item)`);
    console.log(`    alerts  : ${perBatch(figures.requests.alerts, batches)} (BatchGetItem = ceil(distinct series/100))`);
  }
}

async function main(): Promise<void> {
  console.log(`Packed records: the stack's PutRecords template with ${BUCKETS} buckets (the default provisioned stream's shards), batches of ${API_BATCH} readings; Lambda batches of at most ${EVENT_SOURCE.batchSize} records and ${MAX_PAYLOAD_BYTES / 1024 / 1024} MB per shard.`);
  for (const bytes of [1024, 200]) {
    const shapes = [await measureShape(oneReadingWorkload(bytes)), await measureShape(packedWorkload(bytes))];
    report(bytes, shapes);
  }
}

void main();
