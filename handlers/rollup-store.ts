/**
 * Keeps the rollups table as the store handler stores readings: for each series of a
 * batch, read the hour and day items the batch touches (BatchGetItem,
 * consistent), work out their new state (rollup-plan.ts, recounting a minute from the
 * stored readings where it must), and write each changed item with a condition on the
 * version read, so a concurrent writer is never overwritten: on a condition failure the
 * series is read and planned again. A series whose items cannot be written is reported,
 * so its records are delivered again; what was applied is recorded per item, so that
 * costs nothing twice.
 *
 * The items a container wrote are remembered (RollupCache): its shard's next batch
 * touches the same buckets, and the version condition makes a remembered item safe to
 * plan from: if another writer changed it, the write is refused and the item read again.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, callWithRetries, type RetryContext } from './batch-write';
import { describeError, mapWithConcurrency } from './batching';
import { ATTRIBUTES } from './contract';
import { addReadings, bucketExpiry, bucketKey, bucketTimeRange, ROLLUP_ATTRIBUTES, type Aggregate, type StoredStep, type TimedValue } from './rollup';
import { bucketOfItem, rollupItem, withParts, type RollupBucket, type StoredBucket } from './rollup-item';
import { groupContributions, type ContributionGroups, type SeriesContributions } from './rollup-gather';
import { planSeriesRollup, rollupCutoffs, type RollupRetention, type SeriesRollupInput } from './rollup-plan';
import { seriesReadings } from './reading-segment';

/** Buckets a container remembers: a few for each of thousands of series, a few kilobytes each. */
export const ROLLUP_CACHE_ITEMS = 20_000;
/** Buckets remembered per series: its current hour and day, and a few before them (late readings). */
const BUCKETS_PER_SERIES = 8;

/**
 * The rollup items last read or written by this container, by series and `Bucket` key;
 * `null` for a bucket read and found absent. A series keeps its latest few buckets; past
 * the capacity, the series remembered first are forgotten.
 */
export class RollupCache {
  /** Series → `Bucket` key → bucket, each in the order first remembered. */
  private readonly bySeries = new Map<string, Map<string, StoredBucket | null>>();
  private size = 0;

  constructor(private readonly capacity = ROLLUP_CACHE_ITEMS) {}

  get(series: string, key: string): StoredBucket | null | undefined {
    return this.bySeries.get(series)?.get(key);
  }

  set(series: string, key: string, bucket: StoredBucket | null): void {
    let buckets = this.bySeries.get(series);
    if (buckets === undefined) this.bySeries.set(series, (buckets = new Map()));
    if (!buckets.has(key)) {
      this.size++;
      if (buckets.size >= BUCKETS_PER_SERIES) {
        buckets.delete(buckets.keys().next().value as string);
        this.size--;
      }
    }
    buckets.set(key, bucket);
    while (this.size > this.capacity) {
      const [oldest, entries] = this.bySeries.entries().next().value as [string, Map<string, StoredBucket | null>];
      this.size -= entries.size;
      this.bySeries.delete(oldest);
    }
  }

  forget(series: string, keys: readonly string[]): void {
    const buckets = this.bySeries.get(series);
    if (buckets === undefined) return;
    for (const key of keys) if (buckets.delete(key)) this.size--;
  }
}

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
  /** What this container remembers of the items. @default nothing remembered */
  readonly cache?: RollupCache;
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

/**
 * The bucket with its part changes set into its parts in place: the parts are this
 * container's own (read for this batch, or remembered), so an hour's sixty parts are not
 * copied for every write. A write that then fails makes the series forgotten, parts and all.
 */
function withPartsSet(bucket: RollupBucket): RollupBucket {
  if (bucket.partChanges === undefined || bucket.parts === undefined) return bucket;
  const { series, step, start, aggregate, applied, version } = bucket;
  return { series, step, start, aggregate, parts: withParts(bucket.parts as Record<string, string>, bucket.partChanges), applied, version };
}

/** Rounds of read, plan and write a series gets when other writers keep getting there first. */
const CONFLICT_ROUNDS = 4;

