/**
 * Keeps the rollups table as the store handler stores readings. For each series of a batch:
 * read its open-minute item (consistently: another container may have moved it) and work
 * out what the batch makes countable (rollup-plan.ts). When anything is, about once a
 * minute per series: read the hour and day items those minutes belong to, count the
 * minutes from the stored readings (consistent Queries), write each changed item with a
 * condition on the version read, then the open-minute item. Reading before counting means
 * a concurrent writer is never overwritten, not even with an older count: on a condition
 * failure the series is read, counted and planned again. A series whose items cannot be
 * written is reported, so its records are delivered again.
 *
 * The hour and day items a container wrote are remembered (RollupCache): the series' next
 * minute touches the same ones, and the version condition makes a remembered item safe to
 * plan from: if another writer changed it, the write is refused and the item read again.
 * The no-data check closes the open minute of a series fallen silent the same way
 * (closeOpenMinutes).
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, callWithRetries, type RetryContext } from './batch-write';
import { describeError, mapWithConcurrency } from './batching';
import { ATTRIBUTES } from './contract';
import { addToAggregate, bucketExpiry, bucketKey, bucketStart, bucketTimeRange, OPEN_MINUTE_KEY, readingAggregate, ROLLUP_ATTRIBUTES, type Aggregate, type StoredStep } from './rollup';
import type { SeriesContributions } from './rollup-gather';
import { bucketOfItem, openMinuteItem, openMinuteOfItem, rollupItem, type OpenMinute, type RollupBucket, type RollupItem, type StoredBucket } from './rollup-item';
import { changesNothing, closingTargets, foldKeys, foldTargets, lastMinuteBefore, planFold, recountTargets, rollupCutoffs, type FoldTargets, type RollupRetention } from './rollup-plan';
import { countedReadings } from './reading-segment';

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

  forget(series: string): void {
    this.size -= this.bySeries.get(series)?.size ?? 0;
    this.bySeries.delete(series);
  }
}

export interface RollupStoreOptions extends RetryContext {
  readonly rollupsTable: string;
  /** Where the readings are, for counting minutes. */
  readonly thingsTable: string;
  readonly retention: RollupRetention;
  /** Epoch ms. */
  readonly now: number;
  /** Calls in flight at once. */
  readonly concurrency: number;
  /** What this container remembers of the items. @default nothing remembered */
  readonly cache?: RollupCache;
}

export interface RollupOutcome {
  /** Items written (hours, days, open minutes). */
  written: number;
  /** Minutes counted from the stored readings. */
  counted: number;
  /** Writes refused because another writer got there first (then read and planned again). */
  conflicts: number;
  requests: number;
  /** Series not brought up to date, with their earliest record. */
  readonly failed: { readonly series: string; readonly record: number }[];
  readonly errors: string[];
}

/** Rounds of read, plan and write a series gets when other writers keep getting there first. */
const CONFLICT_ROUNDS = 4;

/** A write refused because another writer changed the item since it was read. */
class Conflict extends Error {}

