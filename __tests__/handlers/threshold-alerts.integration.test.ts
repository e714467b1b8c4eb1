/**
 * The alert protocol against a real DynamoDB implementation (dynalite): the conditional
 * writes, not a mock's idea of them, decide who sends. SNS is an in-memory stand-in.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { BatchGetCommand, GetCommand, NumberValue, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ALERT_STATE_ATTRIBUTES } from '../../handlers/alert-state-item';
import { createThresholdAlertsHandler, type ThresholdAlertsDeps } from '../../handlers/threshold-alerts';
import { startDynalite, type DynaliteHarness } from './dynalite-harness';
import { SETTINGS, kinesisEvent, lastSummary, reading, silentLogger } from './threshold-alerts.fixtures';

let db: DynaliteHarness;

beforeAll(async () => {
  db = await startDynalite();
});

afterAll(async () => {
  await db.stop();
});

/**
 * An SNS topic in memory: records what was published; `failNext` makes the next publishes
 * fail. `beforeSend` runs as each publish arrives, to look at the tables at that moment.
 */
function memoryTopic(latencyMs = 0, beforeSend: () => Promise<void> = async () => undefined) {
  const sns = new SNSClient({ region: 'eu-west-2' });
  const sent: PublishCommandInput[] = [];
  let failures = 0;
  mockClient(sns)
    .on(PublishCommand)
    .callsFake(async (input: PublishCommandInput) => {
      await beforeSend();
      // Latency keeps the claim live long enough for a racing consumer to meet it.
      await delay(latencyMs);
      if (failures > 0) {
        failures -= 1;
        throw Object.assign(new Error('SNS is unavailable'), { name: 'InternalErrorException' });
      }
      sent.push(input);
      return { MessageId: `memory-${sent.length}` };
    });
  return {
    sns,
    sent,
    failNext(count: number) {
      failures = count;
    },
  };
}

/** A consumer as a fresh container would run it: nothing cached, state read from the table. */
const consumer = (sns: SNSClient, overrides: Partial<ThresholdAlertsDeps> = {}) =>
  createThresholdAlertsHandler({ dynamo: db.document, sns, settings: SETTINGS, logger: silentLogger(), ...overrides });

const putThresholds = (series: string, bounds: { MinThreshold?: number; MaxThreshold?: number }) =>
  db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: series, ...bounds } }));

const thresholdsItem = async (series: string) =>
  (await db.document.send(new GetCommand({ TableName: db.tables.thresholds, Key: { ThingID: series }, ConsistentRead: true }))).Item;

const historyOf = async (series: string) =>
  (await db.scan('alerts')).filter((item) => item.ThingID === series).sort((a, b) => String(a.Timestamp).localeCompare(String(b.Timestamp)));

/** The text each kind of subscriber gets, from a publish made with MessageStructure json. */
const messages = (input: PublishCommandInput | undefined) => JSON.parse(input?.Message ?? '{}') as { default: string; sms: string; https: string };

