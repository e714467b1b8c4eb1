/**
 * The no-data check against dynalite: one no-data alert per silence, one data-resumed
 * notice when readings arrive again, each once across repeated and overlapping checks,
 * crashes and silences; nothing for series without a no-data period; and a silent series'
 * open minute written to its rollups, once per silence.
 */
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeSilence } from '../../handlers/silence-item';
import { createNoDataAlertsHandler } from '../../handlers/no-data-alerts';
import { createStoreReadingsHandler } from '../../handlers/store-readings';
import { auditRollupItems } from '../../verify/rollup-audit';
import { createDynamoRepository } from '../../web/dynamo-repository';
import { kinesisEvent } from './kinesis-event-fixture';
import { startDynalite, type DynaliteHarness } from './dynalite-harness';
import { SETTINGS, silentLogger } from './threshold-alerts.fixtures';

let db: DynaliteHarness;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(() => db.stop());

const sent: PublishCommandInput[] = [];
const sns = new SNSClient({ region: 'eu-west-2' });
let failPublishes = 0;
mockClient(sns)
  .on(PublishCommand)
  .callsFake((input: PublishCommandInput) => {
    if (failPublishes > 0) {
      failPublishes -= 1;
      throw Object.assign(new Error('SNS is unavailable'), { name: 'InternalErrorException' });
    }
    sent.push(input);
    return { MessageId: `m-${sent.length}` };
  });

const settings = () => ({ ...SETTINGS, seriesTable: db.tables.series });
/** One check at `now` (ISO), as a fresh container would run it. */
const check = (now: string) =>
  createNoDataAlertsHandler({ dynamo: db.exact, sns, settings: settings(), logger: silentLogger(), scanSegments: 2, clock: { now: () => Date.parse(now), sleep: async () => undefined } })({ scheduledTime: now });
const putRule = (series: string, item: Record<string, unknown>) => db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: series, ...item } }));
const report = (series: string, latest: string) =>
  db.document.send(new UpdateCommand({ TableName: db.tables.series, Key: { ThingID: series }, UpdateExpression: 'SET LatestTimestamp = :t, LatestValue = :v', ExpressionAttributeValues: { ':t': latest, ':v': 20 } }));
const item = async (series: string) => (await db.document.send(new GetCommand({ TableName: db.tables.thresholds, Key: { ThingID: series }, ConsistentRead: true }))).Item;
const history = async (series: string) => (await db.scan('alerts')).filter((entry) => entry.ThingID === series).sort((a, b) => String(a.Timestamp).localeCompare(String(b.Timestamp)));
/** Subjects sent since `from` about `thing` (the other tests' series go silent too as checks move on in time). */
const subjectsSince = (from: number, thing: string) => sent.slice(from).map((input) => input.Subject ?? '').filter((subject) => subject.includes(` ${thing} `));

