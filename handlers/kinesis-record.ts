import type { KinesisStreamRecord } from 'aws-lambda';
import { parseReadingJson, type ParseResult, type Reading } from './reading';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes and parses the reading carried by one Kinesis record. Never throws. */
export function readingOfRecord(record: KinesisStreamRecord): ParseResult<Reading> & { readonly raw: string } {
  const data = record.kinesis.data;
  const raw = Buffer.from(data, 'base64').toString('utf8');
  const parsed = parseReadingJson(raw);
  if (parsed.ok) return { ok: true, value: parsed.value, raw };
  // Node's decoder skips bad characters instead of failing, so check the encoding only
  // when the text did not parse, to give the clearer reason (and keep the check off the hot path).
  if (parsed.error.code === 'not-json' && !BASE64.test(data)) {
    return { ok: false, error: { code: 'bad-encoding', message: 'the record data is not valid base64, so it cannot be decoded' }, raw: data };
  }
  return { ok: false, error: parsed.error, raw };
}
