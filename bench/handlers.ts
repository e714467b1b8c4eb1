/**
 * `npm run bench:handlers`: records/s of each stream handler with in-memory clients, next
 * to a bare loop that only base64-decodes and JSON.parses the same records, in one run.
 * Targets (issue 2): store >= 50 % of the bare loop, alerts >= 40 %, with 1 KB readings in
 * batches of 1,000. Also prints DynamoDB requests per batch.
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

logger.setLogLevel('SILENT');

/** A reading of about `bytes` of JSON: an id, a time and as many in-range metrics as fit. */
function reading(index: number, bytes: number): Record<string, unknown> {
  const data: Record<string, unknown> = {
    id: `things/harrow/${String(index % THINGS).padStart(3, '0')}`,
    timestamp: new Date(Date.UTC(2026, 10, 27) + index * 1000).toISOString(),
  };
  for (let metric = 0; JSON.stringify(data).length < bytes; metric++) data[`sensor_${metric}`] = (20 + ((index * 7 + metric) % 50) / 10).toFixed(2);
  return data;
}

/** Counts requests by command and answers like an empty, healthy DynamoDB. */
function inMemoryDynamo(counts: Map<string, number>): DynamoDBDocumentClient {
  const send = async (command: { constructor: { name: string }; input: { RequestItems?: Record<string, { Keys?: unknown[] }> } }) => {
    const name = command.constructor.name;
    counts.set(name, (counts.get(name) ?? 0) + 1);
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

async function measure(events: KinesisStreamEvent[], run: (event: KinesisStreamEvent) => Promise<unknown>): Promise<number> {
  for (const event of events.slice(0, 2)) await run(event); // warm-up
  const started = process.hrtime.bigint();
  for (const event of events) await run(event);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (events.length * BATCH) / seconds;
}

async function main(): Promise<void> {
  for (const bytes of [1024, 200]) {
    const events = Array.from({ length: BATCHES }, (_, batch) =>
      kinesisEvent(Array.from({ length: BATCH }, (_, i) => reading(batch * BATCH + i, bytes)), batch * BATCH),
    );
    const metrics = Object.keys(reading(0, bytes)).length - 2;

    const bare = await measure(events, async (event) => {
      for (const record of event.Records) JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
    });

    const storeCounts = new Map<string, number>();
    const store = createStoreReadingsHandler({
      dynamo: inMemoryDynamo(storeCounts),
      sqs: unused as unknown as SQSClient,
      settings: { thingsTable: 'iot-things', failureQueueUrl: 'http://queue', seriesTable: 'iot-series', futureToleranceSeconds: DEFAULT_FUTURE_TOLERANCE_SECONDS } as never,
      logger,
    });
    const storeRate = await measure(events, store);

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
    console.log(`  store-readings    : ${Math.round(storeRate).toLocaleString('en')} records/s  ratio ${(storeRate / bare).toFixed(2)} (target 0.50)`);
    console.log(`    DynamoDB requests per batch: ${perBatch(storeCounts)} (items/batch ${BATCH * metrics}, ceil(items/25) = ${Math.ceil((BATCH * metrics) / 25)})`);
    console.log(`  threshold-alerts  : ${Math.round(alertRate).toLocaleString('en')} records/s  ratio ${(alertRate / bare).toFixed(2)} (target 0.40)`);
    console.log(`    DynamoDB requests per batch: ${perBatch(alertCounts)} (distinct series ${THINGS * metrics})`);
  }
}

void main();
