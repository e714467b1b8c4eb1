/**
 * What drills share: a local platform of their own on free ports, ways to feed it (the
 * ingest API, or the stream directly for records the API would refuse), and ways to look
 * at what it did (table contents, the failure queue, published alerts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ATTRIBUTES } from '../handlers/contract';
import { checkRule, type RuleInput } from '../handlers/rule-item';
import { expectedNotices as replayNotices, type ExpectedNotice, type ReplayOptions } from '../handlers/alert-rules';
import { decodeNotice, type AlertHistoryEntry } from '../handlers/notice-item';
import { parseReading } from '../handlers/reading';
import { readingItems } from '../handlers/reading-item';
import { readingsOfItems, type TimedReading } from '../handlers/reading-segment';
import { exactDocumentClient } from '../handlers/stored-number';
import { LOCAL_CREDENTIALS } from '../local/defaults';
import type { HandlerName } from '../build/handler-bundle';
import type { TableKey } from '../local/defaults';
import type { MappingStats } from '../local/event-source-mapping';
import { check, type DrillCheck } from './drill';
import { startLocalPlatform, type LocalPlatform, type LocalPlatformOptions } from '../local/platform';

export const FREE_PORTS = { ingest: 0, web: 0, dynamodb: 0, kinesis: 0, messaging: 0 } as const;

export interface DrillPlatform {
  readonly platform: LocalPlatform;
  readonly dynamo: DynamoDBDocumentClient;
  readonly kinesis: KinesisClient;
  /** Every line the platform logged, for diagnosis. */
  readonly logLines: string[];
  stop(): Promise<void>;
}

/**
 * The configuration drills synthesize the stack with: the defaults, not the user's
 * platform.config.json (a drill's outcome must not depend on the checkout), except a
 * one-second batching window (drills wait for the pipeline to drain; the window only adds latency).
 */
export const DRILL_CONFIGURATION = { consumers: { batchWindowSeconds: 1 } } as const;

/** A platform on free ports in `dataDir`, running the stack synthesized with `DRILL_CONFIGURATION`. */
export async function startDrillPlatform(dataDir: string, options: Partial<LocalPlatformOptions> = {}): Promise<DrillPlatform> {
  const logLines: string[] = [];
  const platform = await startLocalPlatform({
    dataDir,
    clean: true,
    ports: FREE_PORTS,
    configuration: DRILL_CONFIGURATION,
    log: (line) => logLines.push(line),
    ...options,
  });
  const dynamo = localDynamo(platform.urls.dynamodb, platform.region);
  const kinesis = new KinesisClient({ region: platform.region, credentials: LOCAL_CREDENTIALS, endpoint: platform.urls.kinesis, requestHandler: new NodeHttpHandler() });
  return {
    platform,
    dynamo,
    kinesis,
    logLines,
    async stop() {
      dynamo.destroy();
      kinesis.destroy();
      await platform.stop();
    },
  };
}

/** The event source mapping stats of the function running `handler` (named `<handler>`, or `<prefix>-<handler>` by the stack). */
export function consumerStats(platform: Pick<LocalPlatform, 'consumers'>, handler: HandlerName): MappingStats {
  const found = Object.entries(platform.consumers()).find(([name]) => name === handler || name.endsWith(`-${handler}`));
  if (found === undefined) throw new Error(`no function of the stack runs ${handler}: the consumers are ${Object.keys(platform.consumers()).join(', ')}`);
  return found[1];
}

/** A document client for a local platform's DynamoDB emulator (in this process or another). */
export function localDynamo(endpoint: string, region: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ region, credentials: LOCAL_CREDENTIALS, endpoint }));
}

/** Like localDynamo, but reading numbers with every digit (NumberValue), as the handlers and the web app do. */
export function localExactDynamo(endpoint: string, region: string): DynamoDBDocumentClient {
  return exactDocumentClient(new DynamoDBClient({ region, credentials: LOCAL_CREDENTIALS, endpoint }));
}

