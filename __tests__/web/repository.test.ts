/**
 * The repository contract, run against both implementations: DynamoDB (on the embedded
 * dynalite, with the contract's tables) and memory (used by tests and the benchmark),
 * so the in-memory twin cannot drift from what the app does on AWS.
 */
import { BatchWriteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Decimal } from '../../handlers/decimal';
import { segmentItems } from '../handlers/segment-fixture';
import { storedNumber } from '../../handlers/stored-number';
import { createDynamoRepository } from '../../web/dynamo-repository';
import { createStoreReadingsHandler } from '../../handlers/store-readings';
import { InMemoryRepository, TABLE_ROLES, type AlertRecord, type Page, type RangeQuery, type ReadingPoint, type ReadingsRepository, type RollupPoint } from '../../web/repository';
import { startDynalite, type DynaliteHarness } from '../handlers/dynalite-harness';
import { kinesisEvent } from '../handlers/kinesis-event-fixture';

/** An exact number, from a double or decimal text. */
const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;
/** As the handlers write numbers: every digit. */
const stored = (value: Decimal | null) => (value === null ? undefined : storedNumber(value));

const TEMPERATURE = 'things/harrow/001/temperature';
const HUMIDITY = 'things/harrow/001/humidity';
const CONTRADICTORY = 'things/kew/7/pressure';
const MAX_ONLY = 'things/kew/7/co2';

/** 25 readings a minute apart from 13:00, values 15..39. */
const temperature: ReadingPoint[] = Array.from({ length: 25 }, (_, minute) => ({
  timestamp: `2016-09-09T13:${String(minute).padStart(2, '0')}:00.000000Z`,
  value: n(15 + minute),
}));
const humidity: ReadingPoint[] = [
  { timestamp: '2016-09-09T13:00:00.000000Z', value: n(40.5) },
  { timestamp: '2016-09-09T13:30:00.250000Z', value: n(41) },
];
const pressure: ReadingPoint[] = [{ timestamp: '2016-09-09T12:00:00.000000Z', value: n(1000) }];
const co2: ReadingPoint[] = [{ timestamp: '2016-09-09T12:00:00.000001Z', value: n(400) }];

const alerts: AlertRecord[] = [
  { timestamp: '2016-09-09T13:11:00.000000Z', kind: 'breach', value: n(26), minThreshold: n(18), maxThreshold: n(25), messageId: 'm-1' },
  { timestamp: '2016-09-09T13:20:00.000000Z', kind: 'reminder', value: n(35), minThreshold: n(18), maxThreshold: n(25), messageId: 'm-2' },
];

const SEEDED: Record<string, ReadingPoint[]> = { [TEMPERATURE]: temperature, [HUMIDITY]: humidity, [CONTRADICTORY]: pressure, [MAX_ONLY]: co2 };

function seedMemory(): InMemoryRepository {
  const memory = new InMemoryRepository();
  // Out of order on purpose: the store may receive late readings.
  for (const [series, points] of Object.entries(SEEDED)) for (const point of [...points].reverse()) memory.putReading(series, point);
  memory.putThresholds(TEMPERATURE, { min: 18, max: 25 });
  memory.putThresholds(CONTRADICTORY, { min: 10, max: 5 });
  memory.putThresholds(MAX_ONLY, { max: 1000, noDataAfterSeconds: 3600 });
  for (const alert of alerts) memory.putAlert(TEMPERATURE, alert);
  return memory;
}

async function writeAll(document: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]): Promise<void> {
  for (let at = 0; at < items.length; at += 25) {
    const chunk = items.slice(at, at + 25).map((Item) => ({ PutRequest: { Item } }));
    await document.send(new BatchWriteCommand({ RequestItems: { [table]: chunk } }));
  }
}

/**
 * The temperature series as the things table can hold it after an upgrade and replays:
 * one-reading items of the old design, segments written twice over the same readings (a
 * bisected batch; the later one holds the true values), and a segment repeating readings
 * an old item also holds (the segment wins). Read back, it must be `temperature` exactly.
 */
function temperatureItems(): Record<string, unknown>[] {
  const position = (sequence: string) => ({ shardId: 'shardId-000000000000', highest: sequence, lowest: sequence });
  const stale = (points: readonly ReadingPoint[]) => points.map((point) => ({ ...point, value: n(`${point.value.text}000`) }));
  const legacy = (points: readonly ReadingPoint[]) => points.map((point) => ({ ThingID: TEMPERATURE, Timestamp: point.timestamp, Value: storedNumber(point.value) }));
  return [
    ...legacy(temperature.slice(0, 5)),
    ...legacy(stale(temperature.slice(15, 17))),
    ...segmentItems(TEMPERATURE, stale(temperature.slice(5, 15)), position('10')),
    ...segmentItems(TEMPERATURE, temperature.slice(5, 15), position('20')),
    ...segmentItems(TEMPERATURE, temperature.slice(15), position('30')),
  ];
}

