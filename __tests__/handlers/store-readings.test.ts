import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { QueueDoesNotExist, RequestThrottled, SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, NumberValue, UpdateCommand, type BatchWriteCommandInput, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_RETRY_POLICY } from '../../handlers/batching';
import { decodeItem, windowStart } from '../../handlers/reading-segment';
import { SettingsError } from '../../handlers/runtime';
import { createStoreReadingsHandler, handler, type StoreReadingsDeps, type StoreReadingsSettings } from '../../handlers/store-readings';
import type { FailureMessageBody } from '../../handlers/store-plan';
import { kinesisEvent, kinesisRecord, reading, sequenceNumberOf, SHARD_ID, STREAM_ARN } from './kinesis-event-fixture';

const THINGS = 'iot-things';
const SERIES = 'iot-series';
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/iot-failures';
const BASE_TIME = Date.parse('2016-09-09T13:33:07Z');

const dynamoMock = mockClient(DynamoDBDocumentClient);
const sqsMock = mockClient(SQSClient);
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const sqs = new SQSClient({ region: 'us-east-1' });

/** A reading as the table's readers see it, with the `ExpiresAt` of the segment item holding it. */
type StoredItem = { ThingID: string; Timestamp: string; Value: string; ExpiresAt?: number };

/** The readings of a segment item the handler wrote, as StoredItems. */
function readingsIn(item: Record<string, unknown> | undefined): StoredItem[] {
  if (item === undefined) return [];
  const expires = item.ExpiresAt === undefined ? {} : { ExpiresAt: item.ExpiresAt as number };
  return (decodeItem(item)?.readings ?? []).map((reading) => ({ ThingID: String(item.ThingID), Timestamp: reading.timestamp, Value: reading.value.text, ...expires }));
}

/** The things table as a map of segment items, written by every BatchWriteItem the handler makes. */
class FakeThingsTable {
  readonly segments = new Map<string, Record<string, unknown>>();
  puts = 0;
  /** Every reading the segments hold, by `series|timestamp`, as readers see them (duplicates removed). */
  get items(): Map<string, StoredItem> {
    const best = new Map<string, { rank: string; item: StoredItem }>();
    for (const segment of this.segments.values()) {
      const rank = decodeItem(segment)?.rank ?? '';
      for (const item of readingsIn(segment)) {
        const key = `${item.ThingID}|${item.Timestamp}`;
        const known = best.get(key);
        if (known === undefined || known.rank <= rank) best.set(key, { rank, item });
      }
    }
    return new Map([...best].map(([key, { item }]) => [key, item]));
  }
  /** Answers one BatchWriteItem: `unprocessed` decides, per reading, which segments DynamoDB leaves for a retry (any of its readings). */
  batchWrite(input: BatchWriteCommandInput, unprocessed: (item: StoredItem) => boolean = () => false) {
    const requests = input.RequestItems?.[THINGS] ?? [];
    const keys = requests.map(({ PutRequest }) => `${PutRequest?.Item?.ThingID}|${PutRequest?.Item?.Timestamp}`);
    // DynamoDB rejects a call naming a key twice.
    if (new Set(keys).size !== keys.length) throw new Error('ValidationException: Provided list of item keys contains duplicates');
    if (requests.length > 25) throw new Error('ValidationException: too many items');
    const left = [];
    for (const request of requests) {
      const item = request.PutRequest?.Item as Record<string, unknown>;
      if (readingsIn(item).some(unprocessed)) {
        left.push(request);
      } else {
        this.segments.set(`${String(item.ThingID)}|${String(item.Timestamp)}`, item);
        this.puts++;
      }
    }
    return { UnprocessedItems: left.length === 0 ? {} : { [THINGS]: left } };
  }
}

const throttled = () => new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: {} });

let table: FakeThingsTable;
let delays: number[];
let log: { debug: jest.Mock; info: jest.Mock; warn: jest.Mock; error: jest.Mock };

function storeHandler(overrides: Partial<StoreReadingsDeps> = {}, settings: Partial<StoreReadingsSettings> = {}) {
  return createStoreReadingsHandler({
    dynamo,
    sqs,
    settings: { thingsTable: THINGS, failureQueueUrl: QUEUE, seriesTable: SERIES, alertCooldownSeconds: 900, futureToleranceSeconds: 300, hotRetentionDays: 30, ...settings },
    logger: log,
    clock: { now: () => BASE_TIME, sleep: async (ms) => void delays.push(ms) },
    random: () => 0.5,
    ...overrides,
  });
}

