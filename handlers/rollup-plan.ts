/**
 * The pure part of keeping rollups: given the readings a batch stored for one series and
 * the rollup items read for them, the items to write. The store handler does the reading
 * and writing (rollup-store.ts); everything that decides what is counted is here.
 *
 * What is counted: every distinct stored reading (series and time), once, with its stored
 * value, and nothing that was not stored. The batch's items are planned with repeats
 * merged (store-plan.ts), so within a batch each reading comes once; across batches:
 *
 * - A minute item remembers, per shard, the highest sequence number applied (`Applied`).
 *   A reading whose records are all at or below it was counted by an earlier delivery of
 *   the same records (a retry, a bisection, a redelivery after a crash): it adds nothing.
 * - Otherwise, a reading later than the latest one the minute holds (`Last`) cannot be in
 *   it yet: it is added. This is the path of in-order data.
 * - A reading not later than `Last` may be in the minute already: a producer that sent it
 *   twice (two records, one stored reading), a corrected value, or a late reading. The
 *   minute is then recounted from the stored readings themselves (a Query of at most a
 *   minute of one series), which is exact whatever happened before.
 * - An hour holds the aggregate of each of its minutes (`Parts`), a day each of its hours,
 *   and a write sets the parts of the minutes (hours) the batch touched to their new
 *   state: setting a state twice is harmless, so hours and days need no position of
 *   their own, and a correction that raises a minimum is exact too.
 *
 * Retention: an item whose bucket is past its retention may be gone. Its parent's part for
 * it is then the base (its minutes are no longer kept, so a reading not later than the
 * part's last is taken for a repeat); readings whose raw items may have expired are never
 * recounted (a recount would miss them), so there too only later readings are added.
 */
import type { Aggregate, RollupStep, TimedValue } from './rollup';
import { addReadings, bucketKey, bucketStart, compareSequence, decodePart, encodePart, mergeAggregates, partKey, sameAggregate, STEP_MS } from './rollup';
import type { RollupBucket, StoredBucket } from './rollup-item';

/** A reading the batch stored, with the stream position of its records. */
export interface RollupContribution extends TimedValue {
  /** The highest sequence number among its records that count as done in this delivery (before the resume point). */
  readonly sequence: string;
}

/** What one series of a batch contributes, and where its records start in the batch. */
export interface SeriesContributions {
  readonly contributions: RollupContribution[];
  /** The earliest record of the batch among them: delivered again if the series fails. */
  readonly firstRecord: number;
}

/** Days each kind of data is kept (undefined: for ever), to know what may already be gone. */
export interface RollupRetention {
  /** Raw readings in the things table: a minute is recounted from them only while all of them are surely there. */
  readonly raw?: number;
  readonly '1m'?: number;
  readonly '1h'?: number;
  readonly '1d'?: number;
}

export interface SeriesRollupInput {
  readonly series: string;
  /** The shard the batch came from: positions are per shard. */
  readonly shardId: string;
  readonly contributions: readonly RollupContribution[];
  /** The items read, by `Bucket` key; a bucket not stored is absent. */
  readonly stored: ReadonlyMap<string, StoredBucket>;
  /** Minutes recounted from the stored readings (minute start → aggregate), once asked for. */
  readonly recounted?: ReadonlyMap<string, Aggregate | undefined>;
  /** Epoch ms. */
  readonly now: number;
  readonly retention: RollupRetention;
}

export interface SeriesRollupPlan {
  /** Buckets to write, each carrying the version read (0: it must not exist yet). */
  readonly writes: RollupBucket[];
  /** Minute starts to recount before the plan can be made; when any, `writes` is empty. */
  readonly recount: string[];
  /** Minutes whose contribution was added without a recount. */
  readonly added: number;
  /** Readings taken for repeats of counted ones (their minute's raw readings may be gone). */
  readonly skippedAsRepeats: number;
}

/**
 * How long before an item's expiry it counts as possibly gone: DynamoDB deletes expired
 * items some time after expiry, never before, so this only covers clocks that disagree.
 */
export const EXPIRY_MARGIN_MS = 3_600_000;

const DAY_MS = 86_400_000;