describe('no-data check against dynalite', () => {
  it('raises one no-data alert when the period passes, one data-resumed when readings return, and resolves the alert', async () => {
    const series = 'silent/1/temperature';
    await putRule(series, { MaxThreshold: 25, NoDataAfterSeconds: 300 });
    await report(series, '2024-05-01T10:00:00.500000Z');
    await report('silent/no-rule/temperature', '2024-05-01T09:00:00.000000Z');
    const from = sent.length;

    expect(await check('2024-05-01T10:05:00.499Z')).toMatchObject({ raised: 0, due: 0 });
    expect(await check('2024-05-01T10:05:00.500Z')).toMatchObject({ raised: 1, watched: 1 });
    expect(await check('2024-05-01T10:06:00Z')).toMatchObject({ raised: 0, due: 0 });
    expect(subjectsSince(from, 'silent/1')).toEqual(['No data: silent/1 temperature silent since 2024-05-01 10:00:00 UTC']);
    expect(await item(series)).toMatchObject({ NoDataSince: '2024-05-01T10:00:00.500000Z', NoDataOpenedAt: '2024-05-01T10:05:00.500000Z' });

    await report(series, '2024-05-01T10:20:00.000000Z');
    expect(await check('2024-05-01T10:20:30Z')).toMatchObject({ resumed: 1 });
    expect(await check('2024-05-01T10:21:30Z')).toMatchObject({ resumed: 0, raised: 0 });
    expect(subjectsSince(from, 'silent/1')).toEqual([
      'No data: silent/1 temperature silent since 2024-05-01 10:00:00 UTC',
      'Reporting again: silent/1 temperature at 2024-05-01 10:20:00 UTC',
    ]);
    expect((await item(series))?.NoDataSince).toBeUndefined();
    const notices = await history(series);
    expect(notices.map((notice) => [notice.Timestamp, notice.Kind, notice.FleetKey])).toEqual([
      ['2024-05-01T10:05:00.500000Z', 'no-data', 'resolved#no-data'],
      ['2024-05-01T10:20:00.000000Z', 'data-resumed', undefined],
    ]);
    expect(notices[0]).toMatchObject({ ResolvedAt: '2024-05-01T10:20:00.000000Z', Since: '2024-05-01T10:00:00.500000Z' });
  });

  it('sends once when two checks overlap, and again (once) when SNS failed the first time', async () => {
    const series = 'silent/2/temperature';
    await putRule(series, { NoDataAfterSeconds: 60 });
    await report(series, '2024-05-01T11:00:00.000000Z');
    const from = sent.length;
    failPublishes = 1;
    await check('2024-05-01T11:01:00Z');
    expect(subjectsSince(from, 'silent/2')).toEqual([]);
    await Promise.all([check('2024-05-01T11:02:00Z'), check('2024-05-01T11:02:00Z')]);
    expect(subjectsSince(from, 'silent/2')).toEqual(['No data: silent/2 temperature silent since 2024-05-01 11:00:00 UTC']);
  });

  it('rolls an abandoned claim forward when its notice is on record, without sending it again', async () => {
    const series = 'silent/3/temperature';
    await report(series, '2024-05-01T12:00:00.000000Z');
    // A check that died after recording the notice and before confirming it.
    await putRule(series, {
      NoDataAfterSeconds: 60,
      AlertClaim: { Token: 'dead', ReadingAt: '2024-05-01T12:01:00.000000Z', ExpiresAt: 0, Notice: 'no-data', SilentSince: '2024-05-01T12:00:00.000000Z' },
    });
    await db.document.send(new PutCommand({ TableName: db.tables.alerts, Item: { ThingID: series, Timestamp: '2024-05-01T12:01:00.000000Z', Kind: 'no-data', MessageId: 'before-crash', ClaimToken: 'dead', FleetKey: 'firing#no-data', FleetSort: `2024-05-01T12:01:00.000000Z#${series}` } }));
    const from = sent.length;
    await check('2024-05-01T12:05:00Z');
    expect(subjectsSince(from, 'silent/3')).toEqual([]);
    expect(await item(series)).toMatchObject({ NoDataSince: '2024-05-01T12:00:00.000000Z', NoDataMessageId: 'before-crash', NoDataOpenedAt: '2024-05-01T12:01:00.000000Z' });
    expect((await item(series))?.AlertClaim).toBeUndefined();
  });

  it('holds a no-data alert that falls due inside a silence, and raises it once the silence is over', async () => {
    const series = 'plant-9/pump/flow';
    await putRule(series, { NoDataAfterSeconds: 60 });
    await report(series, '2024-05-01T13:00:00.000000Z');
    await db.document.send(
      new PutCommand({
        TableName: db.tables.alerts,
        Item: encodeSilence({ id: 's-1', target: 'plant-9/', startsAt: '2024-05-01T12:59:00.000000Z', endsAt: '2024-05-01T14:00:00.000000Z', createdBy: 'ops', createdAt: '2024-05-01T12:58:00.000Z', reason: 'pump overhaul' }),
      }),
    );
    const from = sent.length;
    await check('2024-05-01T13:30:00Z');
    expect(subjectsSince(from, 'plant-9/pump')).toEqual([]);
    expect((await item(series))?.NoDataSince).toBeUndefined();
    // The first check after the silence raises it.
    await check('2024-05-01T14:00:30Z');
    expect(subjectsSince(from, 'plant-9/pump')).toEqual(['No data: plant-9/pump flow silent since 2024-05-01 13:00:00 UTC']);
  });

  it('closes an open no-data alert without a notice when its rule is removed', async () => {
    const series = 'silent/4/temperature';
    await putRule(series, { NoDataAfterSeconds: 60 });
    await report(series, '2024-05-01T15:00:00.000000Z');
    await check('2024-05-01T15:02:00Z');
    await putRule(series, { ...(await item(series)), NoDataAfterSeconds: undefined });
    const from = sent.length;
    await check('2024-05-01T15:03:00Z');
    expect(subjectsSince(from, 'silent/4')).toEqual([]);
    expect((await item(series))?.NoDataSince).toBeUndefined();
    expect((await history(series))[0]).toMatchObject({ FleetKey: 'resolved#no-data', ResolvedBy: 'rule changed' });
  });
});

