/**
 * The reading contract: one definition of a storable reading, used to build the ingest
 * JSON Schema (the API Gateway model, the local validators) and by the parser the
 * consumers and tools use. Whatever the schema accepts, the parser accepts, and the
 * store handler can write to DynamoDB exactly as sent; whatever one refuses, the others
 * refuse too (a property-based test holds the three to it, __tests__/handlers/storable.test.ts).
 *
 * - Numbers: what DynamoDB holds exactly (up to 38 significant digits, magnitudes from
 *   1e-130 to below 1e126, or zero), kept as exact decimals (decimal.ts), never rounded.
 * - Times: 1970-01-01 to 9999-12-31 in UTC, after the zone offset is applied.
 * - Thing ids: at most 256 characters of the Basic Multilingual Plane, because the id is the
 *   Kinesis partition key and Kinesis allows 256 (see ID_SOURCE).
 * - Text: well-formed Unicode only, so every string has a UTF-8 form.
 */
import { Decimal, DYNAMODB_NUMBER_LIMITS, describeDecimalProblem, type DecimalProblem } from './decimal';

export const READING_LIMITS = {
  /** Longest `Data.id`, in characters (all from the Basic Multilingual Plane, so also in UTF-16 units). */
  maxIdLength: 256,
  /** Most metrics in one reading (each a value of its own series). */
  maxMetrics: 50,
  /** Most readings in one batch body (Kinesis PutRecords takes at most 500). */
  maxBatchReadings: 500,
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

// ---------------------------------------------------------------------------
// Thing ids
// ---------------------------------------------------------------------------

/**
 * Characters an id may hold: the Basic Multilingual Plane without control characters
 * (C0, DEL, C1), line and paragraph separators (they would corrupt log lines, CSV exports
 * and labels), and surrogates (a lone one has no UTF-8 form).
 *
 * Why no characters beyond the BMP (emoji, rare CJK): the id is the Kinesis partition key,
 * limited to 256 "characters", and AWS does not say what it counts: the emulator counts
 * UTF-16 units, older API text said bytes. A character beyond the BMP is one code point
 * (what JSON Schema's maxLength counts) but two UTF-16 units, so a 256-character id of
 * them could exceed the key limit. With BMP characters only, characters, code points and
 * UTF-16 units are the same count: `maxLength` 256 is exact under every reading but the
 * bytes one, which AWS's current API reference no longer states. The ranges are written
 * as BMP code points so JavaScript (with or without the `u` flag) and Java regular
 * expressions read the pattern alike.
 *
 * Also refused: U+FFFD, the character a lenient decoder puts where bytes were not UTF-8, so
 * a body that is not UTF-8 cannot be accepted with a mangled id however the API decodes it;
 * and the noncharacters U+FFFE and U+FFFF, which SQS refuses in a failure message.
 */
const ID_CHARACTERS = '\\u0020-\\u007e\\u00a0-\\u2027\\u202a-\\ud7ff\\ue000-\\ufffc';
/** Blank characters among those (JavaScript's `\s`, spelled out: Java's `\s` is ASCII only). */
const BLANK_CHARACTERS = '\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000\\ufeff';
const NON_BLANK_ID_CHARACTERS =
  '\\u0021-\\u007e\\u00a1-\\u167f\\u1681-\\u1fff\\u200b-\\u2027\\u202a-\\u202e\\u2030-\\u205e\\u2060-\\u2fff\\u3001-\\ud7ff\\ue000-\\ufefe\\uff00-\\ufffc';
/** A thing id: at least one non-blank character, all of them allowed ones. */
const ID_SOURCE = `^[${BLANK_CHARACTERS}]*[${NON_BLANK_ID_CHARACTERS}][${ID_CHARACTERS}]*$`;

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/**
 * The grammar of a numeric string: positional (`-12.50`, `.5`, `7.`), or scientific with one
 * non-zero digit before the point (`1.5e3`, `2E-7`, as programs print them) or a zero
 * mantissa. `15e2` is refused: only a normalised mantissa lets the schema's pattern see
 * the magnitude in the exponent.
 */
const NUMERIC_SYNTAX = /^[+-]?(?:\d+\.?\d*|\.\d+|(?:0+\.?0*|\.0+|[1-9](?:\.\d*)?)[eE][+-]?\d+)$/;

const { maxSignificantDigits: DIGITS, maxExponent, minExponent } = DYNAMODB_NUMBER_LIMITS;

/** An exponent from `low` to `high` (-199 to 199, with any leading zeros), as a pattern. */
function exponentSource(low: number, high: number): string {
  const atMost = (limit: number) => `(?:\\d{1,2}|1${twoDigits(0, limit - 100)})`;
  return `(?:\\+?0*${atMost(high)}|-0*${atMost(-low)})`;
}

/**
 * The numeric strings DynamoDB can hold exactly, as one pattern: NUMERIC_SYNTAX with at
 * most 38 significant digits and a magnitude from 1e-130 to below 1e126 (or zero).
 * Lookaheads count the digits from the first non-zero one to the last; the position of
 * the first non-zero digit (or the exponent, in scientific form) bounds the magnitude.
 */
const NUMERIC_STRING_SOURCE =
  '^[+-]?(?:' +
  // Zero, in any form.
  '(?:0+\\.?0*|\\.0+)(?:[eE][+-]?\\d+)?' +
  // A non-zero whole part: at most 126 digits before the point.
  `|0*(?=[1-9]\\d{0,${maxExponent}}(?:\\.|$))(?=[1-9](?:\\.?\\d){0,${DIGITS - 1}}0*(?:\\.0*)?$)\\d+(?:\\.\\d*)?` +
  // Below one: at most 129 zeros after the point before the first digit.
  `|0*\\.0{0,${-minExponent - 1}}(?=[1-9]\\d{0,${DIGITS - 1}}0*$)\\d+` +
  // Scientific: the exponent is the magnitude.
  `|(?=[1-9](?:\\.?\\d){0,${DIGITS - 1}}0*(?:\\.0*)?[eE])[1-9](?:\\.\\d*)?[eE]${exponentSource(minExponent, maxExponent)}` +
  ')$';

/** The largest double below 1e126: every double up to it prints (shortest form) as a number DynamoDB holds. */
const LARGEST_STORABLE_DOUBLE = (() => {
  const view = new DataView(new ArrayBuffer(8));
  // Number('1e126'), not 10 ** 126: the power is not always the correctly rounded double.
  view.setFloat64(0, Number(`1e${maxExponent + 1}`));
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
})();
const SMALLEST_STORABLE_DOUBLE = Number(`1e${minExponent}`);

// ---------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------

/**
 * ISO 8601 date-time with `T` or a space (the 2016 system's `2016-09-09 13:33:07.381019`),
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

/** Two-digit numbers from `low` to `high` as a pattern: (3, 23) gives `(?:0[3-9]|1\d|2[0-3])`. */
function twoDigits(low: number, high: number): string {
  const parts: string[] = [];
  for (let tens = Math.floor(low / 10); tens <= Math.floor(high / 10); tens++) {
    const from = Math.max(low, tens * 10) % 10;
    const to = Math.min(high, tens * 10 + 9) % 10;
    parts.push(`${tens}${from === to ? from : from === 0 && to === 9 ? '\\d' : `[${from}-${to}]`}`);
  }
  return parts.length === 1 ? (parts[0] as string) : `(?:${parts.join('|')})`;
}

const pad2 = (value: number) => String(value).padStart(2, '0');
/** From the minutes of the local time to the end: seconds and fraction hold no sign, the zone does. */
const TO_ZONE = '[^+-]*';

/**
 * Lookaheads refusing the two days where a zone offset can leave the range in UTC:
 * 1970-01-01 with a positive offset larger than the local time (`00:30+01:00` is 1969 in
 * UTC), and 9999-12-31 with a negative offset that carries the time past midnight
 * (`23:30-01:00` is year 10000). Hours and minutes are compared digit by digit; a
 * backreference matches the offset's hour to the local one. Capture groups here are
 * numbered from `firstGroup` (the pattern's earlier groups).
 */
function zoneEdgeSources(firstGroup: number): string {
  const hour = `\\${firstGroup}`;
  const minuteTens = `\\${firstGroup + 1}`;
  // 1970-01-01, +HH:MM: refused when local hh:mm < HH:MM.
  const earlierHour = Array.from({ length: 23 }, (_, index) => {
    const offsetHour = index + 1;
    return `${twoDigits(0, offsetHour - 1)}:\\d\\d${TO_ZONE}\\+${pad2(offsetHour)}`;
  });
  const sameHourEarlierMinute = [
    ...Array.from({ length: 5 }, (_, tens) => `${tens}\\d${TO_ZONE}\\+${hour}:?[${tens + 1}-5]`),
    `(\\d)(?:${Array.from({ length: 9 }, (_, unit) => `${unit}${TO_ZONE}\\+${hour}:?${minuteTens}[${unit + 1}-9]`).join('|')})`,
  ];
  const beforeEpoch = `(?!1970-01-01[T ](?:${earlierHour.join('|')}))(?!1970-01-01[T ](\\d\\d):(?:${sameHourEarlierMinute.join('|')}))`;

  // 9999-12-31, -HH:MM: refused when hh + HH >= 24, or hh + HH = 23 and mm + MM >= 60.
  const hoursPastMidnight = Array.from({ length: 23 }, (_, index) => {
    const offsetHour = index + 1;
    return `${twoDigits(24 - offsetHour, 23)}:\\d\\d${TO_ZONE}-${pad2(offsetHour)}`;
  });
  const hoursToLastHour = Array.from({ length: 24 }, (_, localHour) => `${pad2(localHour)}:\\d\\d${TO_ZONE}-${pad2(23 - localHour)}`);
  const minutesPastHour: string[] = [];
  for (let tens = 0; tens <= 5; tens++) {
    if (tens >= 1) minutesPastHour.push(`\\d\\d:${tens}\\d${TO_ZONE}-\\d\\d:?[${6 - tens}-5]`);
    for (let unit = 1; unit <= 9; unit++) minutesPastHour.push(`\\d\\d:${tens}${unit}${TO_ZONE}-\\d\\d:?${5 - tens}[${10 - unit}-9]`);
  }
  const pastYear9999 =
    `(?!9999-12-31[T ](?:${hoursPastMidnight.join('|')}))` +
    `(?!9999-12-31[T ](?=(?:${hoursToLastHour.join('|')}))(?:${minutesPastHour.join('|')}))`;
  return beforeEpoch + pastYear9999;
}

/** The schema's timestamp pattern: the timestamp form, on a real calendar day, inside the range in UTC. */
const SCHEMA_TIMESTAMP_SOURCE = `^${CALENDAR_DAY_SOURCE}${zoneEdgeSources(1)}${TIMESTAMP_SOURCE.slice(1)}`;

const THING_ID = new RegExp(ID_SOURCE);
const METRIC_NAME = new RegExp(METRIC_NAME_SOURCE);
const TIMESTAMP = new RegExp(TIMESTAMP_SOURCE);

// ---------------------------------------------------------------------------
// JSON Schema (draft-04, as API Gateway models require)
// ---------------------------------------------------------------------------

export type JsonSchema = { [keyword: string]: unknown };

/**
 * A JSON number is validated as the double a JSON parser reads, which prints back (its
 * shortest form, at most 17 digits) as the exact value stored: between 1e-130 and the
 * largest double below 1e126 in magnitude, or zero. A numeric string keeps every digit.
 */
const metricValueSchema: JsonSchema = {
  description: 'A metric value: a number, or a decimal number written as a string (every digit kept, up to 38 significant digits).',
  anyOf: [
    { type: 'number', enum: [0] },
    { type: 'number', minimum: SMALLEST_STORABLE_DOUBLE, maximum: LARGEST_STORABLE_DOUBLE },
    { type: 'number', minimum: -LARGEST_STORABLE_DOUBLE, maximum: -SMALLEST_STORABLE_DOUBLE },
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
      description: 'ISO 8601 (no zone means UTC), "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC), or epoch milliseconds; 1970 to 9999 in UTC.',
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

/** `{"Data": reading}`: the 2016 system's body, sent with PUT (Kinesis PutRecord). */
export const singleIngestBodySchema = bodySchema('SingleReading', readingSchema);
/** `{"Data": [reading, ...]}`: up to 500 readings (Kinesis PutRecords). */
export const batchIngestBodySchema = bodySchema('ReadingBatch', batchDataSchema);

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

export interface Reading {
  readonly id: string;
  /** Fixed-width ISO 8601 UTC with microseconds, e.g. `2016-09-09T13:33:07.381019Z`. */
  readonly timestamp: string;
  /** Metric name → exact value, in the order the sender wrote them. */
  readonly metrics: ReadonlyMap<string, Decimal>;
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
  | 'bad-encoding'
  /** Dated further ahead of its arrival on the stream than the consumers tolerate. */
  | 'future-timestamp'
  /** DynamoDB refused to store it (a validation error for its item). */
  | 'store-refused';

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
    return fail('not-json', `the record is not valid JSON (${(error as Error).message})`);
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
    return fail('not-object', `a reading must be a JSON object like {"id": "...", "timestamp": "...", "temperature": 19.5}, got ${describe(value)}`);
  }
  const data = value as Record<string, unknown>;

  const id = data[ID_FIELD];
  if (id === undefined) return fail('missing-field', 'the reading has no "id": add the thing id, e.g. "things/harrow/001"', ID_FIELD);
  if (typeof id !== 'string' || id.length > READING_LIMITS.maxIdLength || !THING_ID.test(id)) {
    return fail(
      'bad-id',
      `"id" must be a non-blank string of at most ${READING_LIMITS.maxIdLength} characters, without control characters, line separators or characters beyond the Basic Multilingual Plane (such as emoji), nor U+FFFD (left where bytes were not UTF-8), got ${describe(id)}`,
      ID_FIELD,
    );
  }

  const rawTimestamp = data[TIMESTAMP_FIELD];
  if (rawTimestamp === undefined) {
    return fail('missing-field', 'the reading has no "timestamp": add the time of the measurement, e.g. "2016-09-09T13:33:07Z"', TIMESTAMP_FIELD);
  }
  const timestamp = normaliseTimestamp(rawTimestamp);
  if (!timestamp.ok) return timestamp;

  const metrics = new Map<string, Decimal>();
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
    const metric = parseMetricValue(name, raw, numberText);
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

function parseMetricValue(name: string, raw: unknown, numberText: ((metric: string) => string | undefined) | undefined): ParseResult<Decimal> {
  let value: Decimal | undefined;
  if (typeof raw === 'number') {
    // JSON.parse reads 1e999 as Infinity: a magnitude past any limit.
    if (!Number.isFinite(raw)) return fail('bad-metric-value', `metric "${name}" is out of range: ${describeDecimalProblem('too-large')}`, name);
    const text = numberText?.(name);
    value = text === undefined ? Decimal.fromNumber(raw) : Decimal.parse(text);
  } else if (typeof raw === 'string') {
    value = numericStringValue(raw);
  }
  if (value === undefined) {
    return fail('bad-metric-value', `metric "${name}" must be a number or a numeric string such as "19.57" or "1.5e3", got ${describe(raw)}`, name);
  }
  const problem = value.storageProblem;
  if (problem !== undefined) return fail('bad-metric-value', `metric "${name}" is out of range: ${describeDecimalProblem(problem)}`, name);
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
    return `series ${describe(series)} must be "<thing id>/<metric>", e.g. things/harrow/001/temperature, with a metric name of 1-64 letters, digits, "_", "." or "-", starting with a letter or "_"`;
  }
  if (thingId.length > READING_LIMITS.maxIdLength || !THING_ID.test(thingId)) {
    return `the thing id of series ${describe(series)} is not one readings can have: at most ${READING_LIMITS.maxIdLength} characters, not blank, without control characters, line separators or characters beyond the Basic Multilingual Plane`;
  }
  return undefined;
}

/**
 * The text of each member of a JSON object written as a number, by name (the last of
 * repeated names, as JSON.parse keeps). `text` must be valid JSON; anything but an object
 * gives no members.
 */
export function memberNumberTexts(text: string): Map<string, string> {
  const numbers = new Map<string, string>();
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACE) return numbers;
  at = skipSpace(text, at + 1);
  while (text.charCodeAt(at) === QUOTE) {
    const keyEnd = stringEnd(text, at);
    const key = text.slice(at + 1, keyEnd - 1);
    const name = key.includes('\\') ? (JSON.parse(text.slice(at, keyEnd)) as string) : key;
    const valueStart = skipSpace(text, skipSpace(text, keyEnd) + 1);
    const valueEnd = jsonValueEnd(text, valueStart);
    const first = text.charCodeAt(valueStart);
    if (first === MINUS || (first >= ZERO && first <= NINE)) numbers.set(name, text.slice(valueStart, valueEnd));
    else numbers.delete(name);
    at = skipSpace(text, valueEnd);
    if (text.charCodeAt(at) !== COMMA) break;
    at = skipSpace(text, at + 1);
  }
  return numbers;
}

const code = (char: string): number => char.charCodeAt(0);
const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, QUOTE, BACKSLASH, COMMA, MINUS, ZERO, NINE] = [
  code('{'),
  code('}'),
  code('['),
  code(']'),
  code('"'),
  code('\\'),
  code(','),
  code('-'),
  code('0'),
  code('9'),
];

