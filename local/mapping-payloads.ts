/**
 * What a Kinesis event source mapping sends: the event Lambda invokes the function with,
 * the description of records given up on for the on-failure destination, and how it reads
 * a `ReportBatchItemFailures` answer. The poller (event-source-mapping.ts) decides when.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
 */
import { randomUUID } from 'node:crypto';
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** What Lambda sends to a Kinesis mapping's on-failure destination: a description of the records, not the records. */
export interface FailureRecord {
  readonly requestContext: { requestId: string; functionArn: string; condition: FailureCondition; approximateInvokeCount: number };
  readonly responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

/** Where a batch's records come from and who reads them, as the payloads name them. */
export interface RecordSource {
  readonly shardId: string;
  readonly streamArn: string;
  readonly region: string;
  readonly functionArn: string;
  /** The function's execution role: the event's `invokeIdentityArn`. */
  readonly roleArn: string;
}

/** The event Lambda invokes the function with for `records`. */
export function kinesisEvent(records: readonly KinesisRecord[], source: RecordSource): KinesisStreamEvent {
  return { Records: records.map((record) => eventRecord(record, source)) };
}

function eventRecord(record: KinesisRecord, source: RecordSource): KinesisStreamRecord {
  const sequenceNumber = record.SequenceNumber ?? '';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.roleArn,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  };
}

/** The description of `records` (one batch, in stream order) given up on, for the on-failure destination. */
export function failureRecord(
  records: readonly KinesisRecord[],
  source: RecordSource,
  outcome: { readonly condition: FailureCondition; readonly invokeCount: number; readonly functionError?: string },
): FailureRecord {
  const first = records[0] as KinesisRecord;
  const last = records[records.length - 1] as KinesisRecord;
  return {
    requestContext: { requestId: randomUUID(), functionArn: source.functionArn, condition: outcome.condition, approximateInvokeCount: outcome.invokeCount },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(outcome.functionError === undefined ? {} : { functionError: outcome.functionError }) },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KinesisBatchInfo: {
      shardId: source.shardId,
      startSequenceNumber: first.SequenceNumber ?? '',
      endSequenceNumber: last.SequenceNumber ?? '',
      approximateArrivalOfFirstRecord: (first.ApproximateArrivalTimestamp ?? new Date()).toISOString(),
      approximateArrivalOfLastRecord: (last.ApproximateArrivalTimestamp ?? new Date()).toISOString(),
      batchSize: records.length,
      streamArn: source.streamArn,
    },
  };
}

/**
 * Where a `ReportBatchItemFailures` answer says to resume: `undefined` when the batch
 * succeeded (no answer, no list, an empty list), the index of the lowest reported
 * record, or `'error'` when an identifier is missing, empty or not in the batch.
 */
export function firstFailure(response: unknown, records: readonly Pick<KinesisRecord, 'SequenceNumber'>[]): number | 'error' | undefined {
  if (response === null || typeof response !== 'object') return undefined;
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return undefined;
  if (!Array.isArray(failures)) return 'error';
  if (failures.length === 0) return undefined;
  let lowest: number | undefined;
  for (const failure of failures) {
    const identifier = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const index = typeof identifier === 'string' && identifier !== '' ? records.findIndex((record) => record.SequenceNumber === identifier) : -1;
    if (index < 0) return 'error';
    lowest = lowest === undefined ? index : Math.min(lowest, index);
  }
  return lowest;
}
