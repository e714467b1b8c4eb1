/**
 * The store handler against an embedded DynamoDB (dynalite): real BatchWriteItem and
 * conditional UpdateItem semantics. The failure queue is mocked (no SQS emulator here).
 */
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { Decimal } from '../../handlers/decimal';
import { readingsOfItems } from '../../handlers/reading-segment';
import { OPEN_MINUTE_KEY } from '../../handlers/rollup';
import { logger } from '../../handlers/runtime';
import { createStoreReadingsHandler, handler } from '../../handlers/store-readings';
import { auditRollupItems } from '../../verify/rollup-audit';
import { startDynalite, type DynaliteHarness } from './dynalite-harness';
import { kinesisEvent, reading } from './kinesis-event-fixture';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/iot-failures';
const HOT_RETENTION_DAYS = 7;
const BASE_TIME = Date.parse('2016-09-09T13:33:07.381Z');

const sqsMock = mockClient(SQSClient);
let db: DynaliteHarness;
const savedEnv = { ...process.env };

beforeAll(async () => {
  db = await startDynalite();
  Object.assign(process.env, db.env, { FAILURE_QUEUE_URL: QUEUE, HOT_RETENTION_DAYS: String(HOT_RETENTION_DAYS) });
  logger.setLogLevel('SILENT');
});

afterAll(async () => {
  process.env = savedEnv;
  await db.stop();
});

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));
});

const at = (seconds: number) => new Date(BASE_TIME + seconds * 1000).toISOString();
/** The timestamp the table holds for `at(seconds)`: fixed width, microseconds. */
const stored = (seconds: number) => at(seconds).replace('Z', '000Z');
const expiresAt = (seconds: number) => Math.floor((BASE_TIME + seconds * 1000) / 1000) + HOT_RETENTION_DAYS * 86_400;

describe('the exported handler against dynalite', () => {
  // 300 readings of 5 things with two metrics, plus one poison record in the middle.
  const payloads: (object | string)[] = Array.from({ length: 300 }, (_, index) =>
    reading(`things/harrow/${index % 5}`, at(index), { temperature: (index % 40) + 0.25, humidity: String(index) }),
  );
  payloads.splice(150, 0, '{"id": "things/harrow/9", "timestamp": "yesterday", "temperature": 1}');
  const event = kinesisEvent(payloads);

  it('stores every reading of a batch once, one segment item per series, and a replay leaves the table unchanged', async () => {
    await expect(handler(event)).resolves.toEqual({ batchItemFailures: [] });
    const first = await db.scan('things');

    // Ten series, all 300 seconds inside the 13:00 hour window: one item each.
    expect(first).toHaveLength(10);
    const key = (item: Record<string, unknown>) => `${String(item.ThingID)}|${String(item.Timestamp)}`;
    const readings = readingsOfItems(first);
    expect([...readings.values()].reduce((total, list) => total + list.length, 0)).toBe(600);
    expect(readings.get('things/harrow/3/temperature')).toContainEqual({ timestamp: stored(123), value: Decimal.parse('3.25') });
    expect(readings.get('things/harrow/3/humidity')).toContainEqual({ timestamp: stored(123), value: Decimal.parse('123') });
    // Hot retention counts from the segment's latest reading (298 is the last of thing 3).
    expect(first.find((item) => item.ThingID === 'things/harrow/3/temperature')).toMatchObject({ Timestamp: expect.stringMatching(/^2016-09-09T13:38:00\.000000Z!/), ExpiresAt: expiresAt(298) });
    const queued = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(queued.map((entry) => JSON.parse(entry.MessageBody ?? '').reason.code)).toEqual(['bad-timestamp']);

    await expect(handler(event)).resolves.toEqual({ batchItemFailures: [] });
    const second = await db.scan('things');
    const byKey = (items: Record<string, unknown>[]) => new Map(items.map((item) => [key(item), item]));
    expect(second).toHaveLength(10);
    expect(byKey(second)).toEqual(byKey(first));

    const catalogue = await db.scan('series');
    expect(catalogue).toHaveLength(10);
    // Newest reading of thing 4 is reading 299.
    expect(catalogue).toContainEqual({ ThingID: 'things/harrow/4/humidity', LatestTimestamp: stored(299), LatestValue: 299 });
  });

  it('keeps the rollups of what it stored, each minute before the open one in its hour, and a replay changes none of them', async () => {
    const rollups = await db.scan('rollups');
    // Ten series; 300 s of readings from 13:33:07 reach into 13:38, the open minute of each, which readers count from its readings.
    expect(rollups.filter((item) => item.Bucket === OPEN_MINUTE_KEY).map((item) => item.Open)).toEqual(Array.from({ length: 10 }, () => '2016-09-09T13:38:00Z'));
    const hours = rollups.filter((item) => String(item.Bucket).startsWith('1h#'));
    const days = rollups.filter((item) => String(item.Bucket).startsWith('1d#'));
    expect([hours.length, days.length, rollups.length]).toEqual([10, 10, 30]);
    for (const hour of hours) expect(Object.keys(hour.Parts as object).sort()).toEqual(['33', '34', '35', '36', '37']);
    for (const day of days) expect(day).toMatchObject({ First: expect.stringMatching(/^2016-09-09T13:33:/), Last: expect.stringMatching(/^2016-09-09T13:37:/) });
    const readings = [...readingsOfItems(await db.scan('things')).values()].flat();
    const inOpenMinute = readings.filter((item) => item.timestamp >= '2016-09-09T13:38:00.000000Z').length;
    expect(inOpenMinute).toBeGreaterThan(0);
    expect(hours.flatMap((item) => Object.values(item.Parts as Record<string, string>)).reduce((sum, part) => sum + Number(part.split(' ')[0]), 0)).toBe(600 - inOpenMinute);
    expect(auditRollupItems(await db.scan('things'), rollups).differences).toEqual([]);

    await expect(handler(event)).resolves.toEqual({ batchItemFailures: [] });
    // The same warm container wrote them: it rewrites what it remembers (another container might have changed it), unchanged but for the version.
    const key = (item: Record<string, unknown>) => `${String(item.ThingID)}|${String(item.Bucket)}`;
    const content = (items: Record<string, unknown>[]) => new Map(items.map(({ Version: _version, ...item }) => [key(item), item]));
    expect(content(await db.scan('rollups'))).toEqual(content(rollups));
  });
});

