/**
 * Series values: a reading as one value per metric, keyed by series (`<thing id>/<metric>`)
 * and time, as the store consumer packs them into segment items (reading-segment.ts).
 */
import type { Decimal } from './decimal';
import type { Reading } from './reading';

/** Separator between thing id and metric in `ThingID`. */
export const SERIES_SEPARATOR = '/';

export interface ReadingItem {
  readonly ThingID: string;
  readonly Timestamp: string;
  /** Exact; written to DynamoDB as a number with the same digits (stored-number.ts). */
  readonly Value: Decimal;
  readonly ExpiresAt?: number;
}

export const seriesId = (thingId: string, metric: string): string => `${thingId}${SERIES_SEPARATOR}${metric}`;

/** Splits a `ThingID` back into thing id and metric (metric names never contain `/`). */
export function splitSeriesId(series: string): { thingId: string; metric: string } {
  const at = series.lastIndexOf(SERIES_SEPARATOR);
  return at < 0 ? { thingId: series, metric: '' } : { thingId: series.slice(0, at), metric: series.slice(at + 1) };
}

/** When an item about `timestamp` expires (epoch seconds): the hot retention counted from that time, never from the clock. */
export function expiresAtOf(timestamp: string, hotRetentionDays: number | undefined): number | undefined {
  return hotRetentionDays === undefined ? undefined : Math.floor(Date.parse(timestamp) / 1000) + Math.round(hotRetentionDays * 86_400);
}

/**
 * One value per metric, keyed by series and time. `ExpiresAt` counts the hot retention from
 * the reading's own time; the segment holding the value expires with its latest one.
 */
export function readingItems(reading: Reading, hotRetentionDays?: number): ReadingItem[] {
  const expiresAt = expiresAtOf(reading.timestamp, hotRetentionDays);
  const items: ReadingItem[] = [];
  for (const [metric, value] of reading.metrics) {
    const ThingID = seriesId(reading.id, metric);
    items.push(
      expiresAt === undefined
        ? { ThingID, Timestamp: reading.timestamp, Value: value }
        : { ThingID, Timestamp: reading.timestamp, Value: value, ExpiresAt: expiresAt },
    );
  }
  return items;
}
