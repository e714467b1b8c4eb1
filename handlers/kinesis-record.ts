import type { KinesisStreamRecord } from 'aws-lambda';
import { parseReadingJson, type ParseResult, type Reading, type ReadingError } from './reading';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(bytes: Uint8Array): boolean {
  try {
    STRICT_UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Decodes and parses the reading carried by one Kinesis record. Never throws. */
export function readingOfRecord(record: KinesisStreamRecord): ParseResult<Reading> & { readonly raw: string } {
  const data = record.kinesis.data;
  const raw = Buffer.from(data, 'base64').toString('utf8');
  const parsed = parseReadingJson(raw);
  if (parsed.ok) return { ok: true, value: parsed.value, raw };
  // Node's decoder skips bad characters instead of failing, so check the encoding only
  // when the text did not parse, to give the clearer reason (and keep the check off the hot path).
  const encoding = parsed.error.code === 'not-json' ? encodingProblem(data) : undefined;
  if (encoding !== undefined) return { ok: false, error: encoding, raw: BASE64.test(data) ? raw : data };
  return { ok: false, error: parsed.error, raw };
}

/** Why base64 record data cannot be read as text (not base64, or not UTF-8), or undefined when it can. */
export function encodingProblem(data: string): ReadingError | undefined {
  if (!BASE64.test(data)) return { code: 'bad-encoding', message: 'the record data is not valid base64, so it cannot be decoded' };
  if (!isUtf8(Buffer.from(data, 'base64'))) {
    return { code: 'bad-encoding', message: 'the record data is not UTF-8 text, so it cannot be a JSON reading: the producer must send UTF-8 JSON' };
  }
  return undefined;
}

/** The bytes a record carries: decoded from base64, or the data as delivered when it is not base64. */
export function recordBytes(record: KinesisStreamRecord): Buffer {
  const data = record.kinesis.data;
  return BASE64.test(data) ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8');
}
