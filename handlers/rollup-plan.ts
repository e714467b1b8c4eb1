/**
 * The pure part of keeping rollups: given the readings a batch stored for one series and
 * the rollup items read for them, the items to write. The store handler does the reading
 * and writing (rollup-store.ts); everything that decides what is counted is here.
 *
 * What is counted: every distinct stored reading (series and time), once, with its stored
 * value, and nothing that was not stored. The batch's items are planned with repeats
 * merged (store-plan.ts), so within a batch each reading comes once; across batches:
 *
 * - An hour item holds each of its minutes' aggregates (`Parts`) and remembers, per shard,
 *   the highest sequence number applied (`Applied`). A reading whose records are all at or
 *   below it was counted by an earlier delivery of the same records (a retry, a bisection,
 *   a redelivery after a crash): it adds nothing. Lambda delivers a shard in order and
 *   resumes at the first record not fully handled, and one write sets all of a batch's
 *   minutes of the hour with the position, so every earlier record of the shard is in.
 * - Otherwise, a reading later than the latest one its minute holds (`Last`) cannot be in
 *   it yet: it is added. This is the path of in-order data.
 * - A reading not later than `Last` may be in the minute already: a producer that sent it
 *   twice (two records, one stored reading), a corrected value, or a late reading. The
 *   minute is then recounted from the stored readings themselves (a Query of at most a
 *   minute of one series), which is exact whatever happened before.
 * - A day holds the aggregate of each of its hours (`Parts`), and a write sets the parts of
 *   the hours the batch touched to their new state: setting a state twice is harmless, so
 *   days need no position of their own, and a correction that lowers a maximum is exact too.
 *
 * Gathering a batch's contributions is in rollup-gather.ts. A batch writes each series'
 * hour and day once, whatever its number of readings.
 *
 * Retention: an item whose bucket is past its retention may be gone. A day's part for a
 * gone hour is then the base (a reading not later than the part's last is taken for a
 * repeat); readings whose raw items may have expired are never recounted (a recount would
 * miss them), so there too only later readings are added.
 */
import type { Decimal } from './decimal';
import type { Aggregate, RollupStep, TimedValue } from './rollup';
import { addReadings, compareSequence, decodePart, encodePart, mergeAggregates, mergeTwoAggregates, partKey, STEP_MS } from './rollup';
import { countedReadings, minuteReadings, timed, type ContributionGroups, type HourReadings, type StoredReading } from './rollup-gather';
import { withParts, type PartText, type RollupBucket, type StoredBucket } from './rollup-item';

/** Days each kind of data is kept (undefined: for ever), to know what may already be gone. */
export interface RollupRetention {
  /** Raw readings in the things table: a minute is recounted from them only while all of them are surely there. */
  readonly raw?: number;
  readonly '1h'?: number;
  readonly '1d'?: number;
}