/**
 * The text of each element of a JSON array, in order, or undefined when `text` is not an
 * array. `text` must be valid JSON. Elements keep their own text, so a number keeps every
 * digit it was written with (parseReadingJson reads them from it).
 */
export function arrayElementTexts(text: string): string[] | undefined {
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACKET) return undefined;
  const elements: string[] = [];
  at = skipSpace(text, at + 1);
  while (at < text.length && text.charCodeAt(at) !== CLOSE_BRACKET) {
    const end = jsonValueEnd(text, at);
    elements.push(text.slice(at, end));
    at = skipSpace(text, end);
    if (text.charCodeAt(at) !== COMMA) break;
    at = skipSpace(text, at + 1);
  }
  return elements;
}

/** JSON whitespace: space, tab, line feed, carriage return. */
const isJsonSpace = (code: number): boolean => code === 32 || code === 9 || code === 10 || code === 13;

function skipSpace(text: string, at: number): number {
  while (isJsonSpace(text.charCodeAt(at))) at++;
  return at;
}

/** The index after the string starting (with its quote) at `at`. */
function stringEnd(text: string, at: number): number {
  for (let index = at + 1; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === BACKSLASH) index++;
    else if (code === QUOTE) return index + 1;
  }
  return text.length;
}

/** The index after the value starting at `at` (valid JSON): strings and containers are skipped whole, without recursion. */
function jsonValueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number or a literal: up to the next separator.
    let index = at;
    while (index < text.length) {
      const code = text.charCodeAt(index);
      if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || isJsonSpace(code)) break;
      index++;
    }
    return index;
  }
  let depth = 0;
  for (let index = at; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) index = stringEnd(text, index) - 1;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
    else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --depth === 0) return index + 1;
  }
  return text.length;
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

