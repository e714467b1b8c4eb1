/**
 * The items of the alert protocol, encoded and decoded in one place for the handlers, the
 * web app, the tools and the drills:
 *
 * - the thresholds item of a series: its rule (range, waiting period, hysteresis, no-data
 *   period, recipients) and its alert state (threshold and no-data, the claim in flight,
 *   acknowledgements);
 * - the alert-history items of the alerts table: one per notice, keyed by series and event
 *   time; the notice that opens an alert also carries the fleet index keys and the alert's
 *   state (firing, acknowledged, resolved) and acknowledgement;
 * - silences, in the alerts table's partition SILENCES_PARTITION;
 * - rule changes (who, when, old and new rule, why), in the partition RULE_CHANGES_PARTITION.
 *
 * Decoding never throws: a malformed attribute is ignored (and, for the rule, reported).
 */
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import {
  alertStatus,
  type AlertKind,
  type AlertRule,
  type AlertStatus,
  type Bound,
  type NoDataStatus,
  type NoticeKind,
  type Thresholds,
} from './alert-rules';
import { ATTRIBUTES, FLEET_INDEX, RECIPIENT_GROUP_PATTERN } from './contract';
import { Decimal, describeDecimalProblem } from './decimal';
import { seriesIdProblem } from './reading';
import { decimalOf, numberOf, readThresholds, storedNumber } from './stored-number';

export type Item = Record<string, unknown>;

const asString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const asBound = (value: unknown): Bound | undefined => (value === 'min' || value === 'max' ? value : undefined);
const asDecimal = (value: unknown): Decimal | null => decimalOf(value) ?? null;

// ---------------------------------------------------------------------------
// The rule, on the thresholds item
// ---------------------------------------------------------------------------

export const RULE_ATTRIBUTES = {
  min: ATTRIBUTES.minThreshold,
  max: ATTRIBUTES.maxThreshold,
  forSeconds: 'ForSeconds',
  hysteresis: 'Hysteresis',
  noDataAfterSeconds: 'NoDataAfterSeconds',
  recipients: 'Recipients',
} as const;

/** Whole seconds a rule's periods may take. */
export const RULE_LIMITS = {
  forSeconds: { min: 0, max: 86_400 },
  noDataAfterSeconds: { min: 1, max: 30 * 86_400 },
} as const;

const RECIPIENT_GROUP = new RegExp(RECIPIENT_GROUP_PATTERN);

/** The fields of a rule as a tool or the web API is given them; names say what a problem is about. */
export interface RuleInput {
  readonly min?: Decimal | number;
  readonly max?: Decimal | number;
  readonly forSeconds?: number;
  readonly hysteresis?: Decimal | number;
  readonly noDataAfterSeconds?: number;
  readonly recipients?: string;
}

/** How problems name each field: `--for` on the command line, `forSeconds` in JSON. */
export type FieldNames = Readonly<Record<keyof RuleInput, string>>;

export const CLI_FIELD_NAMES: FieldNames = {
  min: '--min',
  max: '--max',
  forSeconds: '--for',
  hysteresis: '--hysteresis',
  noDataAfterSeconds: '--no-data-after',
  recipients: '--recipients',
};

/** How the web API's JSON names each field of a rule (`{"min", "max", "for", ...}`). */
export const JSON_FIELD_NAMES: FieldNames = {
  min: '"min"',
  max: '"max"',
  forSeconds: '"for"',
  hysteresis: '"hysteresis"',
  noDataAfterSeconds: '"noDataAfterSeconds"',
  recipients: '"recipients"',
};

/** A rule as the web API reads and writes it: absent fields are null. */
export interface RuleJson {
  readonly min: Decimal | null;
  readonly max: Decimal | null;
  readonly for: number;
  readonly hysteresis: Decimal | null;
  readonly noDataAfterSeconds: number | null;
  readonly recipients: string | null;
}

export const ruleJson = (rule: AlertRule): RuleJson => ({
  min: rule.min ?? null,
  max: rule.max ?? null,
  for: rule.forSeconds ?? 0,
  hysteresis: rule.hysteresis ?? null,
  noDataAfterSeconds: rule.noDataAfterSeconds ?? null,
  recipients: rule.recipients ?? null,
});

/**
 * The RuleInput of a JSON rule object, or the problems with its shape (unknown fields,
 * wrong types); what the values must be is checkRule's business. Null or absent means
 * "not set"; numbers may also be given as decimal strings, for digits a double cannot hold.
 */
