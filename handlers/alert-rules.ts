/**
 * The alert rules, as pure functions: given a series' rule, its alert state and one
 * reading (or, for silence, its latest reading and the time now), decide whether the
 * state changes and whether a notice is due (alert-messages.ts words it).
 *
 * All times of the threshold rule are reading times (fixed-width ISO 8601 UTC with
 * microseconds, so string order is time order), never the clock of the consumer: a
 * replayed batch therefore reaches exactly the decisions it reached the first time, and
 * the waiting period and the cooldown span reading time, not processing time. Values and
 * bounds are exact decimals: a value above the maximum by 1e-30 is a breach.
 *
 * The threshold state machine of one series:
 *
 *   ok ──out of range──▶ pending ──still out `for` seconds later──▶ breached (breach notice)
 *    ▲                     │                                          │  still out a cooldown later: reminder
 *    └──back in range──────┘                                          │  (none once acknowledged)
 *    └──────────────back inside the range by `hysteresis`: recovery ──┘
 *
 * With `for` 0 a reading out of range goes straight to breached, as it always has.
 */
import type { Decimal } from './decimal';
import { timestampMicros } from './reading-timestamp';

/** The range a metric must stay in. Either bound may be absent; with neither, no range is checked. */
export interface Thresholds {
  readonly min?: Decimal;
  readonly max?: Decimal;
}

/** A series' alert rule: its range and how alerts about it behave. */
export interface AlertRule extends Thresholds {
  /** Seconds of reading time a breach must last before it is notified. @default 0 (at once) */
  readonly forSeconds?: number;
  /** How far back inside the range a value must come before a breach recovers. @default none */
  readonly hysteresis?: Decimal;
  /** Seconds without a reading after which a no-data alert is raised. @default never */
  readonly noDataAfterSeconds?: number;
  /** The recipient group (an SNS topic of the configuration) its alerts go to. @default the default group */
  readonly recipients?: string;
}

export type Bound = 'min' | 'max';

export type AlertCondition = 'ok' | 'pending' | 'breached';

/** What the thresholds item remembers about a series' threshold alerts. A series never alerted is `ok` with no times. */
export interface AlertStatus {
  readonly condition: AlertCondition;
  /** The bound crossed, while pending or breached. */
  readonly bound?: Bound;
  /** Reading time of the last change of `condition` (or of `bound`): "pending since", "breached since". */
  readonly changedAt?: string;
  /**
   * Reading time of the last change of state (a notice, or the start or end of a wait):
   * readings at or before it never change the state again. While breached it is the time
   * of the last notice, which the cooldown counts from.
   */
  readonly notifiedAt?: string;
  /** While breached: the alert-history key of the breach notice, which identifies the alert. */
  readonly openedAt?: string;
  /** While breached: someone acknowledged this alert, so no reminders are sent until it recovers. */
  readonly acknowledged?: boolean;
}

/**
 * Builds a status with every key present (possibly undefined): objects of one shape keep
 * the per-reading checks monomorphic, which matters at thousands of readings per batch.
 */
export const alertStatus = (
  condition: AlertCondition,
  bound?: Bound,
  changedAt?: string,
  notifiedAt?: string,
  openedAt?: string,
  acknowledged?: boolean,
): AlertStatus => ({ condition, bound, changedAt, notifiedAt, openedAt, acknowledged });

export const OK_STATUS: AlertStatus = alertStatus('ok');

/** The metric value of one reading of one series. */
export interface Observation {
  readonly value: Decimal;
  /** Normalised reading time. */
  readonly timestamp: string;
}

/**
 * `breach`: the metric left its range (or crossed the other bound); `reminder`: still out
 * after the cooldown; `recovery`: back inside; `no-data`: no reading for the rule's
 * no-data period; `data-resumed`: readings arrive again after a no-data alert.
 */
