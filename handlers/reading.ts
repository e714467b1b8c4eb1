/**
 * The reading contract (SPEC §2): one source for the ingest JSON Schema (API Gateway
 * model, local validators) and for the parser the consumers and tools use.
 *
 * Every limit and pattern below is used twice: once to build the draft-04 schema and
 * once by the parser, so the two cannot drift apart. The parser is stricter in one
 * class only, the range after a zone offset: `1970-01-01T00:30:00+01:00` matches the
 * schema's pattern but falls before 1970 in UTC, so the parser rejects it.
 */

export const READING_LIMITS = {
  /** Longest `Data.id`, in characters. */
  maxIdLength: 256,
  /** Most metrics in one reading (each becomes one table item). */
  maxMetrics: 50,
  /** Most readings in one batch body (Kinesis PutRecords takes at most 500). */
  maxBatchReadings: 500,
  /** Largest metric magnitude accepted; DynamoDB numbers stop just below 1e126. */
  maxMagnitude: 1e120,
  /** Smaller non-zero magnitudes are stored as 0 (DynamoDB numbers stop at 1e-130). */
  minMagnitude: 1e-120,
  /** Epoch milliseconds of 9999-12-31T23:59:59.999Z, the last fixed-width instant. */
  maxEpochMillis: 253402300799999,
} as const;

/** Reserved properties of `Data`; every other property is a metric. */
export const ID_FIELD = 'id';
export const TIMESTAMP_FIELD = 'timestamp';

/**
 * A metric name: letters, digits, `_`, `.` and `-`, starting with a letter or `_`.
 * No `/`, so `ThingID = "<id>/<metric>"` always splits back unambiguously.
 */
const METRIC_NAME_SOURCE = `^(?!(?:${ID_FIELD}|${TIMESTAMP_FIELD})$)[A-Za-z_][A-Za-z0-9_.-]{0,63}$`;

/** A decimal number written as a string, e.g. the seed's `"19.57"`; bounded so it always fits DynamoDB. */
const NUMERIC_STRING_SOURCE = '^[+-]?(?:\\d{1,20}(?:\\.\\d{0,20})?|\\.\\d{1,20})(?:[eE][+-]?\\d{1,2})?$';

/**
 * ISO 8601 date-time with `T` or a space (the seed's `2016-09-09 13:33:07.381019`),
 * optional seconds and fraction (up to nanoseconds), optional zone (`Z`, `+01:00`, `+0100`).
 * No zone means UTC.
 */
const TIMESTAMP_SOURCE =
  '^(19[7-9]\\d|[2-9]\\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])[T ]([01]\\d|2[0-3]):([0-5]\\d)' +
  '(?::([0-5]\\d)(?:\\.(\\d{1,9}))?)?(Z|[+-](?:[01]\\d|2[0-3]):?[0-5]\\d)?$';

/**
 * A lookahead that only lets real calendar days through (30-day months, February with
 * Gregorian leap years), so API Gateway refuses `2016-02-30` at the door instead of the
 * consumer sending it to the failure queue. The parser checks the calendar itself, to
 * name the problem ("a day that does not exist") rather than a pattern.
 */
const CALENDAR_DAY_SOURCE =
  '(?=(?:\\d{4}-(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|\\d{4}-(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|\\d{4}-02-(?:0[1-9]|1\\d|2[0-8])' +
  '|(?:\\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)[T ])';

/** The schema's timestamp pattern: the timestamp form, on a real calendar day. */
const SCHEMA_TIMESTAMP_SOURCE = `^${CALENDAR_DAY_SOURCE}${TIMESTAMP_SOURCE.slice(1)}`;

/**
 * A thing id: not blank, and no control characters (C0, DEL, C1), which would corrupt log
 * lines, CSV exports and the dashboard's labels wherever the id is shown.
 */
const ID_SOURCE = '^(?=.*\\S)[^\\u0000-\\u001f\\u007f-\\u009f]+$';

const THING_ID = new RegExp(ID_SOURCE);
const METRIC_NAME = new RegExp(METRIC_NAME_SOURCE);
const NUMERIC_STRING = new RegExp(NUMERIC_STRING_SOURCE);
const TIMESTAMP = new RegExp(TIMESTAMP_SOURCE);