describe('rollups that cannot be written', () => {
  it('hand the batch back from its first record, with every reading stored, and the redelivery completes them', async () => {
    const storeWith = (rollupsTable: string) =>
      createStoreReadingsHandler({
        dynamo: db.exact,
        sqs: new SQSClient({ region: 'us-east-1' }),
        settings: { thingsTable: db.tables.things, failureQueueUrl: QUEUE, rollupsTable, alertCooldownSeconds: 900, futureToleranceSeconds: 300 },
        logger,
      });
    // Each series moves on to a second minute, so its first is written to its hour.
    const event = kinesisEvent([reading('blocked/1', at(0), { t: 1 }), reading('blocked/1', at(1), { t: 2 }), reading('blocked/2', at(2), { t: 3 }), reading('blocked/1', at(60), { t: 4 }), reading('blocked/2', at(62), { t: 5 })]);
    await expect(storeWith('iot-no-such-table')(event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }] });
    const blocked = readingsOfItems((await db.scan('things')).filter((item) => String(item.ThingID).startsWith('blocked/')));
    expect(new Map([...blocked].map(([series, list]) => [series, list.length]))).toEqual(
      new Map([
        ['blocked/1/t', 3],
        ['blocked/2/t', 2],
      ]),
    );
    expect((await db.scan('rollups')).filter((item) => String(item.ThingID).startsWith('blocked/'))).toEqual([]);

    await expect(storeWith(db.tables.rollups)(event)).resolves.toEqual({ batchItemFailures: [] });
    const hours = (await db.scan('rollups')).filter((item) => String(item.ThingID).startsWith('blocked/') && String(item.Bucket).startsWith('1h#'));
    expect(hours.map((item) => [item.ThingID, item.Count, item.Min, item.Max])).toEqual(
      expect.arrayContaining([
        ['blocked/1/t', 2, 1, 2],
        ['blocked/2/t', 1, 3, 3],
      ]),
    );
  });
});

describe('the series catalogue against dynalite', () => {
  it('keeps the newest reading per series when an older batch arrives later', async () => {
    const storeWith = () =>
      createStoreReadingsHandler({
        dynamo: db.document,
        sqs: new SQSClient({ region: 'us-east-1' }),
        settings: { thingsTable: db.tables.things, failureQueueUrl: QUEUE, seriesTable: db.tables.series, alertCooldownSeconds: 900, futureToleranceSeconds: 300 },
        logger,
      });
    const newer = kinesisEvent([reading('late/1', at(1000), { t: 10 }), reading('late/1', at(1010), { t: 11 }), reading('late/2', at(1000), { t: 20 })]);
    const older = kinesisEvent([reading('late/1', at(500), { t: 5 }), reading('late/2', at(1500), { t: 21 }), reading('late/3', at(10), { t: 30 })]);

    await expect(storeWith()(newer)).resolves.toEqual({ batchItemFailures: [] });
    await expect(storeWith()(older)).resolves.toEqual({ batchItemFailures: [] });

    const catalogue = (await db.scan('series')).filter((item) => String(item.ThingID).startsWith('late/'));
    const latest = new Map(catalogue.map((item) => [item.ThingID, [item.LatestTimestamp, item.LatestValue]]));
    expect(latest).toEqual(
      new Map([
        ['late/1/t', [stored(1010), 11]],
        ['late/2/t', [stored(1500), 21]],
        ['late/3/t', [stored(10), 30]],
      ]),
    );
    // The older reading is stored all the same.
    const things = readingsOfItems(await db.scan('things'));
    expect(things.get('late/1/t')).toContainEqual({ timestamp: stored(500), value: Decimal.parse('5') });
  });
});
