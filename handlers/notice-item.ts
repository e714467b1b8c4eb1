/**
 * A notice in the alert history (the alerts table): one item per notice sent, keyed by
 * series and event time, or one microsecond later when another notice of the series
 * holds that time. The notice that opens an alert also carries the alert
 * (alert-episode-item.ts).
 */
import { NOTICE_KINDS, type AlertKind, type Bound, type NoticeKind, type Thresholds } from './alert-rules';
import { ALERT_EPISODE_ATTRIBUTES, decodeEpisode, fleetKey, fleetSort, type AlertEpisode } from './alert-episode-item';
import { ATTRIBUTES } from './contract';
import type { Decimal } from './decimal';
import { asBound, asDecimal, asString, type Item } from './item-codec';
import { storedNumber } from './stored-number';

/** Attributes of an alerts-table item besides its key (`ThingID`, `Timestamp` = event time). */
export const ALERT_HISTORY_ATTRIBUTES = {
  /** `breach`, `recovery`, `no-data` or `data-resumed` (a reminder is a `breach` with `Reminder` true). */
  kind: 'Kind',
  reminder: 'Reminder',
  bound: 'Bound',
  value: ATTRIBUTES.value,
  minThreshold: ATTRIBUTES.minThreshold,
  maxThreshold: ATTRIBUTES.maxThreshold,
  messageId: 'MessageId',
  subject: 'Subject',
  /** Wall-clock time the notice was sent, ISO 8601. */
  sentAt: 'SentAt',
  expiresAt: ATTRIBUTES.expiresAt,
  /** The event time, when the key had to move off it (another notice of the series holds that time). */
  at: 'At',
  /** The claim that sent it, so a consumer resolving that claim after a crash finds it. */
  claimToken: 'ClaimToken',
  recipients: 'Recipients',
  /** Breach: when it began (a breach that had to last `for` seconds). No-data: the last reading before the silence. */
  since: 'Since',
  /** Opening notices only: the fleet index keys and the alert's own fields. */
  ...ALERT_EPISODE_ATTRIBUTES,
} as const;

/** One notice as written to the history. */
export interface NoticeRecord {
  readonly series: string;
  readonly notice: NoticeKind;
  /** Event time: the reading's, or for no-data the end of the period. */
  readonly at: string;
  readonly claimToken: string;
  readonly messageId: string;
  readonly subject: string;
  /** Wall clock, ISO 8601. */
  readonly sentAt: string;
  readonly recipients: string;
  readonly bound?: Bound;
  readonly value?: Decimal;
  readonly rule?: Thresholds;
  readonly since?: string;
  /** Set when the notice opens an alert: it is then listed across the fleet. */
  readonly opens?: AlertKind;
  readonly expiresAt?: number;
}

/** The history item of a notice, to be put under `key` (its event time, or just after it when that is taken). */
export function encodeNotice(record: NoticeRecord, key: string): Item {
  const H = ALERT_HISTORY_ATTRIBUTES;
  const item: Item = {
    [ATTRIBUTES.series]: record.series,
    [ATTRIBUTES.timestamp]: key,
    [H.kind]: record.notice === 'reminder' ? 'breach' : record.notice,
    [H.reminder]: record.notice === 'reminder',
    [H.messageId]: record.messageId,
    [H.subject]: record.subject,
    [H.sentAt]: record.sentAt,
    [H.claimToken]: record.claimToken,
    [H.recipients]: record.recipients,
  };
  if (key !== record.at) item[H.at] = record.at;
  if (record.bound !== undefined) item[H.bound] = record.bound;
  if (record.value !== undefined) item[H.value] = storedNumber(record.value);
  if (record.rule?.min !== undefined) item[H.minThreshold] = storedNumber(record.rule.min);
  if (record.rule?.max !== undefined) item[H.maxThreshold] = storedNumber(record.rule.max);
  if (record.since !== undefined) item[H.since] = record.since;
  if (record.expiresAt !== undefined) item[H.expiresAt] = record.expiresAt;
  if (record.opens !== undefined) {
    item[H.fleetKey] = fleetKey('firing', record.opens);
    item[H.fleetSort] = fleetSort(key, record.series);
  }
  return item;
}
/** One notice of the history, as the web app and the tools show it. */
export interface AlertHistoryEntry {
  readonly series: string;
  /** The item's sort key. */
  readonly key: string;
  /** Event time (the key, unless that time was taken by another notice of the series). */
  readonly timestamp: string;
  /** `breach`, `reminder`, `recovery`, `no-data`, `data-resumed`, or `unknown` for an item this version cannot read. */
  readonly kind: NoticeKind | 'unknown';
  readonly value: Decimal | null;
  readonly bound: Bound | null;
  readonly minThreshold: Decimal | null;
  readonly maxThreshold: Decimal | null;
  readonly messageId: string | null;
  readonly subject: string | null;
  readonly sentAt: string | null;
  readonly recipients: string | null;
  readonly since: string | null;
  readonly claimToken: string | null;
  /** Present on the notice that opened an alert. */
  readonly alert: AlertEpisode | null;
}

/** Reads a history item (never throws). */
export function decodeNotice(item: Item): AlertHistoryEntry {
  const H = ALERT_HISTORY_ATTRIBUTES;
  const stored = item[H.kind];
  const kind: AlertHistoryEntry['kind'] =
    item[H.reminder] === true ? 'reminder' : typeof stored === 'string' && (NOTICE_KINDS as readonly string[]).includes(stored) && stored !== 'reminder' ? (stored as NoticeKind) : 'unknown';
  const key = String(item[ATTRIBUTES.timestamp]);
  return {
    series: String(item[ATTRIBUTES.series]),
    key,
    timestamp: asString(item[H.at]) ?? key,
    kind,
    value: asDecimal(item[H.value]),
    bound: asBound(item[H.bound]) ?? null,
    minThreshold: asDecimal(item[H.minThreshold]),
    maxThreshold: asDecimal(item[H.maxThreshold]),
    messageId: asString(item[H.messageId]) ?? null,
    subject: asString(item[H.subject]) ?? null,
    sentAt: asString(item[H.sentAt]) ?? null,
    recipients: asString(item[H.recipients]) ?? null,
    since: asString(item[H.since]) ?? null,
    claimToken: asString(item[H.claimToken]) ?? null,
    alert: decodeEpisode(item),
  };
}

/** The update that resolves the alert an opening notice opened (idempotent). */
/** A normalised timestamp one microsecond later: the next free key after a taken one. */
export function nextMicrosecond(timestamp: string): string {
  const micros = Number(timestamp.slice(20, 26)) + 1;
  if (micros < 1_000_000) return `${timestamp.slice(0, 20)}${String(micros).padStart(6, '0')}Z`;
  const next = new Date(Date.parse(`${timestamp.slice(0, 19)}Z`) + 1000).toISOString().slice(0, 19);
  return `${next}.000000Z`;
}

