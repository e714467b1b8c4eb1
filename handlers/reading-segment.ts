/**
 * Segment items: how readings are kept in the things table. One item holds the readings of
 * one series that one store batch wrote in one aligned time window (a UTC hour), instead of
 * one item per reading, so DynamoDB writes grow with series × batches, not with readings.
 *
 * - Key: `ThingID` is the series; `Timestamp` is `<minute>!<writer position>`: the start of
 *   the minute of the item's latest reading, in the fixed-width format readings use; the
 *   writer position made of the highest and lowest sequence numbers of the segment's
 *   records (each in base 36 after its length, so keys sort by it as numbers), the shard id
 *   and a part number. The same records always give the same keys: a retried batch
 *   rewrites the same items. No item keyed before a minute can hold a reading of it, so a
 *   minute is counted from the items keyed by it and later in its hour (a dozen while it is
 *   new), not from every item of the hour before it.
 * - `Readings`: `+<microseconds after the start of the hour>=<value>` for the first reading, then
 *   `<microseconds after the reading before>=<value>`, `;` between them, in time order; the
 *   value is the exact decimal text (decimal.ts), every digit kept. Items are billed by
 *   size (a write unit is 1 KB), hence the short forms: at ten readings a second, a
 *   reading takes 12 bytes (`100000=19.57`) instead of 17 with offsets from the window
 *   start, and the key 100 bytes instead of 180; 50 readings then fit in one write unit.
 *   Segments written with offsets from the hour start (no `+`) are still read, and so are
 *   the segments keyed by their hour's start (`<hour start>#…`), as written before.
 * - `ExpiresAt`: the hot retention counted from the segment's latest reading.
 *
 * A reading can sit in two segments (a batch bisected or resumed after a failure): readers
 * keep one per timestamp, from the segment with the higher writer position (written later
 * on the shard, as "last write wins" gave with one item per reading). Items written before
 * segments (key = the reading's timestamp, attribute `Value`) are still read; a segment
 * wins over such an item.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ATTRIBUTES } from './contract';
import { Decimal } from './decimal';
import { expiresAtOf } from './reading-item';
import { decimalOf } from './stored-number';

/** Attribute holding a segment's readings. */
export const SEGMENT_ATTRIBUTE = 'Readings';

export const SEGMENT_LIMITS = {
  /** Width of the aligned window every reading of a segment falls in: one UTC hour. */
  windowMs: 3_600_000,
  /**
   * Most bytes of encoded readings in one item; a segment beyond it is split into parts.
   * Far below DynamoDB's 400 KB item limit, so a key of any allowed length still fits, and
   * small enough that a read of one window stays cheap.
   */
  partBytes: 64 * 1024,
} as const;

/** Sorts after every character a segment key holds after its time (`!`, `#`, digits, shard ids). */
const KEY_SENTINEL = '~';
const SEPARATOR = '#';
/** Between the minute of an item's latest reading and the writer position. (`#` after an hour start: an item keyed as before.) */
const MINUTE_SEPARATOR = '!';
const TIMESTAMP_WIDTH = 27;

export interface TimedReading {
  readonly timestamp: string;
  readonly value: Decimal;
}

/** Where a segment's records sit on the stream: what orders two segments of one window. */
export interface WriterPosition {
  readonly shardId: string;
  /** Highest and lowest sequence numbers among the segment's records. */
  readonly highest: string;
  readonly lowest: string;
}

/** A segment as written: key, encoded readings, expiry. */
export type SegmentItem = {
  readonly ThingID: string;
  readonly Timestamp: string;
  readonly Readings: string;
  readonly ExpiresAt?: number;
};

/**
 * A window is one UTC hour, so everything about it is read off the fixed-width text
 * (`2026-11-30T18:07:12.345678Z`): its start is the first 13 characters completed, and a
 * reading's place in it the minutes, seconds and microseconds. No date parsing per reading.
 */
const HOUR_PREFIX = 13;
const MINUTE_PREFIX = 16;
const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** The start of the window holding `timestamp`, in the same fixed-width format. */
export const windowStart = (timestamp: string): string => `${timestamp.slice(0, HOUR_PREFIX)}:00:00.000000Z`;

/** The start of the minute holding `timestamp`: a segment is keyed by its latest reading's. */
export const minuteStart = (timestamp: string): string => `${timestamp.slice(0, MINUTE_PREFIX)}:00.000000Z`;

