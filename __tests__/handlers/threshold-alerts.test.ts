import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type BatchGetCommandInput, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ALERT_STATE_ATTRIBUTES } from '../../handlers/alert-state-item';
import { createThresholdAlertsHandler, type ThresholdAlertsDeps } from '../../handlers/threshold-alerts';
import { SERIES, SETTINGS, THING, kinesisEvent, lastSummary, reading, silentLogger } from './threshold-alerts.fixtures';

type Item = Record<string, unknown>;

const START = Date.parse('2024-05-01T12:00:00Z');
const throttled = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ProvisionedThroughputExceededException' });

/**
 * A handler over mocked clients. `items` plays the thresholds table for BatchGetItem and
 * GetItem; updates are accepted unless a test says otherwise.
 */
function setup(items: Item[] = [{ ThingID: SERIES, MinThreshold: 18, MaxThreshold: 25 }], overrides: Partial<ThresholdAlertsDeps> = {}) {
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-2' }));
  const sns = new SNSClient({ region: 'eu-west-2' });
  const db = mockClient(dynamo);
  const topic = mockClient(sns);
  const table = new Map(items.map((item) => [String(item.ThingID), item]));
  db.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
    const keys = input.RequestItems?.[SETTINGS.thresholdsTable]?.Keys ?? [];
    return { Responses: { [SETTINGS.thresholdsTable]: keys.flatMap((key) => table.get(String(key.ThingID)) ?? []) } };
  });
  db.on(GetCommand).callsFake((input) => ({ Item: input.TableName === SETTINGS.thresholdsTable ? table.get(String(input.Key.ThingID)) : undefined }));
  db.on(UpdateCommand).resolves({});
  // The alerts table: history items as put; the silences partition is empty.
  const history: Item[] = [];
  db.on(PutCommand).callsFake((input: { Item: Item }) => {
    history.push(input.Item);
    return {};
  });
  db.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const values = input.ExpressionAttributeValues ?? {};
    if (values[':partition'] !== undefined) return { Items: [] };
    return { Items: history.filter((item) => item.ThingID === values[':series'] && String(item.Timestamp) >= String(values[':first']) && String(item.Timestamp) <= String(values[':last'])) };
  });
  let published = 0;
  topic.on(PublishCommand).callsFake(() => ({ MessageId: `message-${++published}` }));

  const clock = { now: START };
  const logger = silentLogger();
  const info = jest.spyOn(logger, 'info');
  const warn = jest.spyOn(logger, 'warn');
  const handler = createThresholdAlertsHandler({
    dynamo,
    sns,
    settings: SETTINGS,
    logger,
    clock: {
      now: () => clock.now,
      sleep: async (ms) => {
        clock.now += ms;
      },
    },
    random: () => 0.5,
    ...overrides,
  });
  const publishes = () => topic.commandCalls(PublishCommand).map((call) => call.args[0].input);
  return { handler, db, topic, table, clock, info, warn, publishes };
}