describe('the open minute of a silent series', () => {
  const series = 'closing/1/t';
  const storeAt = (now: string) =>
    createStoreReadingsHandler({
      dynamo: db.exact,
      sqs: { send: async () => ({ Failed: [], Successful: [] }) } as never,
      settings: { thingsTable: db.tables.things, seriesTable: db.tables.series, rollupsTable: db.tables.rollups, failureQueueUrl: 'https://sqs.example/q', alertCooldownSeconds: 900, futureToleranceSeconds: 300 },
      logger: silentLogger(),
      clock: { now: () => Date.parse(now), sleep: async () => undefined },
    });
  let position = 10_000;
  const store = async (now: string, readings: [string, number][]) => {
    const event = kinesisEvent(readings.map(([timestamp, t]) => ({ id: 'closing/1', timestamp, t })), position);
    position += readings.length;
    expect(await storeAt(now)(event)).toEqual({ batchItemFailures: [] });
  };
  const closingCheck = (now: string, dynamo = db.exact) =>
    createNoDataAlertsHandler({
      dynamo,
      sns,
      settings: { ...settings(), thingsTable: db.tables.things, rollupsTable: db.tables.rollups },
      logger: silentLogger(),
      scanSegments: 2,
      clock: { now: () => Date.parse(now), sleep: async () => undefined },
    })({ scheduledTime: now });
  const rollupItem = async (bucket: string) => (await db.document.send(new GetCommand({ TableName: db.tables.rollups, Key: { ThingID: series, Bucket: bucket }, ConsistentRead: true }))).Item;
  const catalogued = async () => (await db.document.send(new GetCommand({ TableName: db.tables.series, Key: { ThingID: series }, ConsistentRead: true }))).Item;
  const minutes = async () => {
    const points = await createDynamoRepository({ client: db.exact, tables: db.tables }).rollups({ series, step: '1m', from: '2024-06-01T10:00:00Z', to: '2024-06-01T12:59:00Z' });
    return points.map((point) => [point.start.slice(11, 16), point.count]);
  };

  it('is written to its hour once the series has been silent for an hour, once, and a later reading in it still counts', async () => {
    await store('2024-06-01T10:08:00Z', [['2024-06-01T10:06:10Z', 1], ['2024-06-01T10:07:10Z', 2], ['2024-06-01T10:07:20Z', 3]]);
    // 10:07 is open: counted from its readings by the readers, not in its hour yet.
    expect(Object.keys((await rollupItem('1h#2024-06-01T10:00:00Z'))?.Parts as object)).toEqual(['06']);
    expect(await minutes()).toEqual([['10:06', 1], ['10:07', 2]]);

    // Silent for less than an hour (the other tests' series, silent for weeks, are closed by this check).
    await closingCheck('2024-06-01T11:07:00Z');
    expect((await catalogued())?.OpenMinuteClosed).toBeUndefined();
    expect(await closingCheck('2024-06-01T11:08:00Z')).toMatchObject({ openMinutesClosed: 1, openMinutesLeft: 0 });
    expect(await rollupItem('open')).toMatchObject({ Open: '2024-06-01T10:07:00Z', Closed: true });
    expect(Object.keys((await rollupItem('1h#2024-06-01T10:00:00Z'))?.Parts as object).sort()).toEqual(['06', '07']);
    expect((await rollupItem('1d#2024-06-01T00:00:00Z'))?.Count).toBe(3);
    expect(await catalogued()).toMatchObject({ OpenMinuteClosed: true });
    expect(await minutes()).toEqual([['10:06', 1], ['10:07', 2]]);
    // Once per silence: the next check finds nothing to do.
    expect(await closingCheck('2024-06-01T11:09:00Z')).toMatchObject({ openMinutesClosed: 0 });

    // A late reading in the closed minute is counted into its hour; the next minute opens again and the mark goes.
    await store('2024-06-01T11:10:00Z', [['2024-06-01T10:07:30Z', 4]]);
    expect(await minutes()).toEqual([['10:06', 1], ['10:07', 3]]);
    await store('2024-06-01T12:01:00Z', [['2024-06-01T12:00:30Z', 5]]);
    expect(await rollupItem('open')).toMatchObject({ Open: '2024-06-01T12:00:00Z' });
    expect((await rollupItem('open'))?.Closed).toBeUndefined();
    expect((await catalogued())?.OpenMinuteClosed).toBeUndefined();
    expect(await minutes()).toEqual([['10:06', 1], ['10:07', 3], ['12:00', 1]]);
    expect(auditRollupItems(await db.scan('things'), await db.scan('rollups')).differences.filter((line) => line.startsWith(series))).toEqual([]);
  });

  it('counts a reading stored while the check was closing its minute, which the consumer saw still open and left to readers', async () => {
    const racing = 'closing/2/t';
    const event = (timestamp: string, t: number) => kinesisEvent([{ id: 'closing/2', timestamp, t }], (position += 1));
    expect(await storeAt('2024-07-01T10:06:00Z')(event('2024-07-01T10:05:10Z', 1))).toEqual({ batchItemFailures: [] });
    // Right after the check's count of 10:05, a late reading of 10:05 is stored; its batch finds 10:05 still open and writes no rollup.
    let raced = false;
    const dynamo = {
      send: async (command: { constructor: { name: string }; input: { TableName?: string; ExpressionAttributeValues?: Record<string, unknown> } }) => {
        const answer = await db.exact.send(command as never);
        if (!raced && command.constructor.name === 'QueryCommand' && command.input.TableName === db.tables.things && command.input.ExpressionAttributeValues?.[':series'] === racing) {
          raced = true;
          expect(await storeAt('2024-07-01T11:07:00Z')(event('2024-07-01T10:05:20Z', 2))).toEqual({ batchItemFailures: [] });
        }
        return answer;
      },
    } as unknown as typeof db.exact;
    await closingCheck('2024-07-01T11:07:00Z', dynamo);
    expect(raced).toBe(true);
    const open = (await db.document.send(new GetCommand({ TableName: db.tables.rollups, Key: { ThingID: racing, Bucket: 'open' }, ConsistentRead: true }))).Item;
    expect(open).toMatchObject({ Open: '2024-07-01T10:05:00Z', Closed: true });
    const points = await createDynamoRepository({ client: db.exact, tables: db.tables }).rollups({ series: racing, step: '1m', from: '2024-07-01T10:00:00Z', to: '2024-07-01T10:59:00Z' });
    expect(points.map((point) => [point.start.slice(11, 16), point.count])).toEqual([['10:05', 2]]);
  });
});