/** Whether every item of a bucket that ends at `endMs` and is kept `days` is surely still stored. */
const kept = (endMs: number, days: number | undefined, now: number): boolean => days === undefined || now < endMs + days * DAY_MS - EXPIRY_MARGIN_MS;

const bucketEnd = (start: string, step: RollupStep): number => Date.parse(start) + STEP_MS[step];

/** The `Bucket` keys of every bucket the contributions touch: to read them all at once. */
export function touchedBuckets(contributions: Iterable<TimedValue>): string[] {
  const keys = new Set<string>();
  let minute = '';
  for (const { timestamp } of contributions) {
    // Consecutive readings mostly share a minute: skip rebuilding the same three keys.
    if (timestamp.startsWith(minute) && minute !== '') continue;
    minute = timestamp.slice(0, 16);
    keys.add(bucketKey('1m', bucketStart(timestamp, '1m')));
    keys.add(bucketKey('1h', bucketStart(timestamp, '1h')));
    keys.add(bucketKey('1d', bucketStart(timestamp, '1d')));
  }
  return [...keys];
}

/** Contributions grouped by day, hour and minute start. */
function group(contributions: readonly RollupContribution[]): Map<string, Map<string, Map<string, RollupContribution[]>>> {
  const days = new Map<string, Map<string, Map<string, RollupContribution[]>>>();
  for (const contribution of contributions) {
    const { timestamp } = contribution;
    const day = bucketStart(timestamp, '1d');
    const hour = bucketStart(timestamp, '1h');
    const minute = bucketStart(timestamp, '1m');
    let hours = days.get(day);
    if (hours === undefined) days.set(day, (hours = new Map()));
    let minutes = hours.get(hour);
    if (minutes === undefined) hours.set(hour, (minutes = new Map()));
    const list = minutes.get(minute);
    if (list === undefined) minutes.set(minute, [contribution]);
    else list.push(contribution);
  }
  return days;
}

const allAfter = (readings: readonly TimedValue[], last: string | undefined): boolean => last === undefined || readings.every((reading) => reading.timestamp > last);

