/**
 * A rollups-table item and what it says, both ways: numbers exact (stored-number.ts), the
 * sum and the parts as text, the version a write checks; and a series' open-minute item.
 */
import type { NumberValue } from '@aws-sdk/lib-dynamodb';
import { ATTRIBUTES } from './contract';
import { parseBucketKey, ROLLUP_ATTRIBUTES as R, bucketKey, OPEN_MINUTE_KEY, type Aggregate, type RollupStep } from './rollup';
import { decimalOf, numberOf, storedNumber } from './stored-number';

/** One bucket of one series, as read or about to be written. */
export interface RollupBucket {
  readonly series: string;
  readonly step: RollupStep;
  /** `2026-11-30T18:07:00Z`. */
  readonly start: string;
  readonly aggregate: Aggregate;
  /** Hour and day buckets: part key (`"07"`) → encoded aggregate of that minute or hour. */
  readonly parts?: Readonly<Record<string, string>>;
  /** The version read; 0 for a bucket not stored yet (or stored without one). */
  readonly version: number;
}

/** A bucket as read: an item that is not a whole rollup (written by hand, cut short) has no aggregate and is rebuilt. */
export interface StoredBucket extends Omit<RollupBucket, 'aggregate'> {
  readonly aggregate?: Aggregate;
  /**
   * Remembered by this container rather than read now: another container may have written
   * the item since, so "nothing to change" cannot be concluded from it (the write is made,
   * and its version condition tells).
   */
  readonly remembered?: boolean;
}

export type RollupItem = Record<string, string | number | boolean | NumberValue | Readonly<Record<string, string>>>;

/** The item of a bucket, one version on from the bucket's. */
export function rollupItem(bucket: RollupBucket, expiresAt: number | undefined): RollupItem {
  const { aggregate } = bucket;
  const item: RollupItem = {
    [ATTRIBUTES.series]: bucket.series,
    [ATTRIBUTES.bucket]: bucketKey(bucket.step, bucket.start),
    [R.count]: aggregate.count,
    [R.min]: storedNumber(aggregate.min),
    [R.max]: storedNumber(aggregate.max),
    [R.sum]: String(aggregate.sum),
    [R.first]: aggregate.first,
    [R.last]: aggregate.last,
    [R.version]: bucket.version + 1,
  };
  if (bucket.parts !== undefined) item[R.parts] = bucket.parts;
  if (expiresAt !== undefined) item[R.expiresAt] = expiresAt;
  return item;
}

/** The aggregate of an item as read (any projection holding its numbers and times); undefined when malformed. */
export function aggregateOfItem(item: Record<string, unknown>): Aggregate | undefined {
  const count = numberOf(item[R.count]);
  const min = decimalOf(item[R.min]);
  const max = decimalOf(item[R.max]);
  const sum = Number(typeof item[R.sum] === 'string' ? item[R.sum] : numberOf(item[R.sum]));
  const first = item[R.first];
  const last = item[R.last];
  if (count === undefined || !(count > 0) || min === undefined || max === undefined || !Number.isFinite(sum) || typeof first !== 'string' || typeof last !== 'string') {
    return undefined;
  }
  return { count, min, max, sum, first, last };
}

/** A map attribute as read; its values are checked where they are used (decodePart), not all on every read. */
const stringMap = (value: unknown): Record<string, string> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, string>) : undefined;

/**
 * The bucket an item holds; undefined when it has no rollup key. An item whose numbers or
 * times are not a whole aggregate keeps only its version, so it is rebuilt (and the write
 * still checks that version).
 */
export function bucketOfItem(item: Record<string, unknown>): StoredBucket | undefined {
  const series = item[ATTRIBUTES.series];
  const key = typeof item[ATTRIBUTES.bucket] === 'string' ? parseBucketKey(item[ATTRIBUTES.bucket] as string) : undefined;
  if (typeof series !== 'string' || key === undefined) return undefined;
  const version = numberOf(item[R.version]) ?? 0;
  const aggregate = aggregateOfItem(item);
  if (aggregate === undefined) return { series, step: key.step, start: key.start, version };
  const parts = stringMap(item[R.parts]);
  return { series, step: key.step, start: key.start, aggregate, version, ...(parts === undefined ? {} : { parts }) };
}

/** A series' open minute as read: its start (undefined when none is stored), whether it is written already, and the version a write checks. */
export interface OpenMinute {
  readonly start: string | undefined;
  readonly closed: boolean;
  readonly version: number;
}

const MINUTE_START = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/;

/** The open minute an item says (an absent item, or one without a minute: none). */
export function openMinuteOfItem(item: Record<string, unknown> | undefined): OpenMinute {
  const start = item?.[R.open];
  return { start: typeof start === 'string' && MINUTE_START.test(start) ? start : undefined, closed: item?.[R.closed] === true, version: numberOf(item?.[R.version]) ?? 0 };
}

/** The open-minute item of a series, one version on from `version`. */
export const openMinuteItem = (series: string, start: string, closed: boolean, version: number): RollupItem => ({
  [ATTRIBUTES.series]: series,
  [ATTRIBUTES.bucket]: OPEN_MINUTE_KEY,
  [R.open]: start,
  ...(closed ? { [R.closed]: true } : {}),
  [R.version]: version + 1,
});