describe('threshold alerts against dynalite', () => {
  it('sends a breach once while holding its claim, records the notice once and leaves the state confirmed', async () => {
    const series = 'breach/1/temperature';
    await putThresholds(series, { MinThreshold: 18, MaxThreshold: 25 });
    const now = Date.parse('2024-05-01T12:00:00Z');
    // Claim before publish is the at-most-once protocol: a consumer sends only while its
    // claim is stored, so a racing one's conditional claim fails. The order of the later
    // writes is no promise; their outcome is checked below.
    const claimsWhenSent: unknown[] = [];
    const topic = memoryTopic(0, async () => {
      claimsWhenSent.push((await thresholdsItem(series))?.[ALERT_STATE_ATTRIBUTES.claim]);
    });
    const event = kinesisEvent([reading('2024-05-01T11:59:00Z', { temperature: 26.5 }, 'breach/1')]);
    expect(await consumer(topic.sns, { clock: { now: () => now, sleep: async () => undefined } })(event)).toEqual({ batchItemFailures: [] });

    const subject = 'Alert: breach/1 temperature 26.5 above max 25 at 2024-05-01 11:59:00 UTC';
    expect(topic.sent).toEqual([{ TopicArn: SETTINGS.alertTopicArn, Subject: subject, MessageStructure: 'json', Message: expect.any(String) }]);
    const text = messages(topic.sent[0]);
    expect(text.default).toContain('The temperature of breach/1 was 26.5 at 2024-05-01 11:59:00 UTC, above the maximum 25.');
    // SMS subscribers get the one line; webhooks the fields, values exact.
    expect(text.sms).toBe(subject);
    expect(JSON.parse(text.https)).toMatchObject({ notice: 'breach', series, value: 26.5, bound: 'max', maxThreshold: 25, at: '2024-05-01T11:59:00.000000Z' });

    expect(claimsWhenSent).toEqual([expect.objectContaining({ Token: expect.any(String), ReadingAt: '2024-05-01T11:59:00.000000Z', ExpiresAt: now + 30_000, Notice: 'breach', State: 'breached', Bound: 'max' })]);
    const token = (claimsWhenSent[0] as { Token: string }).Token;

    expect(await historyOf(series)).toEqual([
      {
        ThingID: series,
        Timestamp: '2024-05-01T11:59:00.000000Z',
        Kind: 'breach',
        Reminder: false,
        Bound: 'max',
        Value: 26.5,
        MinThreshold: 18,
        MaxThreshold: 25,
        MessageId: 'memory-1',
        Subject: subject,
        SentAt: new Date(now).toISOString(),
        // The claim that sent it: a consumer taking over an abandoned claim finds its notice on record by it.
        ClaimToken: token,
        Recipients: 'default',
        // It opens an alert: listed across the fleet as firing.
        FleetKey: 'firing#breach',
        FleetSort: `2024-05-01T11:59:00.000000Z#${series}`,
      },
    ]);
    // Confirmed: the claim is gone and the state says what was sent.
    expect(await thresholdsItem(series)).toEqual({
      ThingID: series,
      MinThreshold: 18,
      MaxThreshold: 25,
      AlertState: 'breached',
      AlertBound: 'max',
      AlertChangedAt: '2024-05-01T11:59:00.000000Z',
      AlertNotifiedAt: '2024-05-01T11:59:00.000000Z',
      AlertOpenedAt: '2024-05-01T11:59:00.000000Z',
      AlertMessageId: 'memory-1',
    });
  });

  it('claims against the state it read: when another consumer moved it on meanwhile, it reads again and sends nothing twice', async () => {
    const series = 'stale/1/temperature';
    const breachedAt = '2024-05-01T10:00:00.000000Z';
    const recoveredAt = '2024-05-01T10:05:00.000000Z';
    await db.document.send(
      new PutCommand({
        TableName: db.tables.thresholds,
        Item: { ThingID: series, MaxThreshold: 25, AlertState: 'breached', AlertBound: 'max', AlertChangedAt: breachedAt, AlertNotifiedAt: breachedAt, AlertOpenedAt: breachedAt },
      }),
    );
    const recovered = { ThingID: series, MaxThreshold: 25, AlertState: 'ok', AlertChangedAt: recoveredAt, AlertNotifiedAt: recoveredAt, AlertMessageId: 'sent-by-the-other' };
    // This consumer reads the breach; then the other one sends and confirms the recovery.
    const staleDynamo = {
      send: async (command: object) => {
        const response = await db.document.send(command as never);
        if (command instanceof BatchGetCommand) await db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: recovered }));
        return response;
      },
    } as unknown as DynamoDBDocumentClient;
    const topic = memoryTopic();
    const event = kinesisEvent([reading('2024-05-01T10:06:00Z', { temperature: 20 }, 'stale/1')]);
    expect(await consumer(topic.sns, { dynamo: staleDynamo })(event)).toEqual({ batchItemFailures: [] });
    expect(topic.sent).toHaveLength(0);
    expect(await thresholdsItem(series)).toEqual(recovered);
  });

  it('counts a notice as sent when only its history item failed, so no consumer sends it again', async () => {
    const series = 'unrecorded/1/temperature';
    await putThresholds(series, { MaxThreshold: 25 });
    const historyDown = {
      send: async (command: object) => {
        if (command instanceof PutCommand && command.input.TableName === db.tables.alerts) throw new Error('alerts table unavailable');
        return db.document.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const topic = memoryTopic();
    const event = kinesisEvent([reading('2024-05-01T10:00:00Z', { temperature: 30 }, 'unrecorded/1')]);
    expect(await consumer(topic.sns, { dynamo: historyDown })(event)).toEqual({ batchItemFailures: [] });
    expect(await historyOf(series)).toEqual([]);
    expect(await thresholdsItem(series)).toMatchObject({ AlertState: 'breached', AlertNotifiedAt: '2024-05-01T10:00:00.000000Z', AlertMessageId: 'memory-1' });

    // A redelivery to a new container finds the state confirmed.
    expect(await consumer(topic.sns)(event)).toEqual({ batchItemFailures: [] });
    expect(topic.sent).toHaveLength(1);
  });

  it('sends exactly one email when two consumers race on the same breaches', async () => {
    const things = Array.from({ length: 12 }, (_, index) => `race/${index}`);
    await Promise.all(things.map((thing) => putThresholds(`${thing}/temperature`, { MinThreshold: 18, MaxThreshold: 25 })));
    const topic = memoryTopic(20);
    const event = kinesisEvent(things.map((thing) => reading('2024-05-01T10:00:00Z', { temperature: 40 }, thing)));

    // Both consumers have read the state "ok" before either may claim: the worst case.
    let arrivals = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const racingDynamo = {
      send: async (command: { constructor: unknown }) => {
        const response = await db.document.send(command as never);
        if (command instanceof BatchGetCommand) {
          if (++arrivals === 2) bothRead();
          await barrier;
        }
        return response;
      },
    } as unknown as DynamoDBDocumentClient;
    const loggers = [silentLogger(), silentLogger()];
    const summaries = loggers.map((logger) => jest.spyOn(logger, 'info'));
    const [first, second] = await Promise.all(loggers.map((logger) => consumer(topic.sns, { dynamo: racingDynamo, logger })(event)));
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    // Every series was claimed by both; the conditional write turned one of each away.
    expect(summaries.map((info) => lastSummary(info).claimConflicts as number).reduce((a, b) => a + b)).toBe(things.length);

    expect(topic.sent.map((input) => input.Subject?.split(' ')[1]).sort()).toEqual([...things].sort());
    for (const thing of things) {
      const item = await thresholdsItem(`${thing}/temperature`);
      expect(item).toMatchObject({ AlertState: 'breached', AlertBound: 'max', AlertNotifiedAt: '2024-05-01T10:00:00.000000Z' });
      expect(item?.[ALERT_STATE_ATTRIBUTES.claim]).toBeUndefined();
      expect(await historyOf(`${thing}/temperature`)).toHaveLength(1);
    }
  });

  it('keeps the cooldown and sends one recovery across invocations, and a replay sends nothing', async () => {
    const series = 'cooldown/1/temperature';
    await putThresholds(series, { MinThreshold: 18, MaxThreshold: 25 });
    const topic = memoryTopic();
    const deliveries = [
      [reading('2024-05-01T10:00:00Z', { temperature: 30 }, 'cooldown/1')],
      [reading('2024-05-01T10:05:00Z', { temperature: 31 }, 'cooldown/1'), reading('2024-05-01T10:14:59Z', { temperature: 32 }, 'cooldown/1')],
      [reading('2024-05-01T10:15:00Z', { temperature: 33 }, 'cooldown/1')],
      [reading('2024-05-01T10:16:00Z', { temperature: 20 }, 'cooldown/1'), reading('2024-05-01T10:17:00Z', { temperature: 21 }, 'cooldown/1')],
    ].map((payloads) => kinesisEvent(payloads));
    for (const event of deliveries) expect(await consumer(topic.sns)(event)).toEqual({ batchItemFailures: [] });
    expect(topic.sent.map((input) => input.Subject)).toEqual([
      'Alert: cooldown/1 temperature 30 above max 25 at 2024-05-01 10:00:00 UTC',
      'Still out of range: cooldown/1 temperature 33 above max 25 at 2024-05-01 10:15:00 UTC',
      'Back to normal: cooldown/1 temperature 20 at 2024-05-01 10:16:00 UTC',
    ]);

    const history = await historyOf(series);
    expect(history).toEqual([
      expect.objectContaining({ Timestamp: '2024-05-01T10:00:00.000000Z', Kind: 'breach', Reminder: false, Bound: 'max', Value: 30, MinThreshold: 18, MaxThreshold: 25, MessageId: 'memory-1' }),
      expect.objectContaining({ Timestamp: '2024-05-01T10:15:00.000000Z', Kind: 'breach', Reminder: true, Value: 33, MessageId: 'memory-2' }),
      expect.objectContaining({ Timestamp: '2024-05-01T10:16:00.000000Z', Kind: 'recovery', Value: 20, MessageId: 'memory-3' }),
    ]);
    expect(await thresholdsItem(series)).toMatchObject({
      AlertState: 'ok',
      AlertChangedAt: '2024-05-01T10:16:00.000000Z',
      AlertNotifiedAt: '2024-05-01T10:16:00.000000Z',
      AlertMessageId: 'memory-3',
    });
    expect(await thresholdsItem(series)).not.toHaveProperty('AlertBound');

    // Every delivery again, to new containers: nothing new.
    for (const event of deliveries) await consumer(topic.sns)(event);
    expect(topic.sent).toHaveLength(3);
  });

  it('releases the claim when SNS fails, so the redelivered record sends exactly once', async () => {
    const series = 'flaky/1/temperature';
    await putThresholds(series, { MaxThreshold: 25 });
    const topic = memoryTopic();
    topic.failNext(1);
    const event = kinesisEvent([reading('2024-05-01T10:00:00Z', { temperature: 30 }, 'flaky/1')]);
    const handler = consumer(topic.sns);

    expect(await handler(event)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }] });
    const released = await thresholdsItem(series);
    expect(released?.[ALERT_STATE_ATTRIBUTES.claim]).toBeUndefined();
    expect(released?.AlertState).toBeUndefined();

    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(await consumer(topic.sns)(event)).toEqual({ batchItemFailures: [] });
    expect(topic.sent).toHaveLength(1);
    expect(await historyOf(series)).toHaveLength(1);
  });

  it('takes over the abandoned claim of a crashed consumer: resends when unrecorded, rolls forward when recorded', async () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    const abandonedClaim = (readingAt: string) => ({
      Token: 'crashed-consumer',
      ReadingAt: readingAt,
      ExpiresAt: now - 1,
      Notice: 'breach',
      State: 'breached',
      Bound: 'max',
      ChangedAt: readingAt,
    });
    const readingAt = '2024-05-01T10:00:00.000000Z';
    // Crashed before publishing: nothing on record.
    await db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: 'crash/1/temperature', MaxThreshold: 25, AlertClaim: abandonedClaim(readingAt) } }));
    // Crashed after publishing and recording, before confirming.
    await db.document.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: 'crash/2/temperature', MaxThreshold: 25, AlertClaim: abandonedClaim(readingAt) } }));
    await db.document.send(
      new PutCommand({ TableName: db.tables.alerts, Item: { ThingID: 'crash/2/temperature', Timestamp: readingAt, Kind: 'breach', MessageId: 'sent-before-crash', Value: 30 } }),
    );

    const topic = memoryTopic();
    const clock = { now: () => now, sleep: async () => undefined };
    const event = kinesisEvent([reading('2024-05-01T10:00:00Z', { temperature: 30 }, 'crash/1'), reading('2024-05-01T10:00:00Z', { temperature: 30 }, 'crash/2')]);
    expect(await consumer(topic.sns, { clock })(event)).toEqual({ batchItemFailures: [] });

    expect(topic.sent.map((input) => input.Subject?.split(' ')[1])).toEqual(['crash/1']);
    expect(await thresholdsItem('crash/1/temperature')).toMatchObject({ AlertState: 'breached', AlertNotifiedAt: readingAt });
    expect(await thresholdsItem('crash/2/temperature')).toMatchObject({ AlertState: 'breached', AlertNotifiedAt: readingAt, AlertMessageId: 'sent-before-crash' });
    for (const series of ['crash/1/temperature', 'crash/2/temperature']) expect((await thresholdsItem(series))?.[ALERT_STATE_ATTRIBUTES.claim]).toBeUndefined();
  });

  it('leaves series without thresholds, or with one bound, alone unless that bound is crossed', async () => {
    await putThresholds('partial/1/humidity', { MinThreshold: 30 });
    const topic = memoryTopic();
    const event = kinesisEvent([reading('2024-05-01T10:00:00Z', { temperature: 1e9, humidity: 1e9 }, 'partial/1'), reading('2024-05-01T10:01:00Z', { humidity: 5 }, 'partial/1')]);
    expect(await consumer(topic.sns)(event)).toEqual({ batchItemFailures: [] });
    expect(topic.sent.map((input) => input.Subject)).toEqual(['Alert: partial/1 humidity 5 below min 30 at 2024-05-01 10:01:00 UTC']);
    expect(await thresholdsItem('partial/1/temperature')).toBeUndefined();
  });
});