async function seedDynamo(db: DynaliteHarness): Promise<void> {
  const readings: Record<string, unknown>[] = [];
  for (const [series, points] of Object.entries(SEEDED)) {
    if (series === TEMPERATURE) {
      readings.push(...temperatureItems());
    } else {
      // Other series as one-reading items, as written before segment items: still read.
      for (const point of points) readings.push({ ThingID: series, Timestamp: point.timestamp, Value: storedNumber(point.value), ExpiresAt: 2_000_000_000 });
    }
    const latest = points[points.length - 1] as ReadingPoint;
    await db.document.send(
      new PutCommand({ TableName: db.tables.series, Item: { ThingID: series, LatestTimestamp: latest.timestamp, LatestValue: storedNumber(latest.value) } }),
    );
  }
  await writeAll(db.document, db.tables.things, readings);
  await writeAll(db.document, db.tables.thresholds, [
    // The alert state the alert handler keeps beside the bounds: breached since the breach notice's reading.
    { ThingID: TEMPERATURE, MinThreshold: 18, MaxThreshold: 25, AlertState: 'breached', AlertBound: 'max', AlertChangedAt: alerts[0]?.timestamp, AlertNotifiedAt: alerts[1]?.timestamp },
    { ThingID: CONTRADICTORY, MinThreshold: 10, MaxThreshold: 5 },
    { ThingID: MAX_ONLY, MaxThreshold: '1000', NoDataAfterSeconds: 3600 },
  ]);
  await writeAll(
    db.document,
    db.tables.alerts,
    // As the alert handler writes them: a reminder is a breach flagged Reminder.
    alerts.map((alert) => ({
      ThingID: TEMPERATURE,
      Timestamp: alert.timestamp,
      Kind: alert.kind === 'recovery' ? 'recovery' : 'breach',
      Reminder: alert.kind === 'reminder',
      Value: stored(alert.value),
      MinThreshold: stored(alert.minThreshold),
      MaxThreshold: stored(alert.maxThreshold),
      MessageId: alert.messageId,
    })),
  );
}

let db: DynaliteHarness;
const sentCommands: { name: string; table?: string }[] = [];

beforeAll(async () => {
  db = await startDynalite();
  await seedDynamo(db);
  db.exact.middlewareStack.add(
    (next, context) => async (args) => {
      sentCommands.push({ name: context.commandName as string, table: (args.input as { TableName?: string }).TableName });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
});
afterAll(() => db.stop());

const implementations: [string, () => ReadingsRepository][] = [
  ['dynamodb', () => createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 0 })],
  ['memory', seedMemory],
];

/** Every page of a query, following `next`. */
async function allPages<T>(read: (query: RangeQuery) => Promise<Page<T>>, query: RangeQuery): Promise<Page<T>[]> {
  const pages: Page<T>[] = [];
  let after: string | undefined;
  do {
    const page = await read({ ...query, ...(after === undefined ? {} : { after }) });
    pages.push(page);
    after = page.next;
  } while (after !== undefined && pages.length < 100);
  return pages;
}