/** Runs `use` against a drill platform in `dataDir`, stopping the platform however `use` ends. */
export async function withDrillPlatform<T>(dataDir: string, use: (drill: DrillPlatform) => Promise<T>, options?: Parameters<typeof startDrillPlatform>[1]): Promise<T> {
  const drill = await startDrillPlatform(dataDir, options);
  try {
    return await use(drill);
  } finally {
    await drill.stop();
  }
}

/** What reading a platform's tables takes: a client and the table names (a platform in this process or another). */
export interface TableAccess {
  readonly dynamo: DynamoDBDocumentClient;
  readonly platform: Pick<LocalPlatform, 'tables'>;
}

/** Every item of one of the platform's tables. */
export async function scanTable(drill: TableAccess, table: TableKey): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await drill.dynamo.send(new ScanCommand({ TableName: drill.platform.tables[table], ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Every reading the readings table holds, by series, one per timestamp, as the readers see them (segments decoded, duplicates removed). */
export async function storedReadings(drill: TableAccess): Promise<Map<string, TimedReading[]>> {
  return readingsOfItems(await scanTable(drill, 'things'));
}

/** How many readings the readings table holds (one per series and timestamp). */
export async function storedCount(drill: TableAccess): Promise<number> {
  let total = 0;
  for (const readings of (await storedReadings(drill)).values()) total += readings.length;
  return total;
}

/**
 * How many items the readings table holds, counted by DynamoDB without returning them:
 * enough to see whether anything was stored (new readings always make a new segment key,
 * and a retry rewrites the same items), without decoding every segment on each poll.
 */
async function storedItemCount(drill: TableAccess): Promise<number> {
  let total = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await drill.dynamo.send(new ScanCommand({ TableName: drill.platform.tables.things, Select: 'COUNT', ExclusiveStartKey: start, ConsistentRead: true }));
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return total;
}

/** `series|timestamp` of every reading in the readings table. */
export async function storedKeys(drill: TableAccess): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const [series, readings] of await storedReadings(drill)) for (const reading of readings) keys.add(`${series}|${reading.timestamp}`);
  return keys;
}

export interface DrillReadingOptions {
  /** Thing ids are `things/<prefix>/<nnn>`. */
  readonly prefix: string;
  /** @default 5 */
  readonly things?: number;
  /** Epoch ms of the first reading. @default 2024-05-01T00:00:00Z */
  readonly startMs?: number;
  /** Ms from one reading to the next. @default 1 */
  readonly intervalMs?: number;
  /** Temperature of reading `index`. @default 20 + (index % 50) / 10 */
  readonly value?: (index: number) => number;
}

/**
 * Start and spacing that date `count` readings over the `minutes` before the last one: a
 * series' newest minute is written to its rollups only once a later one begins, so a
 * drill that audits rollups spreads its readings over several minutes.
 */
export const overRecentMinutes = (count: number, minutes = 5): Pick<DrillReadingOptions, 'startMs' | 'intervalMs'> => ({ startMs: Date.now() - (minutes + 1) * 60_000, intervalMs: (minutes * 60_000) / count });

/** `count` valid readings (the objects the ingest API puts on the stream), spread over a few things, each at its own time. */
export function drillReadings(count: number, options: DrillReadingOptions): Record<string, unknown>[] {
  const things = options.things ?? 5;
  const start = options.startMs ?? Date.UTC(2024, 4, 1);
  const value = options.value ?? ((index: number) => 20 + (index % 50) / 10);
  return Array.from({ length: count }, (_, index) => ({
    id: `things/${options.prefix}/${String(index % things).padStart(3, '0')}`,
    temperature: value(index).toFixed(2),
    timestamp: new Date(start + index * (options.intervalMs ?? 1)).toISOString(),
  }));
}

/** The `series|timestamp` keys the readings table must hold for `readings`, computed by the handlers' own model. */
export function expectedKeys(readings: readonly Record<string, unknown>[]): Set<string> {
  const keys = new Set<string>();
  for (const reading of readings) {
    const parsed = parseReading(reading);
    if (!parsed.ok) throw new Error(`not a valid reading: ${parsed.error.message}`);
    for (const item of readingItems(parsed.value)) keys.add(`${item.ThingID}|${item.Timestamp}`);
  }
  return keys;
}

/** How many of `expected` are in `stored`, and which are missing or unexpected (a few of each, for the report). */
export function compareKeys(expected: ReadonlySet<string>, stored: ReadonlySet<string>): { found: number; missing: string[]; unexpected: string[] } {
  const missing = [...expected].filter((key) => !stored.has(key));
  const unexpected = [...stored].filter((key) => !expected.has(key));
  return { found: expected.size - missing.length, missing, unexpected };
}

export type { ExpectedNotice };

/**
 * The notices the alert rule (handlers/alert-rules.ts) sends for `series` when its readings
 * arrive once each, in time order: what a drill's pipeline must still produce under failure.
 */
export function expectedNotices(
  readings: readonly Record<string, unknown>[],
  series: string,
  rule: RuleInput,
  cooldownSeconds: number,
  options: ReplayOptions = {},
): ExpectedNotice[] {
  const checked = checkRule(series, rule);
  if (checked.problems.length > 0) throw new Error(`not a rule: ${checked.problems.join('; ')}`);
  const observations = readings
    .flatMap((reading) => {
      const parsed = parseReading(reading);
      return parsed.ok ? readingItems(parsed.value) : [];
    })
    .filter((item) => item.ThingID === series)
    .map((item) => ({ value: item.Value, timestamp: item.Timestamp }));
  return replayNotices(checked.rule, observations, cooldownSeconds, options);
}

/** Whether the alert history and the published notices of `series` are exactly `expected`, each sent once. */
export async function auditAlerts(
  drill: TableAccess,
  series: string,
  expected: readonly ExpectedNotice[],
  published: readonly { readonly messageId: string; readonly subject?: string; readonly message?: string; readonly publishedAt?: string }[],
  /**
   * When a consumer was killed (ISO time): a notice it published and never recorded, repeated
   * word for word by the notice recorded after the restart, is the one duplicate the claim
   * protocol documents (SNS cannot take a publish back); it is counted, not failed.
   */
  killedAt?: string,
): Promise<{ readonly historyMatches: boolean; readonly sentOnce: boolean; readonly repeatedAtKill: number; readonly detail: string }> {
  const history = await recordedNotices(drill, series);
  const describe = (notices: readonly { kind: string; timestamp: string }[]) => notices.map((notice) => `${notice.kind}@${notice.timestamp.slice(11, 23)}`).join(', ') || 'none';
  const historyMatches = history.length === expected.length && history.every((entry, index) => entry.kind === expected[index]?.kind && entry.timestamp === expected[index]?.timestamp);
  const sends = new Map<string, number>();
  for (const message of published) sends.set(message.messageId, (sends.get(message.messageId) ?? 0) + 1);
  const ids = new Set(history.map((entry) => entry.messageId));
  const text = (message: { readonly subject?: string; readonly message?: string }) => `${message.subject ?? ''}\n${message.message ?? ''}`;
  const recordedTexts = new Set(published.filter((message) => ids.has(message.messageId)).map(text));
  const unrecorded = published.filter((message) => !ids.has(message.messageId));
  const repeatedAtKill = unrecorded.filter((message) => killedAt !== undefined && message.publishedAt !== undefined && message.publishedAt <= killedAt && recordedTexts.has(text(message))).length;
  const sentOnce = history.every((entry) => sends.get(entry.messageId) === 1) && unrecorded.length === repeatedAtKill;
  return {
    historyMatches,
    sentOnce,
    repeatedAtKill,
    detail: `expected ${describe(expected)}; history ${describe(history)}; ${published.length} published for ${history.length} recorded${repeatedAtKill > 0 ? `, ${repeatedAtKill} of them published by the killed process and sent again after the restart` : ''}`,
  };
}

export interface RecordedNotice {
  /** `breach`, `reminder`, `recovery`, `no-data` or `data-resumed` (`unknown` for an item this version cannot read). */
  readonly kind: AlertHistoryEntry['kind'];
  /** The history key: the event time. */
  readonly timestamp: string;
  readonly messageId: string;
}

/** The notices recorded for `series` in the alert history, oldest first (kind, with reminders named so). */
export async function recordedNotices(drill: TableAccess, series: string): Promise<RecordedNotice[]> {
  return (await scanTable(drill, 'alerts'))
    .filter((item) => item[ATTRIBUTES.series] === series)
    .map(decodeNotice)
    .map((entry) => ({ kind: entry.kind, timestamp: entry.key, messageId: entry.messageId ?? '' }))
    .sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
}

/** Polls until the history of `series` holds a notice of `kind`; that notice, or undefined after `timeoutMs`. */
export async function waitForNotice(drill: TableAccess, series: string, kind: string, timeoutMs: number): Promise<RecordedNotice | undefined> {
  return pollUntil(async () => (await recordedNotices(drill, series)).find((notice) => notice.kind === kind), timeoutMs, 250);
}

/** The two checks every drill feeding readings through the pipeline starts with: it drained, and nothing was lost. */
export function drainedChecks(quiet: boolean, stored: { readonly found: number }, sent: number, waitedSeconds = 60): DrillCheck[] {
  return [
    check('the pipeline drained', quiet, quiet ? 'both consumers idle, table stable' : `still busy after ${waitedSeconds} s`),
    check('every reading is stored', stored.found === sent, `${count(stored.found)} of ${count(sent)} stored`),
  ];
}

/** Puts raw records on the stream, bypassing the ingest API's validation (as a misbehaving producer with stream access would). */
export async function putRawRecords(drill: Pick<DrillPlatform, 'kinesis' | 'platform'>, records: readonly { readonly partitionKey: string; readonly data: string | Uint8Array }[]): Promise<void> {
  for (let start = 0; start < records.length; start += 500) {
    const slice = records.slice(start, start + 500);
    const result = await drill.kinesis.send(
      new PutRecordsCommand({
        StreamName: drill.platform.streamName,
        Records: slice.map((record) => ({ PartitionKey: record.partitionKey, Data: typeof record.data === 'string' ? Buffer.from(record.data) : record.data })),
      }),
    );
    if ((result.FailedRecordCount ?? 0) > 0) throw new Error(`the Kinesis emulator refused ${result.FailedRecordCount} of ${slice.length} records`);
  }
}

/** Readings as the ingest API's batch endpoint takes them, `size` per request; resolves when all are acknowledged. */
export async function sendBatches(platform: { readonly urls: { readonly batchIngest: string }; readonly apiKey: string }, readings: readonly Record<string, unknown>[], size = 500): Promise<void> {
  for (let start = 0; start < readings.length; start += size) {
    const body = JSON.stringify({ Data: readings.slice(start, start + size) });
    const response = await fetch(platform.urls.batchIngest, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': platform.apiKey }, body });
    if (response.status !== 200) throw new Error(`the ingest API answered ${response.status}: ${await response.text()}`);
  }
}

/** Polls `probe` until it returns something other than undefined; undefined after `timeoutMs`. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until both consumers have nothing fetched and not done, and the readings table has not changed for `quietMs`. */
export async function waitForQuiet(drill: DrillPlatform, timeoutMs: number, quietMs = 2_500): Promise<boolean> {
  let last = -1;
  let stableSince = Date.now();
  const settled = await pollUntil(async () => {
    const pending = Object.values(drill.platform.consumers()).reduce((sum, stats) => sum + stats.recordsPending, 0);
    const stored = await storedItemCount(drill);
    if (stored !== last || pending > 0) {
      last = stored;
      stableSince = Date.now();
      return undefined;
    }
    return Date.now() - stableSince >= quietMs ? true : undefined;
  }, timeoutMs, 250);
  return settled === true;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `1234` (ms) → `"1.2 s"`. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A stack frame, or a source or dependency path with a line number: what no caller should ever be shown. */
const STACK_TRACE = /^\s+at \S|\.(?:ts|tsx|js|mjs|cjs):\d+|node_modules[\\/]/m;

export const showsStackTrace = (text: string): boolean => STACK_TRACE.test(text);

/** `1234` → `"1,234"`. */
export const count = (value: number): string => value.toLocaleString('en-GB');