export interface SeriesRollupInput {
  readonly series: string;
  /** The shard the batch came from: positions are per shard. */
  readonly shardId: string;
  /** The series' contributions, grouped (groupContributions). */
  readonly groups: ContributionGroups;
  /** The items read, by `Bucket` key; a bucket not stored is absent. */
  readonly stored: ReadonlyMap<string, StoredBucket>;
  /** Minutes recounted from the stored readings (minute start → aggregate), once asked for. */
  readonly recounted?: ReadonlyMap<string, Aggregate | undefined>;
  /** What retention may already have removed, as of the batch (rollupCutoffs). */
  readonly cutoffs: RollupCutoffs;
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

/**
 * The first bucket start of each step whose item is surely still stored (it ends more than
 * `days` minus the margin before now), and the first minute whose raw readings all are;
 * as text, so each bucket is judged by comparing strings. Worked out once per batch.
 */
export type RollupCutoffs = { readonly [K in keyof RollupRetention]-?: string };

export function rollupCutoffs(now: number, retention: RollupRetention): RollupCutoffs {
  // Raw items expire `raw` days after their own time: a minute's, no earlier than its start plus that.
  const since = (days: number | undefined, lengthMs: number) => (days === undefined ? '' : `${new Date(now - days * DAY_MS + EXPIRY_MARGIN_MS - lengthMs).toISOString().slice(0, 19)}Z`);
  return { raw: since(retention.raw, 0), '1h': since(retention['1h'], STEP_MS['1h']), '1d': since(retention['1d'], STEP_MS['1d']) };
}

/**
 * Parts already decoded, per parts object (an item's, which the store handler keeps and
 * updates in place from batch to batch) and part key, checked against the part's text, so
 * the minute a stream is filling is not decoded again by every batch.
 */
const decodedParts = new WeakMap<object, Map<string, { readonly text: string; readonly aggregate: Aggregate }>>();

function rememberPart(parts: object, key: string, text: string, aggregate: Aggregate): void {
  let known = decodedParts.get(parts);
  if (known === undefined) decodedParts.set(parts, (known = new Map()));
  known.set(key, { text, aggregate });
}

/** The aggregate of part `key` of the bucket of `step` starting at `start` (its text, when the bucket has it, and what it decodes to). */
function partOf(parts: Readonly<Record<string, string>> | undefined, key: string, start: string, step: '1h' | '1d'): { text: string | undefined; aggregate: Aggregate | undefined } {
  const text = parts?.[key];
  if (text === undefined || parts === undefined) return { text, aggregate: undefined };
  const known = decodedParts.get(parts)?.get(key);
  if (known?.text === text) return known;
  const aggregate = decodePart(text, partStart(start, step, key), step);
  if (aggregate !== undefined) rememberPart(parts, key, text, aggregate);
  return { text, aggregate };
}

/** A part of an hour or a day about to be set: its key, its new aggregate, and what the item holds for it now. */
interface PartChange {
  readonly key: string;
  readonly next: Aggregate;
  readonly old: Aggregate | undefined;
  readonly oldText: string | undefined;
}

/** Two-digit part keys, `"00"` to `"59"`. */
const PART_KEYS = Array.from({ length: 60 }, (_, index) => String(index).padStart(2, '0'));

/** A series' plan as it is made. */
interface Planning {
  readonly input: SeriesRollupInput;
  readonly writes: RollupBucket[];
  readonly recount: string[];
  added: number;
  skippedAsRepeats: number;
}

export function planSeriesRollup(input: SeriesRollupInput): SeriesRollupPlan {
  const { cutoffs } = input;
  const planning: Planning = { input, writes: [], recount: [], added: 0, skippedAsRepeats: 0 };
  for (const day of input.groups.days) {
    if (!(day.start > cutoffs['1d'])) {
      for (const hour of day.hours) for (const minute of hour.minutes) planning.skippedAsRepeats += minute.aggregate.count;
      continue;
    }
    const dayItem = input.stored.get(day.key);
    const hourChanges: PartChange[] = [];
    for (const hour of day.hours) {
      const key = partKey(hour.start, '1d');
      const { text: oldText, aggregate: old } = partOf(dayItem?.parts, key, day.start, '1d');
      // An hour past its retention is gone with its minutes: its part in the day is the base.
      const next = hour.start > cutoffs['1h'] ? nextHour(planning, hour) : addLater(planning, old, timed(countedReadings(hour)));
      if (next !== undefined) hourChanges.push({ key, next, old, oldText });
    }
    if (planning.recount.length === 0) nextParent(planning, '1d', day.start, day.key, hourChanges);
  }
  const { writes, recount, added, skippedAsRepeats } = planning;
  return recount.length > 0 ? { writes: [], recount, added, skippedAsRepeats } : { writes, recount, added, skippedAsRepeats };
}

/** `base` plus the readings later than its last; the rest are taken for repeats. */
function addLater(planning: Planning, base: Aggregate | undefined, readings: readonly TimedValue[]): Aggregate | undefined {
  const later = base === undefined ? readings : readings.filter((reading) => reading.timestamp > base.last);
  planning.skippedAsRepeats += readings.length - later.length;
  return later.length === 0 ? base : addReadings(base, later);
}

/**
 * A minute's next aggregate, from its part in the hour and the readings the hour has not
 * applied (`fresh`; all the minute's when not given, looked up only when needed); a recount
 * is asked for when needed.
 */
function nextMinute(planning: Planning, hour: HourReadings, minute: number, current: Aggregate | undefined, freshAggregate: Aggregate, fresh: readonly StoredReading[] | undefined): Aggregate | undefined {
  // Usually every reading is later than the minute's last: their aggregate is the minute's contribution.
  if (current === undefined || freshAggregate.first > current.last) {
    planning.added++;
    return current === undefined ? freshAggregate : mergeTwoAggregates(current, freshAggregate);
  }
  const start = partStart(hour.start, '1h', PART_KEYS[minute] as string);
  if (!(start > planning.input.cutoffs.raw)) return addLater(planning, current, timed(fresh ?? minuteReadings(hour, minute).readings));
  const { recounted } = planning.input;
  if (recounted === undefined || !recounted.has(start)) {
    planning.recount.push(start);
    return current;
  }
  // Nothing stored would mean the readings just written are gone: keep what is there rather than erase it.
  return recounted.get(start) ?? current;
}

/**
 * An hour the hour retention still keeps: its item is the authority, and remembers per
 * shard the highest sequence number applied, so a reading at or below it is not counted again.
 */
function nextHour(planning: Planning, hour: HourReadings): Aggregate | undefined {
  const { stored, shardId } = planning.input;
  const { sequenceOf } = planning.input.groups.positions;
  const current = stored.get(hour.key);
  const position = current?.applied?.[shardId];
  let highest = position;
  const changes: PartChange[] = [];
  for (const minute of hour.minutes) {
    let freshAggregate = minute.aggregate;
    let fresh: readonly StoredReading[] | undefined;
    let top = sequenceOf(minute.highest);
    if (position !== undefined && compareSequence(sequenceOf(minute.lowest), position) <= 0) {
      // Some were applied by an earlier delivery of the same records (a retry, a bisection, a replay).
      const { readings, records } = minuteReadings(hour, minute.minute);
      const sequences = records.map(sequenceOf);
      const indexes = sequences.flatMap((sequence, index) => (compareSequence(sequence, position) > 0 ? [index] : []));
      if (indexes.length === 0) continue;
      fresh = indexes.map((index) => readings[index] as StoredReading);
      freshAggregate = addReadings(undefined, timed(fresh)) as Aggregate;
      top = indexes.reduce((most, index) => (compareSequence(sequences[index] as string, most) > 0 ? (sequences[index] as string) : most), position);
    }
    if (highest === undefined || compareSequence(top, highest) > 0) highest = top;
    const key = PART_KEYS[minute.minute] as string;
    const { text: oldText, aggregate: old } = partOf(current?.parts, key, hour.start, '1h');
    const next = nextMinute(planning, hour, minute.minute, old, freshAggregate, fresh);
    if (next !== undefined) changes.push({ key, next, old, oldText });
  }
  return nextParent(planning, '1h', hour.start, hour.key, changes, highest === position ? undefined : { ...current?.applied, [shardId]: highest as string });
}

/**
 * A bucket whose parts change: the parts to set, the new aggregate (extended from the old
 * one when every changed part only grew, else merged again from all parts), written when
 * changed or when its stream position moves. The parts as read are left as they are.
 */
function nextParent(planning: Planning, step: '1h' | '1d', start: string, bucket: string, changes: readonly PartChange[], applied?: Readonly<Record<string, string>>): Aggregate | undefined {
  const current = planning.input.stored.get(bucket);
  const was = current?.aggregate;
  const parts = current?.parts ?? {};
  let changed: PartText[] | undefined;
  let grewOnly = was !== undefined;
  // The old aggregate extended by every changed part (used when each only grew).
  let count = was?.count ?? 0;
  let sum = was?.sum ?? 0;
  let { min, max, first, last } = was ?? ({} as Partial<Aggregate>);
  for (const { key, next, old, oldText } of changes) {
    const text = encodePart(next, step);
    if (oldText === text) continue;
    (changed ??= []).push([key, text]);
    // Known before it is written: checked against the text when next read, so a write that fails leaves nothing wrong.
    rememberPart(parts, key, text, next);
    if (oldText !== undefined && old === undefined) grewOnly = false;
    if (old !== undefined) {
      grewOnly &&= next.count >= old.count && next.min.compare(old.min) <= 0 && next.max.compare(old.max) >= 0 && next.first <= old.first && next.last >= old.last;
    }
    count += next.count - (old?.count ?? 0);
    sum += next.sum - (old?.sum ?? 0);
    if (min === undefined || next.min.compare(min) < 0) min = next.min;
    if (max === undefined || next.max.compare(max) > 0) max = next.max;
    if (first === undefined || next.first < first) first = next.first;
    if (last === undefined || next.last > last) last = next.last;
  }
  if (changed === undefined && applied === undefined && current?.remembered !== true) return was;
  let aggregate: Aggregate | undefined;
  if (grewOnly && was !== undefined) aggregate = { count, min: min as Decimal, max: max as Decimal, sum, first: first as string, last: last as string };
  else {
    const all = withParts({ ...parts }, changed ?? []);
    aggregate = mergeAggregates(Object.keys(all).map((key) => decodePart(all[key] as string, partStart(start, step, key), step)));
  }
  if (aggregate === undefined) return was;
  planning.writes.push({ series: planning.input.series, step, start, aggregate, parts, partChanges: changed, version: current?.version ?? 0, applied: applied ?? current?.applied });
  return aggregate;
}

/** The start of part `key` of the bucket of `step` starting at `start`: minute `07` of hour `18:00` is `18:07:00Z`. */
function partStart(start: string, step: RollupStep, key: string): string {
  return step === '1h' ? `${start.slice(0, 14)}${key}:00Z` : `${start.slice(0, 11)}${key}:00:00Z`;
}
