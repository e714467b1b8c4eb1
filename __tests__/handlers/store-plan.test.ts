import {
  batchResponse,
  failureMessage,
  firstFailedRecord,
  itemKey,
  latestPerSeries,
  planBatch,
  planSegments,
  rollupContributions,
  storedSegments,
  type FailureMessageBody,
  type PlannedItem,
} from '../../handlers/store-plan';
import { Decimal } from '../../handlers/decimal';
import { readingsOfItems, segmentKey } from '../../handlers/reading-segment';
import { deliveredAsIs, kinesisEvent, kinesisRecord, reading, sequenceNumberOf, SHARD_ID, STREAM_ARN } from './kinesis-event-fixture';

const n = (value: number | string): Decimal => Decimal.of(value) as Decimal;

const T1 = '2016-09-09T13:33:07.381019Z';
const T2 = '2016-09-09T13:34:07.000000Z';

describe('planSegments', () => {
  const event = () =>
    kinesisEvent([
      reading('a', '2016-09-09T13:59:59.5Z', { t: 1, h: 2 }),
      reading('b', '2016-09-09T13:10:00Z', { t: 3 }),
      reading('a', '2016-09-09T14:00:00.5Z', { t: 4 }),
      reading('a', '2016-09-09T13:00:00Z', { t: 5 }),
    ]);

  it("packs one item per series and hour window, keyed by its latest reading's minute and the sequence numbers of its own records", () => {
    const { Records } = event();
    const parts = planSegments(planBatch(Records).items, Records);
    expect(parts.map((part) => [part.item.ThingID, part.item.Timestamp, part.segment.records])).toEqual([
      ['a/t', segmentKey('2016-09-09T13:59:00.000000Z', { shardId: SHARD_ID, highest: sequenceNumberOf(3), lowest: sequenceNumberOf(0) }, 0), [0, 3]],
      ['a/h', segmentKey('2016-09-09T13:59:00.000000Z', { shardId: SHARD_ID, highest: sequenceNumberOf(0), lowest: sequenceNumberOf(0) }, 0), [0]],
      ['b/t', segmentKey('2016-09-09T13:10:00.000000Z', { shardId: SHARD_ID, highest: sequenceNumberOf(1), lowest: sequenceNumberOf(1) }, 0), [1]],
      ['a/t', segmentKey('2016-09-09T14:00:00.000000Z', { shardId: SHARD_ID, highest: sequenceNumberOf(2), lowest: sequenceNumberOf(2) }, 0), [2]],
    ]);
    const readings = readingsOfItems(parts.map((part) => part.item));
    expect(readings.get('a/t')?.map((reading) => [reading.timestamp, reading.value.text])).toEqual([
      ['2016-09-09T13:00:00.000000Z', '5'],
      ['2016-09-09T13:59:59.500000Z', '1'],
      ['2016-09-09T14:00:00.500000Z', '4'],
    ]);
  });

  it('gives the same records the same items, so a retried batch rewrites them', () => {
    const first = event().Records;
    expect(planSegments(planBatch(first).items, first).map((part) => part.item)).toEqual(planSegments(planBatch(event().Records).items, event().Records).map((part) => part.item));
  });
});

describe('rollupContributions', () => {
  it('names, per series and hour, the minutes the stored readings touch and the earliest record among them', () => {
    const Records = kinesisEvent([
      reading('a', '2016-09-09T13:10:05Z', { t: 1 }),
      reading('b', '2016-09-09T13:10:06Z', { t: 2 }),
      reading('a', '2016-09-09T13:12:00Z', { t: 3 }),
      reading('a', '2016-09-09T13:10:59Z', { t: 4 }),
      reading('a', '2016-09-09T14:00:00Z', { t: 5 }),
    ]).Records;
    const contributions = rollupContributions(storedSegments(planSegments(planBatch(Records).items, Records), []));
    expect(contributions.get('a/t')?.hours.map((hour) => ({ start: hour.start, minutes: hour.minutes }))).toEqual([
      { start: '2016-09-09T13:00:00Z', minutes: [10, 12] },
      { start: '2016-09-09T14:00:00Z', minutes: [0] },
    ]);
    expect(contributions.get('a/t')?.firstRecord).toBe(0);
    expect(contributions.get('b/t')?.firstRecord).toBe(1);
    // A series whose only segment starts later in the batch resumes from that segment's earliest record.
    const late = kinesisEvent([reading('b', '2016-09-09T13:10:06Z', { t: 2 }), reading('a', '2016-09-09T14:00:00Z', { t: 5 }), reading('a', '2016-09-09T14:00:01Z', { t: 6 })]).Records;
    expect(rollupContributions(storedSegments(planSegments(planBatch(late).items, late), [])).get('a/t')?.firstRecord).toBe(1);
  });

  it('leaves out segments not stored', () => {
    const Records = kinesisEvent([reading('a', '2016-09-09T13:10:00Z', { t: 1, h: 2 })]).Records;
    const parts = planSegments(planBatch(Records).items, Records);
    const unstored = parts.filter((part) => part.item.ThingID === 'a/h');
    expect([...rollupContributions(storedSegments(parts, unstored)).keys()]).toEqual(['a/t']);
  });
});

