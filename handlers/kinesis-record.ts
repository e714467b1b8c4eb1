import { isUtf8 } from 'node:buffer';
import type { KinesisStreamRecord } from 'aws-lambda';
import { arrayElementTexts } from './json-text';
import { parseReadingJson, type Reading } from './reading';
import { type ParseResult, type ReadingError } from './reading-error';
import { checkNotAhead } from './reading-timestamp';

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

/**
 * One reading of a stream record, seen as a record of its own. A record's data is one
 * reading (a JSON object: single PUTs, other producers) or a JSON array of readings (the
 * ingest API packs a batch into few records, stacks/ingest-templates.ts). The consumers
 * handle each reading of a packed record as they handle a one-reading record; the
 * Kinesis fields are the whole record's, so resuming from a reading delivers its whole
 * record again (which is idempotent).
 */
export interface StreamReading extends KinesisStreamRecord {
  /** Where the reading sits in a packed record, its JSON text and that text parsed; absent for a record that is not an array. */
  readonly packed?: { readonly index: number; readonly count: number; readonly text: string; readonly value: unknown };
}

/**
 * The text of each record unpackRecords left whole (null: not UTF-8), so readingOfRecord
 * does not decode it a second time; the record itself is handed on untouched.
 */
const wholeRecordTexts = new WeakMap<KinesisStreamRecord, string | null>();

/**
 * The readings of a batch of records, in stream order. A record that is not a non-empty
 * JSON array of values stays whole, with its decoded text, for readingOfRecord to read or
 * to name what is wrong.
 */
export function unpackRecords(records: readonly KinesisStreamRecord[]): StreamReading[] {
  const readings: StreamReading[] = [];
  for (const record of records) {
    const text = decodeUtf8(Buffer.from(record.kinesis.data, 'base64'));
    const elements = text === undefined ? undefined : packedElements(text);
    if (elements === undefined || !elements.ok) {
      wholeRecordTexts.set(record, text ?? null);
      readings.push(record);
    } else elements.texts.forEach((element, index) => readings.push({ ...record, packed: { index, count: elements.texts.length, text: element, value: elements.values[index] } }));
  }
  return readings;
}

/**
 * The elements of a packed record's text (a JSON array of readings), each as its own text
 * (so a reading keeps every digit of its numbers) and parsed; undefined for text that is not
 * an array. Shared by the consumers and the archive, so both read the same records as packed.
 */
export function packedElements(text: string): { ok: true; texts: string[]; values: unknown[] } | { ok: false; reason: string } | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  let values: unknown[];
  try {
    values = JSON.parse(text) as unknown[];
  } catch (error) {
    return { ok: false, reason: `the record is not valid JSON (${(error as Error).message})` };
  }
  const texts = arrayElementTexts(text) ?? [];
  return texts.length === 0 ? { ok: false, reason: 'the record is an empty array: it holds no reading' } : { ok: true, texts, values };
}

/** The index of the first reading of the record that holds `readings[index]`: where a redelivery starts. */
export const recordStart = (readings: readonly StreamReading[], index: number): number => index - (readings[index]?.packed?.index ?? 0);

/** What tells a reading apart within its record (for failure messages and logs): `/<index>` in a packed record, nothing otherwise. */
export const positionSuffix = (reading: StreamReading): string => (reading.packed === undefined ? '' : `/${reading.packed.index}`);

/** `{indexInRecord}` for a reading of a packed record, `{}` otherwise: spread into failure messages. */
export const indexInRecord = (reading: StreamReading): { indexInRecord?: number } => (reading.packed === undefined ? {} : { indexInRecord: reading.packed.index });

/** Decodes, parses and checks one reading (a record of one, or one of a packed record). Never throws. */
export function readingOfRecord(record: StreamReading, checks: RecordChecks = {}): ParseResult<Reading> {
  if (record.packed !== undefined) {
    const parsed = parseReadingJson(record.packed.text, record.packed);
    return !parsed.ok || checks.maxAheadMs === undefined ? parsed : checkNotAhead(parsed.value, record.kinesis.approximateArrivalTimestamp * 1000, checks.maxAheadMs);
  }
  const data = record.kinesis.data;
  const known = wholeRecordTexts.get(record);
  const text = known === undefined ? decodeUtf8(Buffer.from(data, 'base64')) : (known ?? undefined);
  const parsed = text === undefined ? undefined : parseReadingJson(text);
  // Lambda always delivers base64: checked only for records that did not decode or parse, to name the reason.
  if ((parsed === undefined || (!parsed.ok && parsed.error.code === 'not-json')) && !BASE64.test(data)) return NOT_BASE64;
  if (parsed === undefined) return NOT_UTF8;
  if (!parsed.ok || checks.maxAheadMs === undefined) return parsed;
  return checkNotAhead(parsed.value, record.kinesis.approximateArrivalTimestamp * 1000, checks.maxAheadMs);
}

/** The bytes a reading came as: its own JSON in a packed record, else the record's data decoded from base64 (or as delivered when it is not base64). */
export function recordBytes(record: StreamReading): Buffer {
  if (record.packed !== undefined) return Buffer.from(record.packed.text, 'utf8');
  const data = record.kinesis.data;
  return BASE64.test(data) ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8');
}

/** Orders Kinesis sequence numbers (decimal strings of up to 128 digits). */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
