/**
 * Gathering a batch's rollup contributions: its stored readings come per series and hour (a
 * segment of the things table, store-plan.ts), and become the minutes they touch, in one
 * pass that allocates nothing per reading. What the store handler then counts and writes
 * is planned in rollup-plan.ts; the readings themselves are looked at again only for data
 * older than the raw readings are kept.
 */
import type { Decimal } from './decimal';
import type { TimedValue } from './rollup';
import { bucketStart } from './rollup';

/** A stored reading as the batch planned it (a ReadingItem). */
interface StoredReading {
  readonly Timestamp: string;
  readonly Value: Decimal;
}

/** A stored reading and the records (indexes in the batch) that carried it, earliest first: a planned item. */
export interface StoredEntry {
  readonly item: StoredReading;
  readonly records: readonly number[];
}

/** What one series stored in one hour of a batch (one segment of the things table): the minutes touched, and the entries. */
export interface HourReadings {
  /** Bucket start, `2026-11-30T18:00:00Z`. */
  readonly start: string;
  /** Minutes of the hour (0 to 59) holding readings, in the order first met. */
  readonly minutes: readonly number[];
  readonly entries: readonly StoredEntry[];
}

/** What one series of a batch contributes, by hour, and where its records start in the batch. */
export interface SeriesContributions {
  readonly hours: HourReadings[];
  /** The earliest record of the batch among them: delivered again if the series fails. */
  firstRecord: number;
}

/** The minute of the hour of a normalised timestamp (`…T18:07:…` is 7), read off its digits. */
const minuteOfHour = (timestamp: string): number => (timestamp.charCodeAt(14) - 48) * 10 + timestamp.charCodeAt(15) - 48;

/** The contribution of the entries of one series in one hour (all in the same UTC hour), or undefined when there are none. */
export function hourReadings(entries: readonly StoredEntry[]): HourReadings | undefined {
  const first = entries[0];
  if (first === undefined) return undefined;
  const minutes: number[] = [];
  let last = -1;
  for (const { item } of entries) {
    const at = minuteOfHour(item.Timestamp);
    // Readings come in time order, mostly: a reading in the minute of the one before it compares one number.
    if (at !== last && !minutes.includes(at)) minutes.push(at);
    last = at;
  }
  return { start: bucketStart(first.item.Timestamp, '1h'), minutes, entries };
}

/** The readings of an hour, or of one of its minutes, as rollups take them. */
export function timedReadings(hour: HourReadings, minute?: number): TimedValue[] {
  const readings: TimedValue[] = [];
  for (const { item } of hour.entries) if (minute === undefined || minuteOfHour(item.Timestamp) === minute) readings.push({ timestamp: item.Timestamp, value: item.Value });
  return readings;
}