export const NOTICE_KINDS = ['breach', 'reminder', 'recovery', 'no-data', 'data-resumed'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** The kinds of alert (what an alert is about), each opened by one notice and resolved by another. */
export type AlertKind = 'breach' | 'no-data';

export type QuietReason = 'no-thresholds' | 'not-newer' | 'in-range' | 'waiting' | 'cooldown' | 'acknowledged' | 'hysteresis';

type QuietDecision = { readonly action: 'none'; readonly reason: QuietReason };

/** Shared, so the common "nothing to do" allocates nothing. */
const QUIET: { readonly [Reason in QuietReason]: QuietDecision } = {
  'no-thresholds': { action: 'none', reason: 'no-thresholds' },
  'not-newer': { action: 'none', reason: 'not-newer' },
  'in-range': { action: 'none', reason: 'in-range' },
  waiting: { action: 'none', reason: 'waiting' },
  cooldown: { action: 'none', reason: 'cooldown' },
  acknowledged: { action: 'none', reason: 'acknowledged' },
  hysteresis: { action: 'none', reason: 'hysteresis' },
};

export type AlertDecision =
  | QuietDecision
  /** The state changes without a notice: a wait starts, moves to the other bound, or ends with the value back in range. */
  | { readonly action: 'change'; readonly next: AlertStatus }
  | {
      readonly action: 'notify';
      readonly notice: 'breach' | 'reminder' | 'recovery';
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

/** Whether `value` is inside the range shrunk by the rule's hysteresis on both sides (the range itself without one). */
export function insideRecoveryBand(rule: AlertRule, value: Decimal): boolean {
  const margin = rule.hysteresis;
  if (margin === undefined || margin.sign === 0) return boundCrossed(rule, value) === undefined;
  if (rule.min !== undefined && value.compare(rule.min.plus(margin)) < 0) return false;
  if (rule.max !== undefined && value.compare(rule.max.minus(margin)) > 0) return false;
  return true;
}

const microsBetween = (from: string, to: string): number => timestampMicros(to) - timestampMicros(from);

/**
 * The threshold rule: a breach is notified once it has lasted `forSeconds` of reading time,
 * at most one reminder per cooldown while it stays out (none once acknowledged), one
 * notice when the value is back inside the range by the hysteresis margin; readings no
 * newer than the last change of state change nothing.
 *
 * `horizonMs` is the latest reading time (epoch ms) the consumers accept now: the
 * reading's arrival plus the future tolerance. A last change dated after it came from a
 * reading no consumer would accept today (stored before such readings were refused, or
 * under a longer tolerance): it must not silence every later reading, so it is
 * disregarded, and the state moves on from this reading.
 */
export function decideAlert(rule: AlertRule, status: AlertStatus, reading: Observation, cooldownSeconds: number, horizonMs?: number): AlertDecision {
  if (rule.min === undefined && rule.max === undefined) return QUIET['no-thresholds'];
  const time = reading.timestamp;
  if (status.notifiedAt !== undefined && time <= status.notifiedAt) {
    if (horizonMs === undefined || timestampMicros(status.notifiedAt) <= horizonMs * 1000) return QUIET['not-newer'];
    status = alertStatus(status.condition, status.bound, status.changedAt, undefined, status.openedAt, status.acknowledged);
  }
  const crossed = boundCrossed(rule, reading.value);
  const waitMicros = (rule.forSeconds ?? 0) * 1_000_000;

  if (status.condition === 'breached') {
    if (crossed === undefined) {
      if (!insideRecoveryBand(rule, reading.value)) return QUIET.hysteresis;
      return { action: 'notify', notice: 'recovery', bound: status.bound ?? 'max', next: alertStatus('ok', undefined, time, time) };
    }
    if (crossed !== status.bound) {
      // The other bound: a new breach at once (the alert was already open and notified).
      return { action: 'notify', notice: 'breach', bound: crossed, next: alertStatus('breached', crossed, time, time, status.openedAt, status.acknowledged) };
    }
    if (status.acknowledged === true) return QUIET.acknowledged;
    const sinceNotice = status.notifiedAt === undefined ? Infinity : microsBetween(status.notifiedAt, time);
    if (sinceNotice < cooldownSeconds * 1_000_000) return QUIET.cooldown;
    return { action: 'notify', notice: 'reminder', bound: crossed, next: alertStatus('breached', crossed, status.changedAt, time, status.openedAt, status.acknowledged) };
  }

  if (crossed === undefined) {
    // A wait ends without a notice when the value comes back before `for` has passed.
    return status.condition === 'pending' ? { action: 'change', next: alertStatus('ok', undefined, time, time) } : QUIET['in-range'];
  }
  const pendingSince = status.condition === 'pending' && status.bound === crossed ? status.changedAt : undefined;
  if (pendingSince === undefined) {
    // Out of range now (or beyond the other bound than the one waited on): the wait starts here.
    if (waitMicros <= 0) return { action: 'notify', notice: 'breach', bound: crossed, next: alertStatus('breached', crossed, time, time, time) };
    return { action: 'change', next: alertStatus('pending', crossed, time, time) };
  }
  if (microsBetween(pendingSince, time) < waitMicros) return QUIET.waiting;
  // Breached since the wait began; notified now.
  return { action: 'notify', notice: 'breach', bound: crossed, next: alertStatus('breached', crossed, pendingSince, time, time) };
}

// ---------------------------------------------------------------------------
// No data
// ---------------------------------------------------------------------------

/** What the thresholds item remembers about a series' no-data alerts. */
export interface NoDataStatus {
  /** While silent: the time of the last reading before the silence. */
  readonly silentSince?: string;
  /** While silent: the alert-history key of the no-data notice, which identifies the alert. */
  readonly openedAt?: string;
  /** Event time of the last no-data notice (raised or resumed): the version claims check. */
  readonly notifiedAt?: string;
  /** While silent: someone acknowledged this alert. */
  readonly acknowledged?: boolean;
}

export const REPORTING: NoDataStatus = {};

export type NoDataQuietReason = 'no-rule' | 'never-reported' | 'reporting' | 'still-silent';

export type NoDataDecision =
  | { readonly action: 'none'; readonly reason: NoDataQuietReason }
  /** The rule was removed while the series was silent: the alert is closed without a notice. */
  | { readonly action: 'change'; readonly next: NoDataStatus }
  | {
      readonly action: 'notify';
      readonly notice: 'no-data' | 'data-resumed';
      /** When it happened: the end of the no-data period, or the reading that ended the silence. */
      readonly at: string;
      readonly next: NoDataStatus;
    };

/** `timestamp` plus whole seconds, as a normalised timestamp. */
export function addSeconds(timestamp: string, seconds: number): string {
  const micros = timestampMicros(timestamp) + seconds * 1_000_000;
  const millis = Math.floor(micros / 1000);
  return `${new Date(millis).toISOString().slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/**
 * The no-data rule, judged on the series' latest reading time and the time now (epoch ms):
 * one `no-data` notice once `noDataAfterSeconds` have passed since the latest reading, one
 * `data-resumed` notice when a reading newer than the silence arrives. A series that never
 * reported is not judged: silence starts with its first reading.
 */
export function decideNoData(rule: AlertRule, status: NoDataStatus, latest: string | undefined, nowMs: number): NoDataDecision {
  const silent = status.silentSince !== undefined;
  if (rule.noDataAfterSeconds === undefined) return silent ? { action: 'change', next: { notifiedAt: status.notifiedAt } } : { action: 'none', reason: 'no-rule' };
  if (latest === undefined) return { action: 'none', reason: 'never-reported' };
  if (silent) {
    if (latest <= (status.silentSince as string)) return { action: 'none', reason: 'still-silent' };
    return { action: 'notify', notice: 'data-resumed', at: latest, next: { notifiedAt: latest } };
  }
  const deadline = addSeconds(latest, rule.noDataAfterSeconds);
  if (timestampMicros(deadline) > nowMs * 1000) return { action: 'none', reason: 'reporting' };
  return { action: 'notify', notice: 'no-data', at: deadline, next: { silentSince: latest, openedAt: deadline, notifiedAt: deadline } };
}

// ---------------------------------------------------------------------------
// What the rules say a sequence of readings produces
// ---------------------------------------------------------------------------

export interface ExpectedNotice {
  readonly kind: NoticeKind;
  /** Normalised reading time. */
  readonly timestamp: string;
}

export interface ReplayOptions {
  /** Readings dated inside a silence of the series: their notices wait for the window to end. */
  readonly silenced?: (timestamp: string) => boolean;
  /** The alert open at this reading time is acknowledged (from the next reading on). */
  readonly acknowledgedAt?: string;
}

/**
 * The notices the threshold rule sends for one series' readings arriving once each, in
 * time order: what the pipeline must produce under any failure. The one home of the
 * expectation the drills and the system test check against.
 */
export function expectedNotices(rule: AlertRule, observations: readonly Observation[], cooldownSeconds: number, options: ReplayOptions = {}): ExpectedNotice[] {
  const notices: ExpectedNotice[] = [];
  let status = OK_STATUS;
  for (const observation of [...observations].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0))) {
    if (options.acknowledgedAt !== undefined && status.condition === 'breached' && observation.timestamp > options.acknowledgedAt) {
      status = alertStatus(status.condition, status.bound, status.changedAt, status.notifiedAt, status.openedAt, true);
    }
    const decision = decideAlert(rule, status, observation, cooldownSeconds);
    if (decision.action === 'none') continue;
    if (decision.action === 'notify') {
      if (options.silenced?.(observation.timestamp) === true) continue;
      notices.push({ kind: decision.notice, timestamp: observation.timestamp });
    }
    status = decision.next;
  }
  return notices;
}
