/** Builds Kinesis stream events as Lambda delivers them, for handler tests. */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/iot-readings';
export const SHARD_ID = 'shardId-000000000000';

const DELIVERED = Symbol('delivered as is');
type Delivered = { readonly [DELIVERED]: string };

/** Record data exactly as given (e.g. not base64 at all), bypassing the encoding. */
export const deliveredAsIs = (data: string): Delivered => ({ [DELIVERED]: data });

/** A record payload: an object is JSON encoded, text taken as is; both then UTF-8 and base64 encoded. */
export type Payload = object | string | Delivered;

const isDelivered = (payload: Payload): payload is Delivered => typeof payload === 'object' && DELIVERED in payload;

/** Sequence numbers of one shard grow; fixed width keeps them comparable as strings too. */
export const sequenceNumberOf = (position: number): string => `4959033827149025660855969253836157109592157598913658${String(position).padStart(4, '0')}`;

/**
 * When records arrive on the stream (epoch seconds), unless a test says otherwise: later
 * than every reading the tests send, so none counts as dated ahead of its arrival.
 */
export const ARRIVAL_SECONDS = Date.UTC(2030, 0, 1) / 1000;

export function kinesisRecord(payload: Payload, position: number, partitionKey = 'things/harrow/001', arrivalSeconds = ARRIVAL_SECONDS + position / 1000): KinesisStreamRecord {
  const data = isDelivered(payload)
    ? payload[DELIVERED]
    : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8').toString('base64');
  const sequenceNumber = sequenceNumberOf(position);
  return {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey, sequenceNumber, data, approximateArrivalTimestamp: arrivalSeconds },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${SHARD_ID}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/store-readings',
    awsRegion: 'us-east-1',
    eventSourceARN: STREAM_ARN,
  };
}

export function kinesisEvent(payloads: readonly Payload[], firstPosition = 0): KinesisStreamEvent {
  return { Records: payloads.map((payload, index) => kinesisRecord(payload, firstPosition + index)) };
}

/** One reading as sensors send it (the object under `Data`). */
export function reading(id: string, timestamp: string | number, metrics: Record<string, number | string>): Record<string, unknown> {
  return { id, timestamp, ...metrics };
}
