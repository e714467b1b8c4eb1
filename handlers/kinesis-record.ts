import type { KinesisStreamRecord } from 'aws-lambda';
import { checkNotAhead, parseReadingJson, type ParseResult, type Reading } from './reading';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Refuses bytes that are not UTF-8 instead of replacing them with U+FFFD, and keeps a byte-order mark as the text it is. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Text from bytes that must be UTF-8; undefined when they are not (never a U+FFFD in their place). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

export interface RecordChecks {
  /**
   * How far a reading's time may be ahead of its arrival on the stream
   * (`approximateArrivalTimestamp`). @default no limit
   */
  readonly maxAheadMs?: number;
}

/** Decodes, parses and checks the reading carried by one Kinesis record. Never throws. */
export function readingOfRecord(record: KinesisStreamRecord, checks: RecordChecks = {}): ParseResult<Reading> {
  const data = record.kinesis.data;
  if (!BASE64.test(data)) return { ok: false, error: { code: 'bad-encoding', message: 'the record data is not valid base64, so it cannot be decoded' } };
  const text = decodeUtf8(Buffer.from(data, 'base64'));
  if (text === undefined) {
    return { ok: false, error: { code: 'bad-encoding', message: 'the record data is not UTF-8 text, so it cannot be a JSON reading: the producer must send UTF-8 JSON' } };
  }
  const parsed = parseReadingJson(text);
  if (!parsed.ok || checks.maxAheadMs === undefined) return parsed;
  return checkNotAhead(parsed.value, record.kinesis.approximateArrivalTimestamp * 1000, checks.maxAheadMs);
}

/** The bytes a record carries: decoded from base64, or the data as delivered when it is not base64. */
export function recordBytes(record: KinesisStreamRecord): Buffer {
  const data = record.kinesis.data;
  return BASE64.test(data) ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8');
}
