/**
 * The alert state of each series, kept on its thresholds item, and the DynamoDB calls
 * that read and change it.
 *
 * Claim protocol (one notice per state change, even with racing or crashing consumers):
 *
 * 1. Decide on the state last read (`decideAlert`). Every change also moves
 *    `AlertNotifiedAt` forward to the reading's time, so that attribute is the version.
 * 2. Claim: UpdateItem SET `AlertClaim` = {token, reading time, next state, expiry},
 *    if the item exists, holds no claim, and `AlertNotifiedAt` is still the value read.
 *    A failed condition means someone else moved first: re-read and decide again.
 * 3. Publish to SNS.
 *    - On failure, release: REMOVE `AlertClaim` if it still holds our token. The record
 *      is reported in `batchItemFailures`, so Lambda delivers it again.
 * 4. Record: PutItem in the alerts table (key: series + reading time, with the message id).
 * 5. Confirm: SET the next state, `AlertNotifiedAt` = reading time, REMOVE `AlertClaim`,
 *    if it still holds our token.
 *
 * A live claim held by another consumer means a change is under way: wait for it to be
 * confirmed or released, then decide on the new state. A claim past its expiry belongs
 * to a consumer that died between steps 2 and 5; whoever meets it resolves it: when the
 * alerts table holds the notice of the claimed reading, the notice went out, so the
 * claim is confirmed (rolled forward); otherwise it is dropped and the reading, which
 * Lambda redelivers because its invocation failed, claims again. The one duplicate
 * left is a consumer dying after SNS accepted a notice and before step 4 wrote it down
 * (SNS standard topics cannot de-duplicate); nothing is ever lost.
 */
import { randomUUID } from 'node:crypto';
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ATTRIBUTES } from './contract';
import { DEFAULT_RETRY_POLICY, chunk, isRetryableError, mapWithConcurrency, retryWait, type RetryDeadline, type RetryPolicy } from './batching';
import { systemClock, type Clock } from './runtime';
import { alertStatus, type AlertStatus, type Bound, type NoticeKind, type Thresholds } from './alert-rules';
import type { Decimal } from './decimal';
import { numberOf, readThresholds, storedNumber } from './stored-number';

/** Alert-state attributes of the thresholds item (the web app reads the first four). */
export const ALERT_STATE_ATTRIBUTES = {
  /** `ok` or `breached`; absent means `ok`. */
  state: 'AlertState',
  /** `min` or `max`: the bound crossed, while breached. */
  bound: 'AlertBound',
  /** Reading time of the last change of state (e.g. "breached since"). */
  changedAt: 'AlertChangedAt',
  /** Reading time of the last notice sent: readings at or before it change nothing. */
  notifiedAt: 'AlertNotifiedAt',
  /** SNS message id of the last notice. */
  messageId: 'AlertMessageId',
  /** A notice being sent (map: Token, ReadingAt, ExpiresAt, Notice, State, Bound, ChangedAt). */
  claim: 'AlertClaim',
} as const;

/** Attributes of an alerts-table item besides its key (`ThingID`, `Timestamp` = reading time). */
export const ALERT_HISTORY_ATTRIBUTES = {
  /** `breach` or `recovery` (a reminder is a `breach` with `Reminder` true). */
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
} as const;

const CLAIM_FIELDS = {
  token: 'Token',
  readingAt: 'ReadingAt',
  expiresAt: 'ExpiresAt',
  notice: 'Notice',
  state: 'State',
  bound: 'Bound',
  changedAt: 'ChangedAt',
} as const;

/** A notice being sent: who sends it, for which reading, and the state it leads to. */
export interface PendingClaim {
  readonly token: string;
  readonly readingAt: string;
  /** Epoch milliseconds after which the claim counts as abandoned. */
  readonly expiresAt: number;
  readonly notice: NoticeKind;
  readonly next: AlertStatus;
}

/** What the thresholds table holds about one series. */
export interface SeriesAlertRecord {
  readonly thresholds: Thresholds;
  readonly status: AlertStatus;
  readonly claim?: PendingClaim;
  /** Why a stored bound was ignored, if one was. */
  readonly problems: readonly string[];
}

type Item = Record<string, unknown>;

const asString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const asBound = (value: unknown): Bound | undefined => (value === 'min' || value === 'max' ? value : undefined);

function statusOf(fields: Item, names: { state: string; bound: string; changedAt: string }, notifiedAt: unknown): AlertStatus {
  const condition = fields[names.state] === 'breached' ? 'breached' : 'ok';
  const bound = condition === 'breached' ? asBound(fields[names.bound]) : undefined;
  const changedAt = asString(fields[names.changedAt]);
  return alertStatus(condition, bound, changedAt, asString(notifiedAt));
}

