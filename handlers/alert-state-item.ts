/**
 * The alert state of a series, on its thresholds item: the threshold rule's state, the
 * no-data rule's, the claim of a notice being sent (alert-state.ts runs the protocol) and
 * acknowledgements. seriesRecordOf reads the whole item (rule included); the *Update
 * functions say what a change of state writes.
 */
import { alertStatus, NOTICE_KINDS, type AlertKind, type AlertRule, type AlertStatus, type NoDataStatus, type NoticeKind } from './alert-rules';
import { asBound, asString, type AttributeUpdate, type Item } from './item-codec';
import { readRule } from './rule-item';
import { numberOf } from './stored-number';

/** Alert-state attributes of the thresholds item. */
export const ALERT_STATE_ATTRIBUTES = {
  /** `ok`, `pending` or `breached`; absent means `ok`. */
  state: 'AlertState',
  /** `min` or `max`: the bound crossed, while pending or breached. */
  bound: 'AlertBound',
  /** Reading time of the last change of state ("pending since", "breached since"). */
  changedAt: 'AlertChangedAt',
  /** Reading time of the last change of state: readings at or before it change nothing. */
  notifiedAt: 'AlertNotifiedAt',
  /** SNS message id of the last threshold notice. */
  messageId: 'AlertMessageId',
  /** While breached: the history key of the breach notice. */
  openedAt: 'AlertOpenedAt',
  /** The history key of the breach acknowledged; it silences reminders while it is the open one. */
  acknowledged: 'AlertAcknowledged',
  /** A notice being sent, threshold or no-data (map: see CLAIM_FIELDS). */
  claim: 'AlertClaim',
} as const;

export const NO_DATA_ATTRIBUTES = {
  /** While silent: the last reading before the silence. */
  silentSince: 'NoDataSince',
  /** While silent: the history key of the no-data notice. */
  openedAt: 'NoDataOpenedAt',
  /** Event time of the last no-data notice: the version its claims check. */
  notifiedAt: 'NoDataNotifiedAt',
  /** The history key of the no-data alert acknowledged. */
  acknowledged: 'NoDataAcknowledged',
  messageId: 'NoDataMessageId',
} as const;

const CLAIM_FIELDS = {
  token: 'Token',
  readingAt: 'ReadingAt',
  expiresAt: 'ExpiresAt',
  notice: 'Notice',
  state: 'State',
  bound: 'Bound',
  changedAt: 'ChangedAt',
  openedAt: 'OpenedAt',
  acknowledged: 'Acknowledged',
  silentSince: 'SilentSince',
} as const;

/** A notice being sent: who sends it, for which event, and the state it leads to. */
export type PendingClaim = { readonly token: string; readonly readingAt: string; readonly expiresAt: number } & (
  | { readonly notice: 'breach' | 'reminder' | 'recovery'; readonly next: AlertStatus }
  | { readonly notice: 'no-data' | 'data-resumed'; readonly next: NoDataStatus }
);

/** What the thresholds table holds about one series. */
export interface SeriesAlertRecord {
  /** The item as stored, so a change made to it can be applied and read again without a round trip. */
  readonly item: Item;
  readonly rule: AlertRule;
  readonly status: AlertStatus;
  readonly noData: NoDataStatus;
  readonly claim?: PendingClaim;
  /** Why a stored field of the rule was ignored, if one was. */
  readonly problems: readonly string[];
}

const isNoDataNotice = (notice: NoticeKind): notice is 'no-data' | 'data-resumed' => notice === 'no-data' || notice === 'data-resumed';

function thresholdStatusOf(fields: Item, names: { state: string; bound: string; changedAt: string; openedAt: string }, notifiedAt: unknown, acknowledged: boolean): AlertStatus {
  const stored = fields[names.state];
  const condition = stored === 'breached' || stored === 'pending' ? stored : 'ok';
  const bound = condition === 'ok' ? undefined : asBound(fields[names.bound]);
  const openedAt = condition === 'breached' ? asString(fields[names.openedAt]) : undefined;
  return alertStatus(condition, bound, asString(fields[names.changedAt]), asString(notifiedAt), openedAt, openedAt !== undefined && acknowledged ? true : undefined);
}

function noDataStatusOf(item: Item): NoDataStatus {
  const silentSince = asString(item[NO_DATA_ATTRIBUTES.silentSince]);
  const openedAt = silentSince === undefined ? undefined : asString(item[NO_DATA_ATTRIBUTES.openedAt]);
  const acknowledged = openedAt !== undefined && item[NO_DATA_ATTRIBUTES.acknowledged] === openedAt;
  return { silentSince, openedAt, notifiedAt: asString(item[NO_DATA_ATTRIBUTES.notifiedAt]), acknowledged: acknowledged ? true : undefined };
}

function claimOf(stored: unknown): PendingClaim | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const fields = stored as Item;
  const token = asString(fields[CLAIM_FIELDS.token]);
  const readingAt = asString(fields[CLAIM_FIELDS.readingAt]);
  const expiresAt = numberOf(fields[CLAIM_FIELDS.expiresAt]);
  const notice = fields[CLAIM_FIELDS.notice];
  if (token === undefined || readingAt === undefined || expiresAt === undefined || typeof notice !== 'string' || !(NOTICE_KINDS as readonly string[]).includes(notice)) return undefined;
  if (isNoDataNotice(notice as NoticeKind)) {
    const silentSince = asString(fields[CLAIM_FIELDS.silentSince]);
    const next: NoDataStatus = { silentSince, openedAt: silentSince === undefined ? undefined : readingAt, notifiedAt: readingAt };
    return { token, readingAt, expiresAt, notice: notice as 'no-data' | 'data-resumed', next };
  }
  const next = thresholdStatusOf(fields, CLAIM_FIELDS, readingAt, fields[CLAIM_FIELDS.acknowledged] === true);
  return { token, readingAt, expiresAt, notice: notice as 'breach' | 'reminder' | 'recovery', next };
}