describe('no single reading can pin the alert state', () => {
  // Readings arrive on the stream at 10:00 UTC; the consumers tolerate 5 minutes ahead.
  const arrival = Date.parse('2024-05-01T10:00:00Z') / 1000;

  it('ignores readings dated past the tolerance (year 9999): later real breaches are still sent', async () => {
    await putThresholds('pin/1/temperature', { MinThreshold: 18, MaxThreshold: 25 });
    const topic = memoryTopic();
    const forged = kinesisEvent([reading('9999-12-31T00:00:00Z', { temperature: 30 }, 'pin/1'), reading('9999-12-31T00:00:01Z', { temperature: 20 }, 'pin/1')], arrival);
    expect(await consumer(topic.sns)(forged)).toEqual({ batchItemFailures: [] });
    expect(topic.sent).toEqual([]);
    expect((await thresholdsItem('pin/1/temperature'))?.[ALERT_STATE_ATTRIBUTES.notifiedAt]).toBeUndefined();

    const real = kinesisEvent([reading('2024-05-01T10:00:05Z', { temperature: 30 }, 'pin/1')], arrival + 5);
    expect(await consumer(topic.sns)(real)).toEqual({ batchItemFailures: [] });
    expect(topic.sent.map((input) => input.Subject)).toEqual(['Alert: pin/1 temperature 30 above max 25 at 2024-05-01 10:00:05 UTC']);
  });

  it('unpins a state left by such a reading before they were refused: the next real breach is sent and the state moves back', async () => {
    await db.document.send(
      new PutCommand({
        TableName: db.tables.thresholds,
        Item: { ThingID: 'pin/2/temperature', MinThreshold: 18, MaxThreshold: 25, AlertState: 'ok', AlertChangedAt: '9999-12-31T00:00:01.000000Z', AlertNotifiedAt: '9999-12-31T00:00:01.000000Z' },
      }),
    );
    const topic = memoryTopic();
    const real = kinesisEvent([reading('2024-05-01T10:00:00Z', { temperature: 30 }, 'pin/2')], arrival);
    expect(await consumer(topic.sns)(real)).toEqual({ batchItemFailures: [] });
    expect(topic.sent).toHaveLength(1);
    expect(await thresholdsItem('pin/2/temperature')).toMatchObject({ AlertState: 'breached', AlertNotifiedAt: '2024-05-01T10:00:00.000000Z' });
  });
});