function claimOf(stored: unknown): PendingClaim | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const fields = stored as Item;
  const token = asString(fields[CLAIM_FIELDS.token]);
  const readingAt = asString(fields[CLAIM_FIELDS.readingAt]);
  const expiresAt = numberOf(fields[CLAIM_FIELDS.expiresAt]);
  const notice = fields[CLAIM_FIELDS.notice];
  if (token === undefined || readingAt === undefined || expiresAt === undefined) return undefined;
  if (notice !== 'breach' && notice !== 'reminder' && notice !== 'recovery') return undefined;
  return { token, readingAt, expiresAt, notice, next: statusOf(fields, CLAIM_FIELDS, readingAt) };
}

/** Parses a thresholds item (never throws; unknown attributes are ignored). */
export function seriesRecordOf(item: Item): SeriesAlertRecord {
  const { thresholds, problems } = readThresholds(item[ATTRIBUTES.minThreshold], item[ATTRIBUTES.maxThreshold]);
  const status = statusOf(item, ALERT_STATE_ATTRIBUTES, item[ALERT_STATE_ATTRIBUTES.notifiedAt]);
  const claim = claimOf(item[ALERT_STATE_ATTRIBUTES.claim]);
  return { thresholds, status, problems, claim };
}

// ---------------------------------------------------------------------------
// Cache across warm invocations
// ---------------------------------------------------------------------------

export interface ThresholdCacheOptions {
  /** @default 60_000 */
  readonly ttlMs?: number;
  /** Oldest entries are dropped beyond this many series. @default 100_000 */
  readonly maxEntries?: number;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/**
 * Thresholds items (or their absence) by series, for a short time, so a warm container
 * does not re-read them for every batch. Our own writes update the entries; a change by
 * anyone else shows within the TTL, and the conditional writes keep decisions on a stale
 * entry from sending anything twice.
 */
export class ThresholdCache {
  private readonly entries = new Map<string, { record: SeriesAlertRecord | null; loadedAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ThresholdCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
    if (!(this.ttlMs >= 0) || !(this.maxEntries >= 1)) throw new Error('ThresholdCache needs ttlMs >= 0 and maxEntries >= 1');
  }

  /** The cached record (`null`: known to have no thresholds item), or `undefined` when unknown or expired. */
  get(series: string): SeriesAlertRecord | null | undefined {
    const entry = this.entries.get(series);
    if (entry === undefined) return undefined;
    if (this.now() - entry.loadedAt >= this.ttlMs) {
      this.entries.delete(series);
      return undefined;
    }
    return entry.record;
  }

