/**
 * Firehose data transformation with Lambda in the local delivery stream, pinned to the
 * documentation: the event, the status model of the answer, retries of failed
 * invocations, the 6 MB payload limit, the processor's own buffering, error documents
 * under the error prefix, and no record lost or written twice across a stop.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FirehoseTransformationEvent, FirehoseTransformationResultRecord } from 'aws-lambda';
import { gunzipSync } from 'fflate';
import { CheckpointStore } from '../../../local/checkpoints';
import type { InvocationOutcome, LocalFunction } from '../../../local/lambda-runtime';
import { startDeliveryStream, type DeliveryStream, type DeliveryStreamOptions } from '../../../local/twin/firehose';
import { checkPrefixes } from '../../../local/twin/firehose-prefix';
import { errorDocument, transformRecords, type LambdaProcessorSettings, type SourceRecord, type TransformContext } from '../../../local/twin/firehose-processor';
import { StreamPositions } from '../../../local/twin/stream-positions';
import { deliveryStreamOptions, startKinesis, waitFor, type KinesisHarness } from '../harness';

const FUNCTION_ARN = 'arn:aws:lambda:eu-west-2:000000000000:function:transform';
const DELIVERY_ARN = 'arn:aws:firehose:eu-west-2:000000000000:deliverystream/archive';
const STREAM_ARN = 'arn:aws:kinesis:eu-west-2:000000000000:stream/source';
const SIX_MB = 6 * 1024 * 1024;

type Answer = (event: FirehoseTransformationEvent, call: number) => InvocationOutcome;

/** A function answering as `answer` says, keeping every event it was given. */
function fakeFunction(answer: Answer): LocalFunction & { events: FirehoseTransformationEvent[] } {
  const events: FirehoseTransformationEvent[] = [];
  return {
    name: 'transform',
    arn: FUNCTION_ARN,
    events,
    invoke: async (event) => {
      events.push(event as FirehoseTransformationEvent);
      return answer(event as FirehoseTransformationEvent, events.length);
    },
  };
}

/** Answers each record with what `each` makes of its text. */
const perRecord =
  (each: (text: string, recordId: string) => Partial<FirehoseTransformationResultRecord> | undefined): Answer =>
  (event) => ({
    ok: true,
    response: {
      records: event.records.flatMap((record) => {
        const result = each(Buffer.from(record.data, 'base64').toString(), record.recordId);
        return result === undefined ? [] : [{ recordId: record.recordId, result: 'Ok', ...result }];
      }),
    },
  });
const upperCase = perRecord((text) => ({ data: Buffer.from(text.toUpperCase()).toString('base64') }));

const settings = (overrides: Partial<LambdaProcessorSettings> = {}): LambdaProcessorSettings => ({ functionArn: FUNCTION_ARN, numberOfRetries: 3, bufferBytes: 1024 * 1024, bufferSeconds: 60, ...overrides });

const context = (fn: LocalFunction, overrides: Partial<LambdaProcessorSettings> = {}, log: (line: string) => void = () => undefined): TransformContext => ({
  fn,
  settings: settings(overrides),
  deliveryStreamArn: DELIVERY_ARN,
  sourceKinesisStreamArn: STREAM_ARN,
  region: 'eu-west-2',
  log,
});

const ARRIVAL = new Date(Date.UTC(2026, 2, 5, 7, 8, 9, 123));
const source = (text: string, index = 0): SourceRecord => ({
  shardId: `shardId-00000000000${index % 2}`,
  sequenceNumber: `4968071738702973051782021974788019866393627751364952${String(index).padStart(4, '0')}`,
  partitionKey: `thing-${index}`,
  arrival: ARRIVAL,
  data: Buffer.from(text),
});

