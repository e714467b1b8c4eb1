import { isUtf8 } from 'node:buffer';
import type { KinesisStreamRecord } from 'aws-lambda';
import { checkNotAhead, parseReadingJson, type ParseResult, type Reading, type ReadingError } from './reading';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Text from bytes that must be UTF-8; undefined when they are not, never a U+FFFD in their
 * place (Node's decoder substitutes one silently). A byte-order mark stays as the text it is.
 */
export function decodeUtf8(bytes: Buffer): string | undefined {
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}

export interface RecordChecks {
  /**
   * How far a reading's time may be ahead of its arrival on the stream
   * (`approximateArrivalTimestamp`). @default no limit
   */
  readonly maxAheadMs?: number;
}

const NOT_BASE64_ERROR: ReadingError = { code: 'bad-encoding', message: 'the record data is not valid base64, so it cannot be decoded' };
const NOT_UTF8_ERROR: ReadingError = { code: 'bad-encoding', message: 'the record data is not UTF-8 text, so it cannot be a JSON reading: the producer must send UTF-8 JSON' };
const NOT_BASE64: ParseResult<never> = { ok: false, error: NOT_BASE64_ERROR };
const NOT_UTF8: ParseResult<never> = { ok: false, error: NOT_UTF8_ERROR };

/** Why base64 record data cannot be read as text (not base64, or not UTF-8), or undefined when it can. */
export function encodingProblem(data: string): ReadingError | undefined {
  if (!BASE64.test(data)) return NOT_BASE64_ERROR;
  return decodeUtf8(Buffer.from(data, 'base64')) === undefined ? NOT_UTF8_ERROR : undefined;
}

/** Decodes, parses and checks the reading carried by one Kinesis record. Never throws. */
export function readingOfRecord(record: KinesisStreamRecord, checks: RecordChecks = {}): ParseResult<Reading> {
  const data = record.kinesis.data;
  const text = decodeUtf8(Buffer.from(data, 'base64'));
  const parsed = text === undefined ? undefined : parseReadingJson(text);
  // Lambda always delivers base64: checked only for records that did not decode or parse, to name the reason.
  if ((parsed === undefined || (!parsed.ok && parsed.error.code === 'not-json')) && !BASE64.test(data)) return NOT_BASE64;
  if (parsed === undefined) return NOT_UTF8;
  if (!parsed.ok || checks.maxAheadMs === undefined) return parsed;
  return checkNotAhead(parsed.value, record.kinesis.approximateArrivalTimestamp * 1000, checks.maxAheadMs);
}

/** The bytes a record carries: decoded from base64, or the data as delivered when it is not base64. */
export function recordBytes(record: KinesisStreamRecord): Buffer {
  const data = record.kinesis.data;
  return BASE64.test(data) ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8');
}
