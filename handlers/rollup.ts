/**
 * Rollups: per series and per minute, hour and day, the count, min, max, sum, first and
 * last time of the readings stored. One definition of buckets, aggregates and the items of
 * the rollups table, for the store handler that keeps them, the web app that answers
 * them, and the drills that check them. Free of AWS imports.
 *
 * Items are kept for hours and days (STORED_STEPS): an hour's item holds each of its minutes'
 * aggregates (`Parts`), a day's each of its hours', and a minute is read from its hour. A
 * series' newest minute stays open (its readings are still coming): it is counted from the
 * readings by whoever reads it (rollup-open.ts), and written once a later minute begins, so
 * the store handler writes a series' rollups about once a minute, not once a batch. An item is keyed by series
 * (`ThingID`) and `Bucket` = `<step>#<bucket start>`, e.g. `1h#2026-11-30T18:00:00Z` (UTC,
 * no fraction), so one Query with BETWEEN reads any range at one step. Min and max are exact (Decimal); the sum is a double, written as text so
 * that DynamoDB's number range (below 1e126) can never refuse a sum of large values.
 */
import { Decimal } from './decimal';

export const ROLLUP_STEPS = ['1m', '1h', '1d'] as const;
export type RollupStep = (typeof ROLLUP_STEPS)[number];

/** The steps that have items of their own; minutes are parts of their hour's item. */
export const STORED_STEPS = ['1h', '1d'] as const;
export type StoredStep = (typeof STORED_STEPS)[number];

export const STEP_MS: Readonly<Record<RollupStep, number>> = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 };

/** Attribute names of a rollups-table item beside its key (`ThingID`, `Bucket`). */
export const ROLLUP_ATTRIBUTES = {
  count: 'Count',
  min: 'Min',
  max: 'Max',
  /** A double, as text. */
  sum: 'Sum',
  /** Times of the earliest and latest reading counted (normalised timestamps). */
  first: 'First',
  last: 'Last',
  /** Hour and day buckets: the aggregate of each minute (`"07"`) or hour (`"18"`) in it, encoded (encodePart). */
  parts: 'Parts',
  /** The open-minute item (OPEN_MINUTE_KEY): the start of the series' open minute. */
  open: 'Open',
  /** The open-minute item: the open minute is written to its hour like any other (its series fell silent), so readers take it from there. */
  closed: 'Closed',
  /** Raised by every write; a write is conditional on the version it read. */
  version: 'Version',
  expiresAt: 'ExpiresAt',
} as const;

/**
 * The `Bucket` of a series' open-minute item, which says which minute is open: every earlier
 * minute holding readings is written whole in its hour's parts. It sorts after every
 * `<step>#…` key, so no range of buckets reads it.
 */
export const OPEN_MINUTE_KEY = 'open';

/** What a bucket holds. */
export interface Aggregate {
  readonly count: number;
  readonly min: Decimal;
  readonly max: Decimal;
  /** Sum of the values as doubles: the mean is `sum / count`. */
  readonly sum: number;
  /** Normalised timestamps of the earliest and latest reading. */
  readonly first: string;
  readonly last: string;
}

/** A reading as rollups see it. */
export interface TimedValue {
  /** Normalised timestamp (`2026-11-30T18:07:12.345678Z`). */
  readonly timestamp: string;
  readonly value: Decimal;
}

// ---------------------------------------------------------------------------
// Buckets
// ---------------------------------------------------------------------------

/**
 * Characters of a normalised timestamp that name its bucket, and what completes them into
 * the bucket's start: `2026-11-30T18:07` + `:00Z`.
 */
const BUCKET_PREFIX: Readonly<Record<RollupStep, { readonly length: number; readonly suffix: string }>> = {
  '1m': { length: 16, suffix: ':00Z' },
  '1h': { length: 13, suffix: ':00:00Z' },
  '1d': { length: 10, suffix: 'T00:00:00Z' },
};

/** The start of the bucket of `step` holding a normalised timestamp: `2026-11-30T18:07:00Z` for 1m. */
export function bucketStart(timestamp: string, step: RollupStep): string {
  const { length, suffix } = BUCKET_PREFIX[step];
  return timestamp.slice(0, length) + suffix;
}

/** The start of the bucket of `step` holding an instant (epoch ms). */
export function bucketStartOfMillis(millis: number, step: RollupStep): string {
  const floored = Math.floor(millis / STEP_MS[step]) * STEP_MS[step];
  return `${new Date(floored).toISOString().slice(0, 19)}Z`;
}

export const bucketKey = (step: RollupStep, start: string): string => `${step}#${start}`;

/** Step and start of a `Bucket` key, or undefined when it is not one. */
export function parseBucketKey(key: string): { step: RollupStep; start: string } | undefined {
  const at = key.indexOf('#');
  const step = key.slice(0, at) as RollupStep;
  return at > 0 && step in STEP_MS ? { step, start: key.slice(at + 1) } : undefined;
}

/** The first and last normalised timestamp a bucket can hold, for a Query of its readings. */
export function bucketTimeRange(start: string, step: RollupStep): { from: string; to: string } {
  const prefix = start.slice(0, BUCKET_PREFIX[step].length);
  const tail = { '1m': ':00.000000Z', '1h': ':00:00.000000Z', '1d': 'T00:00:00.000000Z' }[step];
  const lastTail = { '1m': ':59.999999Z', '1h': ':59:59.999999Z', '1d': 'T23:59:59.999999Z' }[step];
  return { from: prefix + tail, to: prefix + lastTail };
}

