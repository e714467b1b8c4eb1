/**
 * Keeps the rollups table as the store handler stores readings: for each series of a
 * batch, read the minute, hour and day items the batch touches (BatchGetItem,
 * consistent), work out their new state (rollup-plan.ts, recounting a minute from the
 * stored readings where it must), and write each changed item with a condition on the
 * version read, so a concurrent writer is never overwritten: on a condition failure the
 * series is read and planned again. A series whose items cannot be written is reported,
 * so its records are delivered again; what was applied is recorded per item, so that
 * costs nothing twice.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, callWithRetries, type RetryContext } from './batch-write';
import { describeError, mapWithConcurrency } from './batching';
import { ATTRIBUTES } from './contract';
import { addReadings, bucketExpiry, bucketTimeRange, ROLLUP_ATTRIBUTES, type Aggregate, type TimedValue } from './rollup';
import { bucketOfItem, rollupItem, type RollupBucket, type StoredBucket } from './rollup-item';
import { planSeriesRollup, touchedBuckets, type RollupRetention, type SeriesContributions } from './rollup-plan';
import { decimalOf } from './stored-number';

export interface RollupStoreOptions extends RetryContext {
  readonly rollupsTable: string;
  /** Where the readings are, for recounts. */
  readonly thingsTable: string;
  readonly shardId: string;
  readonly retention: RollupRetention;
  /** Epoch ms. */
  readonly now: number;
  /** Calls in flight at once. */
  readonly concurrency: number;
}

export interface RollupOutcome {
  /** Items written. */
  written: number;
  /** Minutes recounted from the stored readings. */
  recounted: number;
  /** Writes refused because another writer got there first (then read and planned again). */
  conflicts: number;
  skippedAsRepeats: number;
  requests: number;
  /** Series not brought up to date, with their earliest record. */
  readonly failed: { readonly series: string; readonly record: number }[];
  readonly errors: string[];
}

/** Rounds of read, plan and write a series gets when other writers keep getting there first. */
const CONFLICT_ROUNDS = 4;

