/**
 * Kinesis consumer that stores readings in the things table.
 *
 * A batch becomes segment items (reading-segment.ts: the readings of one series in one
 * hour window share an item), written 25 per BatchWriteItem with bounded parallelism; records that can never be stored (refused by the parser, dated too far
 * ahead of their arrival, or refused by DynamoDB) go to the failure queue, once each;
 * the series catalogue gets the newest reading of each series, and the rollups (minute,
 * hour and day aggregates, rollup-store.ts) count the readings stored, about once a
 * minute per series. The response names the
 * first record not fully handled, so Lambda resumes the shard there; everything is
 * idempotent, so what a replay writes again is rewritten unchanged.
 *
 * Why not Powertools' BatchProcessor: it runs one handler per record and reports each
 * failed record independently. Here writes are shared across records (a BatchWriteItem
 * call holds items of many readings) and Kinesis needs "resume from the first failure"
 * rather than a list, so per-record processing would mean one write per record, which is
 * what this replaces. Powertools is used for logging (see runtime.ts).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { batchWriteAll, callWithRetries, sendMessages, type BatchWriteResult, type RetryContext, type SendMessagesResult } from './batch-write';
import { DEFAULT_RETRY_POLICY, describeError, mapWithConcurrency, type RetryPolicy } from './batching';
import { ATTRIBUTES, TABLES } from './contract';
import { indexInRecord, recordStart, unpackRecords, type StreamReading } from './kinesis-record';
import { timestampOfMillis } from './reading-timestamp';
import { rollupRetention } from './rollup-plan';
import { applyRollups, RollupCache, type RollupOutcome } from './rollup-store';
import { awsClients, lazyHandler, loadSettings, logger, retryDeadline, systemClock, type Clock, type Settings } from './runtime';
import {
  batchResponse,
  failureMessage,
  failureMessageId,
  failureRecordId,
  firstFailedRecord,
  itemKey,
  latestPerSeries,
  mergeRejections,
  planBatch,
  planSegments,
  refusalsOf,
  refusedReadings,
  rollupContributions,
  storedSegments,
  type PlannedPart,
  type Rejection,
  type SeriesLatest,
  type StorePlan,
} from './store-plan';
import { storedNumber } from './stored-number';

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
/** Several full batches' worth of rejected records: a redelivered batch is always among them. */
const QUEUED_RECORDS_REMEMBERED = 20_000;

