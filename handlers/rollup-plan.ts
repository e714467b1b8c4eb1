/**
 * The pure part of keeping rollups: which minutes a batch makes countable for one series,
 * and, once they are counted from the stored readings, the hour and day items to write.
 * The store handler does the reading and writing (rollup-store.ts).
 *
 * Each series has an open minute: its newest minute holding readings, which readers count
 * from the readings themselves (rollup-open.ts). A minute is written to its hour's parts,
 * and the hour to its day's, when it stops being open, and again whenever a reading for it
 * comes late, always as counted from the stored readings (a consistent Query), never by
 * adding a batch's readings to what an item holds. So a series' rollups are written about
 * once a minute, not once a batch, and what a write sets is exact whatever came before it:
 * a retry, a bisection, a replay, a reading sent twice or corrected, a late reading.
 *
 * For a batch, with `wasOpen` the open minute before it (the series' open-minute item):
 * - the minutes from `wasOpen` up to the batch's newest (excluded) are counted, with one
 *   Query: it finds what earlier deliveries stored in them too;
 * - an earlier minute the batch stored readings in is counted again (a late reading);
 * - the batch's newest minute, when later than `wasOpen`, becomes the open minute.
 * A series that falls silent would keep its open minute until it sends again, and past the
 * raw readings' retention that minute could no longer be counted: so once a series has
 * been silent for CLOSE_OPEN_MINUTE_AFTER_MS, the no-data check writes its open minute and
 * marks it closed (closingTargets); a reading in a closed minute is then a late one.
 *
 * The check is the one writer that can run beside a shard's consumer, so each writer reads
 * the items' versions before it counts (a write made after its count makes its own write
 * fail, and it counts again), and the check counts the minute again once it has marked it
 * closed: a batch that stored a reading in it while it was being closed,
 * and saw it still open, left that reading to the readers, who no longer count it.
 * The open-minute item is written after the parts it makes whole, so every minute before
 * it is in its hour whenever it is read; after a failed write the series' records are
 * delivered again, and the redelivery counts the same minutes.
 *
 * Retention: an item whose bucket is past its retention may be gone. A minute whose raw
 * readings may have expired cannot be counted from them: the batch's readings later than
 * its part's last are added to the part instead (the rest taken for repeats). An hour past
 * its retention is gone with its minutes: its readings go to its part of the day that way.
 */
import type { Aggregate, StoredStep, TimedValue } from './rollup';
import { addReadings, bucketKey, bucketStart, bucketStartOfMillis, decodePart, encodePart, mergeAggregates, partKey, partStart, STEP_MS } from './rollup';
import { timedReadings, type SeriesContributions } from './rollup-gather';
import type { RollupBucket, StoredBucket } from './rollup-item';