describe.each(implementations)('%s repository', (_name, create) => {
  let repository: ReadingsRepository;
  beforeAll(() => {
    repository = create();
  });

  test('lists every series with its latest reading and the status of that value against its thresholds', async () => {
    const series = await repository.listSeries();
    expect(series).toEqual([
      { series: HUMIDITY, thingId: 'things/harrow/001', metric: 'humidity', latestTimestamp: humidity[1]?.timestamp, latestValue: n(41), minThreshold: null, maxThreshold: null, status: 'no-threshold' },
      { series: TEMPERATURE, thingId: 'things/harrow/001', metric: 'temperature', latestTimestamp: temperature[24]?.timestamp, latestValue: n(39), minThreshold: n(18), maxThreshold: n(25), status: 'breached', statusSince: alerts[0]?.timestamp },
      { series: MAX_ONLY, thingId: 'things/kew/7', metric: 'co2', latestTimestamp: co2[0]?.timestamp, latestValue: n(400), minThreshold: null, maxThreshold: n(1000), status: 'ok', noDataAfterSeconds: 3600 },
      // min above max: the alert handler applies neither bound, so neither does the overview.
      { series: CONTRADICTORY, thingId: 'things/kew/7', metric: 'pressure', latestTimestamp: pressure[0]?.timestamp, latestValue: n(1000), minThreshold: null, maxThreshold: null, status: 'no-threshold' },
    ]);
  });

  test('pages through a range in ascending order without losing or repeating a reading', async () => {
    const pages = await allPages((query) => repository.readings(query), { series: TEMPERATURE, order: 'asc', limit: 10 });
    expect(pages.map((page) => page.items.length)).toEqual([10, 10, 5]);
    expect(pages.flatMap((page) => page.items)).toEqual(temperature);
    expect(pages[2]?.next).toBeUndefined();
  });

  test('a range that fills its last page exactly ends without an empty extra page', async () => {
    const pages = await allPages((query) => repository.readings(query), { series: TEMPERATURE, order: 'asc', limit: 5 });
    expect(pages.map((page) => page.items.length)).toEqual([5, 5, 5, 5, 5]);
  });

  test('pages newest first in descending order', async () => {
    const pages = await allPages((query) => repository.readings(query), { series: TEMPERATURE, order: 'desc', limit: 7 });
    expect(pages.flatMap((page) => page.items)).toEqual([...temperature].reverse());
    expect(pages[0]?.items[0]?.value.text).toBe('39');
  });

  test('from and to are inclusive, and either may be left open', async () => {
    const between = await repository.readings({ series: TEMPERATURE, order: 'asc', limit: 100, from: temperature[3]?.timestamp, to: temperature[6]?.timestamp });
    expect(between.items.map((point) => point.value.approx)).toEqual([18, 19, 20, 21]);
    const fromOnly = await repository.readings({ series: TEMPERATURE, order: 'asc', limit: 100, from: temperature[22]?.timestamp });
    expect(fromOnly.items.map((point) => point.value.approx)).toEqual([37, 38, 39]);
    const toOnly = await repository.readings({ series: TEMPERATURE, order: 'desc', limit: 100, to: temperature[1]?.timestamp });
    expect(toOnly.items.map((point) => point.value.approx)).toEqual([16, 15]);
  });

  test('paging inside a range stays inside it', async () => {
    const range = { from: temperature[2]?.timestamp, to: temperature[12]?.timestamp };
    const pages = await allPages((query) => repository.readings(query), { series: TEMPERATURE, order: 'desc', limit: 4, ...range });
    expect(pages.flatMap((page) => page.items)).toEqual(temperature.slice(2, 13).reverse());
  });

  test('a range with no readings, and an unknown series, give an empty last page', async () => {
    await expect(repository.readings({ series: TEMPERATURE, order: 'asc', limit: 10, from: '2020-01-01T00:00:00.000000Z' })).resolves.toEqual({ items: [] });
    await expect(repository.readings({ series: 'things/nobody/x', order: 'asc', limit: 10 })).resolves.toEqual({ items: [] });
  });

  test('reads the alert history of a series by time range', async () => {
    await expect(repository.alerts({ series: TEMPERATURE, order: 'asc', limit: 10 })).resolves.toEqual({ items: alerts });
    const page = await repository.alerts({ series: TEMPERATURE, order: 'desc', limit: 1, from: '2016-09-09T13:00:00.000000Z' });
    expect(page.items).toEqual([alerts[1]]);
    expect(page.next).toBe(alerts[1]?.timestamp);
    await expect(repository.alerts({ series: HUMIDITY, order: 'asc', limit: 10 })).resolves.toEqual({ items: [] });
  });

  test('reads the thresholds the alert handler applies', async () => {
    await expect(repository.thresholds(TEMPERATURE)).resolves.toEqual({ min: n(18), max: n(25) });
    await expect(repository.thresholds(MAX_ONLY)).resolves.toEqual({ max: n(1000) });
    await expect(repository.thresholds(CONTRADICTORY)).resolves.toEqual({});
    await expect(repository.thresholds(HUMIDITY)).resolves.toEqual({});
  });
});