/** Microseconds from the start of its window to a normalised timestamp. */
const offsetInWindow = (timestamp: string): number =>
  Number(timestamp.slice(14, 16)) * 60_000_000 + Number(timestamp.slice(17, 19)) * 1_000_000 + Number(timestamp.slice(20, 26));

/** The normalised timestamp `offset` microseconds into `window`. */
const timestampInWindow = (window: string, offset: number): string =>
  `${window.slice(0, HOUR_PREFIX)}:${pad(Math.floor(offset / 60_000_000), 2)}:${pad(Math.floor(offset / 1_000_000) % 60, 2)}.${pad(offset % 1_000_000, 6)}Z`;

/**
 * A sequence number (decimal, up to 128 digits) in base 36 after its length, so that text
 * order is numeric order. The length is written plus 10 (two digits, 11 to 93), so these
 * keys sort after those of segments written with the decimal form (`056…`), which came first.
 */
const sortableSequence = (sequence: string): string => {
  const digits = BigInt(sequence).toString(36);
  return `${digits.length + 10}${digits}`;
};

/** The range key of a segment's part. */
export function segmentKey(minute: string, position: WriterPosition, part: number): string {
  return `${minute}${MINUTE_SEPARATOR}${[sortableSequence(position.highest), sortableSequence(position.lowest), position.shardId, String(part).padStart(3, '0')].join(SEPARATOR)}`;
}

/** Marks a part whose offsets after the first count from the reading before. */
const DELTA_MARK = '+';

/**
 * The items of one series' readings from one batch that all fall in one window, by part.
 * `readings` (one value per timestamp) are sorted in place into time order.
 */
export function windowItems(series: string, readings: TimedReading[], position: WriterPosition, hotRetentionDays?: number): SegmentItem[] {
  readings.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
  const items: SegmentItem[] = [];
  let part: string[] = [];
  let bytes = 0;
  let latest = '';
  let partNumber = 0;
  let previous: number | undefined;
  const flush = (): void => {
    const expiresAt = expiresAtOf(latest, hotRetentionDays);
    const item = { ThingID: series, Timestamp: segmentKey(minuteStart(latest), position, partNumber++), Readings: part.join(';') };
    items.push(expiresAt === undefined ? item : { ...item, ExpiresAt: expiresAt });
    part = [];
    bytes = 0;
    previous = undefined;
  };
  // Each part starts from the window start, so a part decodes alone.
  const entryOf = (offset: number, reading: TimedReading): string => `${previous === undefined ? `${DELTA_MARK}${offset}` : offset - previous}=${reading.value.text}`;
  for (const reading of readings) {
    const offset = offsetInWindow(reading.timestamp);
    let entry = entryOf(offset, reading);
    if (part.length > 0 && bytes + entry.length + 1 > SEGMENT_LIMITS.partBytes) {
      flush();
      entry = entryOf(offset, reading);
    }
    part.push(entry);
    bytes += entry.length + 1;
    latest = reading.timestamp;
    previous = offset;
  }
  flush();
  return items;
}

/** A stored item of the things table decoded: its readings, and the rank that settles duplicates (higher wins). */
export interface DecodedItem {
  readonly window: string;
  readonly rank: string;
  readonly readings: TimedReading[];
}

/**
 * The readings of a things-table item of either shape (a segment, or one reading as
 * written before segments). Undefined for an item that is neither: it holds no reading.
 */
export function decodeItem(item: Record<string, unknown>): DecodedItem | undefined {
  const key = item[ATTRIBUTES.timestamp];
  if (typeof key !== 'string' || key.length < TIMESTAMP_WIDTH) return undefined;
  const encoded = item[SEGMENT_ATTRIBUTE];
  const separator = key.charAt(TIMESTAMP_WIDTH);
  if (typeof encoded === 'string' && (separator === MINUTE_SEPARATOR || separator === SEPARATOR)) {
    // Offsets count from the hour start whichever minute keys the item; the hour is what readers merge by.
    const window = windowStart(key);
    const readings: TimedReading[] = [];
    const deltas = encoded.startsWith(DELTA_MARK);
    const entries = encoded === '' ? [] : (deltas ? encoded.slice(DELTA_MARK.length) : encoded).split(';');
    let offset = 0;
    for (const [index, entry] of entries.entries()) {
      const at = entry.indexOf('=');
      const step = Number(entry.slice(0, at));
      const next = deltas && index > 0 ? offset + step : step;
      if (at < 1 || !Number.isSafeInteger(step) || step < 0 || next >= SEGMENT_LIMITS.windowMs * 1000) {
        // In a part of deltas an unreadable offset misplaces every later one: those are dropped too.
        if (deltas) break;
        continue;
      }
      offset = next;
      const value = Decimal.parse(entry.slice(at + 1));
      if (value !== undefined) readings.push({ timestamp: timestampInWindow(window, offset), value });
    }
    // A segment always outranks a one-reading item ('' is the lowest rank).
    return { window, rank: key.slice(TIMESTAMP_WIDTH + 1), readings };
  }
  const value = decimalOf(item[ATTRIBUTES.value]);
  if (value === undefined || key.length !== TIMESTAMP_WIDTH) return undefined;
  return { window: windowStart(key), rank: '', readings: [{ timestamp: key, value }] };
}

