/**
 * `npm run bench:local`: readings per second through the whole local pipeline (ingest
 * API → Kinesis emulator → store consumer → DynamoDB emulator), next to the emulators'
 * own raw write rates measured in the same run on the same emulator instances:
 *
 *   raw Kinesis   PutRecords of 500 reading-sized records straight into kinesalite
 *   raw DynamoDB  BatchWriteItem of 25 reading items straight into dynalite
 *   pipeline      POST batches of 500 readings to the ingest API (which packs each into
 *                 a few stream records), timed until the store consumer has written
 *                 the last one to the table
 *
 * Target: the pipeline reaches at least 50 % of the slower raw rate. Rounds alternate
 * between the three, and each side's median round is reported, so a burst of other work
 * on a shared machine cannot land on one side only.
 *
 *   npm run bench:local -- --readings 20000 --rounds 3
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Command, InvalidArgumentError } from 'commander';
import { readingsOfItems } from '../handlers/reading-segment';
import { exactDocumentClient } from '../handlers/stored-number';
import { LOCAL_CREDENTIALS } from '../local/defaults';
import { startLocalPlatform, type LocalPlatform } from '../local/platform';
import { ensureStream, tableSpec } from '../local/twin/data-stores';
import { loadStack } from '../local/twin/load-stack';
import { consumerStats, scanTable } from '../verify/probe';

const TARGET_RATIO = 0.5;
const BATCH_READINGS = 500;
const DYNAMO_BATCH = 25;
const THINGS = 100;

interface Options {
  readonly readings: number;
  readonly rounds: number;
  readonly concurrency: number;
}

/** A reading like the simulator's: one metric, so one table item per reading. */
function reading(round: string, index: number) {
  return { id: `things/bench-${round}/${String(index % THINGS).padStart(3, '0')}`, temperature: 20 + (index % 700) / 100, timestamp: 1_700_000_000_000 + index };
}