/** The normalised timestamp of an instant in epoch milliseconds (clamped to the range readings use). */
export function timestampOfMillis(millis: number): string {
  const clamped = Math.min(Math.max(Math.floor(millis), 0), READING_LIMITS.maxEpochMillis);
  return formatInstant(clamped, (clamped % 1000) * 1000);
}

/** Microseconds since the epoch of a normalised timestamp (`2016-09-09T13:33:07.381019Z`). */
export function timestampMicros(timestamp: string): number {
  return Date.parse(`${timestamp.slice(0, 23)}Z`) * 1000 + Number(timestamp.slice(23, 26));
}

/**
 * A reading dated more than `toleranceMs` after it arrived on the stream is refused: its
 * clock is wrong, and storing it would make it the latest value, and alert state, of its
 * series until real time caught up with it (for a year-9999 reading, for good).
 */
export function checkNotAhead(reading: Reading, arrivalMs: number, toleranceMs: number): ParseResult<Reading> {
  const aheadMs = timestampMicros(reading.timestamp) / 1000 - arrivalMs;
  if (aheadMs <= toleranceMs) return { ok: true, value: reading };
  return fail(
    'future-timestamp',
    `"timestamp" ${reading.timestamp} is ${formatAhead(aheadMs)} after the reading reached the stream (${new Date(arrivalMs).toISOString()}); ` +
      `at most ${formatAhead(toleranceMs)} ahead is accepted: check the sensor's clock`,
    TIMESTAMP_FIELD,
  );
}

