/**
 * How `npm run system-test` reaches the platform: a reading sent through the ingest API,
 * and what it reads back, from the tables (consistently) and from the web app's API.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NoticeKind } from '../handlers/alert-rules';
import { ATTRIBUTES } from '../handlers/contract';
import { decodeNotice, type AlertHistoryEntry } from '../handlers/notice-item';
import { seriesReadings, type TimedReading } from '../handlers/reading-segment';
import { normaliseTimestamp } from '../handlers/reading-timestamp';
import { seedBody, seedTimestamp } from './synthetic';
import type { Target } from './target';

export type Item = Record<string, unknown>;

/** A reading the run sent, and the ingest API's answer. */
export interface SentReading {
  readonly body: string;
  readonly temperature: string;
  /** As sent, in the 2016 report's format. */
  readonly timestamp: string;
  /** As the table must hold it. */
  readonly normalised: string;
  readonly status: number;
  readonly response: string;
}

/** `PUT` one reading in the 2016 report's body format; what was sent and answered. */
export async function putReading(target: Target, thingId: string, temperature: string, epochMicros: number): Promise<SentReading> {
  const timestamp = seedTimestamp(epochMicros);
  const normalised = normaliseTimestamp(timestamp);
  if (!normalised.ok) throw new Error(`generated timestamp ${timestamp} is not accepted: ${normalised.error.message}`);
  const body = seedBody(thingId, temperature, timestamp);
  const response = await fetch(target.ingestUrl, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey }, body });
  return { body, temperature, timestamp, normalised: normalised.value, status: response.status, response: await response.text() };
}

/** Polls the series' alert history until it holds a notice of `kind` from `after` on; undefined at `deadline` (epoch ms). */
export async function awaitNotice(dynamo: DynamoDBDocumentClient, table: string, series: string, kind: NoticeKind, after: string, deadline: number, pollMs: number): Promise<AlertHistoryEntry | undefined> {
  for (;;) {
    const found = (await queryAll(dynamo, table, series)).map(decodeNotice).find((entry) => entry.kind === kind && entry.key > after);
    if (found !== undefined || Date.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Whether the web API lists the series' alert `key` among the fleet's alerts of `kind` in `state` (following a few pages). */
export async function fleetLists(webUrl: string, series: string, key: string, kind: string, state: string): Promise<boolean> {
  let cursor: string | null = null;
  for (let page = 0; page < 10; page += 1) {
    const query = new URLSearchParams({ kind, state, limit: '500', ...(cursor === null ? {} : { cursor }) });
    const response = await fetch(`${webUrl}/api/alerts?${query}`);
    if (!response.ok) throw new Error(`GET ${webUrl}/api/alerts answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const body = (await response.json()) as { items: { series: string; timestamp: string }[]; nextCursor: string | null };
    if (body.items.some((item) => item.series === series && item.timestamp === key)) return true;
    cursor = body.nextCursor;
    if (cursor === null) return false;
  }
  return false;
}

/** Every item of one series in a table, read consistently. */
export async function queryAll(dynamo: DynamoDBDocumentClient, table: string, series: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#series = :series',
        ExpressionAttributeNames: { '#series': ATTRIBUTES.series },
        ExpressionAttributeValues: { ':series': series },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** The readings of one series in `[from, to]` as the table holds them (segment items decoded, duplicates removed), read consistently. */
export async function tableReadings(dynamo: DynamoDBDocumentClient, table: string, series: string, from: string, to: string): Promise<TimedReading[]> {
  const readings: TimedReading[] = [];
  for await (const reading of seriesReadings(dynamo, table, { series, from, to, consistentRead: true })) readings.push(reading);
  return readings;
}

/** Every item of one series from a time-range endpoint of the web app, following its cursor. */
export async function webItems(webUrl: string, endpoint: 'readings' | 'alerts', series: string): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ thing: series, limit: '5000', ...(cursor === null ? {} : { cursor }) });
    const response = await fetch(`${webUrl}/api/${endpoint}?${query}`);
    if (!response.ok) throw new Error(`GET ${webUrl}/api/${endpoint} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const page = (await response.json()) as { items: Item[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

/** The sequence number in the ingest API's answer (`{"accepted": 1, ..., "sequenceNumber": "..."}`). */
export function sequenceNumberOf(response: string): string | undefined {
  try {
    const sequence = (JSON.parse(response) as { sequenceNumber?: unknown }).sequenceNumber;
    return typeof sequence === 'string' && /^\d+$/.test(sequence) ? sequence : undefined;
  } catch {
    return undefined;
  }
}