/** The summary the handler logged for its last batch. */
function summary(): Record<string, unknown> {
  const calls = [...log.info.mock.calls, ...log.warn.mock.calls];
  expect(calls).toHaveLength(1);
  return calls[0]?.[1] as Record<string, unknown>;
}

const at = (seconds: number) => new Date(BASE_TIME + seconds * 1000).toISOString();
const micros = (seconds: number) => at(seconds).replace('Z', '000Z');

/** `count` readings of one metric from `things` things, one second apart. */
function readings(count: number, things = 1): object[] {
  return Array.from({ length: count }, (_, index) => reading(`thing-${index % things}`, at(index), { temperature: index }));
}

/** The exact values of a segment item as the handler wrote it. */
const valuesOf = (item: Record<string, unknown> | undefined): string[] => readingsIn(item).map((reading) => reading.Value);
const writtenItems = () => dynamoMock.commandCalls(BatchWriteCommand).flatMap((call) => call.args[0].input.RequestItems?.[THINGS] ?? []);
const catalogueUpdates = () => dynamoMock.commandCalls(UpdateCommand).map((call) => call.args[0].input as UpdateCommandInput);
const queuedBodies = () =>
  sqsMock.commandCalls(SendMessageBatchCommand).flatMap((call) => (call.args[0].input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? '') as FailureMessageBody));

beforeEach(() => {
  dynamoMock.reset();
  sqsMock.reset();
  table = new FakeThingsTable();
  delays = [];
  log = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  dynamoMock.on(BatchWriteCommand).callsFake((input) => table.batchWrite(input));
  dynamoMock.on(UpdateCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));
});

describe('storing a batch', () => {
  it('puts one item per metric with value, normalised timestamp and ExpiresAt, and reports no failure', async () => {
    const event = kinesisEvent([
      reading('things/harrow/001', '2016-09-09 13:33:07.381019', { temperature: '19.57', humidity: 40 }),
      reading('things/harrow/002', 1473428047000, { temperature: 18 }),
    ]);
    const response = await storeHandler()(event);

    expect(response).toEqual({ batchItemFailures: [] });
    const expires = (iso: string) => Math.floor(Date.parse(iso) / 1000) + 30 * 86_400;
    expect([...table.items.values()]).toEqual([
      { ThingID: 'things/harrow/001/temperature', Timestamp: '2016-09-09T13:33:07.381019Z', Value: '19.57', ExpiresAt: expires('2016-09-09T13:33:07Z') },
      { ThingID: 'things/harrow/001/humidity', Timestamp: '2016-09-09T13:33:07.381019Z', Value: '40', ExpiresAt: expires('2016-09-09T13:33:07Z') },
      { ThingID: 'things/harrow/002/temperature', Timestamp: '2016-09-09T13:34:07.000000Z', Value: '18', ExpiresAt: expires('2016-09-09T13:34:07Z') },
    ]);
    expect(dynamoMock.commandCalls(BatchWriteCommand)).toHaveLength(1);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(summary()).toMatchObject({ records: 2, readingsStored: 2, itemsStored: 3, itemsUnstored: 0, rejected: 0, writeRequests: 1, writeRetries: 0 });
  });

  it('reports nothing and calls nothing for an empty batch', async () => {
    await expect(storeHandler()({ Records: [] })).resolves.toEqual({ batchItemFailures: [] });
    expect(dynamoMock.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
    expect(summary()).toMatchObject({ records: 0, itemsStored: 0, rejected: 0 });
  });

  it('writes a batch of 10,000 readings as one segment item per series and hour window, in ceil(items/25) calls, each item once', async () => {
    const event = kinesisEvent(
      Array.from({ length: 10_000 }, (_, index) => reading(`thing-${index % 100}`, at(index), { temperature: index, humidity: index / 2 })),
    );
    const response = await storeHandler()(event);

    // 200 series over 10,000 seconds from 13:33: each touches the windows of 13:00 to 16:00.
    const segments = new Set(Array.from({ length: 10_000 }, (_, index) => `thing-${index % 100}|${windowStart(micros(index))}`)).size * 2;
    expect(segments).toBeLessThan(1_000);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.commandCalls(BatchWriteCommand)).toHaveLength(Math.ceil(segments / 25));
    expect(table.puts).toBe(segments);
    expect(table.items.size).toBe(20_000);
    expect(table.items.get(`thing-42/humidity|${micros(9942)}`)?.Value).toBe('4971');
    expect(catalogueUpdates()).toHaveLength(200);
    expect(summary()).toMatchObject({ records: 10_000, readingsStored: 10_000, valuesStored: 20_000, itemsStored: segments, writeRequests: Math.ceil(segments / 25), catalogueUpdated: 200 });
  });

  it('puts a reading sent twice within one batch once, the later copy winning', async () => {
    const event = kinesisEvent([reading('a', at(0), { t: 1 }), reading('b', at(0), { t: 2 }), reading('a', at(0), { t: 3 })]);
    await expect(storeHandler()(event)).resolves.toEqual({ batchItemFailures: [] });
    expect(writtenItems()).toHaveLength(2);
    expect(table.items.get(`a/t|${micros(0)}`)?.Value).toBe('3');
  });
});

