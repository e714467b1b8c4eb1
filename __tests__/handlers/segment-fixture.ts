import { windowItems, windowStart, type SegmentItem, type TimedReading, type WriterPosition } from '../../handlers/reading-segment';

/**
 * The items a store batch writes for one series' readings in any windows: grouped by
 * window as the store plan groups them, each window through the codec's windowItems.
 */
export function segmentItems(series: string, readings: readonly TimedReading[], position: WriterPosition, hotRetentionDays?: number): SegmentItem[] {
  const byWindow = new Map<string, TimedReading[]>();
  for (const reading of readings) {
    const window = windowStart(reading.timestamp);
    const known = byWindow.get(window);
    if (known === undefined) byWindow.set(window, [reading]);
    else known.push(reading);
  }
  return [...byWindow.values()].flatMap((inWindow) => windowItems(series, inWindow, position, hotRetentionDays));
}
