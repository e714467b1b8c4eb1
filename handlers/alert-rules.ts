/**
 * The alert rules, as pure functions: given a series' thresholds, its alert state and one
 * reading, decide whether a notice is due, and word it.
 *
 * All times are reading times (fixed-width ISO 8601 UTC with microseconds, so string
 * order is time order), never the clock of the consumer: a replayed batch therefore
 * reaches exactly the decisions it reached the first time, and the cooldown spans
 * reading time, not processing time. Values and bounds are exact decimals: a value
 * above the maximum by 1e-30 is a breach.
 */
import type { Decimal } from './decimal';
import { splitSeriesId, timestampMicros } from './reading';

/** The range a metric must stay in. Either bound may be absent; with neither, nothing is checked. */
export interface Thresholds {
  readonly min?: Decimal;
  readonly max?: Decimal;
}

export type Bound = 'min' | 'max';

export type AlertCondition = 'ok' | 'breached';

/** What the thresholds item remembers about a series' alerts. A series never alerted is `ok` with no times. */
export interface AlertStatus {
  readonly condition: AlertCondition;
  /** The bound crossed, while breached. */
  readonly bound?: Bound;
  /** Reading time of the last change of `condition` (or of `bound`). */
  readonly changedAt?: string;
  /**
   * Reading time of the last notice sent. Every change sends a notice, so this is the
   * newest reading that changed the state: readings at or before it never change it again.
   */
  readonly notifiedAt?: string;
}

/**
 * Builds a status with every key present (possibly undefined): objects of one shape keep
 * the per-reading checks monomorphic, which matters at thousands of readings per batch.
 */
export const alertStatus = (condition: AlertCondition, bound?: Bound, changedAt?: string, notifiedAt?: string): AlertStatus => ({
  condition,
  bound,
  changedAt,
  notifiedAt,
});

export const OK_STATUS: AlertStatus = alertStatus('ok');

/** The metric value of one reading of one series. */
export interface Observation {
  readonly value: Decimal;
  /** Normalised reading time. */
  readonly timestamp: string;
}

/** `breach`: the metric left its range (or crossed the other bound); `reminder`: still out after the cooldown. */
export type NoticeKind = 'breach' | 'reminder' | 'recovery';

export type QuietReason = 'no-thresholds' | 'not-newer' | 'in-range' | 'cooldown';

type QuietDecision = { readonly action: 'none'; readonly reason: QuietReason };

/** Shared, so the common "nothing to do" allocates nothing. */
const QUIET: { readonly [Reason in QuietReason]: QuietDecision } = {
  'no-thresholds': { action: 'none', reason: 'no-thresholds' },
  'not-newer': { action: 'none', reason: 'not-newer' },
  'in-range': { action: 'none', reason: 'in-range' },
  cooldown: { action: 'none', reason: 'cooldown' },
};

export type AlertDecision =
  | QuietDecision
  | {
      readonly action: 'notify';
      readonly notice: NoticeKind;
      /** The bound crossed (breach, reminder) or the one the series is back inside (recovery). */
      readonly bound: Bound;
      /** The state once the notice is sent. */
      readonly next: AlertStatus;
    };

/** The bound `value` lies beyond, if any. */
export function boundCrossed(thresholds: Thresholds, value: Decimal): Bound | undefined {
  if (thresholds.min !== undefined && value.compare(thresholds.min) < 0) return 'min';
  if (thresholds.max !== undefined && value.compare(thresholds.max) > 0) return 'max';
  return undefined;
}

/**
 * The rule: one notice when a metric leaves its range, at most one reminder per cooldown
 * while it stays out, one notice when it is back; readings no newer than the last notice
 * change nothing.
 *
 * `horizonMs` is the latest reading time (epoch ms) the consumers accept now: the
 * reading's arrival plus the future tolerance. A last notice dated after it came from a
 * reading no consumer would accept today (stored before such readings were refused, or
 * under a longer tolerance): it must not silence every later reading, so it is
 * disregarded, and the state moves on from this reading.
 */
export function decideAlert(thresholds: Thresholds, status: AlertStatus, reading: Observation, cooldownSeconds: number, horizonMs?: number): AlertDecision {
  if (thresholds.min === undefined && thresholds.max === undefined) return QUIET['no-thresholds'];
  if (status.notifiedAt !== undefined && reading.timestamp <= status.notifiedAt) {
    if (horizonMs === undefined || timestampMicros(status.notifiedAt) <= horizonMs * 1000) return QUIET['not-newer'];
    status = alertStatus(status.condition, status.bound, status.changedAt);
  }

  const crossed = boundCrossed(thresholds, reading.value);
  if (crossed === undefined) {
    if (status.condition === 'ok') return QUIET['in-range'];
    const next = alertStatus('ok', undefined, reading.timestamp, reading.timestamp);
    return { action: 'notify', notice: 'recovery', bound: status.bound ?? 'max', next };
  }

  if (status.condition === 'ok' || status.bound !== crossed) {
    const next = alertStatus('breached', crossed, reading.timestamp, reading.timestamp);
    return { action: 'notify', notice: 'breach', bound: crossed, next };
  }
  const sinceNotice = status.notifiedAt === undefined ? Infinity : timestampMicros(reading.timestamp) - timestampMicros(status.notifiedAt);
  if (sinceNotice < cooldownSeconds * 1_000_000) return QUIET.cooldown;
  return { action: 'notify', notice: 'reminder', bound: crossed, next: alertStatus(status.condition, status.bound, status.changedAt, reading.timestamp) };
}

// ---------------------------------------------------------------------------
// Wording
// ---------------------------------------------------------------------------

/** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
export const MAX_SUBJECT_LENGTH = 100;

export interface NoticeInput {
  readonly notice: NoticeKind;
  /** `ThingID` of the series, `<thing id>/<metric>`. */
  readonly series: string;
  readonly bound: Bound;
  readonly thresholds: Thresholds;
  readonly reading: Observation;
  readonly cooldownSeconds: number;
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

/** Subject and body of a notice, naming thing, metric, value, bound and time in plain words. */
export function formatNotice(input: NoticeInput): NoticeText {
  const { thingId, metric } = splitSeriesId(input.series);
  const value = formatNumber(input.reading.value);
  const when = plainTime(input.reading.timestamp);
  const words = BOUND_WORDS[input.bound];
  const limit = input.thresholds[input.bound];
  const limitText = limit === undefined ? 'its former threshold' : `the ${words.name} ${formatNumber(limit)}`;
  const safeMetric = asciiOnly(metric);

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
        ? `The ${metric} of ${thingId} was ${value} at ${when}, ${words.side} ${limitText}.`
        : `The ${metric} of ${thingId} is still out of range: ${value} at ${when}, ${words.side} ${limitText}.`;
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
      : `While it stays out of range you get at most one reminder every ${plainDuration(input.cooldownSeconds)}, ` +
        'and one notice when it is back to normal.',
  ].join('\n');

  return { subject: subject.slice(0, MAX_SUBJECT_LENGTH), message };
}
