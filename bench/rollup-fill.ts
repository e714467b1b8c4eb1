/**
 * The month `npm run bench:rollups` measures: one series read once a second, and the
 * rollup items of its minutes, hours and days written as the store consumer encodes them,
 * computed from the readings as they stream past (no reading is kept).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../handlers/batch-write';
import { DEFAULT_RETRY_POLICY } from '../handlers/batching';
import { ATTRIBUTES } from '../handlers/contract';
import { Decimal } from '../handlers/decimal';
import { timestampOfMillis } from '../handlers/reading-timestamp';
import { addReadings, bucketExpiry, bucketStart, encodePart, mergeAggregates, partKey, STEP_MS, type Aggregate, type StoredStep, type TimedValue } from '../handlers/rollup';
import { rollupItem, type RollupBucket } from '../handlers/rollup-item';
import type { StoreReadingsSettings } from '../handlers/store-readings';

export const SECOND_MS = 1_000;
/** Rollup items per BatchWriteItem round: the writes of a few hours of minutes. */
const FILL_CHUNK = 1_000;

// ---------------------------------------------------------------------------
// The series: one reading a second
// ---------------------------------------------------------------------------

/** The reading taken at `millis`: a daily swing with a little noise, two decimals, the same on every run. */
export function valueAt(millis: number): number {
  const second = millis / SECOND_MS;
  const noise = ((Math.imul(second | 0, 2_654_435_761) >>> 0) % 200) / 100 - 1;
  return Math.round((20 + 4 * Math.sin((2 * Math.PI * second) / 86_400) + noise) * 100) / 100;
}

/** The readings of the minute starting at `minuteMs`, as rollups see them. */
function minuteReadings(minuteMs: number): TimedValue[] {
  const readings: TimedValue[] = [];
  for (let at = minuteMs; at < minuteMs + STEP_MS['1m']; at += SECOND_MS) readings.push({ timestamp: timestampOfMillis(at), value: Decimal.parse(String(valueAt(at))) as Decimal });
  return readings;
}

// ---------------------------------------------------------------------------
// The rollups table, filled from the readings as they stream past
// ---------------------------------------------------------------------------

/** A bucket of hours or days being filled: its parts' aggregates, encoded as the store consumer keeps them. */
interface OpenParent {
  readonly start: string;
  readonly parts: Record<string, string>;
  readonly aggregates: Aggregate[];
}

/**
 * Turns the minutes of one series, oldest first, into rollup items: an hour's and a day's
 * when the next minute is past them (or at `finish`). The parts are the encoded aggregates
 * of the minutes (hours) inside, as the consumer writes them; minutes have no item of their own.
 */
class RollupFill {
  private hour: OpenParent | undefined;
  private day: OpenParent | undefined;
  readonly written: Record<StoredStep, number> = { '1h': 0, '1d': 0 };

  constructor(
    private readonly series: string,
    private readonly expiry: (bucket: RollupBucket) => number | undefined,
    private readonly emit: (item: Record<string, unknown>) => void,
  ) {}

  addMinute(start: string, aggregate: Aggregate): void {
    if (this.hour !== undefined && this.hour.start !== bucketStart(start, '1h')) this.closeHour();
    if (this.day !== undefined && this.day.start !== bucketStart(start, '1d')) this.closeDay();
    this.hour ??= { start: bucketStart(start, '1h'), parts: {}, aggregates: [] };
    this.hour.parts[partKey(start, '1h')] = encodePart(aggregate, '1h');
    this.hour.aggregates.push(aggregate);
  }

  finish(): void {
    this.closeHour();
    this.closeDay();
  }

  private closeHour(): void {
    const hour = this.hour;
    if (hour === undefined) return;
    this.hour = undefined;
    const aggregate = mergeAggregates(hour.aggregates) as Aggregate;
    this.put({ series: this.series, step: '1h', start: hour.start, aggregate, parts: hour.parts, version: 0 });
    this.day ??= { start: bucketStart(hour.start, '1d'), parts: {}, aggregates: [] };
    this.day.parts[partKey(hour.start, '1d')] = encodePart(aggregate, '1d');
    this.day.aggregates.push(aggregate);
  }

  private closeDay(): void {
    const day = this.day;
    if (day === undefined) return;
    this.day = undefined;
    this.put({ series: this.series, step: '1d', start: day.start, aggregate: mergeAggregates(day.aggregates) as Aggregate, parts: day.parts, version: 0 });
  }

  private put(bucket: RollupBucket & { step: StoredStep }): void {
    this.written[bucket.step]++;
    this.emit(rollupItem(bucket, this.expiry(bucket)));
  }
}

/** Rollup items of `series`' minutes from `fromMs` to `toMs` (exclusive), written as they are made. */
export async function fillRollups(dynamo: DynamoDBDocumentClient, settings: StoreReadingsSettings, series: string, fromMs: number, toMs: number): Promise<{ items: Record<StoredStep, number>; readings: number }> {
  const retention: Partial<Record<StoredStep, number>> = {
    '1h': settings.hourRollupRetentionDays,
    '1d': settings.dayRollupRetentionDays,
  };
  let pending: Record<string, unknown>[] = [];
  const write = async () => {
    const result = await batchWriteAll(dynamo, pending, {
      tableName: settings.rollupsTable as string,
      concurrency: 8,
      itemOf: (item) => item,
      keyOf: (item) => `${String((item as Record<string, unknown>)[ATTRIBUTES.series])}\u0000${String((item as Record<string, unknown>)[ATTRIBUTES.bucket])}`,
      policy: DEFAULT_RETRY_POLICY,
      random: Math.random,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    if (result.unstored.length > 0 || result.refused.length > 0) {
      throw new Error(`the rollups table took ${pending.length - result.unstored.length - result.refused.length} of ${pending.length} items: ${[...result.errors, ...result.refused.map((entry) => entry.reason)][0] ?? 'no reason given'}`);
    }
    pending = [];
  };
  const fill = new RollupFill(
    series,
    (bucket) => bucketExpiry(bucket.start, bucket.step, retention[bucket.step as StoredStep]),
    (item) => pending.push(item),
  );
  let readings = 0;
  for (let minute = fromMs; minute < toMs; minute += STEP_MS['1m']) {
    const values = minuteReadings(minute);
    readings += values.length;
    fill.addMinute(bucketStart(values[0]?.timestamp as string, '1m'), addReadings(undefined, values) as Aggregate);
    if (pending.length >= FILL_CHUNK) await write();
  }
  fill.finish();
  await write();
  return { items: fill.written, readings };
}

