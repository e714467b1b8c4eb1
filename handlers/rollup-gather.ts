/**
 * Gathering a batch's rollup contributions: its stored readings come per series and hour (a
 * segment of the things table, store-plan.ts), and become each minute's aggregate and the
 * records holding its lowest and highest sequence numbers, in one pass that allocates
 * nothing per reading; the readings are looked at again only off the path of in-order data
 * (a redelivery, a repeat, a late reading). What the contributions change in the stored
 * items is planned in rollup-plan.ts.
 */
import type { Decimal } from './decimal';
import type { Aggregate, TimedValue } from './rollup';
import { addToAggregate, bucketKey, bucketStart, compareSequence, readingAggregate } from './rollup';

/** A stored reading as the batch planned it (a ReadingItem). */
export interface StoredReading {
  readonly Timestamp: string;
  readonly Value: Decimal;
}

/** A stored reading and the records (indexes in the batch) that carried it, earliest first: a planned item. */
export interface StoredEntry {
  readonly item: StoredReading;
  readonly records: readonly number[];
}

/** The sequence numbers of a batch's records, by index, and their order. */
export interface BatchPositions {
  readonly sequenceOf: (record: number) => string;
  /** Whether index order is sequence order (Lambda delivers a shard in order): then records are compared by index. */
  readonly ordered: boolean;
}

/**
 * What one series stored in one minute of a batch: the aggregate and the records with the
 * lowest and highest sequence numbers, worked out as the readings were gathered, so the
 * usual case (every reading new, all later than the minute's last) adds one aggregate to
 * another and looks at no reading again.
 */
export interface MinuteReadings {
  /** The minute of the hour, 0 to 59. */
  readonly minute: number;
  readonly aggregate: Aggregate;
  readonly lowest: number;
  readonly highest: number;
}

/**
 * What one series stored in one hour of a batch (one segment of the things table): its
 * minutes, and the entries they came from, read again only when some may already be
 * counted (a redelivery, a repeat, a late reading).
 */
export interface HourReadings {
  /** Bucket start, `2026-11-30T18:00:00Z`. */
  readonly start: string;
  /** Its `Bucket` key. */
  readonly key: string;
  readonly minutes: readonly MinuteReadings[];
  readonly entries: readonly StoredEntry[];
  /** The resume point: entries whose records start there or later are left for the redelivery. */
  readonly end: number;
  /** The earliest record among the entries counted. */
  readonly firstRecord: number;
}

