/**
 * The reading contract's parser: what the consumers and tools make of a reading. The
 * fields' limits and patterns (reading-patterns.ts) are the ones the ingest JSON Schema
 * (reading-schema.ts: the API Gateway model, the local validators) is built from, so
 * whatever the schema accepts, the parser accepts, and the store handler can write to
 * DynamoDB exactly as sent; whatever one refuses, the others refuse too (a property-based
 * test holds the three to it, __tests__/handlers/storable.test.ts).
 *
 * - Numbers are kept as exact decimals (decimal.ts), never rounded.
 * - Timestamps are normalised to fixed-width UTC (reading-timestamp.ts).
 * - Text: well-formed Unicode only, so every string has a UTF-8 form.
 */
import { Decimal, describeDecimalProblem, type DecimalProblem } from './decimal';
import { memberNumberTexts } from './json-text';
import { describeValue, readingFailure, type ParseResult } from './reading-error';
import { splitSeriesId } from './reading-item';
import { ID_FIELD, METRIC_NAME, NUMERIC_SYNTAX, READING_LIMITS, THING_ID, TIMESTAMP_FIELD } from './reading-patterns';
import { normaliseTimestamp } from './reading-timestamp';

export interface Reading {
  readonly id: string;
  /** Fixed-width ISO 8601 UTC with microseconds, e.g. `2016-09-09T13:33:07.381019Z`. */
  readonly timestamp: string;
  /** Metric name → exact value, in the order the sender wrote them. */
  readonly metrics: ReadonlyMap<string, Decimal>;
}

/**
 * Parses the JSON text of one stream record. Never throws. Metric values written as JSON
 * numbers keep the digits of the text, not those of the double JSON.parse reads.
 */
export function parseReadingJson(text: string, parsed?: { readonly value: unknown }): ParseResult<Reading> {
  let value: unknown;
  try {
    // The caller may have parsed the text already (an element of a packed record).
    value = parsed === undefined ? JSON.parse(text) : parsed.value;
  } catch (error) {
    return readingFailure('not-json', `the record is not valid JSON (${(error as Error).message})`);
  }
  let numbers: Map<string, string> | undefined;
  return parseReading(value, (name) => (numbers ??= memberNumberTexts(text)).get(name));
}

/**
 * Validates and normalises one reading (the object under `Data`). Never throws.
 * `numberText` gives the exact text of a metric written as a JSON number, when known;
 * otherwise the double is taken as it prints.
 */
export function parseReading(value: unknown, numberText?: (metric: string) => string | undefined): ParseResult<Reading> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return readingFailure('not-object', `a reading must be a JSON object like {"id": "...", "timestamp": "...", "temperature": 19.5}, got ${describeValue(value)}`);
  }
  const data = value as Record<string, unknown>;

  const id = data[ID_FIELD];
  if (id === undefined) return readingFailure('missing-field', 'the reading has no "id": add the thing id, e.g. "things/harrow/001"', ID_FIELD);
  if (typeof id !== 'string' || id.length > READING_LIMITS.maxIdLength || !THING_ID.test(id)) {
    return readingFailure(
      'bad-id',
      `"id" must be a non-blank string of at most ${READING_LIMITS.maxIdLength} characters, without control characters, line separators or characters beyond the Basic Multilingual Plane (such as emoji), nor U+FFFD (left where bytes were not UTF-8), got ${describeValue(id)}`,
      ID_FIELD,
    );
  }

  const rawTimestamp = data[TIMESTAMP_FIELD];
  if (rawTimestamp === undefined) {
    return readingFailure('missing-field', 'the reading has no "timestamp": add the time of the measurement, e.g. "2016-09-09T13:33:07Z"', TIMESTAMP_FIELD);
  }
  const timestamp = normaliseTimestamp(rawTimestamp);
  if (!timestamp.ok) return timestamp;

  const metrics = new Map<string, Decimal>();
  for (const name in data) {
    if (name === ID_FIELD || name === TIMESTAMP_FIELD || !Object.hasOwn(data, name)) continue;
    const raw = data[name];
    if (!isMetricName(name)) {
      return readingFailure(
        'bad-metric-name',
        `metric name ${describeValue(name)} is not allowed: use 1-64 letters, digits, "_", "." or "-", starting with a letter or "_"`,
        name,
      );
    }
    const metric = parseMetricValue(name, raw, numberText);
    if (!metric.ok) return metric;
    metrics.set(name, metric.value);
  }
  if (metrics.size === 0) {
    return readingFailure('no-metrics', 'the reading has no metric: add at least one numeric property besides "id" and "timestamp", e.g. "temperature": 19.5');
  }
  if (metrics.size > READING_LIMITS.maxMetrics) {
    return readingFailure('too-many-metrics', `the reading has ${metrics.size} metrics; at most ${READING_LIMITS.maxMetrics} are allowed, split it into several readings`);
  }
  return { ok: true, value: { id, timestamp: timestamp.value, metrics } };
}

