import type { KinesisStreamEvent } from 'aws-lambda';
import { CheckpointStore } from '../../local/checkpoints';
import { startEventSourceMapping, type EventSourceMapping, type EventSourceSettings } from '../../local/event-source-mapping';
import type { InvocationOutcome, LocalFunction } from '../../local/lambda-runtime';
import type { FailureRecord } from '../../local/mapping-payloads';
import { startKinesis, waitFor, type KinesisHarness } from './harness';

/** A function whose answer to each batch the test decides; it remembers every batch it saw. */
class ScriptedFunction implements LocalFunction {
  readonly name = 'scripted';
  readonly arn = 'arn:aws:lambda:eu-west-2:000000000000:function:scripted';
  readonly batches: string[][] = [];
  readonly payloads: string[][] = [];

  constructor(private readonly answer: (sequenceNumbers: string[], payloads: string[], call: number) => InvocationOutcome) {}

  async invoke(event: unknown): Promise<InvocationOutcome> {
    const records = (event as KinesisStreamEvent).Records;
    const sequenceNumbers = records.map((record) => record.kinesis.sequenceNumber);
    const payloads = records.map((record) => Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
    this.batches.push(sequenceNumbers);
    this.payloads.push(payloads);
    return this.answer(sequenceNumbers, payloads, this.batches.length);
  }

  /** Every payload delivered, in delivery order. */
  delivered(): string[] {
    return this.payloads.flat();
  }
}

const success: InvocationOutcome = { ok: true, response: { batchItemFailures: [] } };
const crash = (message: string): InvocationOutcome => ({ ok: false, errorType: 'Error', errorMessage: message });

/** Fast settings for tests: no batching wait, short retry delays come from the mapping options. */
const settings = (overrides: Partial<EventSourceSettings> = {}): EventSourceSettings => ({
  batchSize: 100,
  maximumBatchingWindowSeconds: 0,
  maximumRetryAttempts: 5,
  maximumRecordAgeSeconds: 86_400,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
  startingPosition: 'TRIM_HORIZON',
  ...overrides,
});
const ROLE_ARN = 'arn:aws:iam::000000000000:role/scripted-role';

describe('local event source mapping', () => {
  let kinesis: KinesisHarness;
  let mapping: EventSourceMapping | undefined;
  const failures: FailureRecord[] = [];

  beforeEach(async () => {
    kinesis = await startKinesis('mapping-test', 1);
    failures.length = 0;
  });

  afterEach(async () => {
    await mapping?.stop();
    mapping = undefined;
    await kinesis.stop();
  });

  const start = (fn: LocalFunction, overrides: Partial<EventSourceSettings> = {}, checkpoints = new CheckpointStore()) =>
    (mapping = startEventSourceMapping({
      kinesis: kinesis.client,
      streamName: kinesis.streamName,
      streamArn: kinesis.stream.arn,
      shardIds: kinesis.stream.shardIds,
      region: 'eu-west-2',
      fn,
      roleArn: ROLE_ARN,
      settings: settings(overrides),
      checkpoints,
      sendFailure: async (failure) => {
        failures.push(failure);
      },
      log: () => undefined,
      pollIntervalMs: 20,
      retryBaseDelayMs: 1,
    }));

  const records = (count: number, prefix = 'r') => Array.from({ length: count }, (_, index) => ({ key: 'thing', data: `${prefix}${index}` }));

  it('delivers Lambda-shaped events in stream order and checkpoints after the batch', async () => {
    const sequenceNumbers = await kinesis.put(records(5));
    const fn = new ScriptedFunction(() => success);
    const checkpoints = new CheckpointStore();
    start(fn, {}, checkpoints);

    await waitFor('all records', () => (fn.delivered().length === 5 ? true : undefined));
    expect(fn.delivered()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    await waitFor('checkpoint', () => checkpoints.get(CheckpointStore.key('scripted', kinesis.stream.shardIds[0] as string)));
    expect(checkpoints.get(CheckpointStore.key('scripted', kinesis.stream.shardIds[0] as string))).toBe(sequenceNumbers[4]);
    expect(mapping?.stats()).toMatchObject({ recordsDone: 5, recordsDiscarded: 0, retries: 0 });
  });

  it('builds the event records as Lambda does', async () => {
    const [sequence] = await kinesis.put([{ key: 'things/harrow/001', data: '{"id":"things/harrow/001"}' }]);
    let event: KinesisStreamEvent | undefined;
    const fn: LocalFunction = {
      name: 'capture',
      arn: 'arn:aws:lambda:eu-west-2:000000000000:function:capture',
      invoke: async (received) => {
        event = received as KinesisStreamEvent;
        return success;
      },
    };
    start(fn);
    const record = (await waitFor('an event', () => event)).Records[0];
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventName: 'aws:kinesis:record',
      eventID: `${kinesis.stream.shardIds[0]}:${sequence}`,
      eventSourceARN: kinesis.stream.arn,
      awsRegion: 'eu-west-2',
      invokeIdentityArn: ROLE_ARN,
      kinesis: { partitionKey: 'things/harrow/001', sequenceNumber: sequence, data: Buffer.from('{"id":"things/harrow/001"}').toString('base64') },
    });
    expect(typeof record?.kinesis.approximateArrivalTimestamp).toBe('number');
  });

  it('resumes from the reported item failure: earlier records are not delivered again', async () => {
    const sequenceNumbers = await kinesis.put(records(6));
    // First call: report the fourth record; afterwards succeed.
    const fn = new ScriptedFunction((_batch, _payloads, call) => (call === 1 ? { ok: true, response: { batchItemFailures: [{ itemIdentifier: sequenceNumbers[3] }] } } : success));
    start(fn);

    await waitFor('the retry', () => (fn.batches.length >= 2 ? true : undefined));
    expect(fn.payloads[0]).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect(fn.payloads[1]).toEqual(['r3', 'r4', 'r5']);
    await waitFor('stats', () => (mapping?.stats().recordsDone === 6 ? true : undefined));
    expect(mapping?.stats().retries).toBe(1);
  });

  it('resumes from the lowest of several reported failures', async () => {
    const sequenceNumbers = await kinesis.put(records(5));
    const fn = new ScriptedFunction((_batch, _payloads, call) =>
      call === 1 ? { ok: true, response: { batchItemFailures: [{ itemIdentifier: sequenceNumbers[4] }, { itemIdentifier: sequenceNumbers[2] }] } } : success,
    );
    start(fn);
    await waitFor('the retry', () => (fn.batches.length >= 2 ? true : undefined));
    expect(fn.payloads[1]).toEqual(['r2', 'r3', 'r4']);
  });

  it('treats an identifier that is not in the batch as a failure of the whole batch', async () => {
    await kinesis.put(records(2));
    const fn = new ScriptedFunction((_batch, _payloads, call) => (call === 1 ? { ok: true, response: { batchItemFailures: [{ itemIdentifier: '' }] } } : success));
    start(fn);
    await waitFor('the retries', () => (mapping?.stats().recordsDone === 2 ? true : undefined));
    // Bisected after the failed whole batch: each half on its own.
    expect(fn.payloads).toEqual([['r0', 'r1'], ['r0'], ['r1']]);
  });

  it('bisects a failing batch until the poison record is alone, and sends only it to the failure destination', async () => {
    await kinesis.put(records(8));
    const fn = new ScriptedFunction((_batch, payloads) => (payloads.includes('r5') ? crash('cannot handle r5') : success));
    start(fn, { maximumRetryAttempts: 10 });

    await waitFor('the failure record', () => (failures.length === 1 && mapping?.stats().recordsDone === 7 ? true : undefined));
    const failure = failures[0] as FailureRecord;
    expect(failure.KinesisBatchInfo.batchSize).toBe(1);
    expect(failure.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(failure.responseContext.functionError).toBe('Unhandled');
    // Every good record was delivered successfully exactly once.
    const succeeded = fn.payloads.filter((batch) => !batch.includes('r5')).flat();
    expect(succeeded.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r6', 'r7']);
    // The halves went in order: 8 → 4+4 → (2+2) → (1+1).
    expect(fn.payloads.slice(0, 3)).toEqual([
      ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'],
      ['r0', 'r1', 'r2', 'r3'],
      ['r4', 'r5', 'r6', 'r7'],
    ]);
  });

  it('gives up after the maximum retries and describes the batch to the failure destination', async () => {
    const sequenceNumbers = await kinesis.put(records(3));
    const fn = new ScriptedFunction(() => crash('always'));
    start(fn, { maximumRetryAttempts: 2, bisectBatchOnFunctionError: false });

    await waitFor('the failure record', () => failures[0]);
    expect(fn.batches).toHaveLength(3); // the first attempt and two retries
    expect(failures[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3, functionArn: fn.arn },
      KinesisBatchInfo: { startSequenceNumber: sequenceNumbers[0], endSequenceNumber: sequenceNumbers[2], batchSize: 3, streamArn: kinesis.stream.arn },
    });
    await waitFor('the discard count', () => (mapping?.stats().recordsDiscarded === 3 ? true : undefined));
  });

  it('ignores the answer without ReportBatchItemFailures: only an error fails a batch (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html)', async () => {
    const sequenceNumbers = await kinesis.put(records(3));
    const fn = new ScriptedFunction(() => ({ ok: true, response: { batchItemFailures: [{ itemIdentifier: sequenceNumbers[1] }] } }));
    start(fn, { reportBatchItemFailures: false });
    await waitFor('the batch to be done', () => (mapping?.stats().recordsDone === 3 ? true : undefined));
    expect(fn.batches).toHaveLength(1);
    expect(mapping?.stats().retries).toBe(0);
  });

  it('does not send records older than the maximum record age', async () => {
    await kinesis.put(records(2));
    // Age 0: once the clock has moved past the arrival time, every record is too old.
    const arrival = Date.now();
    await waitFor('the clock to move', () => (Date.now() > arrival + 5 ? true : undefined));
    const fn = new ScriptedFunction(() => success);
    start(fn, { maximumRecordAgeSeconds: 0 });
    await waitFor('the failure record', () => failures[0]);
    expect(failures[0]?.requestContext.condition).toBe('RecordAgeExceeded');
    expect(failures[0]?.KinesisBatchInfo.batchSize).toBe(2);
    expect(fn.batches).toHaveLength(0);
  });

  it('splits the stream into batches of at most the batch size', async () => {
    await kinesis.put(records(25));
    const fn = new ScriptedFunction(() => success);
    start(fn, { batchSize: 10 });
    await waitFor('all records', () => (fn.delivered().length === 25 ? true : undefined));
    expect(fn.payloads.every((batch) => batch.length <= 10)).toBe(true);
    expect(fn.delivered()).toEqual(records(25).map((record) => record.data));
  });

  it('waits for the batching window to gather records put one after another', async () => {
    const fn = new ScriptedFunction(() => success);
    start(fn, { maximumBatchingWindowSeconds: 60 });
    await kinesis.put(records(3, 'a'));
    await kinesis.put(records(3, 'b'));
    // Within the window nothing is delivered until the batch is full.
    await kinesis.put(records(94, 'c'));
    await waitFor('the full batch', () => (fn.batches.length >= 1 ? true : undefined));
    expect(fn.payloads[0]).toHaveLength(100);
  });

  it('delivers what the shard holds as one batch at once when the batching window is ended early (for tools that send in rounds), and waits again after', async () => {
    const fn = new ScriptedFunction(() => success);
    start(fn, { maximumBatchingWindowSeconds: 300 });
    await kinesis.put(records(3, 'a'));
    await kinesis.put(records(4, 'b'));
    mapping?.endBatchingWindows();
    // Well within the 300 s window.
    await waitFor('the batch', () => (fn.batches.length >= 1 ? true : undefined), 10_000);
    expect(fn.payloads).toEqual([[...records(3, 'a'), ...records(4, 'b')].map((record) => record.data)]);
    await kinesis.put(records(2, 'c'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fn.batches).toHaveLength(1);
    mapping?.endBatchingWindows();
    await waitFor('the next batch', () => (fn.batches.length >= 2 ? true : undefined), 10_000);
    expect(fn.payloads[1]).toEqual(['c0', 'c1']);
  });

  it('resumes after its checkpoint when started again: nothing skipped, nothing repeated', async () => {
    await kinesis.put(records(4, 'first'));
    const checkpoints = new CheckpointStore();
    const before = new ScriptedFunction(() => success);
    start(before, {}, checkpoints);
    await waitFor('the first records', () => (before.delivered().length === 4 ? true : undefined));
    await mapping?.stop();

    await kinesis.put(records(3, 'second'));
    const after = new ScriptedFunction(() => success);
    start(after, {}, checkpoints);
    await waitFor('the new records', () => (after.delivered().length === 3 ? true : undefined));
    expect(after.delivered()).toEqual(['second0', 'second1', 'second2']);
  });

  it('leaves a batch that is still failing in the stream when stopped, for the next start', async () => {
    await kinesis.put(records(2));
    const checkpoints = new CheckpointStore();
    const failing = new ScriptedFunction(() => crash('store unavailable'));
    start(failing, { maximumRetryAttempts: -1, bisectBatchOnFunctionError: false }, checkpoints);
    await waitFor('a few attempts', () => (failing.batches.length >= 2 ? true : undefined));
    await mapping?.stop();
    expect(failures).toHaveLength(0);

    const healthy = new ScriptedFunction(() => success);
    start(healthy, {}, checkpoints);
    await waitFor('the records again', () => (healthy.delivered().length === 2 ? true : undefined));
    expect(healthy.delivered()).toEqual(['r0', 'r1']);
  });
});