export function ruleInputOfJson(given: unknown): { input: RuleInput; problems: string[] } {
  const names = JSON_FIELD_NAMES;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return { input: {}, problems: ['"rule" must be an object with "min", "max", "for", "hysteresis", "noDataAfterSeconds" and "recipients" (each optional)'] };
  const fields = given as Record<string, unknown>;
  const problems: string[] = [];
  const known = ['min', 'max', 'for', 'hysteresis', 'noDataAfterSeconds', 'recipients'];
  for (const key of Object.keys(fields)) if (!known.includes(key)) problems.push(`unknown rule field ${JSON.stringify(key)}: a rule takes ${known.map((name) => `"${name}"`).join(', ')}`);
  const decimal = (field: 'min' | 'max' | 'hysteresis'): Decimal | number | undefined => {
    const value = fields[field];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'number') return value;
    const parsed = typeof value === 'string' ? Decimal.parse(value.trim()) : undefined;
    if (parsed === undefined) problems.push(`${names[field]} must be a number, got ${JSON.stringify(value)}`);
    return parsed;
  };
  const seconds = (json: string, field: 'forSeconds' | 'noDataAfterSeconds'): number | undefined => {
    const value = fields[json];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') problems.push(`${names[field]} must be a number of seconds, got ${JSON.stringify(value)}`);
    return typeof value === 'number' ? value : undefined;
  };
  const recipients = (): string | undefined => {
    const value = fields.recipients;
    if (value !== undefined && value !== null && typeof value !== 'string') problems.push(`${names.recipients} must be the name of a recipient group, got ${JSON.stringify(value)}`);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  // In the rule's field order, so problems are listed as the fields are.
  const entries: [keyof RuleInput, unknown][] = [
    ['min', decimal('min')],
    ['max', decimal('max')],
    ['forSeconds', seconds('for', 'forSeconds')],
    ['hysteresis', decimal('hysteresis')],
    ['noDataAfterSeconds', seconds('noDataAfterSeconds', 'noDataAfterSeconds')],
    ['recipients', recipients()],
  ];
  return { input: Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as RuleInput, problems };
}

function wholeSecondsProblem(name: string, value: number, range: { min: number; max: number }): string | undefined {
  return Number.isSafeInteger(value) && value >= range.min && value <= range.max ? undefined : `${name} must be a whole number of seconds from ${range.min} to ${range.max}, got ${value}`;
}

/**
 * The rule `input` makes, and every problem with it and the series id, for one clear
 * message. A rule needs a bound or a no-data period; hysteresis needs a bound and must
 * leave room inside the range.
 */
export function checkRule(series: string, input: RuleInput, names: FieldNames = CLI_FIELD_NAMES): { rule: AlertRule; problems: string[] } {
  const problems: string[] = [];
  const seriesProblem = seriesIdProblem(series);
  if (seriesProblem !== undefined) problems.push(seriesProblem);
  const exact = (field: 'min' | 'max' | 'hysteresis', given: Decimal | number | undefined): Decimal | undefined => {
    if (given === undefined) return undefined;
    const value = Decimal.of(given);
    const problem = value?.storageProblem;
    if (value === undefined) problems.push(`${names[field]} must be a finite number, got ${given}`);
    else if (problem !== undefined) problems.push(`${names[field]} ${value.text} cannot be stored: ${describeDecimalProblem(problem)}`);
    return problem === undefined ? value : undefined;
  };
  const min = exact('min', input.min);
  const max = exact('max', input.max);
  const hysteresis = exact('hysteresis', input.hysteresis);
  if (input.min === undefined && input.max === undefined && input.noDataAfterSeconds === undefined) {
    problems.push(`give ${names.min}, ${names.max} or both, or ${names.noDataAfterSeconds}`);
  }
  if (min !== undefined && max !== undefined && min.compare(max) > 0) problems.push(`${names.min} ${min.text} is above ${names.max} ${max.text}`);
  if (hysteresis !== undefined) {
    if (hysteresis.sign < 0) problems.push(`${names.hysteresis} must be 0 or more, got ${hysteresis.text}`);
    else if (min === undefined && max === undefined) problems.push(`${names.hysteresis} needs ${names.min} or ${names.max}: it is a margin inside the range`);
    else if (min !== undefined && max !== undefined && hysteresis.plus(hysteresis).compare(max.minus(min)) >= 0) {
      problems.push(`${names.hysteresis} ${hysteresis.text} leaves no room to recover: twice it must be less than ${names.max} - ${names.min} (${max.minus(min).text})`);
    }
  }
  if (input.forSeconds !== undefined) {
    const problem = wholeSecondsProblem(names.forSeconds, input.forSeconds, RULE_LIMITS.forSeconds);
    if (problem !== undefined) problems.push(problem);
    else if (min === undefined && max === undefined && input.forSeconds > 0) problems.push(`${names.forSeconds} needs ${names.min} or ${names.max}: it is how long a breach must last`);
  }
  if (input.noDataAfterSeconds !== undefined) {
    const problem = wholeSecondsProblem(names.noDataAfterSeconds, input.noDataAfterSeconds, RULE_LIMITS.noDataAfterSeconds);
    if (problem !== undefined) problems.push(problem);
  }
  if (input.recipients !== undefined && !RECIPIENT_GROUP.test(input.recipients)) {
    problems.push(`${names.recipients} must name a recipient group of the configuration (lower-case letters, digits and "-", starting with a letter, at most 32), got ${JSON.stringify(input.recipients)}`);
  }
  const rule: AlertRule = {
    min,
    max,
    forSeconds: input.forSeconds ?? 0,
    hysteresis,
    noDataAfterSeconds: input.noDataAfterSeconds,
    recipients: input.recipients,
  };
  return { rule, problems };
}