describe('the event Firehose invokes the processor with (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html)', () => {
  it('carries the invocation id, the ARNs, the region, and each record with its id, arrival time in epoch ms, base64 data and Kinesis metadata', async () => {
    const fn = fakeFunction(upperCase);
    await transformRecords([source('a', 0), source('b', 1)], context(fn));
    expect(fn.events).toHaveLength(1);
    const [event] = fn.events;
    expect(event).toEqual({
      invocationId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      deliveryStreamArn: DELIVERY_ARN,
      sourceKinesisStreamArn: STREAM_ARN,
      region: 'eu-west-2',
      records: [0, 1].map((index) => ({
        recordId: expect.any(String),
        approximateArrivalTimestamp: ARRIVAL.getTime(),
        data: Buffer.from(index === 0 ? 'a' : 'b').toString('base64'),
        kinesisRecordMetadata: {
          shardId: `shardId-00000000000${index}`,
          partitionKey: `thing-${index}`,
          approximateArrivalTimestamp: ARRIVAL.getTime(),
          sequenceNumber: source('', index).sequenceNumber,
          subsequenceNumber: '0',
        },
      })),
    });
    expect(new Set(event?.records.map((record) => record.recordId)).size).toBe(2);
  });

  it("splits records over invocations so that no request passes Lambda's 6 MB synchronous limit (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)", async () => {
    const fn = fakeFunction(upperCase);
    // Five records of 2,000,000 bytes are 2,666,668 each in base64: two fit in 6 MB, three do not.
    const records = Array.from({ length: 5 }, (_, index) => source('x'.repeat(2_000_000), index));
    const results = await transformRecords(records, context(fn));
    expect(fn.events.map((event) => event.records.length)).toEqual([2, 2, 1]);
    for (const event of fn.events) expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(SIX_MB);
    expect(results.map((result) => result.result)).toEqual(Array(5).fill('Ok'));
    expect(results.map((result) => result.record)).toEqual(records);
  });
});

describe("the processor's answer, read against the status model (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html)", () => {
  it('delivers Ok records as the base64 data returned, drops Dropped ones, fails ProcessingFailed ones', async () => {
    const fn = fakeFunction(
      perRecord((text) => {
        if (text === 'drop') return { result: 'Dropped' };
        if (text === 'fail') return { result: 'ProcessingFailed', data: Buffer.from(text).toString('base64') };
        return { data: Buffer.from(`<${text}>`).toString('base64') };
      }),
    );
    const results = await transformRecords([source('keep', 0), source('drop', 1), source('fail', 2)], context(fn));
    expect(results.map((result) => ({ result: result.result, data: result.result === 'Ok' ? Buffer.from(result.data).toString() : undefined }))).toEqual([
      { result: 'Ok', data: '<keep>' },
      { result: 'Dropped', data: undefined },
      { result: 'ProcessingFailed', data: undefined },
    ]);
    expect(results[2]).toMatchObject({ failure: { errorCode: 'Lambda.ProcessingFailedStatus', attemptsMade: 1 } });
  });

  it('fails a record missing from the answer or returned twice, ignores ids it never sent, and does not retry an answer (https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-logs.html)', async () => {
    const fn = fakeFunction((event) => {
      // The second record goes unanswered, the third is answered twice.
      const [first, , third] = event.records;
      const ok = (recordId: string) => ({ recordId, result: 'Ok', data: Buffer.from('ok').toString('base64') });
      return { ok: true, response: { records: [ok(String(first?.recordId)), ok(String(third?.recordId)), ok(String(third?.recordId)), ok('not-a-record-of-this-batch')] } };
    });
    const results = await transformRecords([source('a', 0), source('b', 1), source('c', 2)], context(fn));
    expect(results.map((result) => (result.result === 'ProcessingFailed' ? result.failure.errorCode : result.result))).toEqual(['Ok', 'Lambda.MissingRecordId', 'Lambda.DuplicatedRecordId']);
    expect(fn.events).toHaveLength(1);
  });

  it('fails records whose entry does not follow the model: an unknown result, Ok without base64 data, or no records list at all', async () => {
    const answers: unknown[] = [{ result: 'Maybe', data: 'b2s=' }, { result: 'Ok' }, { result: 'Ok', data: 'not base64!' }, { result: 'Ok', data: 'b2s' }];
    const fn = fakeFunction((event) => ({ ok: true, response: { records: event.records.map((record, index) => ({ recordId: record.recordId, ...(answers[index] as object) })) } }));
    const results = await transformRecords(answers.map((_, index) => source(String(index), index)), context(fn));
    expect(results.map((result) => result.result === 'ProcessingFailed' && result.failure.errorCode)).toEqual(Array(4).fill('Lambda.JsonProcessingException'));

    const nothing = fakeFunction(() => ({ ok: true, response: { message: 'done' } }));
    const unanswered = await transformRecords([source('a')], context(nothing));
    expect(unanswered[0]).toMatchObject({ result: 'ProcessingFailed', failure: { errorCode: 'Lambda.MissingRecordId', attemptsMade: 1 } });
  });
});