describe('the same batch delivered twice', () => {
  it('rewrites the same items: the table holds each once, with the same values', async () => {
    const event = kinesisEvent(readings(60, 3));
    const store = storeHandler();
    await store(event);
    const afterFirst = new Map(table.items);
    await store(event);

    expect(table.items).toEqual(afterFirst);
    expect(table.items.size).toBe(60);
    // Three series, one hour window: three segment items, each rewritten under the same key.
    expect(table.puts).toBe(6);
    expect(table.segments.size).toBe(3);
    const keys = writtenItems().map(({ PutRequest }) => `${PutRequest?.Item?.ThingID}|${PutRequest?.Item?.Timestamp}`);
    expect(keys.slice(0, 3)).toEqual(keys.slice(3));
    expect(new Set(keys.slice(0, 3)).size).toBe(3);
  });
});

describe('throttling and UnprocessedItems', () => {
  it('retries a throttled call with jittered backoff, then stores everything', async () => {
    dynamoMock.on(BatchWriteCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).callsFake((input) => table.batchWrite(input));
    const response = await storeHandler()(kinesisEvent(readings(10, 10)));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(table.items.size).toBe(10);
    expect(dynamoMock.commandCalls(BatchWriteCommand)).toHaveLength(3);
    // random() = 0.5 of a ceiling of 50 ms, then 100 ms.
    expect(delays).toEqual([25, 50]);
    expect(summary()).toMatchObject({ itemsStored: 10, writeRequests: 3, writeRetries: 2 });
  });

  it('sends only the unprocessed items again until they are stored', async () => {
    let round = 0;
    dynamoMock.on(BatchWriteCommand).callsFake((input) => {
      round++;
      // DynamoDB leaves every other item for the first two rounds.
      return table.batchWrite(input, (item) => round <= 2 && Number(item.Value) % 2 === 0);
    });
    const response = await storeHandler()(kinesisEvent(readings(10, 10)));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(table.items.size).toBe(10);
    const sizes = dynamoMock.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems?.[THINGS]?.length);
    expect(sizes).toEqual([10, 5, 5]);
    expect(summary()).toMatchObject({ itemsStored: 10, writeRetries: 2 });
  });

  it('gives up after the bounded attempts and names the first record with an unstored item', async () => {
    // Items of readings 30 and 40 (one thing each, so one segment each) are never processed; 60 segments make chunks of 25, 25 and 10.
    dynamoMock.on(BatchWriteCommand).callsFake((input) => table.batchWrite(input, (item) => item.Value === '30' || item.Value === '40'));
    const event = kinesisEvent(readings(60, 60));
    const response = await storeHandler()(event);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(30) }] });
    const callsWithItem30 = writtenItems().filter(({ PutRequest }) => valuesOf(PutRequest?.Item).includes('30'));
    expect(callsWithItem30).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts);
    // Every record before the failure is stored, once.
    for (let index = 0; index < 30; index++) expect(table.items.has(`thing-${index}/temperature|${micros(index)}`)).toBe(true);
    expect(table.items.has(`thing-30/temperature|${micros(30)}`)).toBe(false);
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('partly stored'), expect.objectContaining({ resumeFromSequenceNumber: sequenceNumberOf(30) }));
  });

  describe('inside an invocation, with its time budget', () => {
    /** A clock whose sleeps advance it, and a context that counts down from `budgetMs`. */
    function invocation(budgetMs: number) {
      let now = BASE_TIME;
      const clock = { now: () => now, sleep: async (ms: number) => void ((now += ms), delays.push(ms)) };
      const context = { getRemainingTimeInMillis: () => BASE_TIME + budgetMs - now };
      return { clock, context };
    }
    const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });

    it('waits out a table that is unreachable for longer than the retry attempts would cover, and stores everything', async () => {
      let refusals = 40;
      dynamoMock.on(BatchWriteCommand).callsFake((input) => {
        if (refusals-- > 0) throw unreachable();
        return table.batchWrite(input);
      });
      const { clock, context } = invocation(60_000);
      const response = await storeHandler({ clock })(kinesisEvent(readings(5)), context);

      expect(response).toEqual({ batchItemFailures: [] });
      expect(table.items.size).toBe(5);
      expect(writtenItems().length).toBeGreaterThan(DEFAULT_RETRY_POLICY.maxAttempts);
    });

    it('stops retrying in time to report, keeping a quarter of the budget', async () => {
      dynamoMock.on(BatchWriteCommand).rejects(unreachable());
      const { clock, context } = invocation(60_000);
      const response = await storeHandler({ clock })(kinesisEvent(readings(5)), context);

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(0) }] });
      const waited = delays.reduce((sum, ms) => sum + ms, 0);
      expect(waited).toBeLessThan(45_000);
      expect(waited).toBeGreaterThan(40_000);
    });
  });

  it('does not retry an error a retry cannot fix, and names the first record of the failed call', async () => {
    dynamoMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const items = input.RequestItems?.[THINGS] ?? [];
      if (items.some(({ PutRequest }) => valuesOf(PutRequest?.Item).includes('27'))) throw new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });
      return table.batchWrite(input);
    });
    const response = await storeHandler()(kinesisEvent(readings(60, 60)));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(25) }] });
    expect(writtenItems().filter(({ PutRequest }) => valuesOf(PutRequest?.Item).includes('27'))).toHaveLength(1);
    expect(log.warn.mock.calls[0]?.[1]).toMatchObject({ errors: [expect.stringContaining('ResourceNotFoundException')] });
  });

  it('stops writing records Lambda will deliver again once an earlier one has failed', async () => {
    dynamoMock.on(BatchWriteCommand).rejects(throttled());
    const response = await storeHandler({ concurrency: 1 })(kinesisEvent(readings(60, 60)));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(0) }] });
    // Only the first chunk was tried; the other two were left for the redelivery.
    expect(dynamoMock.commandCalls(BatchWriteCommand)).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts);
    expect(summary()).toMatchObject({ itemsStored: 0, itemsUnstored: 25, itemsNotAttempted: 35, writeRetries: DEFAULT_RETRY_POLICY.maxAttempts - 1 });
    expect(catalogueUpdates()).toHaveLength(0);
  });
});