/**
 * The rule as stored. A malformed field is ignored and reported; bounds that contradict
 * each other disable both (readThresholds), a hysteresis without room disables itself.
 */
export function readRule(item: Item): { rule: AlertRule; problems: string[] } {
  const read = readThresholds(item[RULE_ATTRIBUTES.min], item[RULE_ATTRIBUTES.max]);
  const { thresholds } = read;
  const problems = [...read.problems];
  const whole = (name: string, stored: unknown, range: { min: number; max: number }): number | undefined => {
    if (stored === undefined || stored === null) return undefined;
    const value = numberOf(stored);
    if (value !== undefined && wholeSecondsProblem(name, value, range) === undefined) return value;
    problems.push(`${name} ${JSON.stringify(stored instanceof NumberValue ? stored.value : stored)} is not a whole number of seconds from ${range.min} to ${range.max}, so it is ignored`);
    return undefined;
  };
  const forSeconds = whole(RULE_ATTRIBUTES.forSeconds, item[RULE_ATTRIBUTES.forSeconds], RULE_LIMITS.forSeconds);
  const noDataAfterSeconds = whole(RULE_ATTRIBUTES.noDataAfterSeconds, item[RULE_ATTRIBUTES.noDataAfterSeconds], RULE_LIMITS.noDataAfterSeconds);
  let hysteresis = decimalOf(item[RULE_ATTRIBUTES.hysteresis]);
  if (hysteresis !== undefined && (hysteresis.sign < 0 || leavesNoRoom(thresholds, hysteresis))) {
    problems.push(`${RULE_ATTRIBUTES.hysteresis} ${hysteresis.text} is negative or leaves no room inside the range, so it is ignored`);
    hysteresis = undefined;
  }
  const storedGroup = item[RULE_ATTRIBUTES.recipients];
  const recipients = typeof storedGroup === 'string' && RECIPIENT_GROUP.test(storedGroup) ? storedGroup : undefined;
  if (storedGroup !== undefined && recipients === undefined) problems.push(`${RULE_ATTRIBUTES.recipients} ${JSON.stringify(storedGroup)} is not a recipient group name, so the default group gets its alerts`);
  // Every key present (possibly undefined): one shape for every rule, as for statuses.
  return { rule: { min: thresholds.min, max: thresholds.max, forSeconds: forSeconds ?? 0, hysteresis, noDataAfterSeconds, recipients }, problems };
}

const leavesNoRoom = (thresholds: Thresholds, hysteresis: Decimal): boolean =>
  thresholds.min !== undefined && thresholds.max !== undefined && hysteresis.plus(hysteresis).compare(thresholds.max.minus(thresholds.min)) >= 0;

/** The attributes to set and remove on the thresholds item for `rule`; the alert state is left alone. */
export function ruleUpdate(rule: AlertRule): { set: Item; remove: string[] } {
  const set: Item = {};
  const remove: string[] = [];
  const put = (attribute: string, value: unknown) => (value === undefined ? remove.push(attribute) : (set[attribute] = value));
  put(RULE_ATTRIBUTES.min, rule.min === undefined ? undefined : storedNumber(rule.min));
  put(RULE_ATTRIBUTES.max, rule.max === undefined ? undefined : storedNumber(rule.max));
  put(RULE_ATTRIBUTES.forSeconds, rule.forSeconds === undefined || rule.forSeconds === 0 ? undefined : rule.forSeconds);
  put(RULE_ATTRIBUTES.hysteresis, rule.hysteresis === undefined || rule.hysteresis.sign === 0 ? undefined : storedNumber(rule.hysteresis));
  put(RULE_ATTRIBUTES.noDataAfterSeconds, rule.noDataAfterSeconds);
  put(RULE_ATTRIBUTES.recipients, rule.recipients);
  return { set, remove };
}

