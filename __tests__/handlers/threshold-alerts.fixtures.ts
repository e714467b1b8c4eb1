/** Shared by the threshold-alerts unit and integration tests: events, settings, a quiet logger. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { ThresholdAlertsSettings } from '../../handlers/threshold-alerts';
import { DEFAULT_NAMES } from '../../handlers/contract';
import { ARRIVAL_SECONDS } from './kinesis-event-fixture';

export const SETTINGS: ThresholdAlertsSettings = {
  thresholdsTable: DEFAULT_NAMES.thresholdsTable,
  alertsTable: DEFAULT_NAMES.alertsTable,
  alertTopicArn: 'arn:aws:sns:eu-west-2:123456789012:iot-alerts',
  alertCooldownSeconds: 900,
  futureToleranceSeconds: 300,
};

export const THING = 'things/harrow/001';
export const SERIES = `${THING}/temperature`;

/** A reading of `THING` at `time` (ISO, UTC) with the given metrics. */
export const reading = (time: string, metrics: Record<string, number | string>, id = THING): Record<string, unknown> => ({ id, timestamp: time, ...metrics });

let sequence = 0;

/**
 * One Kinesis record per payload: objects are sent as JSON, strings as they are (base64-encoded).
 * They arrive on the stream at `arrivalSeconds` (epoch), by default after every reading the tests send.
 */
export function kinesisEvent(payloads: readonly (Record<string, unknown> | string)[], arrivalSeconds = ARRIVAL_SECONDS): KinesisStreamEvent {
  const Records: KinesisStreamRecord[] = payloads.map((payload) => {
    sequence += 1;
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: typeof payload === 'string' ? 'raw' : String(payload.id),
        sequenceNumber: `4960000000000000000${String(sequence).padStart(12, '0')}`,
        data: Buffer.from(text, 'utf8').toString('base64'),
        approximateArrivalTimestamp: arrivalSeconds,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${sequence}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/alerts',
      awsRegion: 'eu-west-2',
      eventSourceARN: 'arn:aws:kinesis:eu-west-2:123456789012:stream/iot-readings',
    };
  });
  return { Records };
}

/** A logger that prints nothing; spy on its methods to read what the handler logged. */
export const silentLogger = (): Logger => new Logger({ serviceName: 'threshold-alerts-test', logLevel: 'SILENT' });

/** The fields of the handler's per-batch summary log line (the last one when several batches ran). */
export function lastSummary(info: jest.SpyInstance): Record<string, unknown> {
  const calls = info.mock.calls.filter(([message]) => message === 'threshold alerts batch done');
  const last = calls[calls.length - 1];
  if (last === undefined) throw new Error('the handler logged no batch summary');
  return last[1] as Record<string, unknown>;
}