// ---------------------------------------------------------------------------
// JSON Schema (draft-04, as API Gateway models require)
// ---------------------------------------------------------------------------

export type JsonSchema = { [keyword: string]: unknown };

const metricValueSchema: JsonSchema = {
  description: 'A metric value: a number, or a decimal number written as a string.',
  oneOf: [
    { type: 'number', minimum: -READING_LIMITS.maxMagnitude, maximum: READING_LIMITS.maxMagnitude },
    { type: 'string', pattern: NUMERIC_STRING_SOURCE },
  ],
};

/** Schema of one reading: the object under `Data`, and one Kinesis record. */
export const readingSchema: JsonSchema = {
  type: 'object',
  description: 'One reading: a thing id, a timestamp and at least one numeric metric.',
  required: [ID_FIELD, TIMESTAMP_FIELD],
  properties: {
    [ID_FIELD]: { type: 'string', minLength: 1, maxLength: READING_LIMITS.maxIdLength, pattern: ID_SOURCE },
    [TIMESTAMP_FIELD]: {
      description: 'ISO 8601 (no zone means UTC), "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC), or epoch milliseconds.',
      oneOf: [
        { type: 'string', pattern: SCHEMA_TIMESTAMP_SOURCE },
        { type: 'integer', minimum: 0, maximum: READING_LIMITS.maxEpochMillis },
      ],
    },
  },
  patternProperties: { [METRIC_NAME_SOURCE]: metricValueSchema },
  additionalProperties: false,
  minProperties: 3,
  maxProperties: 2 + READING_LIMITS.maxMetrics,
};

function bodySchema(title: string, data: JsonSchema): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title,
    type: 'object',
    required: ['Data'],
    properties: { Data: data },
    additionalProperties: false,
  };
}

const batchDataSchema: JsonSchema = {
  type: 'array',
  minItems: 1,
  maxItems: READING_LIMITS.maxBatchReadings,
  items: readingSchema,
};

/** `{"Data": reading}`: the seed's body, sent with PUT (Kinesis PutRecord). */
export const singleIngestBodySchema = bodySchema('SingleReading', readingSchema);
/** `{"Data": [reading, ...]}`: up to 500 readings (Kinesis PutRecords). */
export const batchIngestBodySchema = bodySchema('ReadingBatch', batchDataSchema);
/** Either body: what a local ingest endpoint accepts on one path. */
export const ingestBodySchema = bodySchema('IngestBody', { oneOf: [readingSchema, batchDataSchema] });

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

export interface Reading {
  readonly id: string;
  /** Fixed-width ISO 8601 UTC with microseconds, e.g. `2016-09-09T13:33:07.381019Z`. */
  readonly timestamp: string;
  /** Metric name → value, in the order the sender wrote them. */
  readonly metrics: ReadonlyMap<string, number>;
}

export type ReadingErrorCode =
  | 'not-json'
  | 'not-object'
  | 'missing-field'
  | 'bad-id'
  | 'bad-timestamp'
  | 'bad-metric-name'
  | 'bad-metric-value'
  | 'no-metrics'
  | 'too-many-metrics'
  | 'bad-body'
  | 'bad-encoding';

export interface ReadingError {
  readonly code: ReadingErrorCode;
  /** The property at fault, when there is one. */
  readonly field?: string;
  /** What is wrong and how to fix it, for a person. */
  readonly message: string;
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ReadingError };

const fail = (code: ReadingErrorCode, message: string, field?: string): ParseResult<never> => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, field, message },
});

const describe = (value: unknown): string => {
  // Containers are named, not printed: a deeply nested value must not overflow the stack.
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** Parses the JSON text of one stream record. Never throws. */
export function parseReadingJson(text: string): ParseResult<Reading> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail('not-json', `the record is not valid JSON (${(error as Error).message})`);
  }
  return parseReading(value);
}

