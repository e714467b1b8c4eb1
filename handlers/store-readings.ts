/**
 * Kinesis consumer that stores readings in the things table (SPEC §2).
 *
 * A batch becomes items (one per metric), written 25 per BatchWriteItem with bounded
 * parallelism; records that can never be stored go to the failure queue; the series
 * catalogue gets the newest reading of each series. The response names the first record
 * not fully handled, so Lambda resumes the shard there; everything is idempotent, so
 * what a replay writes again is rewritten unchanged.
 *
 * Why not Powertools' BatchProcessor: it runs one handler per record and reports each
 * failed record independently. Here writes are shared across records (a BatchWriteItem
 * call holds items of many readings) and Kinesis needs "resume from the first failure"
 * rather than a list, so per-record processing would mean one write per record, which is
 * what this replaces. Powertools is used for logging (see runtime.ts).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { batchWriteAll, callWithRetries, sendMessages, type BatchWriteResult, type RetryContext, type SendMessagesResult } from './batch-write';
import { DEFAULT_RETRY_POLICY, describeError, mapWithConcurrency, type RetryPolicy } from './batching';
import { ATTRIBUTES, TABLES } from './contract';
import { awsClients, lazyHandler, loadSettings, logger, retryDeadline, systemClock, type Clock, type Settings } from './runtime';
import { batchResponse, failureMessage, failureMessageId, firstFailedRecord, itemKey, latestPerSeries, planBatch, type PlannedItem, type SeriesLatest, type StorePlan } from './store-plan';

/** Settings the store handler cannot run without. */
export const STORE_READINGS_SETTINGS = ['thingsTable', 'failureQueueUrl'] as const;
export type StoreReadingsSettings = Settings<(typeof STORE_READINGS_SETTINGS)[number]>;

export type LogSink = Pick<typeof logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface StoreReadingsDeps {
  readonly dynamo: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly settings: StoreReadingsSettings;
  readonly logger: LogSink;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Jitter source, a number in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** @default DEFAULT_RETRY_POLICY */
  readonly retry?: RetryPolicy;
  /** Calls of each kind (writes, catalogue updates) in flight at once. @default 8 */
  readonly concurrency?: number;
}

export type StoreReadingsHandler = (event: KinesisStreamEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<KinesisStreamBatchResponse>;

const DEFAULT_CONCURRENCY = 8;
/** Enough examples in a log line to diagnose a bad producer without flooding the logs. */
const LOGGED_EXAMPLES = 5;

export function createStoreReadingsHandler(deps: StoreReadingsDeps): StoreReadingsHandler {
  const { dynamo, sqs, settings, logger: log } = deps;
  const clock = deps.clock ?? systemClock;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  const baseRetry: RetryContext = { policy: deps.retry ?? DEFAULT_RETRY_POLICY, sleep: (ms) => clock.sleep(ms), random: deps.random ?? Math.random };

  return async (event, context) => {
    const started = clock.now();
    const deadline = retryDeadline(context, clock);
    const retry: RetryContext = deadline === undefined ? baseRetry : { ...baseRetry, deadline };
    const records = event.Records;
    const plan = planBatch(records, settings.hotRetentionDays);

    // Once a record has failed, Lambda delivers it and all later ones again: stop spending capacity on them.
    let earliestFailure = Number.POSITIVE_INFINITY;
    const noteFailure = (index: number): void => {
      earliestFailure = Math.min(earliestFailure, index);
    };

    const [writes, queued] = await Promise.all([
      batchWriteAll(dynamo, plan.items, {
        ...retry,
        tableName: settings.thingsTable,
        concurrency,
        itemOf: (planned: PlannedItem) => planned.item,
        keyOf: itemKey,
        // Items are in record order, so the first entry of a call has its earliest record.
        proceed: (entries) => (entries[0]?.records[0] ?? 0) < earliestFailure,
        onUnstored: (entries) => entries.forEach((entry) => noteFailure(entry.records[0] ?? 0)),
      }),
      sendMessages(sqs, settings.failureQueueUrl, plan.rejections.map((rejection) => failureMessage(rejection)), retry),
    ]);

    const unqueuedIds = new Set(queued.failed);
    const unqueued = plan.rejections.filter((rejection) => unqueuedIds.has(failureMessageId(rejection.index))).map((rejection) => rejection.index);
    const unstored = new Set(writes.unstored);
    const stored = plan.items.filter((planned) => !unstored.has(planned));

    const catalogue = settings.seriesTable === undefined ? undefined : await updateCatalogue(settings.seriesTable, latestPerSeries(stored), retry);

    const first = firstFailedRecord(
      writes.unstored.map((planned) => planned.records[0] ?? 0),
      unqueued,
      catalogue?.failed.map((latest) => latest.record) ?? [],
    );

    const summary = batchSummary({ records, plan, writes, queued, unqueued, catalogue, first, durationMs: clock.now() - started });
    if (first === undefined) {
      log.info('readings batch stored', summary);
    } else {
      const errors = [...new Set([...writes.errors, ...queued.errors, ...(catalogue?.errors ?? [])])].slice(0, LOGGED_EXAMPLES);
      log.warn('readings batch partly stored; Lambda will deliver again from the first failed record', { ...summary, errors });
    }
    return batchResponse(records, first);
  };

  /**
   * One conditional update per series: only a newer reading replaces the catalogue's, so
   * replays and late batches never move it back. A failed update reports its record, so
   * the catalogue never silently misses a series the table holds.
   */
  async function updateCatalogue(tableName: string, latest: readonly SeriesLatest[], retry: RetryContext): Promise<CatalogueOutcome> {
    const outcome: CatalogueOutcome = { updated: 0, alreadyNewer: 0, retries: 0, failed: [], errors: [] };
    await mapWithConcurrency(latest, concurrency, async (series) => {
      const result = await callWithRetries(
        () =>
          dynamo.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { [TABLES.series.hashKey]: series.series },
              UpdateExpression: 'SET #timestamp = :timestamp, #value = :value',
              ConditionExpression: 'attribute_not_exists(#timestamp) OR #timestamp < :timestamp',
              ExpressionAttributeNames: { '#timestamp': ATTRIBUTES.latestTimestamp, '#value': ATTRIBUTES.latestValue },
              ExpressionAttributeValues: { ':timestamp': series.timestamp, ':value': series.value },
            }),
          ),
        retry,
      );
      outcome.retries += result.attempts - 1;
      if (result.ok) outcome.updated++;
      else if ((result.error as { name?: string }).name === 'ConditionalCheckFailedException') outcome.alreadyNewer++;
      else {
        outcome.failed.push(series);
        outcome.errors.push(describeError(result.error));
      }
    });
    return outcome;
  }
}