/** Runs `count` jobs with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

async function rawKinesis(kinesis: KinesisClient, stream: string, round: string, options: Options): Promise<number> {
  const requests = Math.ceil(options.readings / BATCH_READINGS);
  const started = performance.now();
  await pool(requests, options.concurrency, async (request) => {
    const records = [];
    for (let index = request * BATCH_READINGS; index < Math.min(options.readings, (request + 1) * BATCH_READINGS); index += 1) {
      const data = reading(round, index);
      records.push({ PartitionKey: data.id, Data: Buffer.from(JSON.stringify(data)) });
    }
    let pending = records;
    while (pending.length > 0) {
      const result = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: pending }));
      pending = pending.filter((_, at) => result.Records?.[at]?.ErrorCode !== undefined);
    }
  });
  return options.readings / ((performance.now() - started) / 1000);
}

async function rawDynamo(dynamo: DynamoDBClient, table: string, round: string, options: Options): Promise<number> {
  const requests = Math.ceil(options.readings / DYNAMO_BATCH);
  const started = performance.now();
  await pool(requests, options.concurrency * 4, async (request) => {
    const writes = [];
    for (let index = request * DYNAMO_BATCH; index < Math.min(options.readings, (request + 1) * DYNAMO_BATCH); index += 1) {
      const data = reading(round, index);
      writes.push({
        PutRequest: {
          Item: { ThingID: { S: `${data.id}/temperature` }, Timestamp: { S: new Date(data.timestamp).toISOString().replace('Z', '000Z') }, Value: { N: String(data.temperature) } },
        },
      });
    }
    let pending: typeof writes = writes;
    while (pending.length > 0) {
      const result = await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
      pending = (result.UnprocessedItems?.[table] ?? []) as typeof writes;
    }
  });
  return options.readings / ((performance.now() - started) / 1000);
}

async function pipeline(platform: LocalPlatform, round: string, options: Options): Promise<number> {
  const store = () => consumerStats(platform, 'store-readings');
  const doneBefore = store().recordsDone;
  const requests = Math.ceil(options.readings / BATCH_READINGS);
  // The API packs each batch into a few stream records and says how many: the consumer is done when it has done them all.
  let records = 0;
  const started = performance.now();
  await pool(requests, options.concurrency, async (request) => {
    const readings = [];
    for (let index = request * BATCH_READINGS; index < Math.min(options.readings, (request + 1) * BATCH_READINGS); index += 1) readings.push(reading(round, index));
    const response = await fetch(platform.urls.batchIngest, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': platform.apiKey },
      body: JSON.stringify({ Data: readings }),
    });
    if (response.status !== 200) throw new Error(`the ingest API answered ${response.status}: ${await response.text()}`);
    records += ((await response.json()) as { records: number }).records;
  });
  while (store().recordsDone - doneBefore < records) {
    if (store().recordsDiscarded > 0) throw new Error('the store consumer gave up on records; see the platform log');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return options.readings / ((performance.now() - started) / 1000);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

async function main(): Promise<void> {
  const whole = (name: string, min: number, max: number) => (text: string) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return value;
  };
  const options = new Command('npm run bench:local --')
    .description('Readings/s through the local pipeline next to the raw write rates of its emulators.')
    .option('--readings <n>', 'readings per round and side', whole('--readings', 1000, 1_000_000), 20_000)
    .option('--rounds <n>', 'rounds per side (the median is reported)', whole('--rounds', 1, 20), 3)
    .option('--concurrency <n>', 'batch requests in flight', whole('--concurrency', 1, 64), 4)
    .parse()
    .opts<Options>();

  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-local-'));
  // Under sustained load every batch is full, so the batching window never delays it; it
  // would only add its length to the last, partial batch of a round and blur the rate.
  const configuration = { consumers: { batchWindowSeconds: 0 } };
  const errors: string[] = [];
  const platform = await startLocalPlatform({
    dataDir,
    ports: { ingest: 0, web: 0, dynamodb: 0, kinesis: 0, messaging: 0 },
    configuration,
    log: (line) => {
      if (/error|fail|giving up/i.test(line)) errors.push(line);
    },
  });
  const clientConfig = { region: platform.region, credentials: LOCAL_CREDENTIALS };
  const kinesis = new KinesisClient({ ...clientConfig, endpoint: platform.urls.kinesis, requestHandler: new NodeHttpHandler() });
  const dynamo = new DynamoDBClient({ ...clientConfig, endpoint: platform.urls.dynamodb });
  try {
    // Raw targets of their own, shaped as the platform's, so the raw writes feed no consumer.
    const rawStream = 'bench-raw-readings';
    const rawTable = 'bench-raw-things';
    await ensureStream(kinesis, rawStream, platform.shardCount);
    const stack = loadStack(platform.stackFile);
    const things = stack.resources('aws_dynamodb_table').find((table) => table.config.name === platform.tables.things);
    if (things === undefined) throw new Error(`the stack has no table ${platform.tables.things}`);
    const mapping = stack.resources('aws_lambda_event_source_mapping')[0];
    await dynamo.send(new CreateTableCommand({ ...tableSpec(things).input, TableName: rawTable }));

    console.log(
      `bench:local  ${options.readings} readings per round, ${options.rounds} rounds, ${options.concurrency} batch requests in flight, ` +
        `${platform.shardCount} shards, consumer batch ${String(mapping?.config.batch_size)}`,
    );
    const rates = { kinesis: [] as number[], dynamo: [] as number[], pipeline: [] as number[] };
    // A warm-up round of each side first: JIT, connection pools, LevelDB files.
    await rawKinesis(kinesis, rawStream, 'warm', { ...options, readings: 2000 });
    await rawDynamo(dynamo, rawTable, 'warm', { ...options, readings: 2000 });
    await pipeline(platform, 'warm', { ...options, readings: 2000 });
    for (let round = 1; round <= options.rounds; round += 1) {
      rates.kinesis.push(await rawKinesis(kinesis, rawStream, `r${round}`, options));
      rates.dynamo.push(await rawDynamo(dynamo, rawTable, `r${round}`, options));
      rates.pipeline.push(await pipeline(platform, `p${round}`, options));
      console.log(
        `  round ${round}: raw PutRecords ${rates.kinesis.at(-1)?.toFixed(0)}/s, raw BatchWriteItem ${rates.dynamo.at(-1)?.toFixed(0)}/s, pipeline ${rates.pipeline.at(-1)?.toFixed(0)}/s`,
      );
    }

    // Every pipeline reading is in the table, once (segment items decoded, as every reader does).
    const expected = 2000 + options.rounds * options.readings;
    const items = await scanTable({ dynamo: exactDocumentClient(dynamo), platform }, 'things');
    const stored = [...readingsOfItems(items).values()].reduce((sum, readings) => sum + readings.length, 0);

    const kinesisRate = median(rates.kinesis);
    const dynamoRate = median(rates.dynamo);
    const pipelineRate = median(rates.pipeline);
    const slower = Math.min(kinesisRate, dynamoRate);
    const ratio = pipelineRate / slower;
    console.log('');
    console.log('  side                                         readings/s (median)');
    console.log(`  raw PutRecords into kinesalite (500/call)    ${kinesisRate.toFixed(0).padStart(10)}`);
    console.log(`  raw BatchWriteItem into dynalite (25/call)   ${dynamoRate.toFixed(0).padStart(10)}`);
    console.log(`  pipeline: ingest API → stream → table        ${pipelineRate.toFixed(0).padStart(10)}`);
    console.log('');
    console.log(`  pipeline / slower raw rate = ${(ratio * 100).toFixed(0)} % (target >= ${TARGET_RATIO * 100} %): ${ratio >= TARGET_RATIO ? 'MET' : 'NOT MET'}`);
    console.log(`  table holds ${stored} of the ${expected} readings sent through the pipeline${stored === expected ? '' : '  <- MISMATCH'}, in ${items.length} items (${(stored / Math.max(1, items.length)).toFixed(1)} readings per item)`);
    console.log('  (the raw BatchWriteItem side writes one item per reading, as a baseline for DynamoDB itself)');
    process.exitCode = stored === expected && errors.length === 0 ? 0 : 1;
  } finally {
    if (errors.length > 0) console.log(`  platform reported ${errors.length} problem(s), first: ${errors[0]}`);
    kinesis.destroy();
    dynamo.destroy();
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:local failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
