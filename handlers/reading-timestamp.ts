/**
 * Reading timestamps: any accepted form turned into fixed-width ISO 8601 UTC with
 * microseconds (string order is time order), conversions to and from epoch time, and the
 * refusal of readings dated too far ahead of their arrival.
 */
import { READING_LIMITS, TIMESTAMP, TIMESTAMP_FIELD } from './reading-patterns';
import { describeValue, readingFailure, type ParseResult } from './reading-error';
import type { Reading } from './reading';

/**
 * Turns any accepted timestamp form into fixed-width ISO 8601 UTC with microseconds,
 * so that string order is time order. Fractions beyond microseconds are truncated.
 */
export function normaliseTimestamp(raw: unknown): ParseResult<string> {
  const hint = 'use ISO 8601 (e.g. "2016-09-09T13:33:07.381Z"; no zone means UTC), "2016-09-09 13:33:07.381019", or epoch milliseconds';
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw) || raw < 0 || raw > READING_LIMITS.maxEpochMillis) {
      return readingFailure('bad-timestamp', `"timestamp" ${describeValue(raw)} is not a whole number of epoch milliseconds between 0 and ${READING_LIMITS.maxEpochMillis}`, TIMESTAMP_FIELD);
    }
    return { ok: true, value: formatInstant(raw, (raw % 1000) * 1000) };
  }
  const match = typeof raw === 'string' ? TIMESTAMP.exec(raw) : null;
  if (match === null) return readingFailure('bad-timestamp', `"timestamp" ${describeValue(raw)} is not a recognised time: ${hint}`, TIMESTAMP_FIELD);

  const [, year, month, day, hour, minute, second = '00', fraction = '', zone = 'Z'] = match as unknown as string[];
  if (Number(day) > daysInMonth(Number(year), Number(month))) {
    return readingFailure('bad-timestamp', `"timestamp" ${describeValue(raw)} names a day that does not exist in the calendar`, TIMESTAMP_FIELD);
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
    return readingFailure('bad-timestamp', `"timestamp" ${describeValue(raw)} falls outside 1970-01-01 to 9999-12-31 UTC`, TIMESTAMP_FIELD);
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
  return readingFailure(
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