const isConditionFailure = (error: unknown): boolean => (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';

export async function applyRollups(dynamo: DynamoDBDocumentClient, bySeries: ReadonlyMap<string, SeriesContributions>, options: RollupStoreOptions): Promise<RollupOutcome> {
  const outcome: RollupOutcome = { written: 0, recounted: 0, conflicts: 0, skippedAsRepeats: 0, requests: 0, failed: [], errors: [] };
  const expiry = (bucket: RollupBucket): number | undefined => bucketExpiry(bucket.start, bucket.step, options.retention[bucket.step as StoredStep]);
  // Every series of the batch is judged against retention as of the same moment.
  const cutoffs = rollupCutoffs(options.now, options.retention);
  const fail = (series: string, error: string): void => {
    outcome.failed.push({ series, record: (bySeries.get(series) as SeriesContributions).firstRecord });
    outcome.errors.push(error);
  };

  const groups = new Map<string, ContributionGroups>();
  for (const [series, contributions] of bySeries) groups.set(series, groupContributions(contributions));
  const cache = options.cache ?? new RollupCache(0);
  const forget = (series: string) => cache.forget(series, (groups.get(series) as ContributionGroups).keys);
  let pending = [...bySeries.keys()];
  for (let round = 1; pending.length > 0; round++) {
    // A series refused for a stale item is read afresh.
    if (round > 1) for (const series of pending) forget(series);
    const stored = await readBuckets(pending);
    // Planning is pure and mostly needs nothing more: only series with minutes to recount wait for a query.
    const writes: RollupBucket[] = [];
    const recounting: { series: string; buckets: Map<string, StoredBucket>; minutes: readonly string[] }[] = [];
    for (const series of pending) {
      const buckets = stored.get(series);
      if (buckets === undefined) continue;
      try {
        const plan = planSeriesRollup(planInput(series, buckets));
        if (plan.recount.length > 0) recounting.push({ series, buckets, minutes: plan.recount });
        else {
          outcome.skippedAsRepeats += plan.skippedAsRepeats;
          for (const bucket of plan.writes) writes.push(bucket);
        }
      } catch (error) {
        fail(series, describeError(error));
      }
    }
    await mapWithConcurrency(recounting, options.concurrency, async ({ series, buckets, minutes }) => {
      try {
        writes.push(...(await planWithRecounts(series, buckets, minutes)));
      } catch (error) {
        fail(series, describeError(error));
      }
    });
    const conflicted = new Set<string>();
    const failedNow = new Set<string>();
    await mapWithConcurrency(writes, options.concurrency, async (planned) => {
      const bucket = withPartsSet(planned);
      const { series } = bucket;
      const result = await callWithRetries(() => dynamo.send(conditionalPut(bucket)), options);
      outcome.requests += result.attempts;
      if (result.ok) {
        outcome.written++;
        cache.set(series, bucketKey(bucket.step, bucket.start), { series, step: bucket.step, start: bucket.start, aggregate: bucket.aggregate, parts: bucket.parts, applied: bucket.applied, version: bucket.version + 1, remembered: true });
        return;
      }
      // A write that failed may or may not have been made: what is remembered of the series is no longer known to be true.
      forget(series);
      if (isConditionFailure(result.error)) {
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

  /**
   * The stored buckets of each series, from what the container remembers and one read of
   * the rest (a series whose keys could not all be read is failed and left out).
   */
  async function readBuckets(series: readonly string[]): Promise<Map<string, Map<string, StoredBucket>>> {
    const byId = new Map<string, Map<string, StoredBucket>>();
    const missing: Record<string, unknown>[] = [];
    for (const id of series) {
      const buckets = new Map<string, StoredBucket>();
      byId.set(id, buckets);
      for (const key of (groups.get(id) as ContributionGroups).keys) {
        const known = cache.get(id, key);
        if (known === undefined) missing.push({ [ATTRIBUTES.series]: id, [ATTRIBUTES.bucket]: key });
        else if (known !== null) buckets.set(key, known);
      }
    }
    if (missing.length === 0) return byId;
    const read = await batchGetAll(dynamo, options.rollupsTable, missing, options);
    outcome.requests += read.requests;
    for (const item of read.items) {
      const bucket = bucketOfItem(item);
      if (bucket === undefined) continue;
      const key = String(item[ATTRIBUTES.bucket]);
      byId.get(bucket.series)?.set(key, bucket);
      cache.set(bucket.series, key, { ...bucket, remembered: true });
    }
    const unread = new Set(read.unread.map((key) => String(key[ATTRIBUTES.series])));
    for (const key of missing) {
      const id = String(key[ATTRIBUTES.series]);
      const bucket = String(key[ATTRIBUTES.bucket]);
      if (!unread.has(id) && !(byId.get(id)?.has(bucket) ?? false)) cache.set(id, bucket, null);
    }
    for (const id of unread) {
      byId.delete(id);
      forget(id);
      fail(id, read.errors[0] ?? 'rollup items could not be read');
    }
    return byId;
  }

  function planInput(series: string, stored: Map<string, StoredBucket>): SeriesRollupInput {
    return { series, shardId: options.shardId, groups: groups.get(series) as ContributionGroups, stored, cutoffs };
  }

  /** The plan of a series once the minutes it asked for are recounted from the stored readings. */
  async function planWithRecounts(series: string, stored: Map<string, StoredBucket>, minutes: readonly string[]): Promise<RollupBucket[]> {
    const recounted = new Map<string, Aggregate | undefined>();
    for (const minute of minutes) recounted.set(minute, await recountMinute(series, minute));
    outcome.recounted += minutes.length;
    const plan = planSeriesRollup({ ...planInput(series, stored), recounted });
    outcome.skippedAsRepeats += plan.skippedAsRepeats;
    return plan.writes;
  }

  /** The aggregate of the readings stored for one minute of a series, read consistently. */
  async function recountMinute(series: string, minute: string): Promise<Aggregate | undefined> {
    const { from, to } = bucketTimeRange(minute, '1m');
    const readings: TimedValue[] = [];
    const send = async <T>(run: () => Promise<T>): Promise<T> => {
      const page = await callWithRetries(run, options);
      outcome.requests += page.attempts;
      if (!page.ok) throw page.error;
      return page.value;
    };
    for await (const reading of seriesReadings(dynamo, options.thingsTable, { series, from, to, consistentRead: true }, send)) readings.push(reading);
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