/** Epoch seconds at which the item of a bucket expires, `retentionDays` after the bucket ends. */
export function bucketExpiry(start: string, step: RollupStep, retentionDays: number | undefined): number | undefined {
  if (retentionDays === undefined) return undefined;
  return Math.floor((Date.parse(start) + STEP_MS[step]) / 1000) + Math.round(retentionDays * 86_400);
}

// ---------------------------------------------------------------------------
// Aggregates
// ---------------------------------------------------------------------------

/** The aggregate of one reading. */
export const readingAggregate = (timestamp: string, value: Decimal): Aggregate => ({ count: 1, min: value, max: value, sum: value.approx, first: timestamp, last: timestamp });

/** Adds one reading to an aggregate being built, in place: no allocation, as it runs for every reading stored. */
export function addToAggregate(aggregate: { -readonly [K in keyof Aggregate]: Aggregate[K] }, timestamp: string, value: Decimal): void {
  aggregate.count++;
  aggregate.sum += value.approx;
  if (value.compare(aggregate.min) < 0) aggregate.min = value;
  if (value.compare(aggregate.max) > 0) aggregate.max = value;
  if (timestamp < aggregate.first) aggregate.first = timestamp;
  if (timestamp > aggregate.last) aggregate.last = timestamp;
}

/** The aggregate of `readings` added to `base` (either may be empty). */
export function addReadings(base: Aggregate | undefined, readings: Iterable<TimedValue>): Aggregate | undefined {
  let aggregate = base === undefined ? undefined : { ...base };
  for (const { timestamp, value } of readings) {
    if (aggregate === undefined) aggregate = readingAggregate(timestamp, value);
    else addToAggregate(aggregate, timestamp, value);
  }
  return aggregate;
}

/** One aggregate of several (e.g. an hour's from its minutes). Sums are added in the order given. */
export function mergeAggregates(aggregates: Iterable<Aggregate | undefined>): Aggregate | undefined {
  let merged: Aggregate | undefined;
  for (const next of aggregates) {
    if (next === undefined) continue;
    merged = merged === undefined ? next : mergeTwoAggregates(merged, next);
  }
  return merged;
}

/** Two aggregates as one (`a`'s sum first). */
export function mergeTwoAggregates(a: Aggregate, b: Aggregate): Aggregate {
  return {
    count: a.count + b.count,
    min: b.min.compare(a.min) < 0 ? b.min : a.min,
    max: b.max.compare(a.max) > 0 ? b.max : a.max,
    sum: a.sum + b.sum,
    first: b.first < a.first ? b.first : a.first,
    last: b.last > a.last ? b.last : a.last,
  };
}

/** The mean of an aggregate, as a double. */
export const meanOf = (aggregate: Aggregate): number => aggregate.sum / aggregate.count;

// ---------------------------------------------------------------------------
// Parts: the aggregate of each minute of an hour, each hour of a day
// ---------------------------------------------------------------------------

/** The step whose buckets are the parts of a bucket of `step`, and where a part's key sits in a timestamp. */
export const PART_OF: Readonly<Partial<Record<RollupStep, { readonly step: RollupStep; readonly keyAt: number; readonly tailAt: number }>>> = {
  // An hour's parts are its minutes, keyed "07"; their times keep "SS.ffffff".
  '1h': { step: '1m', keyAt: 14, tailAt: 17 },
  // A day's parts are its hours, keyed "18"; their times keep "MM:SS.ffffff".
  '1d': { step: '1h', keyAt: 11, tailAt: 14 },
};

/** The key of the part of a bucket of `step` (1h or 1d) holding a timestamp or a part's start: `"07"`, `"18"`. */
export function partKey(timestamp: string, step: RollupStep): string {
  const at = (PART_OF[step] as { keyAt: number }).keyAt;
  return timestamp.slice(at, at + 2);
}

/** The start of part `key` of the bucket of `step` (1h or 1d) starting at `start`: minute `07` of hour `18:00` is `18:07:00Z`. */
export function partStart(start: string, step: RollupStep, key: string): string {
  return step === '1h' ? `${start.slice(0, 14)}${key}:00Z` : `${start.slice(0, 11)}${key}:00:00Z`;
}

/**
 * A part's aggregate as short text: `count min max sum firstTail lastTail`, the times
 * written without the part's own start (`12.345678` for second 12 of a minute), so an
 * hour of 60 parts stays a few kilobytes.
 */
export function encodePart(aggregate: Aggregate, parentStep: RollupStep): string {
  const at = (PART_OF[parentStep] as { tailAt: number }).tailAt;
  const { count, min, max, sum, first, last } = aggregate;
  return `${count} ${min.text} ${max.text} ${sum} ${first.slice(at, 26)} ${last.slice(at, 26)}`;
}

/** The aggregate of an encoded part whose start is `partStart`; undefined when the text is not one. */
export function decodePart(text: string, partStart: string, parentStep: RollupStep): Aggregate | undefined {
  if (typeof text !== 'string') return undefined;
  const [countText, minText, maxText, sumText, firstTail, lastTail] = text.split(' ');
  const at = (PART_OF[parentStep] as { tailAt: number }).tailAt;
  const count = Number(countText);
  const min = Decimal.parse(minText ?? '');
  const max = Decimal.parse(maxText ?? '');
  const sum = Number(sumText);
  if (!(Number.isSafeInteger(count) && count > 0) || min === undefined || max === undefined || !Number.isFinite(sum) || firstTail === undefined || lastTail === undefined) return undefined;
  const prefix = partStart.slice(0, at);
  return { count, min, max, sum, first: `${prefix}${firstTail}Z`, last: `${prefix}${lastTail}Z` };
}