describe('records that can never be stored', () => {
  const poisoned = (): KinesisStreamEvent => kinesisEvent([...readings(3), '{"id": "broken"', ...readings(3).map((r, i) => ({ ...r, timestamp: at(10 + i) }))]);

  it('sends a poison record in the middle of a batch to the failure queue and stores the rest', async () => {
    const event = poisoned();
    const response = await storeHandler()(event);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(table.items.size).toBe(6);
    const bodies = queuedBodies();
    expect(bodies).toEqual([
      expect.objectContaining({
        reason: expect.objectContaining({ code: 'not-json' }),
        payload: '{"id": "broken"',
        payloadEncoding: 'utf8',
        sequenceNumber: sequenceNumberOf(3),
        partitionKey: 'things/harrow/001',
        shardId: 'shardId-000000000000',
      }),
    ]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.QueueUrl).toBe(QUEUE);
    expect(summary()).toMatchObject({ records: 7, readingsStored: 6, rejected: 1, rejectedQueued: 1, rejectedByCode: { 'not-json': 1 } });
  });

  it('queues many rejected records at most 10 per call', async () => {
    const event = kinesisEvent(Array.from({ length: 23 }, (_, index) => reading(`t${index}`, at(index), {})));
    await expect(storeHandler()(event)).resolves.toEqual({ batchItemFailures: [] });
    expect(sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(new Set(queuedBodies().map((body) => body.sequenceNumber)).size).toBe(23);
    expect(summary()).toMatchObject({ rejected: 23, rejectedQueued: 23, rejectedByCode: { 'no-metrics': 23 } });
  });

  it('retries a throttled queue call', async () => {
    sqsMock.on(SendMessageBatchCommand).rejectsOnce(new RequestThrottled({ message: 'slow down', $metadata: {} })).resolves({ Successful: [], Failed: [] });
    await expect(storeHandler()(poisoned())).resolves.toEqual({ batchItemFailures: [] });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(summary()).toMatchObject({ queueRetries: 1, rejectedQueued: 1 });
  });

  it('retries only the entries SQS failed on its side', async () => {
    const event = kinesisEvent(['not json 1', ...readings(2), 'not json 2']);
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [{ Id: 'record-0', MessageId: 'm', MD5OfMessageBody: '' }], Failed: [{ Id: 'record-3', SenderFault: false, Code: 'InternalError' }] })
      .resolves({ Successful: [], Failed: [] });
    await expect(storeHandler()(event)).resolves.toEqual({ batchItemFailures: [] });
    const ids = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries?.map((entry) => entry.Id));
    expect(ids).toEqual([['record-0', 'record-3'], ['record-3']]);
  });

  it('hands a record back to Lambda when the failure queue will not take it, so it is not lost', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist', $metadata: {} }));
    const response = await storeHandler()(poisoned());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(3) }] });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(table.items.size).toBeGreaterThanOrEqual(3);
    expect(summary()).toMatchObject({ rejected: 1, rejectedQueued: 0 });
  });

  it('names the earliest record SQS refused for the sender’s fault', async () => {
    const event = kinesisEvent(['bad 0', 'bad 1', 'bad 2', ...readings(1)]);
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'record-0', MessageId: 'm', MD5OfMessageBody: '' }],
      Failed: [
        { Id: 'record-2', SenderFault: true, Code: 'InvalidMessageContents' },
        { Id: 'record-1', SenderFault: true, Code: 'InvalidMessageContents' },
      ],
    });
    await expect(storeHandler()(event)).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(1) }] });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });
});

