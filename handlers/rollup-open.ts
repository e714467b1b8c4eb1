/**
 * A series' open minute as readers see it. The store handler writes a minute to its hour
 * once a later minute begins (rollup-plan.ts), so the newest minute of a series is counted
 * from its readings by whoever reads it, in place of whatever its hour's part says, and its
 * hour's and day's aggregates are merged again with it. One definition for the web app and
 * the drills' audit.
 */
import { bucketStart, decodePart, mergeAggregates, partKey, partStart, type Aggregate, type RollupStep, type StoredStep } from './rollup';

/** The open minute's own aggregate and its hour's and day's, as readers see them. */
export type OpenMinuteView = { readonly [K in RollupStep]: Aggregate | undefined };

/** The parts an item holds other than `except`, decoded. */
function otherParts(parts: Readonly<Record<string, string>> | undefined, step: StoredStep, start: string, except: string): (Aggregate | undefined)[] {
  if (parts === undefined) return [];
  return Object.keys(parts).flatMap((key) => (key === except ? [] : [decodePart(parts[key] as string, partStart(start, step, key), step)]));
}

/**
 * The view of open minute `open`, given its readings' aggregate (`counted`), and the parts
 * of its hour's item and of its day's (undefined when not stored).
 */
export function openMinuteView(open: string, counted: Aggregate | undefined, hourParts: Readonly<Record<string, string>> | undefined, dayParts: Readonly<Record<string, string>> | undefined): OpenMinuteView {
  const hour = mergeAggregates([...otherParts(hourParts, '1h', bucketStart(open, '1h'), partKey(open, '1h')), counted]);
  const day = mergeAggregates([...otherParts(dayParts, '1d', bucketStart(open, '1d'), partKey(open, '1d')), hour]);
  return { '1m': counted, '1h': hour, '1d': day };
}