  set(series: string, record: SeriesAlertRecord | null): void {
    this.entries.delete(series);
    this.entries.set(series, { record, loadedAt: this.now() });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Updates a record we changed ourselves, keeping its age (it was not re-read). */
  update(series: string, record: SeriesAlertRecord): void {
    const entry = this.entries.get(series);
    if (entry !== undefined) entry.record = record;
  }

  forget(series: string): void {
    this.entries.delete(series);
  }
}

// ---------------------------------------------------------------------------
// DynamoDB access
// ---------------------------------------------------------------------------

/**
 * Far above a normal SNS publish (well under a second), and short enough that a consumer
 * waiting for another's claim finishes inside the functions' 60 s timeout. A publish that
 * could outlast it risks a second send, so the SNS client needs a request timeout below it.
 */
export const DEFAULT_CLAIM_TIMEOUT_MS = 30_000;

/** BatchGetItem takes at most 100 keys. */
export const BATCH_GET_LIMIT = 100;

const isConditionFailure = (error: unknown): boolean => error instanceof Error && error.name === 'ConditionalCheckFailedException';

export interface AlertStateStoreOptions {
  readonly thresholdsTable: string;
  readonly alertsTable: string;
  /** How long a claim stays valid: longer than one SNS publish can take. @default DEFAULT_CLAIM_TIMEOUT_MS */
  readonly claimTimeoutMs?: number;
  /** Retries of a BatchGetItem chunk while keys come back unprocessed or the call is throttled. @default DEFAULT_RETRY_POLICY */
  readonly readRetry?: RetryPolicy;
  /** Parallel BatchGetItem calls. @default 4 */
  readonly readConcurrency?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default Math.random */
  readonly random?: () => number;
}


/** What is written for one notice sent. */
export interface SentNotice {
  readonly series: string;
  readonly claim: PendingClaim;
  readonly bound: Bound;
  readonly value: Decimal;
  readonly thresholds: Thresholds;
  readonly messageId: string;
  readonly subject: string;
  readonly expiresAt?: number;
}

export class AlertStateStore {
  readonly claimTimeoutMs: number;
  private readonly readRetry: RetryPolicy;
  private readonly readConcurrency: number;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly options: AlertStateStoreOptions,
  ) {
    this.claimTimeoutMs = options.claimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
    this.readRetry = options.readRetry ?? DEFAULT_RETRY_POLICY;
    this.readConcurrency = options.readConcurrency ?? 4;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /**
   * The thresholds items of `series` (distinct ids), `null` for those without one: one
   * BatchGetItem per 100 keys, plus retries of unprocessed or throttled keys. Throws when
   * keys are still unread after the retry policy's attempts (or at `deadline`, when given),
   * or on an error retrying cannot fix.
   */
  async readMany(series: readonly string[], deadline?: RetryDeadline): Promise<{ records: Map<string, SeriesAlertRecord | null>; requests: number }> {
    const records = new Map<string, SeriesAlertRecord | null>();
    const attempts = await mapWithConcurrency(chunk(series, BATCH_GET_LIMIT), this.readConcurrency, (keys) => this.readChunk(keys, records, deadline));
    for (const id of series) if (!records.has(id)) records.set(id, null);
    return { records, requests: attempts.reduce((sum, count) => sum + count, 0) };
  }

  /** Reads one chunk of keys into `into`; returns the number of BatchGetItem calls it took. */
  private async readChunk(series: readonly string[], into: Map<string, SeriesAlertRecord | null>, deadline: RetryDeadline | undefined): Promise<number> {
    const table = this.options.thresholdsTable;
    let keys: Item[] = series.map((id) => ({ [ATTRIBUTES.series]: id }));
    const timing = { policy: this.readRetry, random: this.random, ...(deadline === undefined ? {} : { deadline }) };
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      try {
        const response = await this.dynamo.send(
          // Consistent: the alert state must be the latest, not only the thresholds.
          new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[table] ?? []) {
          into.set(String(item[ATTRIBUTES.series]), seriesRecordOf(item));
        }
        keys = (response.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
        if (keys.length === 0) return attempt;
        failure = new Error(`${keys.length} thresholds items of ${table} were still unread after ${attempt} BatchGetItem attempts (throttled)`);
      } catch (error) {
        if (!isRetryableError(error)) throw error;
        failure = error;
      }
      const wait = retryWait(attempt, timing);
      if (wait === undefined) throw failure;
      await this.clock.sleep(wait);
    }
  }

  /** One series' item, read consistently. */
  async read(series: string): Promise<SeriesAlertRecord | null> {
    const response = await this.dynamo.send(
      new GetCommand({ TableName: this.options.thresholdsTable, Key: { [ATTRIBUTES.series]: series }, ConsistentRead: true }),
    );
    return response.Item === undefined ? null : seriesRecordOf(response.Item);
  }

  /** A fresh claim for `next`, caused by the reading at `readingAt`. */
  newClaim(notice: NoticeKind, readingAt: string, next: AlertStatus): PendingClaim {
    return { token: randomUUID(), readingAt, expiresAt: this.clock.now() + this.claimTimeoutMs, notice, next };
  }

  isAbandoned(claim: PendingClaim): boolean {
    return claim.expiresAt <= this.clock.now();
  }

  /** Step 2. False when the item changed since `seen` was read (or holds a claim, or is gone). */
  async claim(series: string, seen: AlertStatus, claim: PendingClaim): Promise<boolean> {
    const { state, bound, changedAt } = CLAIM_FIELDS;
    const stored: Item = {
      [CLAIM_FIELDS.token]: claim.token,
      [CLAIM_FIELDS.readingAt]: claim.readingAt,
      [CLAIM_FIELDS.expiresAt]: claim.expiresAt,
      [CLAIM_FIELDS.notice]: claim.notice,
      [state]: claim.next.condition,
      ...(claim.next.bound === undefined ? {} : { [bound]: claim.next.bound }),
      ...(claim.next.changedAt === undefined ? {} : { [changedAt]: claim.next.changedAt }),
    };
    const version = seen.notifiedAt === undefined ? 'attribute_not_exists(#notifiedAt)' : '#notifiedAt = :seen';
    return this.conditionalUpdate({
      TableName: this.options.thresholdsTable,
      Key: { [ATTRIBUTES.series]: series },
      UpdateExpression: 'SET #claim = :claim',
      ConditionExpression: `attribute_exists(#series) AND attribute_not_exists(#claim) AND ${version}`,
      ExpressionAttributeNames: {
        '#claim': ALERT_STATE_ATTRIBUTES.claim,
        '#series': ATTRIBUTES.series,
        '#notifiedAt': ALERT_STATE_ATTRIBUTES.notifiedAt,
      },
      ExpressionAttributeValues: { ':claim': stored, ...(seen.notifiedAt === undefined ? {} : { ':seen': seen.notifiedAt }) },
    });
  }

  /** Step 3 failed: give the claim up, if still ours. False when it was not ours any more. */
  async release(series: string, token: string): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.options.thresholdsTable,
      Key: { [ATTRIBUTES.series]: series },
      UpdateExpression: 'REMOVE #claim',
      ConditionExpression: '#claim.#token = :token',
      ExpressionAttributeNames: { '#claim': ALERT_STATE_ATTRIBUTES.claim, '#token': CLAIM_FIELDS.token },
      ExpressionAttributeValues: { ':token': token },
    });
  }

  /** Step 4: the alert history item, keyed by series and reading time. */
  async record(notice: SentNotice, sentAt: string): Promise<void> {
    const { thresholds, claim } = notice;
    const H = ALERT_HISTORY_ATTRIBUTES;
    const item: Item = {
      [ATTRIBUTES.series]: notice.series,
      [ATTRIBUTES.timestamp]: claim.readingAt,
      [H.kind]: claim.notice === 'recovery' ? 'recovery' : 'breach',
      [H.reminder]: claim.notice === 'reminder',
      [H.bound]: notice.bound,
      [H.value]: storedNumber(notice.value),
      [H.messageId]: notice.messageId,
      [H.subject]: notice.subject,
      [H.sentAt]: sentAt,
      ...(thresholds.min === undefined ? {} : { [H.minThreshold]: storedNumber(thresholds.min) }),
      ...(thresholds.max === undefined ? {} : { [H.maxThreshold]: storedNumber(thresholds.max) }),
      ...(notice.expiresAt === undefined ? {} : { [H.expiresAt]: notice.expiresAt }),
    };
    await this.dynamo.send(new PutCommand({ TableName: this.options.alertsTable, Item: item }));
  }

  /** The message id recorded for the notice `claim` was about, if it was sent. */
  async recordedMessageId(series: string, claim: PendingClaim): Promise<string | undefined> {
    const response = await this.dynamo.send(
      new GetCommand({
        TableName: this.options.alertsTable,
        Key: { [ATTRIBUTES.series]: series, [ATTRIBUTES.timestamp]: claim.readingAt },
        ConsistentRead: true,
      }),
    );
    const item = response.Item;
    const kind = claim.notice === 'recovery' ? 'recovery' : 'breach';
    if (item === undefined || item[ALERT_HISTORY_ATTRIBUTES.kind] !== kind) return undefined;
    return asString(item[ALERT_HISTORY_ATTRIBUTES.messageId]);
  }

  /** Step 5: the claimed state becomes the state. False when the claim was no longer ours. */
  async confirm(series: string, claim: PendingClaim, messageId: string): Promise<boolean> {
    const A = ALERT_STATE_ATTRIBUTES;
    const { next } = claim;
    const sets = ['#state = :state', '#notifiedAt = :notifiedAt', '#messageId = :messageId'];
    const removes = ['#claim'];
    const values: Item = { ':state': next.condition, ':notifiedAt': claim.readingAt, ':messageId': messageId, ':token': claim.token };
    if (next.changedAt !== undefined) {
      sets.push('#changedAt = :changedAt');
      values[':changedAt'] = next.changedAt;
    }
    if (next.bound === undefined) {
      removes.push('#bound');
    } else {
      sets.push('#bound = :bound');
      values[':bound'] = next.bound;
    }
    return this.conditionalUpdate({
      TableName: this.options.thresholdsTable,
      Key: { [ATTRIBUTES.series]: series },
      UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
      ConditionExpression: '#claim.#token = :token',
      ExpressionAttributeNames: {
        '#state': A.state,
        '#notifiedAt': A.notifiedAt,
        '#messageId': A.messageId,
        '#claim': A.claim,
        '#token': CLAIM_FIELDS.token,
        ...(next.changedAt === undefined ? {} : { '#changedAt': A.changedAt }),
        '#bound': A.bound,
      },
      ExpressionAttributeValues: values,
    });
  }

  /**
   * An abandoned claim: confirm it when its notice is on record (it was sent), drop it
   * otherwise. Returns what was done; a lost race (someone else resolved it) is fine.
   */
  async resolveAbandoned(series: string, claim: PendingClaim): Promise<'confirmed' | 'dropped'> {
    const messageId = await this.recordedMessageId(series, claim);
    if (messageId !== undefined) {
      await this.confirm(series, claim, messageId);
      return 'confirmed';
    }
    await this.release(series, claim.token);
    return 'dropped';
  }

  private async conditionalUpdate(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
    try {
      await this.dynamo.send(new UpdateCommand(input));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