/** What one series of a batch contributes, by hour, and where its records start in the batch. */
export interface SeriesContributions {
  readonly hours: HourReadings[];
  /** The earliest record of the batch among them: delivered again if the series fails. */
  firstRecord: number;
  readonly positions: BatchPositions;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The minute of the hour of a normalised timestamp (`…T18:07:…` is 7), read off its digits. */
const minuteOfHour = (timestamp: string): number => (timestamp.charCodeAt(14) - 48) * 10 + timestamp.charCodeAt(15) - 48;

/**
 * The record an entry counts at: the latest of its records before `end`, so no position is
 * marked applied that a later delivery still has to apply; -1 when its records start at
 * `end` or later (Lambda delivers those again).
 */
function countedAt(records: readonly number[], end: number): number {
  const first = records[0] ?? end;
  if (first >= end) return -1;
  let last = first;
  // Mostly one record; a reading repeated within the batch has several.
  if (records.length > 1) for (const index of records) if (index < end) last = index;
  return last;
}

/** A bucket's start and `Bucket` key. */
interface BucketName {
  readonly start: string;
  readonly key: string;
}

/**
 * The hour and day last named, with the characters that identify them: the series of a
 * batch mostly share both, so their names are made once, not once per series.
 */
const lastNamed: { [K in '1h' | '1d']: { prefix: string; name: BucketName } | undefined } = { '1h': undefined, '1d': undefined };

/** The start and key of the bucket of `step` holding a normalised timestamp (or a bucket start). */
function bucketName(timestamp: string, step: '1h' | '1d'): BucketName {
  const last = lastNamed[step];
  if (last !== undefined && timestamp.startsWith(last.prefix)) return last.name;
  const start = bucketStart(timestamp, step);
  const name = { start, key: bucketKey(step, start) };
  lastNamed[step] = { prefix: start.slice(0, step === '1h' ? 13 : 10), name };
  return name;
}

/**
 * The contribution of the entries of one series in one hour (all in the same UTC hour),
 * or undefined when none counts. Runs over every reading stored: a reading in the minute
 * of the one before it compares a few numbers and allocates nothing.
 */
export function hourReadings(entries: readonly StoredEntry[], end: number, positions: BatchPositions): HourReadings | undefined {
  const { ordered, sequenceOf } = positions;
  const compare = (a: number, b: number): number => (ordered ? a - b : compareSequence(sequenceOf(a), sequenceOf(b)));
  const minutes: Mutable<MinuteReadings>[] = [];
  let minute: Mutable<MinuteReadings> | undefined;
  let firstRecord = end;
  let hour: BucketName | undefined;
  for (const { item, records } of entries) {
    const record = countedAt(records, end);
    if (record < 0) continue;
    if ((records[0] as number) < firstRecord) firstRecord = records[0] as number;
    const { Timestamp: timestamp, Value: value } = item;
    hour ??= bucketName(timestamp, '1h');
    const at = minuteOfHour(timestamp);
    if (minute?.minute !== at) {
      minute = undefined;
      for (const known of minutes) if (known.minute === at) minute = known;
      if (minute === undefined) {
        minutes.push({ minute: at, aggregate: readingAggregate(timestamp, value), lowest: record, highest: record });
        minute = minutes[minutes.length - 1];
        continue;
      }
    }
    // Built here alone, so updated in place.
    addToAggregate(minute.aggregate as Mutable<Aggregate>, timestamp, value);
    // Records come in order, so a reading's record is mostly the highest yet.
    if (compare(record, minute.highest) > 0) minute.highest = record;
    else if (compare(record, minute.lowest) < 0) minute.lowest = record;
  }
  return hour === undefined ? undefined : { start: hour.start, key: hour.key, minutes, entries, end, firstRecord };
}

/** The readings of one minute of an hour that count, each with the record it counts at (read again only off the usual path). */
export function minuteReadings(hour: HourReadings, minute: number): { readings: StoredReading[]; records: number[] } {
  const readings: StoredReading[] = [];
  const records: number[] = [];
  for (const entry of hour.entries) {
    const record = countedAt(entry.records, hour.end);
    if (record >= 0 && minuteOfHour(entry.item.Timestamp) === minute) {
      readings.push(entry.item);
      records.push(record);
    }
  }
  return { readings, records };
}

/** Every reading of an hour that counts. */
export const countedReadings = (hour: HourReadings): StoredReading[] => hour.entries.filter((entry) => countedAt(entry.records, hour.end) >= 0).map((entry) => entry.item);

export const timed = (readings: readonly StoredReading[]): TimedValue[] => readings.map((reading) => ({ timestamp: reading.Timestamp, value: reading.Value }));

/** A series' contributions to one day: its hours, and the day item's `Bucket` key. */
export interface DayReadings {
  readonly start: string;
  readonly key: string;
  readonly hours: HourReadings[];
}

/** A series' contributions by day and hour, and the `Bucket` key of every item they touch (hours and days). */
export interface ContributionGroups {
  readonly positions: BatchPositions;
  readonly days: readonly DayReadings[];
  readonly keys: readonly string[];
}

export function groupContributions(contributions: SeriesContributions): ContributionGroups {
  const days: DayReadings[] = [];
  const keys: string[] = [];
  for (const hour of contributions.hours) {
    const { start, key } = bucketName(hour.start, '1d');
    let day: DayReadings | undefined;
    // A batch mostly touches one day of a series.
    for (const known of days) if (known.start === start) day = known;
    if (day === undefined) {
      days.push({ start, key, hours: [hour] });
      keys.push(key, hour.key);
    } else {
      day.hours.push(hour);
      keys.push(hour.key);
    }
  }
  return { positions: contributions.positions, days, keys };
}