const isConditionFailure = (error: unknown): boolean => (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';

export async function applyRollups(dynamo: DynamoDBDocumentClient, bySeries: ReadonlyMap<string, SeriesContributions>, options: RollupStoreOptions): Promise<RollupOutcome> {
  const outcome: RollupOutcome = { written: 0, recounted: 0, conflicts: 0, skippedAsRepeats: 0, requests: 0, failed: [], errors: [] };
  const expiry = (bucket: RollupBucket): number | undefined => bucketExpiry(bucket.start, bucket.step, options.retention[bucket.step]);
  const fail = (series: string, error: string): void => {
    outcome.failed.push({ series, record: (bySeries.get(series) as SeriesContributions).firstRecord });
    outcome.errors.push(error);
  };

  let pending = [...bySeries.keys()];
  for (let round = 1; pending.length > 0; round++) {
    const stored = await readBuckets(pending);
    const plans = await mapWithConcurrency(pending, options.concurrency, async (series) => {
      const buckets = stored.get(series);
      if (buckets === undefined) return undefined;
      return planWithRecounts(series, buckets).catch((error: unknown) => {
        fail(series, describeError(error));
        return undefined;
      });
    });
    const writes = plans.flatMap((plan, index) => (plan === undefined ? [] : plan.map((bucket) => ({ series: pending[index] as string, bucket }))));
    const conflicted = new Set<string>();
    const failedNow = new Set<string>();
    await mapWithConcurrency(writes, options.concurrency, async ({ series, bucket }) => {
      const result = await callWithRetries(() => dynamo.send(conditionalPut(bucket)), options);
      outcome.requests += result.attempts;
      if (result.ok) outcome.written++;
      else if (isConditionFailure(result.error)) {
        outcome.conflicts++;
        conflicted.add(series);
      } else if (!failedNow.has(series)) {
        failedNow.add(series);
        fail(series, describeError(result.error));
      }
    });
    pending = [...conflicted].filter((series) => !failedNow.has(series));
    if (round === CONFLICT_ROUNDS) {
      for (const series of pending) fail(series, `the rollups of ${series} kept changing under this writer for ${CONFLICT_ROUNDS} rounds`);
      break;
    }
  }
  return outcome;

  /** The stored buckets of each series (a series whose keys could not all be read is failed and left out). */
  async function readBuckets(series: readonly string[]): Promise<Map<string, Map<string, StoredBucket>>> {
    const keys = series.flatMap((id) => touchedBuckets((bySeries.get(id) as SeriesContributions).contributions).map((bucket) => ({ [ATTRIBUTES.series]: id, [ATTRIBUTES.bucket]: bucket })));
    const read = await batchGetAll(dynamo, options.rollupsTable, keys, options);
    outcome.requests += read.requests;
    const byId = new Map(series.map((id) => [id, new Map<string, StoredBucket>()]));
    for (const item of read.items) {
      const bucket = bucketOfItem(item);
      if (bucket !== undefined) byId.get(bucket.series)?.set(String(item[ATTRIBUTES.bucket]), bucket);
    }
    for (const id of new Set(read.unread.map((key) => String(key[ATTRIBUTES.series])))) {
      byId.delete(id);
      fail(id, read.errors[0] ?? 'rollup items could not be read');
    }
    return byId;
  }

  async function planWithRecounts(series: string, stored: Map<string, StoredBucket>): Promise<RollupBucket[]> {
    const input = { series, shardId: options.shardId, contributions: (bySeries.get(series) as SeriesContributions).contributions, stored, now: options.now, retention: options.retention };
    let plan = planSeriesRollup(input);
    if (plan.recount.length > 0) {
      const recounted = new Map<string, Aggregate | undefined>();
      for (const minute of plan.recount) recounted.set(minute, await recountMinute(series, minute));
      outcome.recounted += plan.recount.length;
      plan = planSeriesRollup({ ...input, recounted });
    }
    outcome.skippedAsRepeats += plan.skippedAsRepeats;
    return plan.writes;
  }

  /** The aggregate of the readings stored for one minute of a series, read consistently. */
  async function recountMinute(series: string, minute: string): Promise<Aggregate | undefined> {
    const { from, to } = bucketTimeRange(minute, '1m');
    const readings: TimedValue[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await callWithRetries(
        () =>
          dynamo.send(
            new QueryCommand({
              TableName: options.thingsTable,
              KeyConditionExpression: '#series = :series AND #time BETWEEN :from AND :to',
              ExpressionAttributeNames: { '#series': ATTRIBUTES.series, '#time': ATTRIBUTES.timestamp, '#value': ATTRIBUTES.value },
              ExpressionAttributeValues: { ':series': series, ':from': from, ':to': to },
              ProjectionExpression: '#time, #value',
              ConsistentRead: true,
              ExclusiveStartKey: start,
            }),
          ),
        options,
      );
      outcome.requests += page.attempts;
      if (!page.ok) throw page.error;
      for (const item of page.value.Items ?? []) {
        const value = decimalOf(item[ATTRIBUTES.value]);
        if (value !== undefined) readings.push({ timestamp: String(item[ATTRIBUTES.timestamp]), value });
      }
      start = page.value.LastEvaluatedKey;
    } while (start !== undefined);
    return addReadings(undefined, readings);
  }

  /** A put that succeeds only if the item is still as read: version 0 covers an item not stored yet, or stored without a version. */
  function conditionalPut(bucket: RollupBucket): PutCommand {
    const unversioned = bucket.version === 0;
    return new PutCommand({
      TableName: options.rollupsTable,
      Item: rollupItem(bucket, expiry(bucket)),
      ConditionExpression: unversioned ? 'attribute_not_exists(#version)' : '#version = :version',
      ExpressionAttributeNames: { '#version': ROLLUP_ATTRIBUTES.version },
      ...(unversioned ? {} : { ExpressionAttributeValues: { ':version': bucket.version } }),
    });
  }
}