/** Validates and normalises one reading (the object under `Data`). Never throws. */
export function parseReading(value: unknown): ParseResult<Reading> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not-object', `a reading must be a JSON object like {"id": "...", "timestamp": "...", "temperature": 19.5}, got ${describe(value)}`);
  }
  const data = value as Record<string, unknown>;

  const id = data[ID_FIELD];
  if (id === undefined) return fail('missing-field', 'the reading has no "id": add the thing id, e.g. "things/harrow/001"', ID_FIELD);
  // JSON Schema counts characters as code points, which only matters past the UTF-16 length.
  if (typeof id !== 'string' || (id.length > READING_LIMITS.maxIdLength && [...id].length > READING_LIMITS.maxIdLength) || !THING_ID.test(id)) {
    return fail('bad-id', `"id" must be a non-blank string of at most ${READING_LIMITS.maxIdLength} characters without control characters, got ${describe(id)}`, ID_FIELD);
  }

  const rawTimestamp = data[TIMESTAMP_FIELD];
  if (rawTimestamp === undefined) {
    return fail('missing-field', 'the reading has no "timestamp": add the time of the measurement, e.g. "2016-09-09T13:33:07Z"', TIMESTAMP_FIELD);
  }
  const timestamp = normaliseTimestamp(rawTimestamp);
  if (!timestamp.ok) return timestamp;

  const metrics = new Map<string, number>();
  for (const name in data) {
    if (name === ID_FIELD || name === TIMESTAMP_FIELD || !Object.hasOwn(data, name)) continue;
    const raw = data[name];
    if (!isMetricName(name)) {
      return fail(
        'bad-metric-name',
        `metric name ${describe(name)} is not allowed: use 1-64 letters, digits, "_", "." or "-", starting with a letter or "_"`,
        name,
      );
    }
    const metric = parseMetricValue(name, raw);
    if (!metric.ok) return metric;
    metrics.set(name, metric.value);
  }
  if (metrics.size === 0) {
    return fail('no-metrics', 'the reading has no metric: add at least one numeric property besides "id" and "timestamp", e.g. "temperature": 19.5');
  }
  if (metrics.size > READING_LIMITS.maxMetrics) {
    return fail('too-many-metrics', `the reading has ${metrics.size} metrics; at most ${READING_LIMITS.maxMetrics} are allowed, split it into several readings`);
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

function parseMetricValue(name: string, raw: unknown): ParseResult<number> {
  let value: number;
  if (typeof raw === 'number') {
    value = raw;
  } else if (typeof raw === 'string' && NUMERIC_STRING.test(raw)) {
    value = Number(raw);
  } else {
    return fail('bad-metric-value', `metric "${name}" must be a number or a numeric string such as "19.57", got ${describe(raw)}`, name);
  }
  if (!Number.isFinite(value) || Math.abs(value) > READING_LIMITS.maxMagnitude) {
    return fail('bad-metric-value', `metric "${name}" is out of range: its magnitude must be at most ${READING_LIMITS.maxMagnitude}`, name);
  }
  // Below DynamoDB's smallest magnitude a value is indistinguishable from zero.
  if (Math.abs(value) < READING_LIMITS.minMagnitude) value = 0;
  return { ok: true, value };
}

/**
 * Turns any accepted timestamp form into fixed-width ISO 8601 UTC with microseconds,
 * so that string order is time order. Fractions beyond microseconds are truncated.
 */
export function normaliseTimestamp(raw: unknown): ParseResult<string> {
  const hint = 'use ISO 8601 (e.g. "2016-09-09T13:33:07.381Z"; no zone means UTC), "2016-09-09 13:33:07.381019", or epoch milliseconds';
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0 || raw > READING_LIMITS.maxEpochMillis) {
      return fail('bad-timestamp', `"timestamp" ${describe(raw)} is not a whole number of epoch milliseconds between 0 and ${READING_LIMITS.maxEpochMillis}`, TIMESTAMP_FIELD);
    }
    return { ok: true, value: formatInstant(raw, (raw % 1000) * 1000) };
  }
  const match = typeof raw === 'string' ? TIMESTAMP.exec(raw) : null;
  if (match === null) return fail('bad-timestamp', `"timestamp" ${describe(raw)} is not a recognised time: ${hint}`, TIMESTAMP_FIELD);

  const [, year, month, day, hour, minute, second = '00', fraction = '', zone = 'Z'] = match as unknown as string[];
  if (Number(day) > daysInMonth(Number(year), Number(month))) {
    return fail('bad-timestamp', `"timestamp" ${describe(raw)} names a day that does not exist in the calendar`, TIMESTAMP_FIELD);
  }
  const microsText = fraction.length === 6 ? fraction : fraction.padEnd(6, '0').slice(0, 6);
  // Already UTC: the fields are the answer, no date arithmetic needed.
  if (zone === 'Z' || zone === '+00:00' || zone === '+0000') {
    return { ok: true, value: `${year}-${month}-${day}T${hour}:${minute}:${second}.${microsText}Z` };
  }
  const micros = Number(microsText);
  const civil = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const millis = civil - zoneOffsetMinutes(zone) * 60_000 + Math.floor(micros / 1000);
  if (millis < 0 || millis > READING_LIMITS.maxEpochMillis) {
    return fail('bad-timestamp', `"timestamp" ${describe(raw)} falls outside 1970-01-01 to 9999-12-31 UTC`, TIMESTAMP_FIELD);
  }
  return { ok: true, value: formatInstant(millis, micros) };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function zoneOffsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return zone.startsWith('-') ? -minutes : minutes;
}