describe('each rejected record reaches the failure queue exactly once', () => {
  // Rejected records at 1 and 4, a write that keeps failing for the reading at 3.
  const batch = (): KinesisStreamEvent =>
    // One thing per reading, so each has a segment of its own and fails alone.
    kinesisEvent([reading('a', at(0), { t: 0 }), 'bad 1', reading('b', at(2), { t: 2 }), reading('c', at(3), { t: 3 }), 'bad 4', reading('d', at(5), { t: 5 })]);
  const queuedSequenceNumbers = () => queuedBodies().map((body) => body.sequenceNumber);

  it('queues only the rejections before the record Lambda resumes from; the rest go out with the redelivery that gets past them', async () => {
    let failing = true;
    dynamoMock.on(BatchWriteCommand).callsFake((input) => {
      if (failing) return table.batchWrite(input, (item) => item.Value === '3');
      return table.batchWrite(input);
    });
    const store = storeHandler();
    const event = batch();
    expect(await store(event)).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(3) }] });
    expect(queuedSequenceNumbers()).toEqual([sequenceNumberOf(1)]);

    // Lambda delivers from the failed record on, five more times while the write keeps failing.
    for (let retry = 0; retry < 5; retry++) await store({ Records: event.Records.slice(3) });
    expect(queuedSequenceNumbers()).toEqual([sequenceNumberOf(1)]);

    failing = false;
    expect(await store({ Records: event.Records.slice(3) })).toEqual({ batchItemFailures: [] });
    expect(queuedSequenceNumbers()).toEqual([sequenceNumberOf(1), sequenceNumberOf(4)]);
  });

  it('does not queue again when the whole batch comes back (a crash, a bisected retry) to the same container', async () => {
    const store = storeHandler();
    const event = batch();
    await store(event);
    await store(event);
    await store({ Records: event.Records.slice(0, 3) });
    await store({ Records: event.Records.slice(3) });
    expect(queuedSequenceNumbers()).toEqual([sequenceNumberOf(1), sequenceNumberOf(4)]);
  });

  it('sends nothing after a message SQS did not take, and nothing twice on the redelivery', async () => {
    const event = kinesisEvent(Array.from({ length: 25 }, (_, index) => `bad ${index}`));
    let calls = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      calls += 1;
      const entries = input.Entries ?? [];
      // The second pack: SQS takes all but record-12 (its side, then out of retries: the policy allows 6 attempts).
      const failed = calls >= 2 && calls <= 7 ? entries.filter((entry) => entry.Id === 'record-12') : [];
      return {
        Successful: entries.filter((entry) => !failed.includes(entry)).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: '' })),
        Failed: failed.map((entry) => ({ Id: entry.Id, SenderFault: false, Code: 'InternalError' })),
      };
    });
    const store = storeHandler();
    expect(await store(event)).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(12) }] });
    // The third pack (records 20-24) was never sent.
    expect(new Set(queuedSequenceNumbers()).has(sequenceNumberOf(20))).toBe(false);

    expect(await store({ Records: event.Records.slice(12) })).toEqual({ batchItemFailures: [] });
    const accepted = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call, index) => (call.args[0].input.Entries ?? []).filter((entry) => !(index >= 1 && index <= 6 && entry.Id === 'record-12')))
      .map((entry) => (JSON.parse(entry.MessageBody ?? '') as FailureMessageBody).sequenceNumber);
    // Every record accepted once, none twice: the retried entry of pack two is counted once, after its last failure.
    const counts = new Map<string, number>();
    for (const sequence of accepted) counts.set(sequence, (counts.get(sequence) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(event.Records.map((record) => record.kinesis.sequenceNumber).sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  });

  it('gives every message the record\'s identity, the same on every delivery, for readers to drop a repeat SQS delivers', async () => {
    await storeHandler()(batch());
    await storeHandler()(batch());
    const [first, , second] = queuedBodies();
    expect(first?.recordId).toBe(`arn:aws:kinesis:us-east-1:123456789012:stream/iot-readings/shardId-000000000000/${sequenceNumberOf(1)}`);
    expect(second).toEqual(first);
  });
});