describe('planBatch', () => {
  it('fans each reading out to one item per metric, with ExpiresAt from the reading time', () => {
    const { Records } = kinesisEvent([reading('things/harrow/001', '2016-09-09 13:33:07.381019', { temperature: '19.57', humidity: 40 })]);
    const plan = planBatch(Records, { hotRetentionDays: 30 });
    const expiresAt = Math.floor(Date.parse(T1) / 1000) + 30 * 86_400;
    expect(plan.readings).toBe(1);
    expect(plan.rejections).toEqual([]);
    expect(plan.items).toEqual([
      { item: { ThingID: 'things/harrow/001/temperature', Timestamp: T1, Value: n(19.57), ExpiresAt: expiresAt }, records: [0] },
      { item: { ThingID: 'things/harrow/001/humidity', Timestamp: T1, Value: n(40), ExpiresAt: expiresAt }, records: [0] },
    ]);
  });

  it('leaves ExpiresAt out without hot retention', () => {
    const { Records } = kinesisEvent([reading('a', T1, { t: 1 })]);
    expect(planBatch(Records).items[0]?.item).toEqual({ ThingID: 'a/t', Timestamp: T1, Value: n(1) });
  });

  it('rejects undecodable, non-JSON and invalid records with the parser reason, keeping the rest', () => {
    const { Records } = kinesisEvent([
      reading('a', T1, { t: 1 }),
      deliveredAsIs('%%% not base64 %%%'),
      '{"id": "a", "timestamp":',
      reading('b', T1, {}),
      reading('c', T2, { t: 3 }),
    ]);
    const plan = planBatch(Records);
    expect(plan.readings).toBe(2);
    expect(plan.items.map(({ item }) => item.ThingID)).toEqual(['a/t', 'c/t']);
    expect(plan.items.map(({ records }) => records)).toEqual([[0], [4]]);
    expect(plan.rejections.map(({ index, error }) => [index, error.code])).toEqual([
      [1, 'bad-encoding'],
      [2, 'not-json'],
      [3, 'no-metrics'],
    ]);
    expect(plan.rejections[0]?.record).toBe(Records[1]);
  });

  it('merges items with the same key into one, the later record winning, owned by every record', () => {
    const { Records } = kinesisEvent([
      reading('a', T1, { t: 1, h: 5 }),
      reading('b', T1, { t: 2 }),
      reading('a', T1, { t: 9 }),
      reading('a', '2016-09-09T14:33:07.381019+01:00', { t: 10 }),
    ]);
    const plan = planBatch(Records);
    expect(plan.items).toEqual([
      { item: { ThingID: 'a/t', Timestamp: T1, Value: n(10) }, records: [0, 2, 3] },
      { item: { ThingID: 'a/h', Timestamp: T1, Value: n(5) }, records: [0] },
      { item: { ThingID: 'b/t', Timestamp: T1, Value: n(2) }, records: [1] },
    ]);
  });

  it('refuses bytes that are not UTF-8 inside otherwise valid JSON, instead of storing U+FFFD in their place', () => {
    const bytes = Buffer.concat([Buffer.from('{"id": "caf'), Buffer.from([0xe9]), Buffer.from(`", "timestamp": "${T1}", "t": 1}`)]);
    const plan = planBatch([kinesisRecord(deliveredAsIs(bytes.toString('base64')), 0)]);
    expect(plan.items).toEqual([]);
    expect(plan.rejections.map(({ error }) => error.code)).toEqual(['bad-encoding']);
  });

  it('rejects a reading dated further ahead of its arrival than the tolerance, as future-timestamp', () => {
    // T2 is 60 s after this arrival.
    const arrival = Date.parse('2016-09-09T13:33:07Z') / 1000;
    const records = [kinesisRecord(reading('a', T1, { t: 1 }), 0, 'a', arrival), kinesisRecord(reading('a', T2, { t: 2 }), 1, 'a', arrival)];
    expect(planBatch(records, { maxAheadMs: 60_000 }).rejections).toEqual([]);
    expect(planBatch(records, { maxAheadMs: 59_999 }).rejections.map(({ index, error }) => [index, error.code])).toEqual([[1, 'future-timestamp']]);
  });

  it('plans nothing for an empty batch', () => {
    expect(planBatch([])).toEqual({ items: [], rejections: [], readings: 0 });
  });
});

