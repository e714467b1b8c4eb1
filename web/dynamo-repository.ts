/**
 * The repository over the platform's DynamoDB tables. Readings, rollups and alerts are
 * read with Query on one series' key range; the series list comes from the small
 * catalogue the store handler keeps (one item per series) and the thresholds table,
 * never from a Scan of the readings, so its cost grows with the number of series, not of
 * readings.
 */
import { GetCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ALERT_STATE_ATTRIBUTES, seriesRecordOf, type SeriesAlertRecord } from '../handlers/alert-state-item';
import { ALERT_HISTORY_ATTRIBUTES, decodeNotice } from '../handlers/notice-item';
import { RULE_ATTRIBUTES } from '../handlers/rule-item';
import { ATTRIBUTES } from '../handlers/contract';
import type { Decimal } from '../handlers/decimal';
import { addReadings, bucketKey, bucketStart, bucketTimeRange, decodePart, OPEN_MINUTE_KEY, partStart, ROLLUP_ATTRIBUTES, type Aggregate, type StoredStep } from '../handlers/rollup';
import { countedReadings, seriesReadings } from '../handlers/reading-segment';
import { aggregateOfItem, openMinuteOfItem } from '../handlers/rollup-item';
import { openMinuteView } from '../handlers/rollup-open';
import { decimalOf } from '../handlers/stored-number';
import { refreshedEvery } from './cache';
import { DEFAULT_SERIES_CACHE_SECONDS } from './config';
import {
  bySeries,
  rollupPoint,
  storedThresholds,
  summariseSeries,
  TABLE_ROLES,
  type AlertRecord,
  type AlertStateSeen,
  type Page,
  type RangeQuery,
  type ReadingPoint,
  type ReadingsRepository,
  type RollupPoint,
  type RollupQuery,
  type SeriesSummary,
  type TableCheck,
  type TableRole,
  type Thresholds,
} from './repository';

/** The readiness check's key: no series is called this, so its Query reads nothing and costs the minimum. */
const PROBE_SERIES = '(readiness check)';

export interface DynamoRepositoryOptions {
  /** Must read numbers exactly (createWebDynamoClient's does): a 38-digit value read as a double would be rounded, or fail. */
  readonly client: DynamoDBDocumentClient;
  readonly tables: Readonly<Record<TableRole, string>>;
  /** How long a series list is served before it is read again (in the background). @default DEFAULT_SERIES_CACHE_SECONDS */
  readonly seriesCacheSeconds?: number;
}

type Item = Record<string, unknown>;

const decimalOrNull = (value: unknown): Decimal | null => decimalOf(value) ?? null;

/** The threshold rule's state as the overview shows it (pending is still ok); without a change time there is nothing to say. */
function alertStateOf(record: SeriesAlertRecord | undefined): AlertStateSeen | undefined {
  const changedAt = record?.status.changedAt;
  if (changedAt === undefined) return undefined;
  return { state: record?.status.condition === 'breached' ? 'breached' : 'ok', changedAt };
}

