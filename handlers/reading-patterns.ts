/**
 * What each field of a reading may hold, written once as limits and patterns: the ingest
 * schema (reading-schema.ts) compiles them into the API's model, and the parser
 * (reading.ts) and the timestamp helpers (reading-timestamp.ts) test values against the
 * same patterns, so what one accepts the others accept.
 *
 * - Numbers: what DynamoDB holds exactly (up to 38 significant digits, magnitudes from
 *   1e-130 to below 1e126, or zero).
 * - Times: 1970-01-01 to 9999-12-31 in UTC, after the zone offset is applied.
 * - Thing ids: at most 256 characters of the Basic Multilingual Plane, because the id is the
 *   Kinesis partition key and Kinesis allows 256 (see ID_SOURCE).
 */
import { DYNAMODB_NUMBER_LIMITS } from './decimal';

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
export const METRIC_NAME_SOURCE = `^(?!(?:${ID_FIELD}|${TIMESTAMP_FIELD})$)[A-Za-z_][A-Za-z0-9_.-]{0,63}$`;

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
export const ID_SOURCE = `^[${BLANK_CHARACTERS}]*[${NON_BLANK_ID_CHARACTERS}][${ID_CHARACTERS}]*$`;

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/**
 * The grammar of a numeric string: positional (`-12.50`, `.5`, `7.`), or scientific with one
 * non-zero digit before the point (`1.5e3`, `2E-7`, as programs print them) or a zero
 * mantissa. `15e2` is refused: only a normalised mantissa lets the schema's pattern see
 * the magnitude in the exponent.
 */
export const NUMERIC_SYNTAX = /^[+-]?(?:\d+\.?\d*|\.\d+|(?:0+\.?0*|\.0+|[1-9](?:\.\d*)?)[eE][+-]?\d+)$/;

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
export const NUMERIC_STRING_SOURCE =
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
export const LARGEST_STORABLE_DOUBLE = (() => {
  const view = new DataView(new ArrayBuffer(8));
  // Number('1e126'), not 10 ** 126: the power is not always the correctly rounded double.
  view.setFloat64(0, Number(`1e${maxExponent + 1}`));
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
})();
export const SMALLEST_STORABLE_DOUBLE = Number(`1e${minExponent}`);

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
export const SCHEMA_TIMESTAMP_SOURCE = `^${CALENDAR_DAY_SOURCE}${zoneEdgeSources(1)}${TIMESTAMP_SOURCE.slice(1)}`;

/** The patterns above, compiled for the parser. */
export const THING_ID = new RegExp(ID_SOURCE);
export const METRIC_NAME = new RegExp(METRIC_NAME_SOURCE);
export const TIMESTAMP = new RegExp(TIMESTAMP_SOURCE);