describe('itemKey', () => {
  it('tells items apart by series and time only', () => {
    expect(itemKey({ ThingID: 'a/t', Timestamp: T1 })).toBe(itemKey({ ThingID: 'a/t', Timestamp: T1, Value: n(3) } as never));
    expect(itemKey({ ThingID: 'a/t', Timestamp: T1 })).not.toBe(itemKey({ ThingID: 'a/t', Timestamp: T2 }));
    expect(itemKey({ ThingID: 'a', Timestamp: 'b/c' })).not.toBe(itemKey({ ThingID: 'a/b', Timestamp: 'c' }));
  });
});

describe('latestPerSeries', () => {
  const planned = (ThingID: string, Timestamp: string, value: number, records: number[]): PlannedItem => ({ item: { ThingID, Timestamp, Value: n(value) }, records });

  it('keeps the newest item of each series and the earliest record that produced it', () => {
    const latest = latestPerSeries([
      planned('a/t', T2, 2, [1, 4]),
      planned('a/t', T1, 1, [0]),
      planned('b/t', T1, 7, [3]),
      planned('a/t', '2016-09-09T13:34:07.000001Z', 3, [5]),
    ]);
    expect(latest).toEqual([
      { series: 'a/t', timestamp: '2016-09-09T13:34:07.000001Z', value: n(3), record: 5 },
      { series: 'b/t', timestamp: T1, value: n(7), record: 3 },
    ]);
  });
});

describe('firstFailedRecord', () => {
  it('is the earliest index over every kind of failure', () => {
    expect(firstFailedRecord([7, 3], [5], [])).toBe(3);
    expect(firstFailedRecord([], [9], [2])).toBe(2);
    expect(firstFailedRecord(new Set([4]), [0])).toBe(0);
  });

  it('is undefined when nothing failed', () => {
    expect(firstFailedRecord([], [], [])).toBeUndefined();
  });
});

describe('batchResponse', () => {
  const { Records } = kinesisEvent(['x', 'y', 'z']);

  it('names only the first failed record, so Lambda resumes the shard there', () => {
    expect(batchResponse(Records, 1)).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(1) }] });
  });

  it('names nothing when every record was handled', () => {
    expect(batchResponse(Records, undefined)).toEqual({ batchItemFailures: [] });
  });
});

describe('failureMessage', () => {
  const bodyOf = (body: string) => JSON.parse(body) as FailureMessageBody;

  it('carries the reason, the raw text, the sequence number, shard and partition key', () => {
    const record = kinesisRecord('{"id": 42}', 7, 'sensor-42');
    const [rejection] = planBatch([record]).rejections;
    const message = failureMessage(rejection!);
    expect(message.id).toBe('record-0');
    expect(bodyOf(message.body)).toEqual({
      recordId: `${STREAM_ARN}/${SHARD_ID}/${sequenceNumberOf(7)}`,
      reason: { code: 'bad-id', field: 'id', message: expect.stringContaining('"id" must be a non-blank string') },
      payload: '{"id": 42}',
      payloadEncoding: 'utf8',
      sequenceNumber: sequenceNumberOf(7),
      partitionKey: 'sensor-42',
      shardId: SHARD_ID,
      eventSourceARN: STREAM_ARN,
      approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp,
    });
  });

  it('names bytes that are not UTF-8 text as such and keeps them exactly, as base64', () => {
    const data = Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString('base64');
    const [rejection] = planBatch([kinesisRecord(deliveredAsIs(data), 0)]).rejections;
    const body = bodyOf(failureMessage(rejection!).body);
    expect(body.reason).toMatchObject({ code: 'bad-encoding', message: expect.stringContaining('not UTF-8') });
    expect(body).toMatchObject({ payload: data, payloadEncoding: 'base64' });
  });

  it('keeps data that is not base64 exactly as delivered', () => {
    const [rejection] = planBatch([kinesisRecord(deliveredAsIs('not base64!'), 0)]).rejections;
    expect(bodyOf(failureMessage(rejection!).body)).toMatchObject({ reason: { code: 'bad-encoding' }, payload: 'not base64!', payloadEncoding: 'utf8' });
  });

  it('cuts an oversized payload to fit SQS and says how large it was', () => {
    const text = `{"id": "${'"'.repeat(3000)}`;
    const [rejection] = planBatch([kinesisRecord(text, 0)]).rejections;
    const message = failureMessage(rejection!, 2048);
    const body = bodyOf(message.body);
    expect(Buffer.byteLength(message.body)).toBeLessThanOrEqual(2048);
    expect(body.payloadEncoding).toBe('base64');
    expect(body.payloadTruncatedFromBytes).toBe(Buffer.byteLength(text));
    const kept = Buffer.from(body.payload, 'base64').toString('utf8');
    expect(kept.length).toBeGreaterThan(1000);
    expect(text.startsWith(kept)).toBe(true);
  });
});
