/**
 * The repository over the platform's DynamoDB tables. Readings and alerts are
 * read with Query on one series' time range; the series list comes from the small
 * catalogue the store handler keeps (one item per series), never from a Scan of the
 * readings, so its cost grows with the number of series, not of readings.
 */
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ALERT_HISTORY_ATTRIBUTES, decodeNotice } from '../handlers/alert-items';
import { ATTRIBUTES } from '../handlers/contract';
import type { Decimal } from '../handlers/decimal';
import { decimalOf } from '../handlers/stored-number';
import { cacheFor } from './cache';
import { DEFAULT_SERIES_CACHE_SECONDS } from './config';
import {
  bySeries,
  storedThresholds,
  summariseSeries,
  TABLE_ROLES,
  type AlertRecord,
  type Page,
  type RangeQuery,
  type ReadingPoint,
  type ReadingsRepository,
  type SeriesSummary,
  type TableCheck,
  type TableRole,
  type Thresholds,
} from './repository';

/** BatchGetItem takes at most 100 keys per request. */
const BATCH_GET_LIMIT = 100;
/** Retries of keys DynamoDB left unprocessed (throttling) before the request fails. */
const UNPROCESSED_RETRIES = 5;
/** The readiness check's key: no series is called this, so its Query reads nothing and costs the minimum. */
const PROBE_SERIES = '(readiness check)';

export interface DynamoRepositoryOptions {
  /** Must read numbers exactly (createWebDynamoClient's does): a 38-digit value read as a double would be rounded, or fail. */
  readonly client: DynamoDBDocumentClient;
  readonly tables: Readonly<Record<TableRole, string>>;
  /** How long a series list is reused. @default DEFAULT_SERIES_CACHE_SECONDS */
  readonly seriesCacheSeconds?: number;
}

type Item = Record<string, unknown>;

const decimalOrNull = (value: unknown): Decimal | null => decimalOf(value) ?? null;
const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  async function scanCatalogue(): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tables.series,
          ProjectionExpression: '#series, #time, #value',
          ExpressionAttributeNames: {
            '#series': ATTRIBUTES.series,
            '#time': ATTRIBUTES.latestTimestamp,
            '#value': ATTRIBUTES.latestValue,
          },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** Threshold items of `series`, keyed by series; series without an item are absent. */
  async function thresholdItems(series: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const chunks: string[][] = [];
    for (let at = 0; at < series.length; at += BATCH_GET_LIMIT) chunks.push(series.slice(at, at + BATCH_GET_LIMIT));
    await Promise.all(
      chunks.map(async (chunk) => {
        let keys: Item[] = chunk.map((id) => ({ [ATTRIBUTES.series]: id }));
        for (let attempt = 0; keys.length > 0; attempt += 1) {
          if (attempt > UNPROCESSED_RETRIES) throw new Error(`thresholds: ${keys.length} keys still unprocessed after ${UNPROCESSED_RETRIES} retries`);
          if (attempt > 0) await sleep(50 * 2 ** attempt);
          const result = await client.send(
            new BatchGetCommand({
              RequestItems: {
                [tables.thresholds]: {
                  Keys: keys,
                  ProjectionExpression: '#series, #min, #max',
                  ExpressionAttributeNames: {
                    '#series': ATTRIBUTES.series,
                    '#min': ATTRIBUTES.minThreshold,
                    '#max': ATTRIBUTES.maxThreshold,
                  },
                },
              },
            }),
          );
          for (const item of result.Responses?.[tables.thresholds] ?? []) found.set(item[ATTRIBUTES.series] as string, item);
          keys = (result.UnprocessedKeys?.[tables.thresholds]?.Keys ?? []) as Item[];
        }
      }),
    );
    return found;
  }

  async function loadSeries(): Promise<SeriesSummary[]> {
    const catalogue = await scanCatalogue();
    const entries: { series: string; latest: ReadingPoint }[] = [];
    for (const item of catalogue) {
      const series = item[ATTRIBUTES.series];
      const timestamp = item[ATTRIBUTES.latestTimestamp];
      const value = decimalOrNull(item[ATTRIBUTES.latestValue]);
      // A catalogue item is written whole by the store handler; a partial one is skipped rather than shown wrong.
      if (typeof series === 'string' && typeof timestamp === 'string' && value !== null) entries.push({ series, latest: { timestamp, value } });
    }
    const thresholds = await thresholdItems(entries.map((entry) => entry.series));
    return entries
      .map((entry) => summariseSeries(entry.series, entry.latest, storedThresholds(thresholds.get(entry.series))))
      .sort(bySeries);
  }

  const listSeries = cacheFor(options.seriesCacheSeconds ?? DEFAULT_SERIES_CACHE_SECONDS, loadSeries);

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

  return {
    checkTables,
    listSeries,

    async readings(query) {
      const page = await queryRange(tables.things, query, [ATTRIBUTES.value]);
      const items: ReadingPoint[] = [];
      for (const item of page.items) {
        const value = decimalOf(item[ATTRIBUTES.value]);
        // The store handler writes every item with a number; an item without one is not a reading.
        if (value !== undefined) items.push({ timestamp: item[ATTRIBUTES.timestamp] as string, value });
      }
      return { ...page, items };
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