describe('exact values', () => {
  const exactConsumer = (sns: SNSClient) => createThresholdAlertsHandler({ dynamo: db.exact, sns, settings: SETTINGS, logger: silentLogger() });

  it('counts a value above the maximum by 1e-30 as a breach, and records the notice with every digit', async () => {
    await db.exact.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: 'exact/1/t', MaxThreshold: NumberValue.from('25') } }));
    const topic = memoryTopic();
    const event = kinesisEvent([reading('2024-05-01T10:00:00Z', { t: '25.000000000000000000000000000000' }, 'exact/1'), reading('2024-05-01T10:01:00Z', { t: '25.000000000000000000000000000001' }, 'exact/1')]);
    expect(await exactConsumer(topic.sns)(event)).toEqual({ batchItemFailures: [] });
    expect(topic.sent.map((input) => input.Subject)).toEqual(['Alert: exact/1 t 25.000000000000000000000000000001 above max 25 at 2024-05-01 10:01:00 UTC']);
    const history = (await db.exact.send(new GetCommand({ TableName: db.tables.alerts, Key: { ThingID: 'exact/1/t', Timestamp: '2024-05-01T10:01:00.000000Z' } }))).Item;
    expect((history?.Value as NumberValue).value).toBe('25.000000000000000000000000000001');
  });

  it('writes the history item of a value beyond 2^53, so the email sent is on record', async () => {
    await db.exact.send(new PutCommand({ TableName: db.tables.thresholds, Item: { ThingID: 'exact/2/energy', MaxThreshold: NumberValue.from('1000') } }));
    const topic = memoryTopic();
    const event = kinesisEvent([reading('2024-05-01T10:00:00Z', { energy: 10000000000000000 }, 'exact/2')]);
    expect(await exactConsumer(topic.sns)(event)).toEqual({ batchItemFailures: [] });
    expect(topic.sent).toHaveLength(1);
    const history = (await db.exact.send(new GetCommand({ TableName: db.tables.alerts, Key: { ThingID: 'exact/2/energy', Timestamp: '2024-05-01T10:00:00.000000Z' } }))).Item;
    expect((history?.Value as NumberValue).value).toBe('10000000000000000');
  });
});