// ---------------------------------------------------------------------------
// The alert state, on the thresholds item
// ---------------------------------------------------------------------------

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

const NOTICES: readonly string[] = ['breach', 'reminder', 'recovery', 'no-data', 'data-resumed'];
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
  if (token === undefined || readingAt === undefined || expiresAt === undefined || typeof notice !== 'string' || !NOTICES.includes(notice)) return undefined;
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

/** SET and REMOVE of an UpdateItem, by attribute name. */
export interface AttributeUpdate {
  readonly set: Item;
  readonly remove: readonly string[];
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

/** The UpdateItem parameters that make `update`: SET and REMOVE with placeholder names and values. */
export function updateExpression(update: AttributeUpdate): { UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(update.set).map(([attribute, value], index) => {
    names[`#s${index}`] = attribute;
    values[`:s${index}`] = value;
    return `#s${index} = :s${index}`;
  });
  const removes = update.remove.map((attribute, index) => {
    names[`#r${index}`] = attribute;
    return `#r${index}`;
  });
  return {
    UpdateExpression: [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
    ExpressionAttributeNames: names,
    ...(sets.length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** Applies an update to an item as DynamoDB would (top-level attributes only), for the cache. */
export function applyUpdate(item: Item, update: AttributeUpdate): Item {
  const next: Item = { ...item, ...update.set };
  for (const attribute of update.remove) delete next[attribute];
  return next;
}

// ---------------------------------------------------------------------------
// Alert history (alerts table)
// ---------------------------------------------------------------------------

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
  fleetKey: FLEET_INDEX.hashKey,
  fleetSort: FLEET_INDEX.rangeKey,
  resolvedAt: 'ResolvedAt',
  resolvedBy: 'ResolvedBy',
  acknowledgedBy: 'AcknowledgedBy',
  acknowledgedAt: 'AcknowledgedAt',
  acknowledgedNote: 'AcknowledgedNote',
} as const;

export const ALERT_STATES = ['firing', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export const ALERT_KINDS: readonly AlertKind[] = ['breach', 'no-data'];

/** The fleet index partition of alerts of one kind in one state. */
export const fleetKey = (state: AlertState, kind: AlertKind): string => `${state}#${kind}`;
/** The fleet index sort key: newest first by opening time, unique by series. */
export const fleetSort = (openedKey: string, series: string): string => `${openedKey}#${series}`;

/** The alert a notice opens, if it opens one. */
export const alertKindOpenedBy = (notice: NoticeKind, previous: 'ok' | 'pending' | 'breached' | 'silent' | 'reporting'): AlertKind | undefined =>
  notice === 'no-data' ? 'no-data' : notice === 'breach' && previous !== 'breached' ? 'breach' : undefined;

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

export interface Acknowledgement {
  readonly by: string;
  /** ISO 8601 wall clock. */
  readonly at: string;
  readonly note: string;
}

/** What an opening notice says about the alert it opened. */
export interface AlertEpisode {
  readonly kind: AlertKind;
  readonly state: AlertState;
  readonly resolvedAt: string | null;
  readonly acknowledged: Acknowledgement | null;
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

function episodeOf(item: Item): AlertEpisode | null {
  const H = ALERT_HISTORY_ATTRIBUTES;
  const key = asString(item[H.fleetKey]);
  if (key === undefined) return null;
  const [state, kind] = key.split('#');
  if (!(ALERT_STATES as readonly string[]).includes(state ?? '') || !(ALERT_KINDS as readonly string[]).includes(kind ?? '')) return null;
  const by = asString(item[H.acknowledgedBy]);
  const at = asString(item[H.acknowledgedAt]);
  return {
    kind: kind as AlertKind,
    state: state as AlertState,
    resolvedAt: asString(item[H.resolvedAt]) ?? null,
    acknowledged: by === undefined || at === undefined ? null : { by, at, note: typeof item[H.acknowledgedNote] === 'string' ? (item[H.acknowledgedNote] as string) : '' },
  };
}

/** Reads a history item (never throws). */
export function decodeNotice(item: Item): AlertHistoryEntry {
  const H = ALERT_HISTORY_ATTRIBUTES;
  const stored = item[H.kind];
  const kind: AlertHistoryEntry['kind'] =
    item[H.reminder] === true ? 'reminder' : typeof stored === 'string' && NOTICES.includes(stored) && stored !== 'reminder' ? (stored as NoticeKind) : 'unknown';
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
    alert: episodeOf(item),
  };
}

/** The update that resolves the alert an opening notice opened (idempotent). */
export function resolveEpisodeUpdate(kind: AlertKind, resolvedAt: string, resolvedBy: string): AttributeUpdate {
  const H = ALERT_HISTORY_ATTRIBUTES;
  return { set: { [H.fleetKey]: fleetKey('resolved', kind), [H.resolvedAt]: resolvedAt, [H.resolvedBy]: resolvedBy }, remove: [] };
}

/** The update that acknowledges an alert. */
export function acknowledgeEpisodeUpdate(kind: AlertKind, acknowledgement: Acknowledgement): AttributeUpdate {
  const H = ALERT_HISTORY_ATTRIBUTES;
  return {
    set: {
      [H.fleetKey]: fleetKey('acknowledged', kind),
      [H.acknowledgedBy]: acknowledgement.by,
      [H.acknowledgedAt]: acknowledgement.at,
      [H.acknowledgedNote]: acknowledgement.note,
    },
    remove: [],
  };
}

/** The thresholds-item attribute that marks an alert of `kind` acknowledged, and the one that holds the open alert's key. */
export const acknowledgementAttributes = (kind: AlertKind): { acknowledged: string; openedAt: string } =>
  kind === 'breach'
    ? { acknowledged: ALERT_STATE_ATTRIBUTES.acknowledged, openedAt: ALERT_STATE_ATTRIBUTES.openedAt }
    : { acknowledged: NO_DATA_ATTRIBUTES.acknowledged, openedAt: NO_DATA_ATTRIBUTES.openedAt };

/** A normalised timestamp one microsecond later: the next free key after a taken one. */
export function nextMicrosecond(timestamp: string): string {
  const micros = Number(timestamp.slice(20, 26)) + 1;
  if (micros < 1_000_000) return `${timestamp.slice(0, 20)}${String(micros).padStart(6, '0')}Z`;
  const next = new Date(Date.parse(`${timestamp.slice(0, 19)}Z`) + 1000).toISOString().slice(0, 19);
  return `${next}.000000Z`;
}

// ---------------------------------------------------------------------------
// Silences (alerts table, one partition)
// ---------------------------------------------------------------------------

/** The alerts-table partition silences live in: no series is called this (a series id has a "/"). */
export const SILENCES_PARTITION = '(silences)';

export const SILENCE_ATTRIBUTES = {
  id: 'SilenceId',
  target: 'Target',
  startsAt: 'StartsAt',
  endsAt: 'EndsAt',
  createdBy: 'CreatedBy',
  createdAt: 'CreatedAt',
  reason: 'Reason',
} as const;

export interface Silence {
  readonly id: string;
  /** A series id, or a prefix ending in "/" that covers every series under it. */
  readonly target: string;
  /** Normalised timestamps; the window is [startsAt, endsAt). */
  readonly startsAt: string;
  readonly endsAt: string;
  readonly createdBy: string;
  /** ISO 8601 wall clock. */
  readonly createdAt: string;
  readonly reason: string;
}

/** Silences sort by their end, so "silences still running at t" is one Query from t on. */
export const silenceKey = (silence: Pick<Silence, 'endsAt' | 'id'>): string => `${silence.endsAt}#${silence.id}`;

export function encodeSilence(silence: Silence): Item {
  const S = SILENCE_ATTRIBUTES;
  return {
    [ATTRIBUTES.series]: SILENCES_PARTITION,
    [ATTRIBUTES.timestamp]: silenceKey(silence),
    [S.id]: silence.id,
    [S.target]: silence.target,
    [S.startsAt]: silence.startsAt,
    [S.endsAt]: silence.endsAt,
    [S.createdBy]: silence.createdBy,
    [S.createdAt]: silence.createdAt,
    [S.reason]: silence.reason,
  };
}

export function decodeSilence(item: Item): Silence | undefined {
  const S = SILENCE_ATTRIBUTES;
  const fields = [S.id, S.target, S.startsAt, S.endsAt, S.createdBy, S.createdAt].map((name) => asString(item[name]));
  if (fields.some((field) => field === undefined)) return undefined;
  const [id, target, startsAt, endsAt, createdBy, createdAt] = fields as string[];
  return { id: id!, target: target!, startsAt: startsAt!, endsAt: endsAt!, createdBy: createdBy!, createdAt: createdAt!, reason: typeof item[S.reason] === 'string' ? (item[S.reason] as string) : '' };
}

/** Whether a silence target is well formed: a series id, or a prefix ending in "/". */
export function silenceTargetProblem(target: string): string | undefined {
  if (target.endsWith('/')) return target.length >= 2 && !/[\u0000-\u001f]/.test(target) ? undefined : `a prefix must be at least one character before its final "/", without control characters`;
  const problem = seriesIdProblem(target);
  return problem === undefined ? undefined : `${problem}; or give a prefix ending in "/" (every series under it)`;
}

/** Whether `silence` holds the notices of `series` at `time` (a normalised timestamp). */
export const silenceCovers = (silence: Silence, series: string, time: string): boolean =>
  silence.startsAt <= time && time < silence.endsAt && (silence.target.endsWith('/') ? series.startsWith(silence.target) : series === silence.target);

// ---------------------------------------------------------------------------
// Rule changes (alerts table, one partition)
// ---------------------------------------------------------------------------

/**
 * The alerts-table partition rule changes live in (no series is called this: a series id
 * has a "/"). Sort key `<series>` U+001F `<changed at>` U+001F `<id>`: a series' changes,
 * newest first, are one Query on the key's prefix. U+001F, a control character, is in no
 * series id, so one series' prefix never covers another's.
 */
export const RULE_CHANGES_PARTITION = '(rule-changes)';
const RULE_CHANGE_SEPARATOR = '\u001f';

export const RULE_CHANGE_ATTRIBUTES = {
  id: 'ChangeId',
  series: 'Series',
  changedBy: 'ChangedBy',
  changedAt: 'ChangedAt',
  reason: 'Reason',
  /** The rule's stored attributes before and after (a map, as on the thresholds item); absent before the first rule. */
  before: 'Before',
  after: 'After',
} as const;

export interface RuleChange {
  readonly id: string;
  readonly series: string;
  readonly changedBy: string;
  /** ISO 8601 wall clock. */
  readonly changedAt: string;
  readonly reason: string;
  /** Null when the series had no rule. */
  readonly before: AlertRule | null;
  readonly after: AlertRule;
}

/** The key prefix of every change of `series`. */
export const ruleChangesPrefix = (series: string): string => `${series}${RULE_CHANGE_SEPARATOR}`;

export function encodeRuleChange(change: RuleChange): Item {
  const R = RULE_CHANGE_ATTRIBUTES;
  const item: Item = {
    [ATTRIBUTES.series]: RULE_CHANGES_PARTITION,
    [ATTRIBUTES.timestamp]: `${ruleChangesPrefix(change.series)}${change.changedAt}${RULE_CHANGE_SEPARATOR}${change.id}`,
    [R.id]: change.id,
    [R.series]: change.series,
    [R.changedBy]: change.changedBy,
    [R.changedAt]: change.changedAt,
    [R.reason]: change.reason,
    [R.after]: ruleUpdate(change.after).set,
  };
  if (change.before !== null) item[R.before] = ruleUpdate(change.before).set;
  return item;
}

export function decodeRuleChange(item: Item): RuleChange | undefined {
  const R = RULE_CHANGE_ATTRIBUTES;
  const fields = [R.id, R.series, R.changedBy, R.changedAt].map((name) => asString(item[name]));
  const after = item[R.after];
  if (fields.some((field) => field === undefined) || typeof after !== 'object' || after === null) return undefined;
  const [id, series, changedBy, changedAt] = fields as string[];
  const before = item[R.before];
  return {
    id: id!,
    series: series!,
    changedBy: changedBy!,
    changedAt: changedAt!,
    reason: typeof item[R.reason] === 'string' ? (item[R.reason] as string) : '',
    before: typeof before === 'object' && before !== null ? readRule(before as Item).rule : null,
    after: readRule(after as Item).rule,
  };
}

/** Whether the thresholds item holds a rule at all (a bound or a no-data period). */
export const hasRule = (item: Item | undefined): item is Item =>
  item !== undefined && [RULE_ATTRIBUTES.min, RULE_ATTRIBUTES.max, RULE_ATTRIBUTES.noDataAfterSeconds].some((name) => item[name] !== undefined);
