/**
 * The words of alert notices: the SNS subject and the email body of a breach, reminder,
 * recovery, no-data alert or notice that readings resumed. Plain ASCII subjects within
 * SNS's limit; values exact, as the reading carried them; times in UTC, readable.
 */
import type { Decimal } from './decimal';
import type { AlertRule, Bound, Observation, Thresholds } from './alert-rules';
import { splitSeriesId } from './reading-item';

/** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
export const MAX_SUBJECT_LENGTH = 100;

export interface NoticeInput {
  readonly notice: 'breach' | 'reminder' | 'recovery';
  /** `ThingID` of the series, `<thing id>/<metric>`. */
  readonly series: string;
  readonly bound: Bound;
  readonly thresholds: AlertRule;
  readonly reading: Observation;
  readonly cooldownSeconds: number;
  /** Reading time the breach began, when earlier than the reading (a breach that had to last `for` seconds). */
  readonly since?: string;
}

export interface NoticeText {
  readonly subject: string;
  readonly message: string;
}

const BOUND_WORDS: Record<Bound, { side: string; name: string }> = {
  min: { side: 'below', name: 'minimum' },
  max: { side: 'above', name: 'maximum' },
};

const formatNumber = (value: Decimal): string => value.text;

/** `2016-09-09T13:33:07.381019Z` → `2016-09-09 13:33:07 UTC` (sub-second digits add nothing for a person). */
export function plainTime(timestamp: string): string {
  return `${timestamp.slice(0, 10)} ${timestamp.slice(11, 19)} UTC`;
}

/** A plain-words duration: `15 minutes`, `1 hour`, `90 seconds`. */
export function plainDuration(seconds: number): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}${seconds === size ? '' : 's'}`;
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

function rangeWords(thresholds: Thresholds): string {
  if (thresholds.min !== undefined && thresholds.max !== undefined) {
    return `between ${formatNumber(thresholds.min)} and ${formatNumber(thresholds.max)}`;
  }
  if (thresholds.min !== undefined) return `at least ${formatNumber(thresholds.min)}`;
  if (thresholds.max !== undefined) return `at most ${formatNumber(thresholds.max)}`;
  return 'unrestricted';
}

/** Printable ASCII only: anything else (accents, control characters) becomes `?`. */
const asciiOnly = (text: string): string => text.replace(/[^\x20-\x7E]/g, '?');

/**
 * Fits `head + thing + tail` into the subject limit by shortening the thing id in the
 * middle, so both its start and its distinguishing end survive.
 */
function fitSubject(head: string, thing: string, tail: string): string {
  const room = MAX_SUBJECT_LENGTH - head.length - tail.length;
  const safeThing = asciiOnly(thing);
  if (safeThing.length <= room) return `${head}${safeThing}${tail}`;
  if (room < 5) return `${head}${tail}`.slice(0, MAX_SUBJECT_LENGTH);
  const keep = room - 3;
  const start = Math.ceil(keep / 2);
  return `${head}${safeThing.slice(0, start)}...${safeThing.slice(safeThing.length - (keep - start))}${tail}`;
}

/** Subject and body of a threshold notice, naming thing, metric, value, bound and time in plain words. */
export function formatNotice(input: NoticeInput): NoticeText {
  const { thingId, metric } = splitSeriesId(input.series);
  const value = formatNumber(input.reading.value);
  const when = plainTime(input.reading.timestamp);
  const words = BOUND_WORDS[input.bound];
  const limit = input.thresholds[input.bound];
  const limitText = limit === undefined ? 'its former threshold' : `the ${words.name} ${formatNumber(limit)}`;
  const safeMetric = asciiOnly(metric);
  const since = input.since !== undefined && input.since < input.reading.timestamp ? ` (out of range since ${plainTime(input.since)})` : '';

  let subject: string;
  let summary: string;
  if (input.notice === 'recovery') {
    subject = fitSubject('Back to normal: ', thingId, ` ${safeMetric} ${value} at ${when}`);
    summary =
      `The ${metric} of ${thingId} is back within its range: ${value} at ${when} ` +
      `(allowed: ${rangeWords(input.thresholds)}).`;
  } else {
    const head = input.notice === 'breach' ? 'Alert: ' : 'Still out of range: ';
    const short = `${words.side} ${input.bound} ${limit === undefined ? '?' : formatNumber(limit)}`;
    subject = fitSubject(head, thingId, ` ${safeMetric} ${value} ${short} at ${when}`);
    summary =
      input.notice === 'breach'
        ? `The ${metric} of ${thingId} was ${value} at ${when}, ${words.side} ${limitText}${since}.`
        : `The ${metric} of ${thingId} is still out of range: ${value} at ${when}, ${words.side} ${limitText}${since}.`;
  }

  const message = [
    summary,
    '',
    `Thing: ${thingId}`,
    `Metric: ${metric}`,
    `Value: ${value}`,
    `Allowed range: ${rangeWords(input.thresholds)}`,
    `Reading time: ${input.reading.timestamp}`,
    '',
    input.notice === 'recovery'
      ? 'You will be told again if it leaves its range.'
      : `While it stays out of range you get at most one reminder every ${plainDuration(input.cooldownSeconds)} ` +
        '(none once the alert is acknowledged), and one notice when it is back to normal.',
  ].join('\n');

  return { subject: subject.slice(0, MAX_SUBJECT_LENGTH), message };
}

export interface NoDataNoticeInput {
  readonly notice: 'no-data' | 'data-resumed';
  readonly series: string;
  /** The rule's no-data period. */
  readonly afterSeconds: number;
  /** The last reading before the silence. */
  readonly silentSince: string;
  /** `no-data`: when the period ran out; `data-resumed`: the reading that ended the silence. */
  readonly at: string;
}

/** Subject and body of a no-data notice. */
export function formatNoDataNotice(input: NoDataNoticeInput): NoticeText {
  const { thingId, metric } = splitSeriesId(input.series);
  const safeMetric = asciiOnly(metric);
  if (input.notice === 'no-data') {
    const subject = fitSubject('No data: ', thingId, ` ${safeMetric} silent since ${plainTime(input.silentSince)}`);
    const message = [
      `The ${metric} of ${thingId} has sent no reading since ${plainTime(input.silentSince)}: more than ${plainDuration(input.afterSeconds)}.`,
      '',
      `Thing: ${thingId}`,
      `Metric: ${metric}`,
      `Last reading: ${input.silentSince}`,
      `No data after: ${plainDuration(input.afterSeconds)}`,
      '',
      'You will be told once when readings arrive again.',
    ].join('\n');
    return { subject: subject.slice(0, MAX_SUBJECT_LENGTH), message };
  }
  const subject = fitSubject('Reporting again: ', thingId, ` ${safeMetric} at ${plainTime(input.at)}`);
  const message = [
    `The ${metric} of ${thingId} is reporting again: a reading at ${plainTime(input.at)}, after silence since ${plainTime(input.silentSince)}.`,
    '',
    `Thing: ${thingId}`,
    `Metric: ${metric}`,
    `Silent since: ${input.silentSince}`,
    `Reading time: ${input.at}`,
  ].join('\n');
  return { subject: subject.slice(0, MAX_SUBJECT_LENGTH), message };
}