export function createDynamoRepository(options: DynamoRepositoryOptions): ReadingsRepository {
  const { client, tables } = options;

  /** Queries one series' time range, following DynamoDB pages until `limit` items (and one more, to know if there are more). */
  async function queryRange(table: string, query: RangeQuery, projection: readonly string[]): Promise<Page<Item>> {
    const names: Record<string, string> = { '#series': ATTRIBUTES.series, '#time': ATTRIBUTES.timestamp };
    projection.forEach((attribute, index) => (names[`#p${index}`] = attribute));
    const values: Record<string, unknown> = { ':series': query.series };
    let condition = '#series = :series';
    if (query.from !== undefined && query.to !== undefined) condition += ' AND #time BETWEEN :from AND :to';
    else if (query.from !== undefined) condition += ' AND #time >= :from';
    else if (query.to !== undefined) condition += ' AND #time <= :to';
    if (query.from !== undefined) values[':from'] = query.from;
    if (query.to !== undefined) values[':to'] = query.to;

    const input: QueryCommandInput = {
      TableName: table,
      KeyConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ProjectionExpression: ['#time', ...projection.map((_, index) => `#p${index}`)].join(', '),
      ScanIndexForward: query.order === 'asc',
    };
    const items: Item[] = [];
    let start: Item | undefined =
      query.after === undefined ? undefined : { [ATTRIBUTES.series]: query.series, [ATTRIBUTES.timestamp]: query.after };
    do {
      const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: start, Limit: query.limit + 1 - items.length }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined && items.length <= query.limit);

    if (items.length <= query.limit) return { items };
    const kept = items.slice(0, query.limit);
    return { items: kept, next: (kept[kept.length - 1] as Item)[ATTRIBUTES.timestamp] as string };
  }

  /** Every item of a table, with only the given attributes. */
  async function scanAll(table: string, attributes: readonly string[]): Promise<Item[]> {
    const names = Object.fromEntries(attributes.map((attribute, index) => [`#a${index}`, attribute]));
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: table, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /**
   * The catalogue joined with the thresholds. Both are read whole (Scan bills by the bytes
   * read, so the small thresholds items of 50,000 series cost about 1,300 read units, where
   * BatchGetItem bills half a unit per key: 25,000), and at once.
   */
  async function loadSeries(): Promise<SeriesSummary[]> {
    const [catalogue, thresholdItems] = await Promise.all([
      scanAll(tables.series, [ATTRIBUTES.series, ATTRIBUTES.latestTimestamp, ATTRIBUTES.latestValue]),
      scanAll(tables.thresholds, [ATTRIBUTES.series, RULE_ATTRIBUTES.min, RULE_ATTRIBUTES.max, RULE_ATTRIBUTES.noDataAfterSeconds, ALERT_STATE_ATTRIBUTES.state, ALERT_STATE_ATTRIBUTES.changedAt]),
    ]);
    const records = new Map(thresholdItems.map((item) => [String(item[ATTRIBUTES.series]), seriesRecordOf(item)]));
    const entries: { series: string; latest: ReadingPoint }[] = [];
    for (const item of catalogue) {
      const series = item[ATTRIBUTES.series];
      const timestamp = item[ATTRIBUTES.latestTimestamp];
      const value = decimalOrNull(item[ATTRIBUTES.latestValue]);
      // A catalogue item is written whole by the store handler; a partial one is skipped rather than shown wrong.
      if (typeof series === 'string' && typeof timestamp === 'string' && value !== null) entries.push({ series, latest: { timestamp, value } });
    }
    return entries
      .map((entry) => {
        const record = records.get(entry.series);
        const thresholds = record === undefined ? {} : { min: record.rule.min, max: record.rule.max };
        return summariseSeries(entry.series, entry.latest, thresholds, alertStateOf(record), record?.rule.noDataAfterSeconds);
      })
      .sort(bySeries);
  }

  const listSeries = refreshedEvery(options.seriesCacheSeconds ?? DEFAULT_SERIES_CACHE_SECONDS, loadSeries);

  /** A Query of one absent key on each table: it proves the table exists, is reachable and readable, and costs 0.5 RCU. */
  async function checkTables(deadline: AbortSignal): Promise<TableCheck[]> {
    return Promise.all(
      TABLE_ROLES.map(async (role): Promise<TableCheck> => {
        const table = tables[role];
        try {
          await client.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: '#series = :series',
              ExpressionAttributeNames: { '#series': ATTRIBUTES.series },
              ExpressionAttributeValues: { ':series': PROBE_SERIES },
              ProjectionExpression: '#series',
              Limit: 1,
            }),
            { abortSignal: deadline },
          );
          return { role, table };
        } catch (error) {
          return { role, table, error };
        }
      }),
    );
  }

  /** The rollups the items say: one Query over the series' buckets of the step. */
  async function storedRollups(query: RollupQuery): Promise<RollupPoint[]> {
    const { step, parent, from, to } = rollupItemRange(query);
    const points: RollupPoint[] = [];
    let start: Item | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: tables.rollups,
          KeyConditionExpression: '#series = :series AND #bucket BETWEEN :from AND :to',
          ExpressionAttributeNames: {
            '#series': ATTRIBUTES.series,
            '#bucket': ATTRIBUTES.bucket,
            ...(parent !== undefined
              ? { '#parts': ROLLUP_ATTRIBUTES.parts }
              : {
                  '#count': ROLLUP_ATTRIBUTES.count,
                  '#min': ROLLUP_ATTRIBUTES.min,
                  '#max': ROLLUP_ATTRIBUTES.max,
                  '#sum': ROLLUP_ATTRIBUTES.sum,
                  '#first': ROLLUP_ATTRIBUTES.first,
                  '#last': ROLLUP_ATTRIBUTES.last,
                }),
          },
          ExpressionAttributeValues: { ':series': query.series, ':from': from, ':to': to },
          // A day answers with its own aggregate, a minute or an hour with its part of the item holding it.
          ProjectionExpression: parent !== undefined ? '#bucket, #parts' : '#bucket, #count, #min, #max, #sum, #first, #last',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const bucket = String(item[ATTRIBUTES.bucket]).slice(step.length + 1);
        if (parent !== undefined) points.push(...partPoints(bucket, parent, item[ROLLUP_ATTRIBUTES.parts], query));
        else {
          const aggregate = aggregateOfItem(item);
          // The store handler writes every bucket whole; an item that is not is not shown rather than shown wrong.
          if (aggregate !== undefined) points.push(rollupPoint(bucket, aggregate));
        }
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return points;
  }

  /**
   * The series' open minute, when its bucket of the step is in the range: the store handler
   * writes a minute once a later one begins, so the newest is counted from its readings and
   * its hour and day merged again with it (handlers/rollup-open.ts).
   */
  async function openMinutePoint(query: RollupQuery): Promise<{ start: string; point: RollupPoint | undefined } | undefined> {
    const marker = await client.send(new GetCommand({ TableName: tables.rollups, Key: { [ATTRIBUTES.series]: query.series, [ATTRIBUTES.bucket]: OPEN_MINUTE_KEY } }));
    const { start: open, closed } = openMinuteOfItem(marker.Item);
    // A closed minute is written to its hour like any other.
    if (open === undefined || closed) return undefined;
    const start = bucketStart(open, query.step);
    if (start < bucketStart(query.from, query.step) || start > bucketStart(query.to, query.step)) return undefined;
    // A minute needs only its readings; an hour the other minutes of its item; a day those and its other hours.
    const partsOf = async (step: '1h' | '1d'): Promise<Record<string, string> | undefined> => {
      if (query.step === '1m' || (query.step === '1h' && step === '1d')) return undefined;
      const key = { [ATTRIBUTES.series]: query.series, [ATTRIBUTES.bucket]: bucketKey(step, bucketStart(open, step)) };
      const found = await client.send(new GetCommand({ TableName: tables.rollups, Key: key, ProjectionExpression: '#parts', ExpressionAttributeNames: { '#parts': ROLLUP_ATTRIBUTES.parts } }));
      const parts = found.Item?.[ROLLUP_ATTRIBUTES.parts];
      return typeof parts === 'object' && parts !== null ? (parts as Record<string, string>) : undefined;
    };
    const counted = async (): Promise<Aggregate | undefined> => {
      const readings: ReadingPoint[] = await countedReadings(client, tables.things, { series: query.series, ...bucketTimeRange(open, '1m') });
      return addReadings(undefined, readings);
    };
    const [minute, hourParts, dayParts] = await Promise.all([counted(), partsOf('1h'), partsOf('1d')]);
    const aggregate = openMinuteView(open, minute, hourParts, dayParts)[query.step];
    return { start, point: aggregate === undefined ? undefined : rollupPoint(start, aggregate) };
  }

  return {
    checkTables,
    listSeries,

    async readings(query) {
      // Readings are packed in segment items (handlers/reading-segment.ts): read window by window until one past the page.
      const items: ReadingPoint[] = [];
      const bound = query.order === 'asc' ? { after: query.after } : { before: query.after };
      for await (const reading of seriesReadings(client, tables.things, { series: query.series, from: query.from, to: query.to, order: query.order, ...bound })) {
        if (items.length === query.limit) return { items, next: (items[items.length - 1] as ReadingPoint).timestamp };
        items.push(reading);
      }
      return { items };
    },

    async rollups(query): Promise<RollupPoint[]> {
      const [points, open] = await Promise.all([storedRollups(query), openMinutePoint(query)]);
      if (open === undefined) return points;
      // The open minute's bucket as counted from its readings, in place of what the items say.
      const others = points.filter((point) => point.start.slice(0, 19) !== open.start.slice(0, 19));
      if (open.point !== undefined) others.push(open.point);
      return others.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
    },

    async alerts(query) {
      const H = ALERT_HISTORY_ATTRIBUTES;
      const page = await queryRange(tables.alerts, query, [
        H.kind, H.reminder, H.value, H.minThreshold, H.maxThreshold, H.messageId, H.bound, H.since, H.recipients, H.at,
        H.fleetKey, H.resolvedAt, H.acknowledgedBy, H.acknowledgedAt, H.acknowledgedNote,
      ]);
      const items = page.items.map((item): AlertRecord => {
        const { timestamp, kind, value, minThreshold, maxThreshold, messageId, bound, since, recipients, alert } = decodeNotice({ ...item, [ATTRIBUTES.series]: query.series });
        // What the notice says beyond the basics, when it says it.
        return {
          timestamp, kind, value, minThreshold, maxThreshold, messageId,
          ...(bound === null ? {} : { bound }),
          ...(since === null ? {} : { since }),
          ...(recipients === null ? {} : { recipients }),
          ...(alert === null ? {} : { alert }),
        };
      });
      return { ...page, items };
    },

    async thresholds(series): Promise<Thresholds> {
      const result = await client.send(new GetCommand({ TableName: tables.thresholds, Key: { [ATTRIBUTES.series]: series } }));
      return storedThresholds(result.Item);
    },
  };
}

