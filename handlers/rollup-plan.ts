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
 * Retention: an item whose bucket is past its retention may be gone. A day's part for a
 * gone hour is then the base (a reading not later than the part's last is taken for a
 * repeat); readings whose raw items may have expired are never recounted (a recount would
 * miss them), so there too only later readings are added.
 */
import type { Decimal } from './decimal';
import type { Aggregate, RollupStep, TimedValue } from './rollup';
import { addReadings, bucketKey, bucketStart, compareSequence, decodePart, encodePart, mergeAggregates, partKey, STEP_MS } from './rollup';
import type { RollupBucket, StoredBucket } from './rollup-item';

/** A stored reading as the batch planned it (a ReadingItem). */
export interface StoredReading {
  readonly Timestamp: string;
  readonly Value: Decimal;
}

/**
 * The readings one series stored in one minute of a batch, with their aggregate and stream
 * positions worked out as they were gathered, so the usual case (every reading new, all
 * later than the minute's last) adds one aggregate to another and looks at no reading again.
 */
export interface MinuteReadings {
  readonly readings: StoredReading[];
  /** Each reading's highest sequence number among its records before the resume point, in the same order. */
  readonly sequences: string[];
  aggregate: Aggregate;
  /** The lowest and highest of `sequences`. */
  lowestSequence: string;
  highestSequence: string;
}

