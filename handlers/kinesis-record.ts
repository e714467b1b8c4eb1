import type { KinesisStreamRecord } from 'aws-lambda';
import { parseReadingJson, type ParseResult, type Reading, type ReadingError } from './reading';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes and parses the reading carried by one Kinesis record. Never throws. */
export function readingOfRecord(record: KinesisStreamRecord): ParseResult<Reading> & { readonly raw: string } {
  const data = record.kinesis.data;
  if (!BASE64.test(data)) {
    const error: ReadingError = { code: 'bad-encoding', message: 'the record data is not valid base64, so it cannot be decoded' };
    return { ok: false, error, raw: data };
  }
  const raw = Buffer.from(data, 'base64').toString('utf8');
  return { ...parseReadingJson(raw), raw };
}