/**
 * The readings of items in key order (as a Query returns them, either direction), one per
 * timestamp (the highest rank wins), sorted in `order`, given window by window: a window's
 * items are contiguous in key order, so a window is complete once the next one starts.
 */
export class SegmentMerger {
  private window: string | undefined;
  private readonly best: BestReadings = new Map();

  constructor(private readonly order: 'asc' | 'desc' = 'asc') {}

  /** Adds an item; returns the readings of the window it closed, if it closed one. */
  add(item: Record<string, unknown>): TimedReading[] {
    const decoded = decodeItem(item);
    if (decoded === undefined) return [];
    const closed = this.window !== undefined && this.window !== decoded.window ? this.flush() : [];
    this.window = decoded.window;
    keepBest(this.best, decoded);
    return closed;
  }

  /** The readings of the open window, sorted; the merger starts afresh. */
  flush(): TimedReading[] {
    const readings = sortedReadings(this.best);
    if (this.order === 'desc') readings.reverse();
    this.best.clear();
    this.window = undefined;
    return readings;
  }
}

/** Every reading of a list of items (any order): deduplicated, oldest first. For scans of a series or a table. */
export function readingsOfItems(items: Iterable<Record<string, unknown>>): Map<string, TimedReading[]> {
  const bySeries = new Map<string, BestReadings>();
  for (const item of items) {
    const decoded = decodeItem(item);
    if (decoded === undefined) continue;
    const series = String(item[ATTRIBUTES.series]);
    let best = bySeries.get(series);
    if (best === undefined) bySeries.set(series, (best = new Map()));
    keepBest(best, decoded);
  }
  return new Map([...bySeries].map(([series, best]) => [series, sortedReadings(best)]));
}

/** The value kept for each timestamp, with the rank of the item it came from. */
type BestReadings = Map<string, { rank: string; value: Decimal }>;

/** Keeps each reading of `decoded` unless an item of higher rank gave its timestamp a value. */
function keepBest(best: BestReadings, decoded: DecodedItem): void {
  for (const reading of decoded.readings) {
    const known = best.get(reading.timestamp);
    if (known === undefined || known.rank <= decoded.rank) best.set(reading.timestamp, { rank: decoded.rank, value: reading.value });
  }
}

/** The readings kept, oldest first. */
function sortedReadings(best: BestReadings): TimedReading[] {
  const readings = [...best].map(([timestamp, { value }]) => ({ timestamp, value }));
  return readings.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
}

export interface SeriesRange {
  readonly series: string;
  /** Inclusive bounds; absent: open. */
  readonly from?: string;
  readonly to?: string;
  /** Exclusive bounds (a page cursor). */
  readonly after?: string;
  readonly before?: string;
  /** @default 'asc' */
  readonly order?: 'asc' | 'desc';
  readonly consistentRead?: boolean;
}

/** Sorts after every key of the hour holding `timestamp`, and before the next hour's. */
const hourKeysEnd = (timestamp: string): string => `${timestamp.slice(0, HOUR_PREFIX)}:59${KEY_SENTINEL}`;

/**
 * The Query key condition over the items that can hold readings of `[from, to]`: from the
 * start of `from`'s hour (an item keyed by a later minute can hold earlier readings of
 * its hour) to the end of `to`'s (an item keyed by a later minute can hold `to`).
 */
export function rangeCondition(from: string | undefined, to: string | undefined): { condition: string; values: Record<string, string> } {
  const low = from === undefined ? undefined : windowStart(from);
  const high = to === undefined ? undefined : hourKeysEnd(to);
  if (low !== undefined && high !== undefined) return { condition: ' AND #time BETWEEN :from AND :to', values: { ':from': low, ':to': high } };
  if (low !== undefined) return { condition: ' AND #time >= :from', values: { ':from': low } };
  if (high !== undefined) return { condition: ' AND #time <= :to', values: { ':to': high } };
  return { condition: '', values: {} };
}