/**
 * The `Bucket` keys of the items a rollup range is read from, and their step. Minutes are
 * parts of their hour's item and hours of their day's: a range of either reads the items
 * holding it (a month of hours is 31 small day items, not 720 hours of sixty minutes each);
 * a day answers with its own item's aggregate.
 */
export function rollupItemRange(query: Pick<RollupQuery, 'step' | 'from' | 'to'>): { step: StoredStep; parent: '1h' | '1d' | undefined; from: string; to: string } {
  const parent = query.step === '1m' ? '1h' : query.step === '1h' ? '1d' : undefined;
  const step = parent ?? '1d';
  return { step, parent, from: bucketKey(step, bucketStart(query.from, step)), to: bucketKey(step, bucketStart(query.to, step)) };
}

/** The parts of an hour or day item (its minutes or hours) that fall in the query's range, in time order; a part that does not decode is not shown. */
function partPoints(parentStart: string, parentStep: '1h' | '1d', parts: unknown, query: RollupQuery): RollupPoint[] {
  if (typeof parts !== 'object' || parts === null) return [];
  const points: RollupPoint[] = [];
  for (const key of Object.keys(parts).sort()) {
    const start = partStart(parentStart, parentStep, key);
    const text = (parts as Record<string, unknown>)[key];
    const aggregate: Aggregate | undefined = start >= query.from && start <= query.to && typeof text === 'string' ? decodePart(text, start, parentStep) : undefined;
    if (aggregate !== undefined) points.push(rollupPoint(start, aggregate));
  }
  return points;
}
