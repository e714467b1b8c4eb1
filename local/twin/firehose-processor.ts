/**
 * Firehose data transformation with Lambda, as the local delivery stream runs it.
 * https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
 *
 * - The event: `invocationId`, `deliveryStreamArn`, `sourceKinesisStreamArn`, `region` and
 *   `records` (`recordId`, `approximateArrivalTimestamp` in epoch ms, base64 `data`, and
 *   for a Kinesis source `kinesisRecordMetadata`). Records are split over invocations so
 *   that no request passes Lambda's 6 MB synchronous payload limit
 *   (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
 * - An invocation that fails (the function throws, times out, answers more than 6 MB) is
 *   retried `NumberOfRetries` times; then every record of it is unsuccessfully processed.
 *   https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html
 * - An answer is read record by record against the status model
 *   (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html):
 *   `Ok` delivers the base64 `data`, `Dropped` delivers nothing, `ProcessingFailed` fails
 *   the record; a record whose id is missing from the answer (or returned twice), or whose
 *   entry does not follow the model, fails too, with the error codes AWS logs for these
 *   (https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-logs.html).
 *   An answer is not retried: the function would give it again. Ids the batch never held
 *   are ignored; `metadata` (for dynamic partitioning, not emulated) is ignored.
 * - A failed record becomes an error document in the documented format (`errorDocument`),
 *   written under the error prefix with `!{firehose:error-output-type}` = `processing-failed`.
 */
import { randomUUID } from 'node:crypto';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { LAMBDA_SYNC_PAYLOAD_LIMIT, type LocalFunction } from '../lambda-runtime';

/**
 * The Lambda processor's parameters and Firehose's defaults for them.
 * https://docs.aws.amazon.com/firehose/latest/APIReference/API_ProcessorParameter.html
 */
export interface LambdaProcessorSettings {
  /** `LambdaArn`. */
  readonly functionArn: string;
  /** `NumberOfRetries`: invocations after the first that fails. */
  readonly numberOfRetries: number;
  /** `BufferSizeInMBs`, in bytes of source data. */
  readonly bufferBytes: number;
  /** `BufferIntervalInSeconds`. */
  readonly bufferSeconds: number;
}

export const LAMBDA_PROCESSOR_DEFAULTS = { numberOfRetries: 3, bufferSizeMiB: 1, bufferIntervalSeconds: 60 } as const;
/** `BufferSizeInMBs` is 0.2 to 3, `BufferIntervalInSeconds` 0 to 900 (data-transformation.html). */
export const LAMBDA_PROCESSOR_LIMITS = { bufferSizeMiB: { min: 0.2, max: 3 }, bufferIntervalSeconds: { min: 0, max: 900 } } as const;

/** A stream record as the transformation sees it. */
export interface SourceRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly arrival: Date;
  readonly data: Uint8Array;
}

export type Transformed<R extends SourceRecord> =
  | { readonly record: R; readonly result: 'Ok'; readonly data: Uint8Array }
  | { readonly record: R; readonly result: 'Dropped' }
  | { readonly record: R; readonly result: 'ProcessingFailed'; readonly failure: Failure };

export interface Failure {
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly attemptsMade: number;
  readonly attemptEndingTimestamp: number;
}

export interface TransformContext {
  readonly fn: LocalFunction;
  readonly settings: LambdaProcessorSettings;
  readonly deliveryStreamArn: string;
  readonly sourceKinesisStreamArn: string;
  readonly region: string;
  /** Told of each failed invocation. */
  readonly log: (line: string) => void;
}

/** AWS's messages for answers that break the status model (monitoring-with-cloudwatch-logs.html). */
const ANSWER_ERRORS = {
  missing: { errorCode: 'Lambda.MissingRecordId', errorMessage: 'One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids.' },
  duplicated: { errorCode: 'Lambda.DuplicatedRecordId', errorMessage: 'Multiple records were returned with the same record Id. Ensure that the Lambda function returns a unique record Id for each record.' },
  format: { errorCode: 'Lambda.JsonProcessingException', errorMessage: 'There was an error parsing returned records from the Lambda function. Ensure that the returned records follow the status model required by Firehose.' },
  // Not in AWS's table of codes: the code error documents carry for a ProcessingFailed record.
  processingFailed: { errorCode: 'Lambda.ProcessingFailedStatus', errorMessage: 'ProcessingFailed status set for record' },
} as const;

type EventRecord = FirehoseTransformationEvent['records'][number];

function eventRecord(record: SourceRecord, recordId: string): EventRecord {
  const arrival = record.arrival.getTime();
  return {
    recordId,
    approximateArrivalTimestamp: arrival,
    data: Buffer.from(record.data).toString('base64'),
    kinesisRecordMetadata: { shardId: record.shardId, partitionKey: record.partitionKey, approximateArrivalTimestamp: arrival, sequenceNumber: record.sequenceNumber, subsequenceNumber: '0' },
  };
}

