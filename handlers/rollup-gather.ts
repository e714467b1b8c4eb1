/**
 * Gathering a batch's rollup contributions: its stored readings come per series and hour (a
 * segment of the things table, store-plan.ts), and become the minutes they touch, in one
 * pass that allocates nothing per reading. What the store handler then counts and writes
 * is planned in rollup-plan.ts; the readings themselves are looked at again only for data
 * older than the raw readings are kept.
 */
import type { Decimal } from './decimal';
import type { TimedValue } from './rollup';
import { bucketKey, bucketStart } from './rollup';

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

/** What one series stored in one hour of a batch (one segment of the things table): the minutes touched, and the entries. */
export interface HourReadings {
  /** Bucket start, `2026-11-30T18:00:00Z`. */
  readonly start: string;
  /** Its `Bucket` key. */
  readonly key: string;
  /** Minutes of the hour (0 to 59) holding readings, in the order first met. */
  readonly minutes: readonly number[];
  readonly entries: readonly StoredEntry[];
  /** The earliest record among the entries. */
  readonly firstRecord: number;
}

/** What one series of a batch contributes, by hour, and where its records start in the batch. */
export interface SeriesContributions {
  readonly hours: HourReadings[];
  /** The earliest record of the batch among them: delivered again if the series fails. */
  firstRecord: number;
}

/** The minute of the hour of a normalised timestamp (`…T18:07:…` is 7), read off its digits. */
const minuteOfHour = (timestamp: string): number => (timestamp.charCodeAt(14) - 48) * 10 + timestamp.charCodeAt(15) - 48;

/** A bucket's start and `Bucket` key. */
interface BucketName {
  readonly start: string;
  readonly key: string;
}

/** The hour last named, with the characters that identify it: the series of a batch mostly share it, so its name is made once. */
let lastHour: { prefix: string; name: BucketName } | undefined;

/** The start and key of the hour holding a normalised timestamp. */
function hourName(timestamp: string): BucketName {
  if (lastHour !== undefined && timestamp.startsWith(lastHour.prefix)) return lastHour.name;
  const start = bucketStart(timestamp, '1h');
  const name = { start, key: bucketKey('1h', start) };
  lastHour = { prefix: start.slice(0, 13), name };
  return name;
}

/** The contribution of the entries of one series in one hour (all in the same UTC hour), or undefined when there are none. */
export function hourReadings(entries: readonly StoredEntry[]): HourReadings | undefined {
  const first = entries[0];
  if (first === undefined) return undefined;
  const minutes: number[] = [];
  let firstRecord = Number.POSITIVE_INFINITY;
  let last = -1;
  for (const { item, records } of entries) {
    if ((records[0] as number) < firstRecord) firstRecord = records[0] as number;
    const at = minuteOfHour(item.Timestamp);
    // Readings come in time order, mostly: a reading in the minute of the one before it compares one number.
    if (at !== last && !minutes.includes(at)) minutes.push(at);
    last = at;
  }
  const { start, key } = hourName(first.item.Timestamp);
  return { start, key, minutes, entries, firstRecord };
}

/** The readings of an hour, or of one of its minutes, as rollups take them. */
export function timedReadings(hour: HourReadings, minute?: number): TimedValue[] {
  const readings: TimedValue[] = [];
  for (const { item } of hour.entries) if (minute === undefined || minuteOfHour(item.Timestamp) === minute) readings.push({ timestamp: item.Timestamp, value: item.Value });
  return readings;
}