/** `millis` is the instant; `micros` the sub-second part in microseconds (its millisecond part matches `millis`). */
function formatInstant(millis: number, micros: number): string {
  return `${new Date(millis).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

// ---------------------------------------------------------------------------
// Table items (SPEC §2, things table)
// ---------------------------------------------------------------------------

/** Separator between thing id and metric in `ThingID`. */
export const SERIES_SEPARATOR = '/';

export interface ReadingItem {
  readonly ThingID: string;
  readonly Timestamp: string;
  readonly Value: number;
  readonly ExpiresAt?: number;
}

export const seriesId = (thingId: string, metric: string): string => `${thingId}${SERIES_SEPARATOR}${metric}`;

/** Splits a `ThingID` back into thing id and metric (metric names never contain `/`). */
export function splitSeriesId(series: string): { thingId: string; metric: string } {
  const at = series.lastIndexOf(SERIES_SEPARATOR);
  return at < 0 ? { thingId: series, metric: '' } : { thingId: series.slice(0, at), metric: series.slice(at + 1) };
}

/**
 * One item per metric. `ExpiresAt` counts the hot retention from the reading's own time,
 * so replaying a record rewrites exactly the same item.
 */
export function readingItems(reading: Reading, hotRetentionDays?: number): ReadingItem[] {
  const expiresAt =
    hotRetentionDays === undefined ? undefined : Math.floor(Date.parse(reading.timestamp) / 1000) + Math.round(hotRetentionDays * 86_400);
  const items: ReadingItem[] = [];
  for (const [metric, value] of reading.metrics) {
    const ThingID = seriesId(reading.id, metric);
    items.push(
      expiresAt === undefined
        ? { ThingID, Timestamp: reading.timestamp, Value: value }
        : { ThingID, Timestamp: reading.timestamp, Value: value, ExpiresAt: expiresAt },
    );
  }
  return items;
}

// ---------------------------------------------------------------------------
// Ingest bodies (used by local validators and tools; API Gateway uses the schema)
// ---------------------------------------------------------------------------

/** The readings of an ingest body, single or batch, as the objects that become stream records. */
export function ingestReadings(body: unknown): ParseResult<Record<string, unknown>[]> {
  const shape = 'the body must be {"Data": {...}} or {"Data": [{...}, ...]} with nothing else beside "Data"';
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('Data' in body)) return fail('bad-body', shape, 'Data');
  const extra = Object.keys(body).find((key) => key !== 'Data');
  if (extra !== undefined) return fail('bad-body', `unexpected property ${describe(extra)}: ${shape}`, extra);
  const data = (body as { Data: unknown }).Data;
  const readings = Array.isArray(data) ? data : [data];
  if (readings.length === 0 || readings.length > READING_LIMITS.maxBatchReadings) {
    return fail('bad-body', `a batch must hold 1 to ${READING_LIMITS.maxBatchReadings} readings, got ${readings.length}`, 'Data');
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
