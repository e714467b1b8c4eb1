/**
 * What the web app reads, independent of where it is stored: DynamoDB on AWS and in the
 * local platform (dynamo-repository.ts), memory in tests and benchmarks (below).
 *
 * Every series is a `ThingID` of the things table, `<thing id>/<metric>`, every time is a
 * normalised timestamp (fixed-width ISO 8601 UTC with microseconds), so string order is
 * time order everywhere, and every value is exact (a Decimal, written with all its digits).
 */
import type { AlertHistoryEntry } from '../handlers/notice-item';
import { boundCrossed, type Thresholds } from '../handlers/alert-rules';
import { Decimal } from '../handlers/decimal';
import { splitSeriesId } from '../handlers/reading-item';
import { addReadings, bucketStart, bucketTimeRange, meanOf, type Aggregate, type RollupStep } from '../handlers/rollup';
import { readThresholds } from '../handlers/stored-number';

export type { Thresholds };

export type SortOrder = 'asc' | 'desc';

/** A time-ordered read of one series. Both bounds are inclusive. */
export interface RangeQuery {
  readonly series: string;
  readonly from?: string;
  readonly to?: string;
  readonly order: SortOrder;
  /** At most this many items. */
  readonly limit: number;
  /** Resume after this timestamp (exclusive), in `order`: the `next` of the previous page. */
  readonly after?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Timestamp to pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

export interface ReadingPoint {
  readonly timestamp: string;
  readonly value: Decimal;
}

/**
 * One notice of a series' alert history (handlers/notice-item.ts decodes it): `breach`,
 * `reminder`, `recovery`, `no-data` or `data-resumed`; the notice that opened an alert
 * carries the alert's state and acknowledgement in `alert`.
 */
export type AlertRecord = Pick<AlertHistoryEntry, 'timestamp' | 'value' | 'minThreshold' | 'maxThreshold' | 'messageId'> &
  Partial<Pick<AlertHistoryEntry, 'bound' | 'since' | 'recipients' | 'alert'>> & {
    readonly kind: string;
  };

/** One step's buckets of one series over a range. */
export interface RollupQuery {
  readonly series: string;
  readonly step: RollupStep;
  /** Starts of the first and last bucket (`2026-11-30T18:07:00Z`), both included. */
  readonly from: string;
  readonly to: string;
}

/** One bucket as the API answers it. */
export interface RollupPoint {
  /** The bucket's start, as a normalised timestamp. */
  readonly start: string;
  readonly count: number;
  readonly min: Decimal;
  readonly max: Decimal;
  /** As a double (sum of doubles / count). */
  readonly mean: number;
}

/** A stored bucket as the API answers it: its start written like every other time of the API. */
export const rollupPoint = (start: string, aggregate: Aggregate): RollupPoint => ({
  start: `${start.slice(0, 19)}.000000Z`,
  count: aggregate.count,
  min: aggregate.min,
  max: aggregate.max,
  mean: meanOf(aggregate),
});

export type SeriesStatus = 'ok' | 'breached' | 'no-threshold';

export interface SeriesSummary {
  /** The `ThingID`, `<thing id>/<metric>`. */
  readonly series: string;
  readonly thingId: string;
  readonly metric: string;
  readonly latestTimestamp: string;
  readonly latestValue: Decimal;
  readonly minThreshold: Decimal | null;
  readonly maxThreshold: Decimal | null;
  readonly status: SeriesStatus;
  /** When the alert state says the series entered `status` (a breach, or the recovery from one); absent when it does not say. */
  readonly statusSince?: string;
  /** The series' rule's no-data period: where set, it says when the series is silent, not its metric's window. */
  readonly noDataAfterSeconds?: number;
}

/** What the alert handler last decided for a series (kept on its thresholds item): `breached` or `ok`, and since when. */
export interface AlertStateSeen {
  readonly state: 'ok' | 'breached';
  /** Reading time of the change. */
  readonly changedAt: string;
}

/** The tables the app reads, by the names the stacks and the web configuration give them. */
export const TABLE_ROLES = ['things', 'thresholds', 'alerts', 'series', 'rollups'] as const;
export type TableRole = (typeof TABLE_ROLES)[number];

/** One table, as one cheap read found it. */
export interface TableCheck {
  readonly role: TableRole;
  /** The table's name. */
  readonly table: string;
  /** What the read failed with; absent when the table answered. */
  readonly error?: unknown;
}

export interface ReadingsRepository {
  /**
   * One cheap read of every table the app uses, for the readiness check. Never rejects
   * for a table's failure (it is in that table's `error`) and answers by the time
   * `deadline` aborts.
   */
  checkTables(deadline: AbortSignal): Promise<TableCheck[]>;
  /** Every series with its latest reading and threshold status, sorted by series. */
  listSeries(): Promise<SeriesSummary[]>;
  readings(query: RangeQuery): Promise<Page<ReadingPoint>>;
  /** The buckets of the range that hold readings, oldest first (empty buckets are absent). */
  rollups(query: RollupQuery): Promise<RollupPoint[]>;
  alerts(query: RangeQuery): Promise<Page<AlertRecord>>;
  /** The bounds the alert handler applies to a series (empty when it has none). */
  thresholds(series: string): Promise<Thresholds>;
}

/** Bounds as stored (numbers or numeric strings), read exactly as the alert handler reads them. */
export function storedThresholds(item: { MinThreshold?: unknown; MaxThreshold?: unknown } | undefined): Thresholds {
  return item === undefined ? {} : readThresholds(item.MinThreshold, item.MaxThreshold).thresholds;
}

/**
 * One line of the overview: the latest value judged against the same rule the alerts use.
 * The alert state gives "since" only where it agrees with that judgement (it lags while a
 * notice is being sent, and says nothing of a series without thresholds).
 */
export function summariseSeries(series: string, latest: ReadingPoint, thresholds: Thresholds, alertState?: AlertStateSeen, noDataAfterSeconds?: number): SeriesSummary {
  const { thingId, metric } = splitSeriesId(series);
  const status: SeriesStatus =
    thresholds.min === undefined && thresholds.max === undefined
      ? 'no-threshold'
      : boundCrossed(thresholds, latest.value) === undefined
        ? 'ok'
        : 'breached';
  return {
    series,
    thingId,
    metric,
    latestTimestamp: latest.timestamp,
    latestValue: latest.value,
    minThreshold: thresholds.min ?? null,
    maxThreshold: thresholds.max ?? null,
    status,
    ...(alertState !== undefined && alertState.state === status ? { statusSince: alertState.changedAt } : {}),
    ...(noDataAfterSeconds === undefined ? {} : { noDataAfterSeconds }),
  };
}

export const bySeries = (a: { series: string }, b: { series: string }): number => (a.series < b.series ? -1 : a.series > b.series ? 1 : 0);

// ---------------------------------------------------------------------------
// In memory
// ---------------------------------------------------------------------------

interface Timed {
  readonly timestamp: string;
}

/** First index whose timestamp is >= `timestamp` (or > it when `strict`). */
function lowerBound(items: readonly Timed[], timestamp: string, strict: boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const here = (items[middle] as Timed).timestamp;
    if (here < timestamp || (strict && here === timestamp)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Inserts or replaces by timestamp, keeping `items` sorted (appending is the fast path). */
function upsert<T extends Timed>(items: T[], item: T): void {
  const last = items[items.length - 1];
  if (last === undefined || last.timestamp < item.timestamp) {
    items.push(item);
    return;
  }
  const at = lowerBound(items, item.timestamp, false);
  if (items[at]?.timestamp === item.timestamp) items[at] = item;
  else items.splice(at, 0, item);
}

/** The page of `items` (sorted ascending) that `query` asks for: the same rules as a DynamoDB Query. */
function pageOf<T extends Timed>(items: readonly T[], query: RangeQuery): Page<T> {
  let start = query.from === undefined ? 0 : lowerBound(items, query.from, false);
  let end = query.to === undefined ? items.length : lowerBound(items, query.to, true);
  if (query.after !== undefined) {
    if (query.order === 'asc') start = Math.max(start, lowerBound(items, query.after, true));
    else end = Math.min(end, lowerBound(items, query.after, false));
  }
  const count = Math.max(0, Math.min(query.limit, end - start));
  const slice = query.order === 'asc' ? items.slice(start, start + count) : items.slice(end - count, end).reverse();
  const more = end - start > count;
  const last = slice[slice.length - 1];
  return more && last !== undefined ? { items: slice, next: last.timestamp } : { items: slice };
}

/**
 * A repository held in memory, for tests and benchmarks. It answers every query exactly
 * as the DynamoDB repository does (the same contract tests run against both).
 */
export class InMemoryRepository implements ReadingsRepository {
  private readonly readingsBySeries = new Map<string, ReadingPoint[]>();
  private readonly alertsBySeries = new Map<string, AlertRecord[]>();
  private readonly thresholdsBySeries = new Map<string, Thresholds>();
  private readonly noDataAfterBySeries = new Map<string, number>();
  private readonly alertStates = new Map<string, AlertStateSeen>();

  /** Stores a reading (replacing one at the same time), as the store handler does. */
  putReading(series: string, point: { readonly timestamp: string; readonly value: Decimal | number | string }): this {
    const value = Decimal.of(point.value);
    if (value === undefined) throw new RangeError(`not a number: ${String(point.value)}`);
    let points = this.readingsBySeries.get(series);
    if (points === undefined) this.readingsBySeries.set(series, (points = []));
    upsert(points, { timestamp: point.timestamp, value });
    return this;
  }

  /** Stores bounds read as the DynamoDB repository reads them (so `min > max` disables both). */
  putThresholds(series: string, stored: { min?: Decimal | number | string; max?: Decimal | number | string; noDataAfterSeconds?: number }): this {
    this.thresholdsBySeries.set(series, storedThresholds({ MinThreshold: stored.min, MaxThreshold: stored.max }));
    if (stored.noDataAfterSeconds === undefined) this.noDataAfterBySeries.delete(series);
    else this.noDataAfterBySeries.set(series, stored.noDataAfterSeconds);
    return this;
  }

  putAlert(series: string, alert: AlertRecord): this {
    let alerts = this.alertsBySeries.get(series);
    if (alerts === undefined) this.alertsBySeries.set(series, (alerts = []));
    upsert(alerts, { ...alert });
    // The state the alert handler keeps beside the thresholds: a breach or a recovery changes it, a reminder does not.
    const latest = alerts.filter((record) => record.kind === 'breach' || record.kind === 'recovery').pop();
    if (latest !== undefined) this.alertStates.set(series, { state: latest.kind === 'breach' ? 'breached' : 'ok', changedAt: latest.timestamp });
    return this;
  }

  /** Memory has no table to reach. */
  async checkTables(): Promise<TableCheck[]> {
    return [];
  }

  async listSeries(): Promise<SeriesSummary[]> {
    const summaries: SeriesSummary[] = [];
    for (const [series, points] of this.readingsBySeries) {
      const latest = points[points.length - 1];
      if (latest !== undefined) summaries.push(summariseSeries(series, latest, this.thresholdsBySeries.get(series) ?? {}, this.alertStates.get(series), this.noDataAfterBySeries.get(series)));
    }
    return summaries.sort(bySeries);
  }

  async readings(query: RangeQuery): Promise<Page<ReadingPoint>> {
    return pageOf(this.readingsBySeries.get(query.series) ?? [], query);
  }

  /** Recomputed from the readings: what the store consumer's rollups must equal. */
  async rollups(query: RollupQuery): Promise<RollupPoint[]> {
    const points = this.readingsBySeries.get(query.series) ?? [];
    const from = lowerBound(points, bucketTimeRange(query.from, query.step).from, false);
    const to = lowerBound(points, bucketTimeRange(query.to, query.step).to, true);
    const buckets = new Map<string, ReadingPoint[]>();
    for (const point of points.slice(from, to)) {
      const start = bucketStart(point.timestamp, query.step);
      const bucket = buckets.get(start);
      if (bucket === undefined) buckets.set(start, [point]);
      else bucket.push(point);
    }
    return [...buckets].map(([start, readings]) => rollupPoint(start, addReadings(undefined, readings) as Aggregate));
  }

  async alerts(query: RangeQuery): Promise<Page<AlertRecord>> {
    return pageOf(this.alertsBySeries.get(query.series) ?? [], query);
  }

  async thresholds(series: string): Promise<Thresholds> {
    return this.thresholdsBySeries.get(series) ?? {};
  }
}