describe('a write DynamoDB refuses because of the reading itself', () => {
  const validation = () => Object.assign(new Error('Number overflow. Attempting to store a number with magnitude larger than supported range'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });

  it('sends that reading to the failure queue with DynamoDB\'s reason, and stores the rest of the batch', async () => {
    dynamoMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const items = input.RequestItems?.[THINGS] ?? [];
      if (items.some(({ PutRequest }) => valuesOf(PutRequest?.Item).includes('13'))) throw validation();
      return table.batchWrite(input);
    });
    const event = kinesisEvent(readings(60, 60));
    expect(await storeHandler()(event)).toEqual({ batchItemFailures: [] });

    expect(table.items.size).toBe(59);
    expect(queuedBodies()).toEqual([
      expect.objectContaining({
        sequenceNumber: sequenceNumberOf(13),
        reason: { code: 'store-refused', field: 'temperature', message: expect.stringContaining('Number overflow') },
        payload: JSON.stringify(readings(60, 60)[13]),
      }),
    ]);
    // Split in halves down to the one item: 3 calls of 25, then 13+12, 7+6, 4+3, 2+2, 1+1 around item 13.
    expect(dynamoMock.commandCalls(BatchWriteCommand).length).toBeLessThanOrEqual(3 + 2 * 5);
    expect(catalogueUpdates().map((update) => update.Key?.ThingID)).toHaveLength(59);
    expect(catalogueUpdates().map((update) => update.Key?.ThingID)).not.toContain('thing-13/temperature');
    expect(summary()).toMatchObject({ itemsRefused: 1, itemsStored: 59, rejectedByCode: { 'store-refused': 1 }, rejectedQueued: 1 });
    expect(log.error).toHaveBeenCalledWith(expect.stringContaining('DynamoDB refused'), expect.anything());
  });
});

describe('a segment item DynamoDB refuses', () => {
  it('sends each of its readings to the failure queue once, naming the reason, and stores the other segments', async () => {
    dynamoMock.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
      const items = input.RequestItems?.[THINGS] ?? [];
      if (items.some(({ PutRequest }) => PutRequest?.Item?.ThingID === 'thing-1/temperature')) throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      return table.batchWrite(input);
    });
    // Two things, ten readings each in one hour window: two segments of ten.
    expect(await storeHandler()(kinesisEvent(readings(20, 2)))).toEqual({ batchItemFailures: [] });

    expect(table.items.size).toBe(10);
    expect([...table.items.values()].every((item) => item.ThingID === 'thing-0/temperature')).toBe(true);
    expect(queuedBodies().map((body) => [body.sequenceNumber, body.reason.code])).toEqual(
      Array.from({ length: 10 }, (_, index) => [sequenceNumberOf(2 * index + 1), 'store-refused']),
    );
    expect(summary()).toMatchObject({ itemsRefused: 1, itemsStored: 1, readingsStored: 10, rejectedQueued: 10 });
  });
});