describe('failed invocations (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html)', () => {
  it('retries an invocation that fails NumberOfRetries times, then fails every record of it with the attempts made', async () => {
    const logs: string[] = [];
    const fn = fakeFunction(() => ({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 60 seconds' }));
    const before = Date.now();
    const results = await transformRecords([source('a', 0), source('b', 1)], context(fn, { numberOfRetries: 2 }, (line) => logs.push(line)));
    expect(fn.events).toHaveLength(3);
    // The same event each time: the same invocation, retried.
    expect(new Set(fn.events.map((event) => event.invocationId)).size).toBe(1);
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result).toMatchObject({ result: 'ProcessingFailed', failure: { errorCode: 'Lambda.FunctionError', errorMessage: 'Sandbox.Timedout: Task timed out after 60 seconds', attemptsMade: 3 } });
      expect(result.result === 'ProcessingFailed' && result.failure.attemptEndingTimestamp).toBeGreaterThanOrEqual(before);
    }
    expect(logs).toHaveLength(3);
    expect(logs[2]).toMatch(/attempt 3 of 3 for 2 record\(s\): Sandbox.Timedout/);
  });

  it('takes the answer of a retry that succeeds', async () => {
    const fn = fakeFunction((event, call) => (call === 1 ? { ok: false, errorType: 'Error', errorMessage: 'throttled' } : upperCase(event, call)));
    const results = await transformRecords([source('a')], context(fn, { numberOfRetries: 1 }));
    expect(results.map((result) => result.result === 'Ok' && Buffer.from(result.data).toString())).toEqual(['A']);
  });

  it('with NumberOfRetries 0, invokes once', async () => {
    const fn = fakeFunction(() => ({ ok: false, errorType: 'Error', errorMessage: 'no' }));
    const [result] = await transformRecords([source('a')], context(fn, { numberOfRetries: 0 }));
    expect(fn.events).toHaveLength(1);
    expect(result).toMatchObject({ failure: { attemptsMade: 1 } });
  });

  it('writes an error document in the documented format: attemptsMade, arrivalTimestamp, errorCode, errorMessage, attemptEndingTimestamp, rawData, lambdaArn', () => {
    const document = JSON.parse(errorDocument(source('raw bytes'), { errorCode: 'Lambda.FunctionError', errorMessage: 'Error: no', attemptsMade: 4, attemptEndingTimestamp: 1_700_000_000_000 }, FUNCTION_ARN)) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual(['attemptsMade', 'arrivalTimestamp', 'errorCode', 'errorMessage', 'attemptEndingTimestamp', 'rawData', 'lambdaArn']);
    expect(document).toEqual({
      attemptsMade: 4,
      arrivalTimestamp: ARRIVAL.getTime(),
      errorCode: 'Lambda.FunctionError',
      errorMessage: 'Error: no',
      attemptEndingTimestamp: 1_700_000_000_000,
      rawData: Buffer.from('raw bytes').toString('base64'),
      lambdaArn: FUNCTION_ARN,
    });
  });
});

describe('stream positions when records finish out of order', () => {
  it('moves past a record only once it and every record read before it in its shard are finished', () => {
    const positions = new StreamPositions<{ shardId: string; sequenceNumber: string }>();
    const [a1, a2, a3, b1] = [
      { shardId: 'a', sequenceNumber: '1' },
      { shardId: 'a', sequenceNumber: '2' },
      { shardId: 'a', sequenceNumber: '3' },
      { shardId: 'b', sequenceNumber: '1' },
    ];
    for (const record of [a1, a2, a3, b1]) positions.read(record);
    expect([...positions.finish([a2, a3])]).toEqual([]);
    expect([...positions.finish([b1])]).toEqual([['b', '1']]);
    expect([...positions.finish([a1])]).toEqual([['a', '3']]);
  });
});

describe('a delivery stream with a Lambda processor (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html)', () => {
  let kinesis: KinesisHarness;
  let dir: string;
  let stream: DeliveryStream | undefined;

  beforeEach(async () => {
    kinesis = await startKinesis('processor-test', 2);
    dir = mkdtempSync(path.join(tmpdir(), 'firehose-processor-'));
  });
  afterEach(async () => {
    await stream?.stop();
    stream = undefined;
    await kinesis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (fn: LocalFunction, processor: Partial<LambdaProcessorSettings> = {}, overrides: Partial<DeliveryStreamOptions> = {}, checkpoints = new CheckpointStore()) =>
    (stream = startDeliveryStream({
      ...deliveryStreamOptions(kinesis, path.join(dir, 'bucket'), checkPrefixes('readings/!{timestamp:yyyy}/', 'errors/!{firehose:error-output-type}/!{timestamp:yyyy}/'), checkpoints),
      processor: { fn, settings: settings(processor), deliveryStreamArn: DELIVERY_ARN, sourceKinesisStreamArn: STREAM_ARN, region: 'eu-west-2' },
      ...overrides,
    }));

  /** Lines of every object under `folder` of the bucket. */
  const lines = (folder: string): string[] => {
    const root = path.join(dir, 'bucket', folder);
    const found: string[] = [];
    const walk = (at: string) => {
      for (const name of readdirSync(at)) {
        const full = path.join(at, name);
        if (statSync(full).isDirectory()) walk(full);
        else found.push(...new TextDecoder().decode(gunzipSync(readFileSync(full))).split('\n').filter((line) => line !== ''));
      }
    };
    try {
      walk(root);
    } catch {
      return [];
    }
    return found.sort();
  };
  /** Started and reading: a first record put now is read from LATEST. */
  const ready = () => stream?.reading;

  it("invokes the processor once its own size hint is reached, well before its interval, then buffers what it returns by the destination's hints", async () => {
    const fn = fakeFunction(upperCase);
    // The ten records hold 90 bytes: the hint is reached by the last of them, whichever shard's poller reads it.
    start(fn, { bufferBytes: 90, bufferSeconds: 900 }, { bufferSeconds: 1 });
    await ready();
    await kinesis.put(Array.from({ length: 10 }, (_, index) => ({ key: `k${index}`, data: `reading-${index}` })));
    await waitFor('the object', () => (lines('readings').length === 10 ? true : undefined), 10_000);
    expect(fn.events.length).toBeGreaterThanOrEqual(1);
    expect(lines('readings')).toEqual(Array.from({ length: 10 }, (_, index) => `READING-${index}`).sort());
  });

  it("waits for the processor's interval when its size hint is not reached", async () => {
    const fn = fakeFunction(upperCase);
    start(fn, { bufferSeconds: 1 }, { bufferSeconds: 0 });
    await ready();
    const put = Date.now();
    await kinesis.put([{ key: 'k', data: 'late' }]);
    await waitFor('the invocation', () => (fn.events.length > 0 ? true : undefined), 10_000);
    expect(Date.now() - put).toBeGreaterThanOrEqual(900);
    await waitFor('the object', () => (lines('readings').length === 1 ? true : undefined), 10_000);
    expect(lines('readings')).toEqual(['LATE']);
  });

  it('writes failed records as error documents under the error prefix with processing-failed, drops Dropped ones, and counts each', async () => {
    const fn = fakeFunction(perRecord((text) => (text.startsWith('bad') ? { result: 'ProcessingFailed' } : text.startsWith('skip') ? { result: 'Dropped' } : { data: Buffer.from(text).toString('base64') })));
    start(fn, { bufferSeconds: 0 }, { bufferSeconds: 0 });
    await ready();
    await kinesis.put([
      { key: 'a', data: 'good-1' },
      { key: 'b', data: 'bad-1' },
      { key: 'c', data: 'skip-1' },
      { key: 'd', data: 'good-2' },
    ]);
    await waitFor('every record settled', () => (stream?.stats().buffered === 0 && stream.stats().records === 2 ? true : undefined), 10_000);
    expect(lines('readings')).toEqual(['good-1', 'good-2']);
    const errors = lines(`errors/processing-failed/${new Date().getUTCFullYear()}`).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(errors).toEqual([
      {
        attemptsMade: 1,
        arrivalTimestamp: expect.any(Number),
        errorCode: 'Lambda.ProcessingFailedStatus',
        errorMessage: 'ProcessingFailed status set for record',
        attemptEndingTimestamp: expect.any(Number),
        rawData: Buffer.from('bad-1').toString('base64'),
        lambdaArn: FUNCTION_ARN,
      },
    ]);
    expect(stream?.stats()).toEqual({ records: 2, objects: expect.any(Number), dropped: 1, failed: 1, buffered: 0 });
  });

  it('keeps the whole batch under processing-failed when every attempt fails: nothing is lost', async () => {
    const fn = fakeFunction(() => ({ ok: false, errorType: 'Runtime.ExitError', errorMessage: 'crashed' }));
    start(fn, { bufferSeconds: 0, numberOfRetries: 3 }, { bufferSeconds: 0 });
    await ready();
    await kinesis.put([
      { key: 'a', data: 'one' },
      { key: 'a', data: 'two' },
    ]);
    await waitFor('the error documents', () => (lines('errors').length === 2 ? true : undefined), 10_000);
    const errors = lines('errors').map((line) => JSON.parse(line) as { rawData: string; attemptsMade: number; errorCode: string });
    expect(errors.map((error) => Buffer.from(error.rawData, 'base64').toString()).sort()).toEqual(['one', 'two']);
    expect(errors.every((error) => error.attemptsMade === 4 && error.errorCode === 'Lambda.FunctionError')).toBe(true);
    expect(lines('readings')).toEqual([]);
  });

  it('does not record a position past a record still buffered, even when later records were dropped', async () => {
    const checkpoints = new CheckpointStore();
    // One shard's records: the first kept (buffered for 300 s), the second dropped at once.
    const fn = fakeFunction(perRecord((text) => (text === 'drop' ? { result: 'Dropped' } : { data: Buffer.from(text).toString('base64') })));
    start(fn, { bufferSeconds: 0 }, { bufferSeconds: 300 }, checkpoints);
    await ready();
    await kinesis.put([
      { key: 'same', data: 'keep' },
      { key: 'same', data: 'drop' },
    ]);
    await waitFor('the drop', () => (stream?.stats().dropped === 1 ? true : undefined), 10_000);
    expect(stream?.stats().buffered).toBe(1);
    const shardKeys = kinesis.stream.shardIds.map((shardId) => `firehose:archive/${shardId}`);
    expect(shardKeys.map((key) => checkpoints.get(key))).toEqual([undefined, undefined]);
  });

  it('transforms and writes what it buffers when stopped, and resumes after it at the next start: nothing lost, nothing twice', async () => {
    const checkpoints = new CheckpointStore(path.join(dir, 'checkpoints.json'));
    const fn = fakeFunction(upperCase);
    start(fn, {}, {}, checkpoints);
    await ready();
    await kinesis.put(Array.from({ length: 6 }, (_, index) => ({ key: `k${index}`, data: `first-${index}` })));
    await waitFor('the records read', () => (stream?.stats().buffered === 6 ? true : undefined), 10_000);
    expect(fn.events).toEqual([]);
    await stream?.stop();
    expect(lines('readings')).toHaveLength(6);

    await kinesis.put(Array.from({ length: 4 }, (_, index) => ({ key: `k${index}`, data: `second-${index}` })));
    start(fn, { bufferSeconds: 0 }, { bufferSeconds: 0 }, checkpoints);
    await waitFor('the second batch', () => (lines('readings').length === 10 ? true : undefined), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lines('readings')).toEqual([...Array.from({ length: 6 }, (_, index) => `FIRST-${index}`), ...Array.from({ length: 4 }, (_, index) => `SECOND-${index}`)].sort());
  });
});