/** Transforms `records` with the function, in as many invocations as the payload limit needs. */
export async function transformRecords<R extends SourceRecord>(records: readonly R[], context: TransformContext): Promise<Transformed<R>[]> {
  const results: Transformed<R>[] = [];
  const envelope = Buffer.byteLength(JSON.stringify({ ...eventShell(context), records: [] }));
  let batch: { record: R; entry: EventRecord }[] = [];
  let bytes = envelope;
  for (const record of records) {
    // Sequence numbers are unique in a stream; the subsequence keeps the id AWS-shaped.
    const entry = eventRecord(record, `${record.sequenceNumber}000000`);
    const size = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (batch.length > 0 && bytes + size > LAMBDA_SYNC_PAYLOAD_LIMIT) {
      results.push(...(await invokeBatch(batch, context)));
      batch = [];
      bytes = envelope;
    }
    batch.push({ record, entry });
    bytes += size;
  }
  if (batch.length > 0) results.push(...(await invokeBatch(batch, context)));
  return results;
}

function eventShell(context: TransformContext): Omit<FirehoseTransformationEvent, 'records'> {
  return { invocationId: randomUUID(), deliveryStreamArn: context.deliveryStreamArn, sourceKinesisStreamArn: context.sourceKinesisStreamArn, region: context.region };
}

async function invokeBatch<R extends SourceRecord>(batch: readonly { record: R; entry: EventRecord }[], context: TransformContext): Promise<Transformed<R>[]> {
  const event: FirehoseTransformationEvent = { ...eventShell(context), records: batch.map(({ entry }) => entry) };
  const attempts = context.settings.numberOfRetries + 1;
  let last = { errorType: '', errorMessage: '' };
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const outcome = await context.fn.invoke(event);
    if (outcome.ok) return readAnswer(batch, outcome.response, attempt);
    last = outcome;
    context.log(`${context.fn.name} failed on attempt ${attempt} of ${attempts} for ${batch.length} record(s): ${outcome.errorType}: ${outcome.errorMessage}`);
  }
  const failure: Failure = { errorCode: 'Lambda.FunctionError', errorMessage: `${last.errorType}: ${last.errorMessage}`, attemptsMade: attempts, attemptEndingTimestamp: Date.now() };
  return batch.map(({ record }) => ({ record, result: 'ProcessingFailed', failure }));
}

function readAnswer<R extends SourceRecord>(batch: readonly { record: R; entry: EventRecord }[], response: unknown, attemptsMade: number): Transformed<R>[] {
  const answered = new Map<string, unknown>();
  const duplicated = new Set<string>();
  const entries = (response as { records?: unknown } | null)?.records;
  for (const entry of Array.isArray(entries) ? entries : []) {
    const id = (entry as { recordId?: unknown } | null)?.recordId;
    if (typeof id !== 'string') continue;
    if (answered.has(id)) duplicated.add(id);
    answered.set(id, entry);
  }
  const attemptEndingTimestamp = Date.now();
  const fail = (record: R, error: { errorCode: string; errorMessage: string }): Transformed<R> => ({ record, result: 'ProcessingFailed', failure: { ...error, attemptsMade, attemptEndingTimestamp } });
  return batch.map(({ record, entry }): Transformed<R> => {
    if (duplicated.has(entry.recordId)) return fail(record, ANSWER_ERRORS.duplicated);
    const answer = answered.get(entry.recordId) as { result?: unknown; data?: unknown } | undefined;
    if (answer === undefined) return fail(record, ANSWER_ERRORS.missing);
    if (answer.result === 'Dropped') return { record, result: 'Dropped' };
    if (answer.result === 'ProcessingFailed') return fail(record, ANSWER_ERRORS.processingFailed);
    if (answer.result !== 'Ok' || !isBase64(answer.data)) return fail(record, ANSWER_ERRORS.format);
    return { record, result: 'Ok', data: Buffer.from(answer.data, 'base64') };
  });
}

/** Standard base64 with padding; a single character class, so megabytes of it cost one linear scan. */
const isBase64 = (data: unknown): data is string => typeof data === 'string' && data.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(data);

/**
 * The document Firehose writes for a record that failed transformation, as documented
 * (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html):
 * times in epoch milliseconds, `rawData` the record as it came from the stream, in base64.
 */
export function errorDocument(record: SourceRecord, failure: Failure, lambdaArn: string): string {
  return JSON.stringify({
    attemptsMade: failure.attemptsMade,
    arrivalTimestamp: record.arrival.getTime(),
    errorCode: failure.errorCode,
    errorMessage: failure.errorMessage,
    attemptEndingTimestamp: failure.attemptEndingTimestamp,
    rawData: Buffer.from(record.data).toString('base64'),
    lambdaArn,
  });
}