function formatAhead(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 86_400).toLocaleString('en-GB')} days`;
}

// ---------------------------------------------------------------------------
// Series values (what the store consumer packs into segment items, reading-segment.ts)
// ---------------------------------------------------------------------------

/** Separator between thing id and metric in `ThingID`. */
export const SERIES_SEPARATOR = '/';

export interface ReadingItem {
  readonly ThingID: string;
  readonly Timestamp: string;
  /** Exact; written to DynamoDB as a number with the same digits (stored-number.ts). */
  readonly Value: Decimal;
  readonly ExpiresAt?: number;
}

export const seriesId = (thingId: string, metric: string): string => `${thingId}${SERIES_SEPARATOR}${metric}`;

/** Splits a `ThingID` back into thing id and metric (metric names never contain `/`). */
export function splitSeriesId(series: string): { thingId: string; metric: string } {
  const at = series.lastIndexOf(SERIES_SEPARATOR);
  return at < 0 ? { thingId: series, metric: '' } : { thingId: series.slice(0, at), metric: series.slice(at + 1) };
}

/** When an item about `timestamp` expires (epoch seconds): the hot retention counted from that time, never from the clock. */
export function expiresAtOf(timestamp: string, hotRetentionDays: number | undefined): number | undefined {
  return hotRetentionDays === undefined ? undefined : Math.floor(Date.parse(timestamp) / 1000) + Math.round(hotRetentionDays * 86_400);
}

/**
 * One value per metric, keyed by series and time. `ExpiresAt` counts the hot retention from
 * the reading's own time; the segment holding the value expires with its latest one.
 */
export function readingItems(reading: Reading, hotRetentionDays?: number): ReadingItem[] {
  const expiresAt = expiresAtOf(reading.timestamp, hotRetentionDays);
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