describe('readings dated too far ahead of their arrival on the stream', () => {
  it('go to the failure queue with their own reason, are not stored and leave the catalogue alone', async () => {
    const arrival = Date.parse('2024-05-01T12:00:00Z') / 1000;
    const record = (payload: object, position: number) => kinesisRecord(payload, position, 'things/clock', arrival);
    const event = {
      Records: [
        record(reading('things/clock', '2024-05-01T12:04:59Z', { t: 1 }), 0),
        record(reading('things/clock', '9999-12-31T00:00:00Z', { t: 2 }), 1),
        record(reading('things/clock', '2024-05-01T12:05:01Z', { t: 3 }), 2),
      ],
    };
    expect(await storeHandler()(event)).toEqual({ batchItemFailures: [] });
    expect([...table.items.values()].map((item) => item.Value)).toEqual(['1']);
    expect(queuedBodies().map((body) => [body.sequenceNumber, body.reason.code])).toEqual([
      [sequenceNumberOf(1), 'future-timestamp'],
      [sequenceNumberOf(2), 'future-timestamp'],
    ]);
    expect(catalogueUpdates().map((update) => update.ExpressionAttributeValues?.[':timestamp'])).toEqual(['2024-05-01T12:04:59.000000Z']);
  });
});

describe('packed records (a JSON array of readings, as the batch endpoint puts them)', () => {
  const arrival = Date.parse('2024-05-01T12:00:00Z') / 1000;
  const packedRecord = (payload: object[], position: number) => kinesisRecord(payload, position, '0', arrival);
  const packed = () => ({
    Records: [
      packedRecord([reading('things/a', '2024-05-01T11:00:00Z', { t: 1 }), reading('things/b', '9999-12-31T00:00:00Z', { t: 2 }), reading('things/a', '2024-05-01T11:00:01Z', { t: 3 })], 0),
      packedRecord([reading('things/c', '2024-05-01T11:00:00Z', { t: 4 })], 1),
    ],
  });

  it('stores the neighbours of a bad reading and sends it alone to the failure queue, with its index in the record', async () => {
    expect(await storeHandler()(packed())).toEqual({ batchItemFailures: [] });
    expect([...table.items.values()].map((item) => [item.ThingID, item.Value])).toEqual([
      ['things/a/t', '1'],
      ['things/a/t', '3'],
      ['things/c/t', '4'],
    ]);
    const [body, ...others] = queuedBodies();
    expect(others).toEqual([]);
    expect(body).toMatchObject({ sequenceNumber: sequenceNumberOf(0), indexInRecord: 1, recordId: `${STREAM_ARN}/${SHARD_ID}/${sequenceNumberOf(0)}/1`, reason: { code: 'future-timestamp' }, payloadEncoding: 'utf8' });
    expect(JSON.parse(body!.payload)).toEqual(reading('things/b', '9999-12-31T00:00:00Z', { t: 2 }));
    expect(summary()).toMatchObject({ records: 2, readings: 4, readingsStored: 3, rejected: 1, rejectedExamples: [expect.objectContaining({ indexInRecord: 1 })] });
  });

  it('queues the bad reading once when its record comes back (a retry, a redelivery)', async () => {
    const store = storeHandler();
    await store(packed());
    await store(packed());
    await store({ Records: packed().Records.slice(0, 1) });
    expect(queuedBodies()).toHaveLength(1);
    expect(table.items.size).toBe(3);
  });

  it('resumes from the whole record when a reading in its middle could not be stored, and leaves its bad readings for that delivery', async () => {
    dynamoMock.on(BatchWriteCommand).callsFake((input) => table.batchWrite(input, (item) => item.Value === '3'));
    const response = await storeHandler()(packed());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(0) }] });
    // The bad reading (index 1) comes before the unstored one (index 2), but its record comes again whole.
    expect(queuedBodies()).toEqual([]);
    dynamoMock.on(BatchWriteCommand).callsFake((input) => table.batchWrite(input));
    expect(await storeHandler()(packed())).toEqual({ batchItemFailures: [] });
    expect(queuedBodies().map((body) => body.indexInRecord)).toEqual([1]);
  });
});

describe('numbers beyond what a double holds', () => {
  it('are written with every digit (a NumberValue), none refused by the SDK', async () => {
    const event = kinesisEvent([
      reading('big', at(0), { energy: 10000000000000000, counter: '10000000000000001', tiny: '-1e-130', wide: '9.9999999999999999999999999999999999999e125' }),
    ]);
    expect(await storeHandler()(event)).toEqual({ batchItemFailures: [] });
    expect([...table.items.values()].map((item) => item.Value)).toEqual(['10000000000000000', '10000000000000001', '-1e-130', '9.9999999999999999999999999999999999999e+125']);
  });
});