interface CatalogueOutcome {
  updated: number;
  alreadyNewer: number;
  retries: number;
  readonly failed: SeriesLatest[];
  readonly errors: string[];
}

/** The per-batch counts logged as one structured line. */
function batchSummary(outcome: {
  readonly records: readonly KinesisStreamRecord[];
  readonly plan: StorePlan;
  readonly writes: BatchWriteResult<PlannedItem>;
  readonly queued: SendMessagesResult;
  /** Indexes of rejected records the failure queue did not take. */
  readonly unqueued: readonly number[];
  readonly catalogue: CatalogueOutcome | undefined;
  readonly first: number | undefined;
  readonly durationMs: number;
}) {
  const { records, plan, writes, queued, unqueued, catalogue, first } = outcome;
  const recordsWithUnstoredItems = new Set(writes.unstored.flatMap((planned) => planned.records));
  return {
    records: records.length,
    readingsStored: plan.readings - recordsWithUnstoredItems.size,
    itemsStored: plan.items.length - writes.unstored.length,
    itemsUnstored: writes.unstored.length - writes.abandoned,
    itemsNotAttempted: writes.abandoned,
    writeRequests: writes.requests,
    writeRetries: writes.retries,
    rejected: plan.rejections.length,
    rejectedQueued: plan.rejections.length - unqueued.length,
    rejectedByCode: countBy(plan.rejections, (rejection) => rejection.error.code),
    rejectedExamples: plan.rejections.slice(0, LOGGED_EXAMPLES).map(({ record, error }) => ({
      sequenceNumber: record.kinesis.sequenceNumber,
      code: error.code,
      message: error.message,
    })),
    queueRequests: queued.requests,
    queueRetries: queued.retries,
    catalogueUpdated: catalogue?.updated ?? 0,
    catalogueAlreadyNewer: catalogue?.alreadyNewer ?? 0,
    catalogueFailed: catalogue?.failed.length ?? 0,
    catalogueRetries: catalogue?.retries ?? 0,
    resumeFromSequenceNumber: first === undefined ? undefined : records[first]?.kinesis.sequenceNumber,
    durationMs: outcome.durationMs,
  };
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

function productionDeps(): StoreReadingsDeps {
  const clients = awsClients();
  return { dynamo: clients.dynamo, sqs: clients.sqs, settings: loadSettings(process.env, STORE_READINGS_SETTINGS), logger };
}

export const handler = lazyHandler(() => createStoreReadingsHandler(productionDeps()));