describe('rollups kept by the store consumer', () => {
  const SERIES = 'things/rollup/1/temperature';
  /** Readings across midnight, then late ones, a repeat with another value and a value no double holds, in four deliveries. */
  const deliveries: [string, string][][] = [
    [['2026-11-30T23:58:10Z', '20.5'], ['2026-11-30T23:58:40Z', '21'], ['2026-11-30T23:59:59.999999Z', '-3']],
    [['2026-12-01T00:00:00Z', '7'], ['2026-12-01T00:01:30Z', '12345678901234567890123456789012345678'], ['2026-12-01T01:15:00Z', '0.001']],
    [['2026-11-30T23:58:20Z', '19'], ['2026-12-01T00:00:00Z', '8']],
    [['2026-11-30T22:00:00Z', '100']],
  ];

  test('the DynamoDB repository answers what the memory one recomputes from the same readings, at every step', async () => {
    const handler = createStoreReadingsHandler({
      dynamo: db.exact,
      sqs: { send: async () => ({ Failed: [], Successful: [] }) } as never,
      settings: { thingsTable: db.tables.things, failureQueueUrl: 'https://sqs.example/q', rollupsTable: db.tables.rollups, alertCooldownSeconds: 900, futureToleranceSeconds: 300 },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const memory = new InMemoryRepository();
    let position = 0;
    for (const delivery of deliveries) {
      const payloads = delivery.map(([timestamp, value]) => ({ id: 'things/rollup/1', timestamp, temperature: value }));
      const response = await handler(kinesisEvent(payloads, position));
      position += payloads.length;
      expect(response.batchItemFailures).toEqual([]);
      for (const [timestamp, value] of delivery) memory.putReading(SERIES, { timestamp: timestamp.replace(/(\.\d+)?Z$/, (fraction) => (fraction === 'Z' ? '.000000Z' : fraction)), value });
    }
    const dynamo = createDynamoRepository({ client: db.exact, tables: db.tables });
    const shown = (points: RollupPoint[]) => points.map(({ start, count, min, max, mean }) => ({ start, count, min: min.text, max: max.text, mean: Number(mean.toPrecision(12)) }));
    for (const [step, from, to] of [['1m', '2026-11-30T22:00:00Z', '2026-12-01T01:15:00Z'], ['1h', '2026-11-30T22:00:00Z', '2026-12-01T01:00:00Z'], ['1d', '2026-11-30T00:00:00Z', '2026-12-01T00:00:00Z']] as const) {
      const query = { series: SERIES, step, from, to };
      const expected = shown(await memory.rollups(query));
      expect(expected.length).toBeGreaterThan(1);
      expect(shown(await dynamo.rollups(query))).toEqual(expected);
    }
    // The repeat of 00:00:00 replaced 7 with 8, and the minute says so.
    expect(shown(await dynamo.rollups({ series: SERIES, step: '1m', from: '2026-12-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }))).toEqual([
      { start: '2026-12-01T00:00:00.000000Z', count: 1, min: '8', max: '8', mean: 8 },
    ]);
  });
});

describe('dynamodb repository specifics', () => {
  test('never scans the readings or rollups: series come from the catalogue and the thresholds, readings and rollups from Query', async () => {
    sentCommands.length = 0;
    const repository = createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 0 });
    await repository.listSeries();
    await repository.readings({ series: TEMPERATURE, order: 'asc', limit: 3 });
    await repository.rollups({ series: TEMPERATURE, step: '1h', from: '2016-09-09T00:00:00Z', to: '2016-09-09T23:00:00Z' });
    await repository.alerts({ series: TEMPERATURE, order: 'asc', limit: 3 });
    expect(sentCommands).toEqual(
      expect.arrayContaining([
        { name: 'ScanCommand', table: db.tables.series },
        { name: 'ScanCommand', table: db.tables.thresholds },
        { name: 'QueryCommand', table: db.tables.things },
        { name: 'QueryCommand', table: db.tables.rollups },
        { name: 'QueryCommand', table: db.tables.alerts },
      ]),
    );
    expect(sentCommands.filter((command) => command.name === 'ScanCommand' && command.table !== db.tables.series && command.table !== db.tables.thresholds)).toEqual([]);
  });

  test('reuses the series list for the cache period, then reads the catalogue again', async () => {
    const repository = createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 3600 });
    const before = await repository.listSeries();
    await db.document.send(new PutCommand({ TableName: db.tables.series, Item: { ThingID: 'things/new/1/temperature', LatestTimestamp: '2016-09-09T14:00:00.000000Z', LatestValue: 1 } }));
    await expect(repository.listSeries()).resolves.toEqual(before);
    const fresh = createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 0 });
    expect((await fresh.listSeries()).map((entry) => entry.series)).toContain('things/new/1/temperature');
  });

  test('judges hundreds of series, more than one page of thresholds', async () => {
    const many = Array.from({ length: 230 }, (_, index) => `things/bulk/${String(index).padStart(3, '0')}/temperature`);
    await writeAll(db.document, db.tables.series, many.map((ThingID, index) => ({ ThingID, LatestTimestamp: '2016-09-10T00:00:00.000000Z', LatestValue: index })));
    // Every even series has a maximum of 100: those from 102 up are breached.
    await writeAll(db.document, db.tables.thresholds, many.filter((_, index) => index % 2 === 0).map((ThingID) => ({ ThingID, MaxThreshold: 100 })));
    const repository = createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 0 });
    const bulk = (await repository.listSeries()).filter((entry) => entry.series.startsWith('things/bulk/'));
    expect(bulk).toHaveLength(230);
    bulk.forEach((entry, index) => {
      const expected = index % 2 === 1 ? 'no-threshold' : index > 100 ? 'breached' : 'ok';
      expect([entry.series, entry.status]).toEqual([many[index], expected]);
    });
  });

  test('reads values beyond what a double holds exactly: the series is listed, its readings answered, none rounded', async () => {
    const series = 'things/big/1/energy';
    const values = ['10000000000000001', '1.2345678901234567890123456789012345678e+125', '-1e-130'];
    await writeAll(
      db.document,
      db.tables.things,
      values.map((value, index) => ({ ThingID: series, Timestamp: `2016-09-10T00:00:0${index}.000000Z`, Value: storedNumber(n(value)) })),
    );
    await db.document.send(new PutCommand({ TableName: db.tables.series, Item: { ThingID: series, LatestTimestamp: '2016-09-10T00:00:01.000000Z', LatestValue: storedNumber(n(values[1] as string)) } }));
    await db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: series, MaxThreshold: storedNumber(n('1.2345678901234567890123456789012345677e+125')) } }));
    const repository = createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 0 });

    const listed = (await repository.listSeries()).find((entry) => entry.series === series);
    expect([listed?.latestValue.text, listed?.status]).toEqual([values[1], 'breached']);
    const page = await repository.readings({ series, order: 'asc', limit: 10 });
    expect(page.items.map((point) => point.value.text)).toEqual(values);
  });

  test('skips a catalogue item that lacks its latest value instead of showing it wrong', async () => {
    await db.document.send(new PutCommand({ TableName: db.tables.series, Item: { ThingID: 'things/partial/1/x', LatestTimestamp: '2016-09-10T00:00:00.000000Z' } }));
    const repository = createDynamoRepository({ client: db.exact, tables: db.tables, seriesCacheSeconds: 0 });
    expect((await repository.listSeries()).map((entry) => entry.series)).not.toContain('things/partial/1/x');
  });

  test('checks every table with one Query of an absent key, and reports a failing table on its own', async () => {
    sentCommands.length = 0;
    const repository = createDynamoRepository({ client: db.exact, tables: db.tables });
    await expect(repository.checkTables(AbortSignal.timeout(10_000))).resolves.toEqual(TABLE_ROLES.map((role) => ({ role, table: db.tables[role] })));
    expect(sentCommands).toHaveLength(TABLE_ROLES.length);
    expect(sentCommands).toEqual(expect.arrayContaining(TABLE_ROLES.map((role) => ({ name: 'QueryCommand', table: db.tables[role] }))));

    const missing = createDynamoRepository({ client: db.exact, tables: { ...db.tables, alerts: 'iot-no-such-table' } });
    const checks = await missing.checkTables(AbortSignal.timeout(10_000));
    expect(checks.filter((check) => 'error' in check).map((check) => [check.table, (check.error as Error).name])).toEqual([['iot-no-such-table', 'ResourceNotFoundException']]);
  });

  test('a check whose deadline has passed answers at once, every table failed with AbortError', async () => {
    const repository = createDynamoRepository({ client: db.exact, tables: db.tables });
    const checks = await repository.checkTables(AbortSignal.abort());
    expect(checks.map((check) => [check.role, (check.error as Error | undefined)?.name])).toEqual(TABLE_ROLES.map((role) => [role, 'AbortError']));
  });

  test('reads alert items missing optional attributes as nulls', async () => {
    await db.document.send(new PutCommand({ TableName: db.tables.alerts, Item: { ThingID: HUMIDITY, Timestamp: '2016-09-09T13:30:00.250000Z', Kind: 'breach' } }));
    const repository = createDynamoRepository({ client: db.exact, tables: db.tables });
    const page = await repository.alerts({ series: HUMIDITY, order: 'asc', limit: 5 });
    expect(page.items).toEqual([{ timestamp: '2016-09-09T13:30:00.250000Z', kind: 'breach', value: null, minThreshold: null, maxThreshold: null, messageId: null }]);
  });
});