describe('the series catalogue', () => {
  it('updates each series once per batch with its newest reading, only if newer', async () => {
    const event = kinesisEvent([
      reading('a', at(5), { t: 1, h: 2 }),
      reading('a', at(9), { t: 3 }),
      reading('b', at(1), { t: 4 }),
      reading('a', at(7), { t: 5 }),
    ]);
    await storeHandler()(event);

    const updates = catalogueUpdates();
    expect(updates.map((update) => [update.Key, update.ExpressionAttributeValues])).toEqual([
      [{ ThingID: 'a/t' }, { ':timestamp': micros(9), ':value': NumberValue.from('3'), ':horizon': micros(300) }],
      [{ ThingID: 'a/h' }, { ':timestamp': micros(5), ':value': NumberValue.from('2'), ':horizon': micros(300) }],
      [{ ThingID: 'b/t' }, { ':timestamp': micros(1), ':value': NumberValue.from('4'), ':horizon': micros(300) }],
    ]);
    for (const update of updates) {
      expect(update).toMatchObject({
        TableName: SERIES,
        // A newer reading opens a minute again: the no-data check's mark that the last one was written goes.
        UpdateExpression: 'SET #timestamp = :timestamp, #value = :value REMOVE #closed',
        // The horizon (now + the future tolerance) lets a catalogue pinned by an old future-dated reading move on.
        ConditionExpression: 'attribute_not_exists(#timestamp) OR #timestamp < :timestamp OR #timestamp > :horizon',
        ExpressionAttributeNames: { '#timestamp': 'LatestTimestamp', '#value': 'LatestValue', '#closed': 'OpenMinuteClosed' },
      });
    }
  });

  it('counts a series the catalogue already has newer as normal', async () => {
    dynamoMock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(storeHandler()(kinesisEvent(readings(4, 2)))).resolves.toEqual({ batchItemFailures: [] });
    expect(catalogueUpdates()).toHaveLength(2);
    expect(summary()).toMatchObject({ catalogueUpdated: 0, catalogueAlreadyNewer: 2, catalogueFailed: 0 });
  });

  it('retries a throttled update, and hands back the record of a series it could not update', async () => {
    // thing-0 is throttled for good, thing-1 once.
    let thing1Throttled = false;
    dynamoMock.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
      if (input.Key?.ThingID === 'thing-0/temperature') throw throttled();
      if (!thing1Throttled) {
        thing1Throttled = true;
        throw throttled();
      }
      return {};
    });
    // Newest thing-0 reading is record 4; newest thing-1 reading is record 5.
    const response = await storeHandler()(kinesisEvent(readings(6, 2)));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumberOf(4) }] });
    expect(table.items.size).toBe(6);
    expect(catalogueUpdates().filter((update) => update.Key?.ThingID === 'thing-0/temperature')).toHaveLength(DEFAULT_RETRY_POLICY.maxAttempts);
    expect(summary()).toMatchObject({ readingsStored: 6, catalogueUpdated: 1, catalogueFailed: 1, catalogueRetries: DEFAULT_RETRY_POLICY.maxAttempts });
  });

  it('only records series whose items were stored', async () => {
    dynamoMock.on(BatchWriteCommand).callsFake((input) => table.batchWrite(input, (item) => item.ThingID.startsWith('thing-1/')));
    await storeHandler()(kinesisEvent(readings(4, 2)));
    expect(catalogueUpdates().map((update) => update.Key?.ThingID)).toEqual(['thing-0/temperature']);
  });

  it('is left alone when SERIES_TABLE is not set', async () => {
    await storeHandler({}, { seriesTable: undefined })(kinesisEvent(readings(4, 2)));
    expect(table.items.size).toBe(4);
    expect(catalogueUpdates()).toHaveLength(0);
  });
});

describe('the exported handler', () => {
  it('reads its settings on first use and names every missing one', async () => {
    const saved = { ...process.env };
    delete process.env.THINGS_TABLE;
    delete process.env.FAILURE_QUEUE_URL;
    try {
      const failure = handler(kinesisEvent(readings(1)));
      await expect(failure).rejects.toBeInstanceOf(SettingsError);
      await expect(failure).rejects.toThrow('THINGS_TABLE is missing; FAILURE_QUEUE_URL is missing');
    } finally {
      process.env = saved;
    }
    expect(dynamoMock.calls()).toHaveLength(0);
  });
});