describe('the exported Lambda handler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  /** A fresh copy of the module, so its container-wide handler is built from the current environment. */
  const freshHandler = () => {
    let module!: typeof import('../../handlers/threshold-alerts');
    jest.isolateModules(() => {
      module = jest.requireActual('../../handlers/threshold-alerts');
    });
    return module.handler;
  };

  it('fails its first invocation with every missing setting named', async () => {
    for (const name of ['THRESHOLDS_TABLE', 'ALERTS_TABLE', 'ALERT_TOPIC_ARN']) delete process.env[name];
    await expect(freshHandler()(kinesisEvent([]))).rejects.toThrow(/THRESHOLDS_TABLE is missing; ALERTS_TABLE is missing; ALERT_TOPIC_ARN is missing/);
  });

  it('runs from the environment: tables and endpoints from the standard variables', async () => {
    await putThresholds('env/1/temperature', { MaxThreshold: 25 });
    // Nothing listens on port 9: the publish fails, so the claim must be released and the record reported.
    Object.assign(process.env, db.env, { ALERT_TOPIC_ARN: SETTINGS.alertTopicArn, AWS_ENDPOINT_URL_SNS: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    const handler = freshHandler();
    const quiet = kinesisEvent([reading('2024-05-01T10:00:00Z', { temperature: 20 }, 'env/1')]);
    expect(await handler(quiet)).toEqual({ batchItemFailures: [] });

    const breach = kinesisEvent([reading('2024-05-01T10:01:00Z', { temperature: 30 }, 'env/1')]);
    expect(await handler(breach)).toEqual({ batchItemFailures: [{ itemIdentifier: breach.Records[0]?.kinesis.sequenceNumber }] });
    const item = await thresholdsItem('env/1/temperature');
    expect(item?.[ALERT_STATE_ATTRIBUTES.claim]).toBeUndefined();
    expect(item?.AlertState).toBeUndefined();
  });
});