export function planSeriesRollup(input: SeriesRollupInput): SeriesRollupPlan {
  const { series, shardId, stored, recounted, now, retention } = input;
  const writes: RollupBucket[] = [];
  const recount: string[] = [];
  let added = 0;
  let skippedAsRepeats = 0;

  /** `base` plus the readings later than its last; the rest are taken for repeats. */
  const addLater = (base: Aggregate | undefined, readings: readonly TimedValue[]): Aggregate | undefined => {
    const later = base === undefined ? readings : readings.filter((reading) => reading.timestamp > base.last);
    skippedAsRepeats += readings.length - later.length;
    return later.length === 0 ? base : addReadings(base, later);
  };

  /** A minute the minute retention still keeps: its item is the authority. Undefined while a recount is needed. */
  const nextMinute = (start: string, readings: readonly RollupContribution[]): { aggregate: Aggregate | undefined } | undefined => {
    const current = stored.get(bucketKey('1m', start));
    const position = current?.applied?.get(shardId);
    const fresh = position === undefined ? readings : readings.filter((reading) => compareSequence(reading.sequence, position) > 0);
    let aggregate = current?.aggregate;
    if (fresh.length > 0) {
      if (allAfter(fresh, aggregate?.last)) {
        aggregate = addReadings(aggregate, fresh);
        added++;
      } else if (kept(Date.parse(start), retention.raw, now)) {
        // Raw items expire `raw` days after their own time: those of this minute no earlier than its start plus that.
        if (recounted === undefined || !recounted.has(start)) {
          recount.push(start);
          return undefined;
        }
        // Nothing stored would mean the readings just written are gone: keep what is there rather than erase it.
        aggregate = recounted.get(start) ?? aggregate;
      } else {
        aggregate = addLater(aggregate, fresh);
      }
    }
    let highest = position;
    for (const reading of fresh) if (highest === undefined || compareSequence(reading.sequence, highest) > 0) highest = reading.sequence;
    if (aggregate !== undefined && (!sameAggregate(aggregate, current?.aggregate) || highest !== position)) {
      const applied = new Map(current?.applied);
      if (highest !== undefined) applied.set(shardId, highest);
      writes.push({ series, step: '1m', start, aggregate, applied, version: current?.version ?? 0 });
    }
    return { aggregate };
  };

  /**
   * A bucket whose parts change: the new parts, the new aggregate (extended from the old one
   * when every changed part only grew, else merged again from all parts), written when changed.
   */
  const nextParent = (step: '1h' | '1d', start: string, changes: ReadonlyMap<string, Aggregate>): Aggregate | undefined => {
    const current = stored.get(bucketKey(step, start));
    const parts = new Map(current?.parts);
    let grewOnly = current?.aggregate !== undefined;
    let changed = false;
    let count = current?.aggregate?.count ?? 0;
    let sum = current?.aggregate?.sum ?? 0;
    for (const [key, aggregate] of changes) {
      const text = encodePart(aggregate, step);
      const before = parts.get(key);
      if (before === text) continue;
      changed = true;
      parts.set(key, text);
      const old = before === undefined ? undefined : decodePart(before, partStart(start, step, key), step);
      if (before !== undefined && old === undefined) grewOnly = false;
      if (old !== undefined) {
        grewOnly &&= aggregate.count >= old.count && aggregate.min.compare(old.min) <= 0 && aggregate.max.compare(old.max) >= 0 && aggregate.first <= old.first && aggregate.last >= old.last;
      }
      count += aggregate.count - (old?.count ?? 0);
      sum += aggregate.sum - (old?.sum ?? 0);
    }
    if (!changed) return current?.aggregate;
    const aggregate = grewOnly
        ? { ...(mergeAggregates([current?.aggregate, ...changes.values()]) as Aggregate), count, sum }
        : mergeAggregates([...parts].map(([key, text]) => decodePart(text, partStart(start, step, key), step)));
    if (aggregate === undefined) return current?.aggregate;
    writes.push({ series, step, start, aggregate, parts, version: current?.version ?? 0 });
    return aggregate;
  };

  for (const [day, hours] of group(input.contributions)) {
    if (!kept(bucketEnd(day, '1d'), retention['1d'], now)) {
      skippedAsRepeats += [...hours.values()].reduce((sum, minutes) => sum + [...minutes.values()].reduce((inner, list) => inner + list.length, 0), 0);
      continue;
    }
    const dayItem = stored.get(bucketKey('1d', day));
    const hourChanges = new Map<string, Aggregate>();
    for (const [hour, minutes] of hours) {
      const hourKey = partKey(hour, '1d');
      if (!kept(bucketEnd(hour, '1h'), retention['1h'], now)) {
        // The hour's minutes are gone: its part in the day is the base.
        const partText = dayItem?.parts?.get(hourKey);
        const base = partText === undefined ? undefined : decodePart(partText, hour, '1d');
        const next = addLater(base, [...minutes.values()].flat());
        if (next !== undefined) hourChanges.set(hourKey, next);
        continue;
      }
      const hourItem = stored.get(bucketKey('1h', hour));
      const minuteChanges = new Map<string, Aggregate>();
      for (const [minute, readings] of minutes) {
        const minuteKey = partKey(minute, '1h');
        let next: Aggregate | undefined;
        if (kept(bucketEnd(minute, '1m'), retention['1m'], now)) {
          const outcome = nextMinute(minute, readings);
          if (outcome === undefined) continue;
          next = outcome.aggregate;
        } else {
          // The minute's item is gone: its part in the hour is the base.
          const partText = hourItem?.parts?.get(minuteKey);
          next = addLater(partText === undefined ? undefined : decodePart(partText, minute, '1h'), readings);
        }
        if (next !== undefined) minuteChanges.set(minuteKey, next);
      }
      if (recount.length > 0) continue;
      const next = nextParent('1h', hour, minuteChanges);
      if (next !== undefined) hourChanges.set(hourKey, next);
    }
    if (recount.length === 0) nextParent('1d', day, hourChanges);
  }
  return recount.length > 0 ? { writes: [], recount, added, skippedAsRepeats } : { writes, recount, added, skippedAsRepeats };
}

/** The start of part `key` of the bucket of `step` starting at `start`: minute `07` of hour `18:00` is `18:07:00Z`. */
function partStart(start: string, step: RollupStep, key: string): string {
  return step === '1h' ? `${start.slice(0, 14)}${key}:00Z` : `${start.slice(0, 11)}${key}:00:00Z`;
}