describe('threshold alerts handler (mocked AWS)', () => {
  it('does nothing for an empty batch', async () => {
    const { handler, db, topic, info } = setup();
    await expect(handler(kinesisEvent([]))).resolves.toEqual({ batchItemFailures: [] });
    expect(db.calls()).toHaveLength(0);
    expect(topic.calls()).toHaveLength(0);
    expect(lastSummary(info)).toMatchObject({ records: 0, series: 0, thresholdReads: 0 });
  });

  it('stamps the history item with ExpiresAt when hot retention is configured', async () => {
    const { handler, db } = setup(undefined, { settings: { ...SETTINGS, hotRetentionDays: 1 } });
    await handler(kinesisEvent([reading('2024-05-01T00:00:00Z', { temperature: 30 })]));
    expect(db.commandCalls(PutCommand)[0]?.args[0].input.Item?.ExpiresAt).toBe(Date.parse('2024-05-02T00:00:00Z') / 1000);
  });

  it('handles a missing thresholds item and a single bound without crashing', async () => {
    const { handler, publishes, info } = setup([{ ThingID: `${THING}/humidity`, MinThreshold: 30 }]);
    const result = await handler(
      kinesisEvent([
        reading('2024-05-01T11:00:00Z', { temperature: 1e6, humidity: 95 }),
        reading('2024-05-01T11:01:00Z', { temperature: -1e6, humidity: 10 }),
      ]),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(publishes().map((input) => input.Subject)).toEqual(['Alert: things/harrow/001 humidity 10 below min 30 at 2024-05-01 11:01:00 UTC']);
    expect(lastSummary(info)).toMatchObject({ series: 2, quiet: expect.objectContaining({ 'no-thresholds': 2, 'in-range': 1 }) });
  });

  it('ignores unusable bounds and logs why', async () => {
    const { handler, publishes, warn } = setup([{ ThingID: SERIES, MinThreshold: 30, MaxThreshold: 20 }]);
    await expect(handler(kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 99 })]))).resolves.toEqual({ batchItemFailures: [] });
    expect(publishes()).toHaveLength(0);
    expect(warn).toHaveBeenCalledWith('thresholds item has unusable fields', {
      series: SERIES,
      problems: ['MinThreshold 30 is above MaxThreshold 20, so neither is applied'],
    });
  });

  it('skips a poison record in the middle, counts it, and still evaluates the records around it', async () => {
    const { handler, publishes, info } = setup();
    const result = await handler(
      kinesisEvent([
        reading('2024-05-01T11:00:00Z', { temperature: 30 }),
        '{"id": "things/harrow/001", "timestamp": ',
        reading('2024-05-01T11:00:01Z', { temperature: 'warm' }),
        reading('2024-05-01T11:05:00Z', { temperature: 20 }),
      ]),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(publishes().map((input) => input.Subject?.split(':')[0])).toEqual(['Alert', 'Back to normal']);
    expect(lastSummary(info)).toMatchObject({ records: 4, skipped: 2, skippedReasons: { 'not-json': 1, 'bad-metric-value': 1 } });
  });

  it('evaluates each reading of a packed record (a JSON array) in order, skipping a bad one, and alerts once when the record comes again', async () => {
    const { handler, publishes, info } = setup();
    const packed = JSON.stringify([
      reading('2024-05-01T11:00:00Z', { temperature: 30 }),
      reading('2024-05-01T11:00:01Z', { temperature: 'warm' }),
      reading('2024-05-01T11:05:00Z', { temperature: 20 }),
    ]);
    expect(await handler(kinesisEvent([packed]))).toEqual({ batchItemFailures: [] });
    expect(publishes().map((input) => input.Subject?.split(':')[0])).toEqual(['Alert', 'Back to normal']);
    expect(lastSummary(info)).toMatchObject({ records: 1, readings: 3, skipped: 1, skippedReasons: { 'bad-metric-value': 1 } });
    // A redelivery of the same readings (the batch endpoint's 503 asks for the whole batch again) changes nothing.
    expect(await handler(kinesisEvent([packed]))).toEqual({ batchItemFailures: [] });
    expect(publishes()).toHaveLength(2);
  });

  it('notifies a breach and then its recovery from one batch, in stream order', async () => {
    const { handler, publishes } = setup();
    await handler(
      kinesisEvent([
        reading('2024-05-01T11:00:00Z', { temperature: 30 }),
        reading('2024-05-01T11:01:00Z', { temperature: 31 }),
        reading('2024-05-01T11:02:00Z', { temperature: 20 }),
      ]),
    );
    expect(publishes().map((input) => input.Subject)).toEqual([
      'Alert: things/harrow/001 temperature 30 above max 25 at 2024-05-01 11:00:00 UTC',
      'Back to normal: things/harrow/001 temperature 20 at 2024-05-01 11:02:00 UTC',
    ]);
  });

  it('sends no second email within the cooldown and one reminder after it, across invocations', async () => {
    const { handler, publishes } = setup();
    await handler(kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 })]));
    await handler(kinesisEvent([reading('2024-05-01T11:14:59.999Z', { temperature: 30 })]));
    expect(publishes()).toHaveLength(1);
    await handler(kinesisEvent([reading('2024-05-01T11:15:00Z', { temperature: 30 }), reading('2024-05-01T11:16:00Z', { temperature: 30 })]));
    expect(publishes().map((input) => input.Subject?.split(':')[0])).toEqual(['Alert', 'Still out of range']);
  });

  describe('reading thresholds', () => {
    it('makes at most ceil(series / 100) BatchGetItem calls for 10,000 records, each key once', async () => {
      const things = Array.from({ length: 2_500 }, (_, index) => `things/site/${index}`);
      const items = things.map((id) => ({ ThingID: `${id}/temperature`, MaxThreshold: 1e9 }));
      const { handler, db, publishes, info } = setup(items);
      const payloads = Array.from({ length: 10_000 }, (_, index) =>
        reading(new Date(START - 10_000_000 + index * 1000).toISOString(), { temperature: index, humidity: 50 }, things[index % things.length]),
      );
      await expect(handler(kinesisEvent(payloads))).resolves.toEqual({ batchItemFailures: [] });

      const distinctSeries = things.length * 2;
      const calls = db.commandCalls(BatchGetCommand);
      expect(calls.length).toBeLessThanOrEqual(Math.ceil(distinctSeries / 100));
      const requested = calls.flatMap((call) => call.args[0].input.RequestItems?.[SETTINGS.thresholdsTable]?.Keys ?? []).map((key) => key.ThingID);
      expect(calls.every((call) => (call.args[0].input.RequestItems?.[SETTINGS.thresholdsTable]?.Keys ?? []).length <= 100)).toBe(true);
      expect(new Set(requested).size).toBe(distinctSeries);
      expect(requested).toHaveLength(distinctSeries);
      expect(publishes()).toHaveLength(0);
      expect(lastSummary(info)).toMatchObject({ records: 10_000, series: distinctSeries, thresholdReads: calls.length });
    });

    it('reuses thresholds on the next warm invocation, and re-reads them once the TTL has passed', async () => {
      const { handler, db, clock, info } = setup();
      await handler(kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 20 })]));
      await handler(kinesisEvent([reading('2024-05-01T11:00:01Z', { temperature: 21 })]));
      expect(db.commandCalls(BatchGetCommand)).toHaveLength(1);
      expect(lastSummary(info)).toMatchObject({ cacheHits: 1, thresholdReads: 0 });

      clock.now += 60_000;
      await handler(kinesisEvent([reading('2024-05-01T11:00:02Z', { temperature: 22 })]));
      expect(db.commandCalls(BatchGetCommand)).toHaveLength(2);
    });

    it('also caches the absence of a thresholds item', async () => {
      const { handler, db } = setup([]);
      await handler(kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 20 })]));
      await handler(kinesisEvent([reading('2024-05-01T11:00:01Z', { temperature: 99 })]));
      expect(db.commandCalls(BatchGetCommand)).toHaveLength(1);
    });

    it('retries only the UnprocessedKeys, then evaluates every series', async () => {
      const items = [
        { ThingID: SERIES, MaxThreshold: 25 },
        { ThingID: `${THING}/humidity`, MaxThreshold: 80 },
      ];
      const { handler, db, publishes } = setup(items);
      db.on(BatchGetCommand)
        .resolvesOnce({
          Responses: { [SETTINGS.thresholdsTable]: [items[0] as Item] },
          UnprocessedKeys: { [SETTINGS.thresholdsTable]: { Keys: [{ ThingID: `${THING}/humidity` }] } },
        })
        .resolvesOnce({ Responses: { [SETTINGS.thresholdsTable]: [items[1] as Item] } });
      await expect(handler(kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30, humidity: 90 })]))).resolves.toEqual({ batchItemFailures: [] });
      const calls = db.commandCalls(BatchGetCommand);
      expect(calls).toHaveLength(2);
      expect(calls[1]?.args[0].input.RequestItems?.[SETTINGS.thresholdsTable]?.Keys).toEqual([{ ThingID: `${THING}/humidity` }]);
      expect(publishes()).toHaveLength(2);
    });

    it('rides out throttling of BatchGetItem', async () => {
      const { handler, db, publishes } = setup();
      db.on(BatchGetCommand).rejectsOnce(throttled()).resolvesOnce({ Responses: { [SETTINGS.thresholdsTable]: [{ ThingID: SERIES, MaxThreshold: 25 }] } });
      await expect(handler(kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 })]))).resolves.toEqual({ batchItemFailures: [] });
      expect(db.commandCalls(BatchGetCommand)).toHaveLength(2);
      expect(publishes()).toHaveLength(1);
    });

    it('hands the whole batch back when thresholds stay unreadable, sending nothing', async () => {
      const { handler, db, publishes } = setup();
      db.on(BatchGetCommand).rejects(throttled());
      const event = kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 }), reading('2024-05-01T11:00:01Z', { temperature: 31 })]);
      await expect(handler(event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }] });
      expect(db.commandCalls(BatchGetCommand)).toHaveLength(6);
      expect(publishes()).toHaveLength(0);
    });

    it('names a packed record once when several of its readings could not be settled', async () => {
      const other = 'things/harrow/002';
      const { handler, db } = setup([
        { ThingID: SERIES, MinThreshold: 18, MaxThreshold: 25 },
        { ThingID: `${other}/temperature`, MinThreshold: 18, MaxThreshold: 25 },
      ]);
      db.on(UpdateCommand).rejects(throttled());
      const event = kinesisEvent([JSON.stringify([reading('2024-05-01T11:00:00Z', { temperature: 30 }), reading('2024-05-01T11:00:01Z', { temperature: 31 }, other)])]);
      await expect(handler(event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }] });
    });

    it('waits out thresholds that stay unreadable past the retry attempts when the invocation has time left', async () => {
      const { handler, db, publishes, clock } = setup();
      const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
      let refusals = 30;
      db.on(BatchGetCommand).callsFake(() => {
        if (refusals-- > 0) throw unreachable;
        return { Responses: { [SETTINGS.thresholdsTable]: [{ ThingID: SERIES, MaxThreshold: 25 }] } };
      });
      const startedAt = clock.now;
      const context = { getRemainingTimeInMillis: () => startedAt + 60_000 - clock.now } as Context;
      await expect(handler(kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 })]), context)).resolves.toEqual({ batchItemFailures: [] });
      expect(db.commandCalls(BatchGetCommand)).toHaveLength(31);
      expect(publishes()).toHaveLength(1);
    });

    it('does not retry an error that retrying cannot fix', async () => {
      const { handler, db } = setup();
      db.on(BatchGetCommand).rejects(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }));
      const event = kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 })]);
      await expect(handler(event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }] });
      expect(db.commandCalls(BatchGetCommand)).toHaveLength(1);
    });
  });

  describe('never lost, never twice', () => {
    it('stops a series at its failed record so later readings of it wait for the redelivery; other series go on', async () => {
      const { handler, topic, publishes } = setup([
        { ThingID: SERIES, MaxThreshold: 25 },
        { ThingID: 'things/other/temperature', MaxThreshold: 25 },
      ]);
      topic.on(PublishCommand).callsFake((input: { Subject: string }) => {
        if (input.Subject.includes('things/harrow/001')) throw new Error('SNS rejected the message');
        return { MessageId: 'other' };
      });
      const event = kinesisEvent([
        reading('2024-05-01T11:00:00Z', { temperature: 20 }),
        reading('2024-05-01T11:01:00Z', { temperature: 30 }),
        reading('2024-05-01T11:02:00Z', { temperature: 30 }, 'things/other'),
        reading('2024-05-01T11:03:00Z', { temperature: 20 }),
      ]);
      const result = await handler(event);
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1]?.kinesis.sequenceNumber }] });
      // One failed attempt for harrow (its recovery at 11:03 never evaluated), one notice for other.
      expect(publishes().map((input) => input.Subject?.split(' ')[1])).toEqual(['things/harrow/001', 'things/other']);
    });

    // A new container reading the state left behind: the dynalite tests' replays.
    it('sends nothing new when the same batch is delivered twice to a warm container', async () => {
      const { handler, publishes } = setup();
      const event = kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 }), reading('2024-05-01T11:20:00Z', { temperature: 20 })]);
      await handler(event);
      expect(publishes()).toHaveLength(2);
      await handler(event);
      expect(publishes()).toHaveLength(2);
    });

    it('waits for a live claim of another consumer, then decides on the state it confirmed', async () => {
      const claimed = { ThingID: SERIES, MaxThreshold: 25, [ALERT_STATE_ATTRIBUTES.claim]: { Token: 'other', ReadingAt: '2024-05-01T11:00:00.000000Z', ExpiresAt: START + 30_000, Notice: 'breach', State: 'breached', Bound: 'max', ChangedAt: '2024-05-01T11:00:00.000000Z' } };
      const { handler, db, table, publishes, info } = setup([claimed]);
      let reads = 0;
      db.on(GetCommand).callsFake(() => {
        reads += 1;
        // Confirmed by its owner after our second look.
        if (reads === 2) table.set(SERIES, { ThingID: SERIES, MaxThreshold: 25, AlertState: 'breached', AlertBound: 'max', AlertChangedAt: '2024-05-01T11:00:00.000000Z', AlertNotifiedAt: '2024-05-01T11:00:00.000000Z' });
        return { Item: table.get(SERIES) };
      });
      await expect(handler(kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 }), reading('2024-05-01T11:05:00Z', { temperature: 20 })]))).resolves.toEqual({ batchItemFailures: [] });
      // The same breach is not sent again; the recovery after it is.
      expect(publishes().map((input) => input.Subject?.split(':')[0])).toEqual(['Back to normal']);
      expect(lastSummary(info)).toMatchObject({ claimWaits: 2, notices: { breach: 0, reminder: 0, recovery: 1 } });
    });

    it('gives the record back when another consumer holds the claim for longer than it can wait', async () => {
      const claim = { Token: 'other', ReadingAt: '2024-05-01T11:00:00.000000Z', ExpiresAt: START + 3_600_000, Notice: 'breach', State: 'breached', Bound: 'max' };
      const { handler, publishes } = setup([{ ThingID: SERIES, MaxThreshold: 25, AlertClaim: claim }], { claimTimeoutMs: 2_000 });
      const event = kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 })]);
      await expect(handler(event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }] });
      expect(publishes()).toHaveLength(0);
    });

    it('reports the record when the alert state cannot be written, and sends nothing', async () => {
      const { handler, db, publishes } = setup();
      db.on(UpdateCommand).rejects(throttled());
      const event = kinesisEvent([reading('2024-05-01T11:00:00Z', { temperature: 30 })]);
      await expect(handler(event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }] });
      expect(publishes()).toHaveLength(0);
    });

  });
});