/** Metric names repeat across readings; remembering the valid ones skips the pattern. */
const knownMetricNames = new Set<string>();
const MAX_KNOWN_METRIC_NAMES = 10_000;

function isMetricName(name: string): boolean {
  if (knownMetricNames.has(name)) return true;
  if (!METRIC_NAME.test(name)) return false;
  if (knownMetricNames.size < MAX_KNOWN_METRIC_NAMES) knownMetricNames.add(name);
  return true;
}

function parseMetricValue(name: string, raw: unknown, numberText: ((metric: string) => string | undefined) | undefined): ParseResult<Decimal> {
  let value: Decimal | undefined;
  if (typeof raw === 'number') {
    // JSON.parse reads 1e999 as Infinity: a magnitude past any limit.
    if (!Number.isFinite(raw)) return readingFailure('bad-metric-value', `metric "${name}" is out of range: ${describeDecimalProblem('too-large')}`, name);
    const text = numberText?.(name);
    value = text === undefined ? Decimal.fromNumber(raw) : Decimal.parse(text);
  } else if (typeof raw === 'string') {
    value = numericStringValue(raw);
  }
  if (value === undefined) {
    return readingFailure('bad-metric-value', `metric "${name}" must be a number or a numeric string such as "19.57" or "1.5e3", got ${describeValue(raw)}`, name);
  }
  const problem = value.storageProblem;
  if (problem !== undefined) return readingFailure('bad-metric-value', `metric "${name}" is out of range: ${describeDecimalProblem(problem)}`, name);
  return { ok: true, value };
}

/** Plain positional text (most values) is in the grammar; other text is checked against it first. */
const numericStringValue = (text: string): Decimal | undefined => Decimal.plain(text) ?? (NUMERIC_SYNTAX.test(text) ? Decimal.parse(text) : undefined);

/**
 * A number written as text, as readings (numeric strings) and tools (thresholds) take it:
 * the numeric-string grammar (no spaces, no hex, a normalised mantissa in scientific form)
 * and a value DynamoDB holds exactly.
 */
export function parseNumericString(text: string): { readonly ok: true; readonly value: Decimal } | { readonly ok: false; readonly problem: DecimalProblem | 'syntax' } {
  const value = numericStringValue(text);
  if (value === undefined) return { ok: false, problem: 'syntax' };
  const problem = value.storageProblem;
  return problem === undefined ? { ok: true, value } : { ok: false, problem };
}

/**
 * Why `series` (`<thing id>/<metric>`) is not one a reading could ever create, or
 * undefined when it is: the same rules as the id and metric names of a reading.
 */
export function seriesIdProblem(series: string): string | undefined {
  const { thingId, metric } = splitSeriesId(series);
  if (metric === '' || !isMetricName(metric)) {
    return `series ${describeValue(series)} must be "<thing id>/<metric>", e.g. things/harrow/001/temperature, with a metric name of 1-64 letters, digits, "_", "." or "-", starting with a letter or "_"`;
  }
  if (thingId.length > READING_LIMITS.maxIdLength || !THING_ID.test(thingId)) {
    return `the thing id of series ${describeValue(series)} is not one readings can have: at most ${READING_LIMITS.maxIdLength} characters, not blank, without control characters, line separators or characters beyond the Basic Multilingual Plane`;
  }
  return undefined;
}

/** The readings of an ingest body, single or batch, as the objects that become stream records. */
export function ingestReadings(body: unknown): ParseResult<Record<string, unknown>[]> {
  const shape = 'the body must be {"Data": {...}} or {"Data": [{...}, ...]} with nothing else beside "Data"';
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('Data' in body)) return readingFailure('bad-body', shape, 'Data');
  const extra = Object.keys(body).find((key) => key !== 'Data');
  if (extra !== undefined) return readingFailure('bad-body', `unexpected property ${describeValue(extra)}: ${shape}`, extra);
  const data = (body as { Data: unknown }).Data;
  const readings = Array.isArray(data) ? data : [data];
  if (readings.length === 0 || readings.length > READING_LIMITS.maxBatchReadings) {
    return readingFailure('bad-body', `a batch must hold 1 to ${READING_LIMITS.maxBatchReadings} readings, got ${readings.length}`, 'Data');
  }
  for (const [index, reading] of readings.entries()) {
    const parsed = parseReading(reading);
    if (!parsed.ok) {
      const where = Array.isArray(data) ? `Data[${index}]` : 'Data';
      return { ok: false, error: { ...parsed.error, message: `${where}: ${parsed.error.message}` } };
    }
  }
  return { ok: true, value: readings as Record<string, unknown>[] };
}