/**
 * The readings of one series in a range, one per timestamp, in `order`, read page by page
 * as the caller consumes them (stop early to read less). `send` runs one Query (with the
 * caller's retries); it gets the input for QueryCommand.
 */
export async function* seriesReadings(
  client: Pick<DynamoDBDocumentClient, 'send'>,
  table: string,
  range: SeriesRange,
  send: QuerySender = (run) => run(),
): AsyncGenerator<TimedReading> {
  const order = range.order ?? 'asc';
  const from = range.after !== undefined && (range.from === undefined || range.after >= range.from) ? range.after : range.from;
  const to = range.before !== undefined && (range.to === undefined || range.before <= range.to) ? range.before : range.to;
  const inRange = (timestamp: string): boolean =>
    (range.from === undefined || timestamp >= range.from) &&
    (range.to === undefined || timestamp <= range.to) &&
    (range.after === undefined || timestamp > range.after) &&
    (range.before === undefined || timestamp < range.before);
  const merger = new SegmentMerger(order);
  for await (const item of queryItems(client, table, range.series, rangeCondition(from, to), { order, consistentRead: range.consistentRead === true }, send)) {
    for (const reading of merger.add(item)) if (inRange(reading.timestamp)) yield reading;
  }
  for (const reading of merger.flush()) if (inRange(reading.timestamp)) yield reading;
}

/**
 * The readings of one series in the minutes `[from, to]`, read to count them: the items
 * keyed by `from`'s minute or later up to the end of `to`'s hour, not every item of the
 * hour before it. That range holds the items keyed by the start of every later hour, as
 * they were written before; those of `from`'s hour take one more Query, empty once none is
 * left.
 */
export async function countedReadings(
  client: Pick<DynamoDBDocumentClient, 'send'>,
  table: string,
  range: { readonly series: string; readonly from: string; readonly to: string; readonly consistentRead?: boolean },
  send: QuerySender = (run) => run(),
): Promise<TimedReading[]> {
  const { series, from, to } = range;
  const between = (low: string, high: string): KeyRange => ({ condition: ' AND #time BETWEEN :from AND :to', values: { ':from': low, ':to': high } });
  const ranges = [between(minuteStart(from), hourKeysEnd(to))];
  const hour = windowStart(from);
  if (hour !== minuteStart(from)) ranges.push(between(`${hour}${SEPARATOR}`, `${hour}${SEPARATOR}${KEY_SENTINEL}`));
  const best: BestReadings = new Map();
  // Side by side: readers of the open minute wait for them. The higher rank wins whichever Query answers first.
  await Promise.all(
    ranges.map(async (keys) => {
      for await (const item of queryItems(client, table, series, keys, { order: 'asc', consistentRead: range.consistentRead === true }, send)) {
        const decoded = decodeItem(item);
        if (decoded !== undefined) keepBest(best, decoded);
      }
    }),
  );
  return sortedReadings(best).filter(({ timestamp }) => timestamp >= from && timestamp <= to);
}

type QueryPage = { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> };
/** Runs one Query with the caller's retries. */
export type QuerySender = (run: () => Promise<QueryPage>) => Promise<QueryPage>;
type KeyRange = ReturnType<typeof rangeCondition>;

/** The items of one series whose range key meets `range`, page by page. */
async function* queryItems(
  client: Pick<DynamoDBDocumentClient, 'send'>,
  table: string,
  series: string,
  range: KeyRange,
  options: { readonly order: 'asc' | 'desc'; readonly consistentRead: boolean },
  send: QuerySender,
): AsyncGenerator<Record<string, unknown>> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await send(() =>
      client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: `#series = :series${range.condition}`,
          ExpressionAttributeNames: { '#series': ATTRIBUTES.series, '#time': ATTRIBUTES.timestamp, '#value': ATTRIBUTES.value, '#readings': SEGMENT_ATTRIBUTE },
          ExpressionAttributeValues: { ':series': series, ...range.values },
          ProjectionExpression: '#time, #value, #readings',
          ScanIndexForward: options.order === 'asc',
          ...(options.consistentRead ? { ConsistentRead: true } : {}),
          ExclusiveStartKey: start,
        }),
      ),
    );
    yield* page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}