const isConditionFailure = (error: unknown): boolean => (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';

export async function applyRollups(dynamo: DynamoDBDocumentClient, bySeries: ReadonlyMap<string, SeriesContributions>, options: RollupStoreOptions): Promise<RollupOutcome> {
  const writer = rollupWriter(dynamo, options);
  const { outcome } = writer;
  const fail = (series: string, error: string): void => {
    outcome.failed.push({ series, record: (bySeries.get(series) as SeriesContributions).firstRecord });
    outcome.errors.push(error);
  };
  let pending = [...bySeries.keys()];
  for (let round = 1; pending.length > 0; round++) {
    const conflicted: string[] = [];
    const read = await writer.readOpenMinutes(pending);
    for (const series of read.unread) fail(series, read.error);
    await mapWithConcurrency([...read.openMinutes], options.concurrency, async ([series, open]) => {
      const targets = foldTargets(bySeries.get(series) as SeriesContributions, open, writer.cutoffs);
      if (changesNothing(targets)) return;
      const result = await writer.fold(series, targets, open);
      if (result === 'conflict') conflicted.push(series);
      else if ('error' in result) fail(series, result.error);
    });
    pending = conflicted;
    if (round === CONFLICT_ROUNDS) {
      for (const series of pending) fail(series, `the rollups of ${series} kept changing under this writer for ${CONFLICT_ROUNDS} rounds`);
      break;
    }
  }
  return outcome;
}

/**
 * For each series and its latest reading time (the catalogue's), writes every minute from
 * its open one up to that reading's to its hour and day and marks that one closed (the
 * no-data check, for series silent for CLOSE_OPEN_MINUTE_AFTER_MS). Resolves to the series
 * whose minutes are all written now; the others (readings came since, or a write failed)
 * are left to the consumer or the next check.
 */
export async function closeOpenMinutes(dynamo: DynamoDBDocumentClient, latest: ReadonlyMap<string, string>, options: RollupStoreOptions): Promise<{ closed: string[]; outcome: RollupOutcome }> {
  const writer = rollupWriter(dynamo, options);
  const closed: string[] = [];
  const read = await writer.readOpenMinutes([...latest.keys()]);
  if (read.unread.size > 0) writer.outcome.errors.push(read.error);
  await mapWithConcurrency([...read.openMinutes], options.concurrency, async ([id, open]) => {
    const targets = closingTargets(open, bucketStart(latest.get(id) as string, '1m'), writer.cutoffs);
    if (targets === undefined) return;
    let result: FoldResult = { left: open };
    if (!changesNothing(targets)) {
      result = await writer.fold(id, targets, open);
      // Counted again once marked closed: a reading stored while it was being closed may have been left to readers, who no longer count it.
      if (!(result === 'conflict' || 'error' in result)) result = await writer.fold(id, recountTargets(targets.open, writer.cutoffs), result.left);
    }
    if (result === 'conflict') writer.outcome.errors.push(`the rollups of ${id} changed while its open minute was being closed`);
    else if ('error' in result) writer.outcome.errors.push(result.error);
    else closed.push(id);
  });
  return { closed, outcome: writer.outcome };
}

/** What folding a series came to: done, leaving this open minute stored; refused for another writer's change (read and plan again); or failed. */
type FoldResult = { readonly left: OpenMinute } | 'conflict' | { readonly error: string };

/** Reading open minutes and folding series, with the outcome counted and what the container remembers kept. */
function rollupWriter(dynamo: DynamoDBDocumentClient, options: RollupStoreOptions) {
  const outcome: RollupOutcome = { written: 0, counted: 0, conflicts: 0, requests: 0, failed: [], errors: [] };
  // Every series is judged against retention as of the same moment.
  const cutoffs = rollupCutoffs(options.now, options.retention);
  const cache = options.cache ?? new RollupCache(0);
  const send = async <T>(run: () => Promise<T>): Promise<T> => {
    const result = await callWithRetries(run, options);
    outcome.requests += result.attempts;
    if (!result.ok) throw result.error;
    return result.value;
  };
  return { outcome, cutoffs, readOpenMinutes, fold };

  /** The open minute of each series read; the series whose item could not be read, and why. */
  async function readOpenMinutes(series: readonly string[]): Promise<{ openMinutes: Map<string, OpenMinute>; unread: Set<string>; error: string }> {
    const read = await batchGetAll(dynamo, options.rollupsTable, series.map((id) => ({ [ATTRIBUTES.series]: id, [ATTRIBUTES.bucket]: OPEN_MINUTE_KEY })), options);
    outcome.requests += read.requests;
    const found = new Map(read.items.map((item) => [String(item[ATTRIBUTES.series]), item]));
    const unread = new Set(read.unread.map((key) => String(key[ATTRIBUTES.series])));
    const openMinutes = new Map<string, OpenMinute>();
    for (const id of series) if (!unread.has(id)) openMinutes.set(id, openMinuteOfItem(found.get(id)));
    return { openMinutes, unread, error: read.errors[0] ?? 'the open-minute item could not be read' };
  }

  /**
   * Counts what the targets make countable, writes the hours and days that changes, then the
   * open-minute item. The items are read before the count, so a write another writer makes
   * after it (with a later count) fails this one's version condition.
   */
  async function fold(series: string, targets: FoldTargets, open: OpenMinute): Promise<FoldResult> {
    try {
      const readBefore = new Set(foldKeys(targets, undefined, cutoffs));
      const stored = await readBuckets(series, [...readBefore]);
      const counted = await countMinutes(series, targets);
      // Minutes the span held beyond its ends (an earlier delivery's), in hours not read yet.
      for (const [key, bucket] of await readBuckets(series, foldKeys(targets, counted.keys(), cutoffs).filter((key) => !readBefore.has(key)))) stored.set(key, bucket);
      const results = await Promise.allSettled(planFold({ series, targets, counted, stored, cutoffs }).map((bucket) => writeBucket(bucket)));
      const refused = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (refused !== undefined) throw refused.reason;
      if (targets.open === open.start && targets.closed === open.closed) return { left: open };
      await put(openMinuteItem(series, targets.open, targets.closed, open.version), open.version);
      return { left: { start: targets.open, closed: targets.closed, version: open.version + 1 } };
    } catch (error) {
      // A write that failed may or may not have been made: what is remembered of the series is no longer known to be true.
      cache.forget(series);
      if (!(error instanceof Conflict)) return { error: describeError(error) };
      outcome.conflicts++;
      return 'conflict';
    }
  }

  /** The aggregate of each minute the batch makes countable, from the readings stored in it; a minute without any is absent. */
  async function countMinutes(series: string, targets: FoldTargets): Promise<Map<string, Aggregate>> {
    const counted = new Map<string, Aggregate>();
    const count = async (from: string, to: string) => {
      for (const { timestamp, value } of await countedReadings(dynamo, options.thingsTable, { series, from, to, consistentRead: true }, send)) {
        const minute = bucketStart(timestamp, '1m');
        const aggregate = counted.get(minute) as { -readonly [K in keyof Aggregate]: Aggregate[K] } | undefined;
        if (aggregate === undefined) counted.set(minute, readingAggregate(timestamp, value));
        else addToAggregate(aggregate, timestamp, value);
      }
    };
    const ranges = targets.late.map((minute) => bucketTimeRange(minute, '1m'));
    if (targets.span !== undefined) ranges.push({ from: bucketTimeRange(targets.span.from, '1m').from, to: bucketTimeRange(lastMinuteBefore(targets.span.to), '1m').to });
    // Distinct minutes: the counts of one never touch another's.
    await mapWithConcurrency(ranges, options.concurrency, ({ from, to }) => count(from, to));
    outcome.counted += counted.size;
    return counted;
  }

  /** The stored items of `keys`, from what the container remembers and one read of the rest. */
  async function readBuckets(series: string, keys: readonly string[]): Promise<Map<string, StoredBucket>> {
    const buckets = new Map<string, StoredBucket>();
    const missing: string[] = [];
    for (const key of keys) {
      const known = cache.get(series, key);
      if (known === undefined) missing.push(key);
      else if (known !== null) buckets.set(key, known);
    }
    if (missing.length === 0) return buckets;
    const read = await batchGetAll(dynamo, options.rollupsTable, missing.map((key) => ({ [ATTRIBUTES.series]: series, [ATTRIBUTES.bucket]: key })), options);
    outcome.requests += read.requests;
    if (read.unread.length > 0) throw new Error(read.errors[0] ?? 'rollup items could not be read');
    for (const item of read.items) {
      const bucket = bucketOfItem(item);
      if (bucket === undefined) continue;
      const key = bucketKey(bucket.step, bucket.start);
      buckets.set(key, bucket);
      cache.set(series, key, { ...bucket, remembered: true });
    }
    for (const key of missing) if (!buckets.has(key)) cache.set(series, key, null);
    return buckets;
  }

  async function writeBucket(bucket: RollupBucket): Promise<void> {
    await put(rollupItem(bucket, bucketExpiry(bucket.start, bucket.step, options.retention[bucket.step as StoredStep])), bucket.version);
    const { series, step, start, aggregate, parts } = bucket;
    cache.set(series, bucketKey(step, start), { series, step, start, aggregate, parts, version: bucket.version + 1, remembered: true });
  }

  /** A put that succeeds only if the item is still as read: version 0 covers an item not stored yet, or stored without a version. */
  async function put(item: RollupItem, version: number): Promise<void> {
    const unversioned = version === 0;
    try {
      await send(() =>
        dynamo.send(
          new PutCommand({
            TableName: options.rollupsTable,
            Item: item,
            ConditionExpression: unversioned ? 'attribute_not_exists(#version)' : '#version = :version',
            ExpressionAttributeNames: { '#version': ROLLUP_ATTRIBUTES.version },
            ...(unversioned ? {} : { ExpressionAttributeValues: { ':version': version } }),
          }),
        ),
      );
    } catch (error) {
      throw isConditionFailure(error) ? new Conflict('another writer changed the item since it was read') : error;
    }
    outcome.written++;
  }
}