/** Days each kind of data is kept (undefined: for ever), to know what may already be gone. */
export interface RollupRetention {
  /** Raw readings in the things table: a minute is counted from them only while all of them are surely there. */
  readonly raw?: number;
  readonly '1h'?: number;
  readonly '1d'?: number;
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

/** The retention a handler's settings give (the stack sets the same days for the store consumer and the no-data check). */
export const rollupRetention = (settings: { readonly hotRetentionDays?: number; readonly hourRollupRetentionDays?: number; readonly dayRollupRetentionDays?: number }): RollupRetention => ({
  raw: settings.hotRetentionDays,
  '1h': settings.hourRollupRetentionDays,
  '1d': settings.dayRollupRetentionDays,
});

/**
 * How long a series is silent before the no-data check writes its open minute: far less
 * than the shortest raw retention (a day), far more than a sensor's usual interval.
 */
export const CLOSE_OPEN_MINUTE_AFTER_MS = 3_600_000;

/** A series' open minute before a batch: its start (undefined: none stored) and whether it is written already. */
export interface WasOpen {
  readonly start: string | undefined;
  readonly closed: boolean;
}

/** What a batch asks of one series' rollups. */
export interface FoldTargets {
  readonly was: WasOpen;
  /** The open minute once the batch is in: the later of the one before and the batch's newest minute. */
  readonly open: string;
  /** Whether it stays written already (closed, and no later minute came). */
  readonly closed: boolean;
  /** The minutes from the open one before (the one after it, when closed) up to `open` (excluded), when the open minute moves on: counted with one read (countedReadings: a Query, two for items keyed the old way). */
  readonly span: { readonly from: string; readonly to: string } | undefined;
  /** Earlier minutes the batch stored readings in (late readings), counted one by one. */
  readonly late: readonly string[];
  /** Minutes whose raw readings may be gone, with the batch's readings of them. */
  readonly beyondRaw: ReadonlyMap<string, readonly TimedValue[]>;
  /** Hours whose items may be gone (their days are kept), with the batch's readings of them. */
  readonly beyondHour: ReadonlyMap<string, readonly TimedValue[]>;
}

/** Whether the batch leaves the series' rollup items as they are: the usual batch, all in the open minute. */
export const changesNothing = (targets: FoldTargets): boolean =>
  targets.open === targets.was.start && targets.closed === targets.was.closed && targets.late.length === 0 && targets.beyondRaw.size === 0 && targets.beyondHour.size === 0;

/** The start of the minute before `minute`. */
export const lastMinuteBefore = (minute: string): string => bucketStartOfMillis(Date.parse(minute) - STEP_MS['1m'], '1m');

/** The start of the minute after `minute`. */
const nextMinute = (minute: string): string => bucketStartOfMillis(Date.parse(minute) + STEP_MS['1m'], '1m');

/** The start of minute `minute` (0 to 59) of the hour starting at `hour`. */
const startOfMinuteInHour = (hour: string, minute: number): string => partStart(hour, '1h', String(minute).padStart(2, '0'));

export function foldTargets(contributions: SeriesContributions, was: WasOpen, cutoffs: RollupCutoffs): FoldTargets {
  let newest = '';
  for (const hour of contributions.hours) {
    for (const minute of hour.minutes) {
      const start = startOfMinuteInHour(hour.start, minute);
      if (start > newest) newest = start;
    }
  }
  const wasOpen = was.start;
  const open = wasOpen !== undefined && wasOpen > newest ? wasOpen : newest;
  // The span's minutes are counted with one read; earlier ones one by one (a closed minute is written already: a reading in it is late).
  const spanFrom = wasOpen === undefined ? open : was.closed ? nextMinute(wasOpen) : wasOpen;
  const closed = was.closed && open === wasOpen;
  const late: string[] = [];
  const beyondRaw = new Map<string, TimedValue[]>();
  const beyondHour = new Map<string, TimedValue[]>();
  for (const hour of contributions.hours) {
    if (!(bucketStart(hour.start, '1d') > cutoffs['1d'])) continue;
    if (!(hour.start > cutoffs['1h'])) {
      const readings = timedReadings(hour).filter((reading) => reading.timestamp < open);
      if (readings.length > 0) beyondHour.set(hour.start, readings);
      continue;
    }
    for (const minute of hour.minutes) {
      const start = startOfMinuteInHour(hour.start, minute);
      // The open minute is the readers' to count, unless it is closed.
      if ((start >= spanFrom && start < open) || (start === open && !closed)) continue;
      if (start > cutoffs.raw) late.push(start);
      else beyondRaw.set(start, timedReadings(hour, minute));
    }
  }
  const span = wasOpen !== undefined && open > spanFrom ? { from: spanFrom, to: open } : undefined;
  return { was, open, closed, span, late, beyondRaw, beyondHour };
}

/**
 * What the no-data check asks of a series whose latest reading (as its catalogue says) is in
 * `latestMinute`: every minute from the open one to that one counted and written, and that
 * one marked closed. Undefined when the open minute is past it (readings came since: the
 * series is the consumer's again).
 */
export function closingTargets(was: WasOpen, latestMinute: string, cutoffs: RollupCutoffs): FoldTargets | undefined {
  if (was.start !== undefined && was.start > latestMinute) return undefined;
  const spanFrom = was.start === undefined ? latestMinute : was.closed ? nextMinute(was.start) : was.start;
  const span = spanFrom < latestMinute ? { from: spanFrom, to: latestMinute } : undefined;
  return { was, open: latestMinute, closed: true, span, late: spanFrom <= latestMinute && countable(latestMinute, cutoffs) ? [latestMinute] : [], beyondRaw: new Map(), beyondHour: new Map() };
}

/** A minute the no-data check has just closed, counted again against the closed item now stored (a late minute, nothing else). */
export function recountTargets(minute: string, cutoffs: RollupCutoffs): FoldTargets {
  return { was: { start: minute, closed: true }, open: minute, closed: true, span: undefined, late: countable(minute, cutoffs) ? [minute] : [], beyondRaw: new Map(), beyondHour: new Map() };
}

/** Whether a minute's raw readings and its hour's item are surely still there to count it into (a series silent past the raw retention since before the check could see it: they may be gone, and the minute is only marked). */
const countable = (minute: string, cutoffs: RollupCutoffs): boolean => minute > cutoffs.raw && bucketStart(minute, '1h') > cutoffs['1h'];

/**
 * The `Bucket` keys of the hour and day items a fold of `minutes` changes (those past their
 * retention left out). Before counting: those of the span's first and last minute and of
 * the late ones (`minutes` undefined); after: those of the minutes counted.
 */
export function foldKeys(targets: FoldTargets, minutes: Iterable<string> | undefined, cutoffs: RollupCutoffs): string[] {
  const keys = new Set<string>();
  const add = (timestamp: string, steps: readonly StoredStep[]) => {
    for (const step of steps) {
      const start = bucketStart(timestamp, step);
      if (start > cutoffs[step]) keys.add(bucketKey(step, start));
    }
  };
  const { span } = targets;
  const before = span === undefined ? targets.late : [span.from, lastMinuteBefore(span.to), ...targets.late];
  for (const minute of [...(minutes ?? before), ...targets.beyondRaw.keys()]) add(minute, ['1h', '1d']);
  for (const hour of targets.beyondHour.keys()) add(hour, ['1d']);
  return [...keys];
}

export interface FoldInput {
  readonly series: string;
  readonly targets: FoldTargets;
  /** Minute start → the aggregate of the readings stored in it, for the span's and the late minutes (none stored: absent). */
  readonly counted: ReadonlyMap<string, Aggregate>;
  /** The items read (foldKeys), by `Bucket` key; a bucket not stored is absent. */
  readonly stored: ReadonlyMap<string, StoredBucket>;
  readonly cutoffs: RollupCutoffs;
}

/** Part key → new aggregate (undefined: left as it is), per parent bucket start. */
type PartChanges = Map<string, Map<string, Aggregate | undefined>>;

/** The hour and day items to write, each carrying the version read (0: it must not exist yet). */
export function planFold({ series, targets, counted, stored, cutoffs }: FoldInput): RollupBucket[] {
  const setPart = (into: PartChanges, parentStep: StoredStep, start: string, aggregate: Aggregate | undefined) => {
    const parent = bucketStart(start, parentStep);
    if (!(parent > cutoffs[parentStep])) return;
    let parts = into.get(parent);
    if (parts === undefined) into.set(parent, (parts = new Map()));
    parts.set(partKey(start, parentStep), aggregate);
  };
  const hours: PartChanges = new Map();
  for (const [minute, aggregate] of counted) setPart(hours, '1h', minute, aggregate);
  for (const [minute, readings] of targets.beyondRaw) setPart(hours, '1h', minute, addLater(partOf(stored, '1h', minute), readings));

  const writes: RollupBucket[] = [];
  const days: PartChanges = new Map();
  for (const [hour, parts] of hours) setPart(days, '1d', hour, nextBucket(series, '1h', hour, stored.get(bucketKey('1h', hour)), parts, writes));
  for (const [hour, readings] of targets.beyondHour) setPart(days, '1d', hour, addLater(partOf(stored, '1d', hour), readings));
  for (const [day, parts] of days) nextBucket(series, '1d', day, stored.get(bucketKey('1d', day)), parts, writes);
  return writes;
}

/** The part of the item of `parentStep` holding `start` (a minute or an hour), as stored. */
function partOf(stored: ReadonlyMap<string, StoredBucket>, parentStep: StoredStep, start: string): Aggregate | undefined {
  const text = stored.get(bucketKey(parentStep, bucketStart(start, parentStep)))?.parts?.[partKey(start, parentStep)];
  return text === undefined ? undefined : decodePart(text, start, parentStep);
}

/** `base` plus the readings later than its last; the rest are taken for repeats of counted ones. */
function addLater(base: Aggregate | undefined, readings: readonly TimedValue[]): Aggregate | undefined {
  return addReadings(base, base === undefined ? readings : readings.filter((reading) => reading.timestamp > base.last));
}

/**
 * A bucket with some parts set (an undefined aggregate leaves its part as it is) and its
 * aggregate merged again from all its parts, added to `writes` unless the item just read
 * says it all already (one the container remembers may not: another container may have
 * written since, so it is written, and its version condition tells). Returns the aggregate.
 */
function nextBucket(series: string, step: StoredStep, start: string, current: StoredBucket | undefined, changes: ReadonlyMap<string, Aggregate | undefined>, writes: RollupBucket[]): Aggregate | undefined {
  const parts: Record<string, string> = { ...current?.parts };
  let changed = false;
  for (const [key, aggregate] of changes) {
    const text = aggregate === undefined ? undefined : encodePart(aggregate, step);
    if (text !== undefined && parts[key] !== text) {
      parts[key] = text;
      changed = true;
    }
  }
  if (!changed && current?.aggregate !== undefined && current.remembered !== true) return current.aggregate;
  const aggregate = mergeAggregates(Object.keys(parts).map((key) => decodePart(parts[key] as string, partStart(start, step, key), step)));
  if (aggregate === undefined) return current?.aggregate;
  writes.push({ series, step, start, aggregate, parts, version: current?.version ?? 0 });
  return aggregate;
}