/** Parses a thresholds item (never throws; unknown attributes are ignored). */
export function seriesRecordOf(item: Item): SeriesAlertRecord {
  const { rule, problems } = readRule(item);
  const opened = item[ALERT_STATE_ATTRIBUTES.openedAt];
  const acknowledged = opened !== undefined && item[ALERT_STATE_ATTRIBUTES.acknowledged] === opened;
  const status = thresholdStatusOf(item, ALERT_STATE_ATTRIBUTES, item[ALERT_STATE_ATTRIBUTES.notifiedAt], acknowledged);
  const claim = claimOf(item[ALERT_STATE_ATTRIBUTES.claim]);
  return { item, rule, status, noData: noDataStatusOf(item), problems, claim };
}

/** The claim map stored on the thresholds item. */
export function encodeClaim(claim: PendingClaim): Item {
  const fields: Item = {
    [CLAIM_FIELDS.token]: claim.token,
    [CLAIM_FIELDS.readingAt]: claim.readingAt,
    [CLAIM_FIELDS.expiresAt]: claim.expiresAt,
    [CLAIM_FIELDS.notice]: claim.notice,
  };
  if (isNoDataNotice(claim.notice)) {
    const next = claim.next as NoDataStatus;
    if (next.silentSince !== undefined) fields[CLAIM_FIELDS.silentSince] = next.silentSince;
    return fields;
  }
  const next = claim.next as AlertStatus;
  fields[CLAIM_FIELDS.state] = next.condition;
  if (next.bound !== undefined) fields[CLAIM_FIELDS.bound] = next.bound;
  if (next.changedAt !== undefined) fields[CLAIM_FIELDS.changedAt] = next.changedAt;
  if (next.openedAt !== undefined) fields[CLAIM_FIELDS.openedAt] = next.openedAt;
  if (next.acknowledged === true) fields[CLAIM_FIELDS.acknowledged] = true;
  return fields;
}

/**
 * The thresholds-item update that makes `next` the threshold state. `openedKey` replaces
 * `next.openedAt` when the notice that opened the alert was recorded under another key.
 */
export function thresholdStateUpdate(next: AlertStatus, extra: { messageId?: string; openedKey?: string } = {}): AttributeUpdate {
  const A = ALERT_STATE_ATTRIBUTES;
  const set: Item = { [A.state]: next.condition };
  const remove: string[] = [];
  const put = (attribute: string, value: unknown) => (value === undefined ? remove.push(attribute) : (set[attribute] = value));
  if (next.notifiedAt !== undefined) set[A.notifiedAt] = next.notifiedAt;
  if (next.changedAt !== undefined) set[A.changedAt] = next.changedAt;
  if (extra.messageId !== undefined) set[A.messageId] = extra.messageId;
  put(A.bound, next.bound);
  const opened = next.condition === 'breached' ? (extra.openedKey ?? next.openedAt) : undefined;
  put(A.openedAt, opened);
  // An acknowledgement belongs to one alert: it goes when the alert recovers.
  if (next.condition !== 'breached') remove.push(A.acknowledged);
  return { set, remove };
}

/** The thresholds-item update that makes `next` the no-data state. */
export function noDataStateUpdate(next: NoDataStatus, extra: { messageId?: string; openedKey?: string } = {}): AttributeUpdate {
  const N = NO_DATA_ATTRIBUTES;
  const set: Item = {};
  const remove: string[] = [];
  const put = (attribute: string, value: unknown) => (value === undefined ? remove.push(attribute) : (set[attribute] = value));
  put(N.silentSince, next.silentSince);
  put(N.openedAt, next.silentSince === undefined ? undefined : (extra.openedKey ?? next.openedAt));
  if (next.notifiedAt !== undefined) set[N.notifiedAt] = next.notifiedAt;
  if (extra.messageId !== undefined) set[N.messageId] = extra.messageId;
  if (next.silentSince === undefined) remove.push(N.acknowledged);
  return { set, remove };
}

/** What confirming `claim` does to the thresholds item: its next state becomes the state, the claim goes. */
export function confirmedUpdate(claim: PendingClaim, extra: { messageId?: string; openedKey?: string }): AttributeUpdate {
  const update = isNoDataNotice(claim.notice) ? noDataStateUpdate(claim.next as NoDataStatus, extra) : thresholdStateUpdate(claim.next as AlertStatus, extra);
  return { set: update.set, remove: [...update.remove, ALERT_STATE_ATTRIBUTES.claim] };
}

/** The thresholds-item attribute that marks an alert of `kind` acknowledged, and the one that holds the open alert's key. */
export const acknowledgementAttributes = (kind: AlertKind): { acknowledged: string; openedAt: string } =>
  kind === 'breach'
    ? { acknowledged: ALERT_STATE_ATTRIBUTES.acknowledged, openedAt: ALERT_STATE_ATTRIBUTES.openedAt }
    : { acknowledged: NO_DATA_ATTRIBUTES.acknowledged, openedAt: NO_DATA_ATTRIBUTES.openedAt };