/** What one series of a batch contributes, by minute start, and where its records start in the batch. */
export interface SeriesContributions {
  readonly minutes: Map<string, MinuteReadings>;
  /** The earliest record of the batch among them: delivered again if the series fails. */
  readonly firstRecord: number;
  /** The minute last added to, and the 16 characters that name it: readings of a series mostly come in time order. */
  cursor?: { readonly prefix: string; readonly minute: MinuteReadings };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Adds a reading to a series' contributions. Runs for every reading stored: no string is cut, nothing allocated, in the usual case. */
export function addContribution(contributions: SeriesContributions, reading: StoredReading, sequence: string): void {
  const { Timestamp: timestamp, Value: value } = reading;
  let minute = contributions.cursor !== undefined && timestamp.startsWith(contributions.cursor.prefix) ? contributions.cursor.minute : undefined;
  if (minute === undefined) {
    const start = bucketStart(timestamp, '1m');
    minute = contributions.minutes.get(start);
    if (minute === undefined) {
      minute = {
        readings: [reading],
        sequences: [sequence],
        aggregate: { count: 1, min: value, max: value, sum: value.approx, first: timestamp, last: timestamp },
        lowestSequence: sequence,
        highestSequence: sequence,
      };
      contributions.minutes.set(start, minute);
      contributions.cursor = { prefix: start.slice(0, 16), minute };
      return;
    }
    contributions.cursor = { prefix: start.slice(0, 16), minute };
  }
  minute.readings.push(reading);
  minute.sequences.push(sequence);
  // Built by this function alone, so updated in place.
  const aggregate = minute.aggregate as Mutable<Aggregate>;
  aggregate.count++;
  aggregate.sum += value.approx;
  if (value.compare(aggregate.min) < 0) aggregate.min = value;
  if (value.compare(aggregate.max) > 0) aggregate.max = value;
  if (timestamp < aggregate.first) aggregate.first = timestamp;
  if (timestamp > aggregate.last) aggregate.last = timestamp;
  // Records come in order, so a reading's sequence is mostly the highest yet.
  if (compareSequence(sequence, minute.highestSequence) > 0) minute.highestSequence = sequence;
  else if (compareSequence(sequence, minute.lowestSequence) < 0) minute.lowestSequence = sequence;
}

const timed = (readings: readonly StoredReading[]): TimedValue[] => readings.map((reading) => ({ timestamp: reading.Timestamp, value: reading.Value }));

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

/**
 * The first bucket start of each step whose item is surely still stored (it ends more than
 * `days` minus the margin before now), and the first minute whose raw readings all are;
 * as text, so each bucket is judged by comparing strings. One entry remembered: every
 * series of a batch asks with the same `now`.
 */
type Cutoffs = { readonly [K in keyof RollupRetention]-?: string };
let lastCutoffs: { now: number; retention: RollupRetention; cutoffs: Cutoffs } | undefined;

function cutoffsFor(now: number, retention: RollupRetention): Cutoffs {
  if (lastCutoffs?.now === now && lastCutoffs.retention === retention) return lastCutoffs.cutoffs;
  // Raw items expire `raw` days after their own time: a minute's, no earlier than its start plus that.
  const since = (days: number | undefined, lengthMs: number) => (days === undefined ? '' : `${new Date(now - days * DAY_MS + EXPIRY_MARGIN_MS - lengthMs).toISOString().slice(0, 19)}Z`);
  const cutoffs = { raw: since(retention.raw, 0), '1h': since(retention['1h'], STEP_MS['1h']), '1d': since(retention['1d'], STEP_MS['1d']) };
  lastCutoffs = { now, retention, cutoffs };
  return cutoffs;
}

/** A series' contributions by day, hour and minute (bucket starts), and the `Bucket` key of every item they touch (hours and days). */
export interface ContributionGroups {
  readonly days: ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, MinuteReadings>>>;
  readonly keys: readonly string[];
}

export function groupContributions(contributions: SeriesContributions): ContributionGroups {
  const days = new Map<string, Map<string, Map<string, MinuteReadings>>>();
  const keys: string[] = [];
  for (const [minute, readings] of contributions.minutes) {
    const hour = bucketStart(minute, '1h');
    const day = bucketStart(minute, '1d');
    let hours = days.get(day);
    if (hours === undefined) {
      days.set(day, (hours = new Map()));
      keys.push(bucketKey('1d', day));
    }
    let minutes = hours.get(hour);
    if (minutes === undefined) {
      hours.set(hour, (minutes = new Map()));
      keys.push(bucketKey('1h', hour));
    }
    minutes.set(minute, readings);
  }
  return { days, keys };
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

/** The aggregate of part `key` of a bucket of `step` (its text, when the bucket has it, and what it decodes to). */
function partOf(parts: Readonly<Record<string, string>> | undefined, key: string, start: string, step: '1h' | '1d'): { text: string | undefined; aggregate: Aggregate | undefined } {
  const text = parts?.[key];
  if (text === undefined || parts === undefined) return { text, aggregate: undefined };
  const known = decodedParts.get(parts)?.get(key);
  if (known?.text === text) return known;
  const aggregate = decodePart(text, start, step);
  if (aggregate !== undefined) rememberPart(parts, key, text, aggregate);
  return { text, aggregate };
}

/** A part of an hour or a day about to be set: its new aggregate, and what the item holds for it now. */
interface PartChange {
  readonly next: Aggregate;
  readonly old: Aggregate | undefined;
  readonly oldText: string | undefined;
}

export function planSeriesRollup(input: SeriesRollupInput): SeriesRollupPlan {
  const { series, shardId, stored, recounted } = input;
  const cutoffs = cutoffsFor(input.now, input.retention);
  const kept = (start: string, kind: keyof RollupRetention): boolean => start > cutoffs[kind];
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

  /** A minute's next aggregate, from its part in the hour and the readings the hour has not applied (a recount is asked for when needed). */
  const nextMinute = (start: string, current: Aggregate | undefined, fresh: readonly StoredReading[], freshAggregate: Aggregate): Aggregate | undefined => {
    // Usually every reading is later than the minute's last: their aggregate is the minute's contribution.
    if (current === undefined || freshAggregate.first > current.last) {
      added++;
      return mergeAggregates([current, freshAggregate]);
    }
    if (!kept(start, 'raw')) return addLater(current, timed(fresh));
    if (recounted === undefined || !recounted.has(start)) {
      recount.push(start);
      return current;
    }
    // Nothing stored would mean the readings just written are gone: keep what is there rather than erase it.
    return recounted.get(start) ?? current;
  };

  /**
   * An hour the hour retention still keeps: its item is the authority, and remembers per
   * shard the highest sequence number applied, so a reading at or below it is not counted again.
   */
  const nextHour = (start: string, minutes: ReadonlyMap<string, MinuteReadings>): Aggregate | undefined => {
    const current = stored.get(bucketKey('1h', start));
    const position = current?.applied?.[shardId];
    let highest = position;
    const changes = new Map<string, PartChange>();
    for (const [minute, readings] of minutes) {
      let fresh: readonly StoredReading[] = readings.readings;
      let freshAggregate = readings.aggregate;
      let top = readings.highestSequence;
      if (position !== undefined && compareSequence(readings.lowestSequence, position) <= 0) {
        // Some were applied by an earlier delivery of the same records (a retry, a bisection, a replay).
        const indexes = readings.sequences.flatMap((sequence, index) => (compareSequence(sequence, position) > 0 ? [index] : []));
        if (indexes.length === 0) continue;
        fresh = indexes.map((index) => readings.readings[index] as StoredReading);
        freshAggregate = addReadings(undefined, timed(fresh)) as Aggregate;
        top = indexes.reduce((most, index) => (compareSequence(readings.sequences[index] as string, most) > 0 ? (readings.sequences[index] as string) : most), position);
      }
      if (highest === undefined || compareSequence(top, highest) > 0) highest = top;
      const key = partKey(minute, '1h');
      const { text: oldText, aggregate: old } = partOf(current?.parts, key, minute, '1h');
      const next = nextMinute(minute, old, fresh, freshAggregate);
      if (next !== undefined) changes.set(key, { next, old, oldText });
    }
    return nextParent('1h', start, changes, highest === position ? undefined : { ...current?.applied, [shardId]: highest as string });
  };

  /**
   * A bucket whose parts change: the parts to set, the new aggregate (extended from the old
   * one when every changed part only grew, else merged again from all parts), written when
   * changed or when its stream position moves. The parts as read are left as they are.
   */
  const nextParent = (step: '1h' | '1d', start: string, changes: ReadonlyMap<string, PartChange>, applied?: Readonly<Record<string, string>>): Aggregate | undefined => {
    const current = stored.get(bucketKey(step, start));
    let changed: Record<string, string> | undefined;
    let grewOnly = current?.aggregate !== undefined;
    let count = current?.aggregate?.count ?? 0;
    let sum = current?.aggregate?.sum ?? 0;
    const grown: Aggregate[] = [];
    for (const [key, { next, old, oldText }] of changes) {
      const text = encodePart(next, step);
      if (oldText === text) continue;
      (changed ??= {})[key] = text;
      if (oldText !== undefined && old === undefined) grewOnly = false;
      if (old !== undefined) {
        grewOnly &&= next.count >= old.count && next.min.compare(old.min) <= 0 && next.max.compare(old.max) >= 0 && next.first <= old.first && next.last >= old.last;
      }
      count += next.count - (old?.count ?? 0);
      sum += next.sum - (old?.sum ?? 0);
      grown.push(next);
    }
    if (changed === undefined && applied === undefined && current?.remembered !== true) return current?.aggregate;
    const parts = current?.parts ?? {};
    // Known before they are written: checked against the text when next read, so a write that fails leaves nothing wrong.
    for (const [key, { next }] of changes) if (changed?.[key] !== undefined) rememberPart(parts, key, changed[key], next);
    let aggregate: Aggregate | undefined;
    if (grewOnly && current?.aggregate !== undefined) aggregate = { ...(mergeAggregates([current.aggregate, ...grown]) as Aggregate), count, sum };
    else {
      const all = { ...parts, ...changed };
      aggregate = mergeAggregates(Object.keys(all).map((key) => decodePart(all[key] as string, partStart(start, step, key), step)));
    }
    if (aggregate === undefined) return current?.aggregate;
    const positions = applied ?? current?.applied;
    writes.push({ series, step, start, aggregate, parts, ...(changed === undefined ? {} : { partChanges: changed }), version: current?.version ?? 0, ...(positions === undefined ? {} : { applied: positions }) });
    return aggregate;
  };

  for (const [day, hours] of input.groups.days) {
    if (!kept(day, '1d')) {
      for (const minutes of hours.values()) for (const minute of minutes.values()) skippedAsRepeats += minute.readings.length;
      continue;
    }
    const dayItem = stored.get(bucketKey('1d', day));
    const hourChanges = new Map<string, PartChange>();
    for (const [hour, minutes] of hours) {
      const key = partKey(hour, '1d');
      const { text: oldText, aggregate: old } = partOf(dayItem?.parts, key, hour, '1d');
      // An hour past its retention is gone with its minutes: its part in the day is the base.
      const next = kept(hour, '1h') ? nextHour(hour, minutes) : addLater(old, [...minutes.values()].flatMap((minute) => timed(minute.readings)));
      if (next !== undefined) hourChanges.set(key, { next, old, oldText });
    }
    if (recount.length === 0) nextParent('1d', day, hourChanges);
  }
  return recount.length > 0 ? { writes: [], recount, added, skippedAsRepeats } : { writes, recount, added, skippedAsRepeats };
}

/** The start of part `key` of the bucket of `step` starting at `start`: minute `07` of hour `18:00` is `18:07:00Z`. */
function partStart(start: string, step: RollupStep, key: string): string {
  return step === '1h' ? `${start.slice(0, 14)}${key}:00Z` : `${start.slice(0, 11)}${key}:00:00Z`;
}