export function createStoreReadingsHandler(deps: StoreReadingsDeps): StoreReadingsHandler {
  const { dynamo, sqs, settings, logger: log } = deps;
  const clock = deps.clock ?? systemClock;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  const toleranceMs = settings.futureToleranceSeconds * 1000;
  const baseRetry: RetryContext = { policy: deps.retry ?? DEFAULT_RETRY_POLICY, sleep: (ms) => clock.sleep(ms), random: deps.random ?? Math.random };
  const retention = rollupRetention(settings);

  /**
   * Records whose failure message SQS took, remembered for the container's life: a batch
   * handed back to Lambda (or bisected after a crash) and delivered here again does not
   * queue them a second time. See sendRejections for the rest of the design.
   */
  const queuedRecords = new RecentIds(QUEUED_RECORDS_REMEMBERED);
  /** The rollup items this container wrote: the next batch of its shard touches the same ones. */
  const rollupCache = new RollupCache();

  return async (event, context) => {
    const started = clock.now();
    const deadline = retryDeadline(context, clock);
    const retry: RetryContext = deadline === undefined ? baseRetry : { ...baseRetry, deadline };
    // Each reading of a packed record counts as a record of its own from here on.
    const records = unpackRecords(event.Records);
    const plan = planBatch(records, { hotRetentionDays: settings.hotRetentionDays, maxAheadMs: toleranceMs });

    // Once a record has failed, Lambda delivers it and all later ones again: stop spending capacity on them.
    let earliestFailure = Number.POSITIVE_INFINITY;
    const noteFailure = (index: number): void => {
      earliestFailure = Math.min(earliestFailure, index);
    };

    const parts = planSegments(plan.items, records, settings.hotRetentionDays);
    const writes = await batchWriteAll(dynamo, parts, {
      ...retry,
      tableName: settings.thingsTable,
      concurrency,
      itemOf: (part: PlannedPart) => part.item,
      keyOf: itemKey,
      // Parts are in the order of their segment's earliest record.
      proceed: (entries) => (entries[0]?.segment.records[0] ?? 0) < earliestFailure,
      onUnstored: (entries) => entries.forEach((entry) => noteFailure(entry.segment.records[0] ?? 0)),
    });

    // A reading is stored when every part of its segment is.
    const refusedItems = refusedReadings(writes.refused);
    const segments = storedSegments(parts, [...writes.unstored, ...writes.refused.map(({ entry }) => entry)]);
    const stored = segments.flatMap((segment) => segment.entries);
    const resumeAfterWrites = firstFailedRecord(writes.unstored.map((part) => part.segment.records[0] ?? 0));
    // Both only read what is stored, and whatever either leaves undone is redone by the redelivery.
    const [catalogue, rollups] = await Promise.all([
      settings.seriesTable === undefined ? undefined : updateCatalogue(settings.seriesTable, latestPerSeries(stored), timestampOfMillis(clock.now() + toleranceMs), retry),
      settings.rollupsTable === undefined || segments.length === 0
        ? undefined
        : applyRollups(dynamo, rollupContributions(segments), {
            ...retry,
            rollupsTable: settings.rollupsTable,
            thingsTable: settings.thingsTable,
            retention,
            now: clock.now(),
            concurrency,
            cache: rollupCache,
          }),
    ]);

    const resumeBeforeQueue = firstFailedRecord(
      resumeAfterWrites === undefined ? [] : [resumeAfterWrites],
      catalogue?.failed.map((latest) => latest.record) ?? [],
      rollups?.failed.map((series) => series.record) ?? [],
    );
    const rejections = mergeRejections(plan.rejections, refusalsOf(refusedItems, records));
    // Lambda delivers the whole record of the resume point again: its bad readings go out with that delivery.
    const queue = await sendRejections(rejections, resumeBeforeQueue === undefined ? undefined : recordStart(records, resumeBeforeQueue), retry);
    const first = firstFailedRecord(resumeBeforeQueue === undefined ? [] : [resumeBeforeQueue], queue.unqueued);

    const summary = batchSummary({ records, plan, stored: stored.length, parts: parts.length, rejections, writes, queue, catalogue, rollups, first, durationMs: clock.now() - started });
    if (first === undefined) {
      log.info('readings batch stored', summary);
    } else {
      const errors = [...new Set([...writes.errors, ...queue.result.errors, ...(catalogue?.errors ?? []), ...(rollups?.errors ?? [])])].slice(0, LOGGED_EXAMPLES);
      log.warn('readings batch partly stored; Lambda will deliver again from the first failed record', { ...summary, errors });
    }
    if (writes.refused.length > 0) {
      log.error('DynamoDB refused segment items of readings the parser accepted; their readings are in the failure queue', {
        refused: writes.refused.slice(0, LOGGED_EXAMPLES).map(({ entry, reason }) => ({ series: entry.item.ThingID, key: entry.item.Timestamp, readings: entry.segment.entries.length, reason })),
      });
    }
    return batchResponse(records, first);
  };

  /**
   * Sends the failure messages of rejected records, exactly once each across retries and
   * bisection, with a standard SQS queue (no de-duplication of its own):
   *
   * - Only the records before `resumeAt` are sent. Lambda delivers `resumeAt` and every
   *   later record again, and their messages go out in the delivery that gets past them,
   *   so a batch retried five times does not queue its rejections five times. (If the
   *   retries run out, the event source's on-failure record names that whole range.)
   * - In record order, stopping at the first message SQS does not take (sendMessages): the
   *   unsent record becomes the resume point, so no message is sent ahead of it.
   * - Records already queued by this container are skipped (`queuedRecords`), which covers
   *   a pack SQS took partly, and a batch redelivered whole after a crash to the same container.
   *
   * What is left: a container that dies after SQS took a message and before it answered
   * Lambda, whose batch is then delivered to another container. Each message carries the
   * record's identity (`recordId`), the same on every delivery, so a reader drops the
   * repeat; SQS standard queues can deliver a message twice anyway, so readers must do so.
   */
  async function sendRejections(rejections: readonly Rejection[], resumeAt: number | undefined, retry: RetryContext) {
    const due = rejections.filter((rejection) => resumeAt === undefined || rejection.index < resumeAt);
    const fresh = due.filter((rejection) => !queuedRecords.has(failureRecordId(rejection.record)));
    const result = await sendMessages(sqs, settings.failureQueueUrl, fresh.map((rejection) => failureMessage(rejection)), retry);
    const sent = new Set(result.sent);
    for (const rejection of fresh) if (sent.has(failureMessageId(rejection.index))) queuedRecords.add(failureRecordId(rejection.record));
    const failed = new Set(result.failed);
    const unqueued = fresh.filter((rejection) => failed.has(failureMessageId(rejection.index))).map((rejection) => rejection.index);
    return { result, due: due.length, alreadyQueued: due.length - fresh.length, deferred: rejections.length - due.length, unqueued };
  }

  /**
   * One conditional update per series: only a newer reading replaces the catalogue's, so
   * replays and late batches never move it back; one dated past `horizon` (now plus the
   * future tolerance) gives way. A failed update reports its record, so the catalogue
   * never silently misses a series the table holds.
   */
  async function updateCatalogue(tableName: string, latest: readonly SeriesLatest[], horizon: string, retry: RetryContext): Promise<CatalogueOutcome> {
    const outcome: CatalogueOutcome = { updated: 0, alreadyNewer: 0, retries: 0, failed: [], errors: [] };
    await mapWithConcurrency(latest, concurrency, async (series) => {
      const result = await callWithRetries(
        () =>
          dynamo.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { [TABLES.series.hashKey]: series.series },
              // A newer reading opens a minute again: the no-data check's mark that the last one was closed goes.
              UpdateExpression: 'SET #timestamp = :timestamp, #value = :value REMOVE #closed',
              // A latest value dated past the horizon came from a reading no consumer accepts
              // now (stored before future readings were refused): it gives way, not pin the series.
              ConditionExpression: 'attribute_not_exists(#timestamp) OR #timestamp < :timestamp OR #timestamp > :horizon',
              ExpressionAttributeNames: { '#timestamp': ATTRIBUTES.latestTimestamp, '#value': ATTRIBUTES.latestValue, '#closed': ATTRIBUTES.openMinuteClosed },
              ExpressionAttributeValues: { ':timestamp': series.timestamp, ':value': storedNumber(series.value), ':horizon': horizon },
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
  readonly records: readonly StreamReading[];
  readonly plan: StorePlan;
  /** Reading items stored (one per metric of a reading). */
  readonly stored: number;
  /** Segment items planned. */
  readonly parts: number;
  /** Every rejected record: refused by the parser or by DynamoDB. */
  readonly rejections: readonly Rejection[];
  readonly writes: BatchWriteResult<PlannedPart>;
  readonly queue: { readonly result: SendMessagesResult; readonly due: number; readonly alreadyQueued: number; readonly deferred: number; readonly unqueued: readonly number[] };
  readonly catalogue: CatalogueOutcome | undefined;
  readonly rollups: RollupOutcome | undefined;
  readonly first: number | undefined;
  readonly durationMs: number;
}) {
  const { records, plan, rejections, writes, queue, catalogue, rollups, first } = outcome;
  const recordsNotFullyStored = new Set([...writes.unstored, ...writes.refused.map(({ entry }) => entry)].flatMap((part) => part.segment.entries.flatMap((planned) => planned.records)));
  return {
    records: records.filter((record) => (record.packed?.index ?? 0) === 0).length,
    readings: records.length,
    readingsStored: plan.readings - recordsNotFullyStored.size,
    /** Metric values stored, and the segment items holding them. */
    valuesStored: outcome.stored,
    itemsStored: outcome.parts - writes.unstored.length - writes.refused.length,
    itemsUnstored: writes.unstored.length - writes.abandoned,
    itemsNotAttempted: writes.abandoned,
    itemsRefused: writes.refused.length,
    writeRequests: writes.requests,
    writeRetries: writes.retries,
    rejected: rejections.length,
    rejectedQueued: queue.result.sent.length,
    rejectedAlreadyQueued: queue.alreadyQueued,
    rejectedLeftForRedelivery: queue.deferred + queue.unqueued.length,
    rejectedByCode: countBy(rejections, (rejection) => rejection.error.code),
    rejectedExamples: rejections.slice(0, LOGGED_EXAMPLES).map(({ record, error }) => ({
      sequenceNumber: record.kinesis.sequenceNumber,
      ...indexInRecord(record),
      code: error.code,
      message: error.message,
    })),
    queueRequests: queue.result.requests,
    queueRetries: queue.result.retries,
    catalogueUpdated: catalogue?.updated ?? 0,
    catalogueAlreadyNewer: catalogue?.alreadyNewer ?? 0,
    catalogueFailed: catalogue?.failed.length ?? 0,
    catalogueRetries: catalogue?.retries ?? 0,
    rollupsWritten: rollups?.written ?? 0,
    rollupMinutesCounted: rollups?.counted ?? 0,
    rollupConflicts: rollups?.conflicts ?? 0,
    rollupSeriesFailed: rollups?.failed.length ?? 0,
    rollupRequests: rollups?.requests ?? 0,
    resumeFromSequenceNumber: first === undefined ? undefined : records[first]?.kinesis.sequenceNumber,
    durationMs: outcome.durationMs,
  };
}

/** Record identities in insertion order, the oldest forgotten past `capacity`. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
  }
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
