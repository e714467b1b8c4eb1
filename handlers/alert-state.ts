/**
 * The DynamoDB calls of the alert protocol: the alert state of each series lives on its
 * thresholds item, the notices in the alerts table (items encoded in alert-state-item.ts and notice-item.ts).
 * The notifier (alert-notifier.ts) runs the protocol with these calls:
 *
 * 1. Decide on the state last read (alert-rules.ts). Every change of state moves a
 *    version attribute forward (`AlertNotifiedAt` for the threshold rule,
 *    `NoDataNotifiedAt` for the no-data rule) to the event's time.
 * 2. Claim: UpdateItem SET `AlertClaim` = {token, event time, next state, expiry},
 *    if the item exists, holds no claim, and the version is still the value read (and, for
 *    a reminder, the alert is not acknowledged). A failed condition means someone else
 *    moved first: re-read and decide again. One claim per series, whichever rule it is for.
 * 3. Publish to SNS (the rule's recipient group).
 *    - On failure, release: REMOVE `AlertClaim` if it still holds our token; the event is
 *      tried again (Lambda redelivers the record, the next no-data check runs again).
 * 4. Record: PutItem in the alerts table, keyed by series and event time (one microsecond
 *    later when another notice of the series holds that time), with the claim's token.
 *    A notice that ends an alert also marks the notice that opened it resolved.
 * 5. Confirm: SET the next state, REMOVE `AlertClaim`, if it still holds our token.
 *
 * A change without a notice (a waiting period starting or ending) is one conditional
 * UpdateItem on the version, with no claim.
 *
 * A live claim held by another consumer means a change is under way: wait for it to be
 * confirmed or released, then decide on the new state. A claim past its expiry belongs
 * to a consumer that died between steps 2 and 5; whoever meets it resolves it: when the
 * alerts table holds the notice with the claim's token, the notice went out, so the
 * claim is confirmed (rolled forward); otherwise it is dropped and the event claims
 * again. The one duplicate left is a consumer dying after SNS accepted a notice and
 * before step 4 wrote it down (SNS standard topics cannot de-duplicate); nothing is lost.
 */
import { randomUUID } from 'node:crypto';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AlertKind, AlertStatus, NoDataStatus, NoticeKind } from './alert-rules';
import { resolveEpisodeUpdate } from './alert-episode-item';
import { ALERT_STATE_ATTRIBUTES, NO_DATA_ATTRIBUTES, encodeClaim, confirmedUpdate, seriesRecordOf, type PendingClaim, type SeriesAlertRecord } from './alert-state-item';
import type { AttributeUpdate, Item } from './item-codec';
import { ALERT_HISTORY_ATTRIBUTES, encodeNotice, nextMicrosecond, type NoticeRecord } from './notice-item';
import { SILENCES_PARTITION, decodeSilence, type Silence } from './silence-item';
import { DEFAULT_RETRY_POLICY, chunk, isRetryableError, mapWithConcurrency, retryWait, type RetryDeadline, type RetryPolicy } from './batching';
import { DYNAMODB_BATCH_GET_SIZE } from './batch-write';
import { ATTRIBUTES } from './contract';
import { systemClock, type Clock } from './runtime';

/**
 * Far above a normal SNS publish (well under a second), and short enough that a consumer
 * waiting for another's claim finishes inside the functions' 60 s timeout. A publish that
 * could outlast it risks a second send, so the SNS client needs a request timeout below it.
 */
export const DEFAULT_CLAIM_TIMEOUT_MS = 30_000;

/** How far past its event time a notice's key may move when other notices of the series hold those times. */
const MAX_KEY_SHIFTS = 16;

const isConditionFailure = (error: unknown): boolean => error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** The rule a notice belongs to: its state and version attributes differ, its claim is shared. */
export const ruleOfNotice = (notice: NoticeKind): AlertKind => (notice === 'no-data' || notice === 'data-resumed' ? 'no-data' : 'breach');

const VERSION_ATTRIBUTE: Record<AlertKind, string> = { breach: ALERT_STATE_ATTRIBUTES.notifiedAt, 'no-data': NO_DATA_ATTRIBUTES.notifiedAt };

export interface AlertStateStoreOptions {
  readonly thresholdsTable: string;
  readonly alertsTable: string;
  /** How long a claim stays valid: longer than one SNS publish can take. @default DEFAULT_CLAIM_TIMEOUT_MS */
  readonly claimTimeoutMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default Math.random */
  readonly random?: () => number;
}

/** The alert an ending notice closes: the kind, and the history key of the notice that opened it. */
export interface ResolvedAlert {
  readonly kind: AlertKind;
  readonly openedKey: string;
}

/** An UpdateItem's expression parts for `update`, with `#a0`-style names. */
function updateParts(update: AttributeUpdate): Pick<UpdateCommandInput, 'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  let next = 0;
  for (const [attribute, value] of Object.entries(update.set)) {
    const id = next++;
    names[`#a${id}`] = attribute;
    values[`:a${id}`] = value;
    sets.push(`#a${id} = :a${id}`);
  }
  for (const attribute of new Set(update.remove)) {
    if (attribute in update.set) continue;
    const id = next++;
    names[`#a${id}`] = attribute;
    removes.push(`#a${id}`);
  }
  const expression = [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
  return { UpdateExpression: expression, ExpressionAttributeNames: names, ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}) };
}

export class AlertStateStore {
  readonly claimTimeoutMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly readRetry: RetryPolicy = DEFAULT_RETRY_POLICY;

  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly options: AlertStateStoreOptions,
  ) {
    this.claimTimeoutMs = options.claimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /**
   * The thresholds items of `series` (distinct ids), `null` for those without one: one
   * BatchGetItem per 100 keys, four at a time, plus retries of unprocessed or throttled
   * keys. Throws when keys are still unread after the retry policy's attempts (or at
   * `deadline`, when given), or on an error retrying cannot fix.
   */
  async readMany(series: readonly string[], deadline?: RetryDeadline): Promise<{ records: Map<string, SeriesAlertRecord | null>; requests: number }> {
    const records = new Map<string, SeriesAlertRecord | null>();
    const attempts = await mapWithConcurrency(chunk(series, DYNAMODB_BATCH_GET_SIZE), 4, (keys) => this.readChunk(keys, records, deadline));
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
          // Consistent: the alert state must be the latest, not only the rule.
          new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[table] ?? []) into.set(String(item[ATTRIBUTES.series]), seriesRecordOf(item));
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
    const response = await this.dynamo.send(new GetCommand({ TableName: this.options.thresholdsTable, Key: { [ATTRIBUTES.series]: series }, ConsistentRead: true }));
    return response.Item === undefined ? null : seriesRecordOf(response.Item);
  }

  /** A fresh claim for the state `next`, caused by the event at `readingAt`. */
  newClaim(notice: 'breach' | 'reminder' | 'recovery', readingAt: string, next: AlertStatus): PendingClaim;
  newClaim(notice: 'no-data' | 'data-resumed', readingAt: string, next: NoDataStatus): PendingClaim;
  newClaim(notice: NoticeKind, readingAt: string, next: AlertStatus | NoDataStatus): PendingClaim {
    return { token: randomUUID(), readingAt, expiresAt: this.clock.now() + this.claimTimeoutMs, notice, next } as PendingClaim;
  }

  isAbandoned(claim: PendingClaim): boolean {
    return claim.expiresAt <= this.clock.now();
  }

  /** The version condition of `kind` against the value `seen`, with its names and values. */
  private versionCondition(kind: AlertKind, seen: string | undefined) {
    return {
      expression: seen === undefined ? 'attribute_not_exists(#version)' : '#version = :seen',
      names: { '#version': VERSION_ATTRIBUTE[kind] },
      values: seen === undefined ? {} : { ':seen': seen },
    };
  }

  /**
   * Step 2. False when the item changed since `seen` (the version of the claim's rule)
   * was read, holds a claim, is gone, or (for a reminder) the alert was acknowledged meanwhile.
   */
  async claim(series: string, seen: string | undefined, claim: PendingClaim): Promise<boolean> {
    const version = this.versionCondition(ruleOfNotice(claim.notice), seen);
    const acknowledgement = claim.notice === 'reminder' ? ' AND (attribute_not_exists(#acknowledged) OR #acknowledged <> #opened)' : '';
    return this.conditionalUpdate({
      TableName: this.options.thresholdsTable,
      Key: { [ATTRIBUTES.series]: series },
      UpdateExpression: 'SET #claim = :claim',
      ConditionExpression: `attribute_exists(#series) AND attribute_not_exists(#claim) AND ${version.expression}${acknowledgement}`,
      ExpressionAttributeNames: {
        '#claim': ALERT_STATE_ATTRIBUTES.claim,
        '#series': ATTRIBUTES.series,
        ...version.names,
        ...(acknowledgement === '' ? {} : { '#acknowledged': ALERT_STATE_ATTRIBUTES.acknowledged, '#opened': ALERT_STATE_ATTRIBUTES.openedAt }),
      },
      ExpressionAttributeValues: { ':claim': encodeClaim(claim), ...version.values },
    });
  }

  /** A change of state without a notice: conditional on the version and on no claim in flight. */
  async apply(series: string, kind: AlertKind, seen: string | undefined, update: AttributeUpdate): Promise<boolean> {
    const version = this.versionCondition(kind, seen);
    const parts = updateParts(update);
    return this.conditionalUpdate({
      TableName: this.options.thresholdsTable,
      Key: { [ATTRIBUTES.series]: series },
      ...parts,
      ConditionExpression: `attribute_exists(#series) AND attribute_not_exists(#claim) AND ${version.expression}`,
      ExpressionAttributeNames: { ...parts.ExpressionAttributeNames, '#series': ATTRIBUTES.series, '#claim': ALERT_STATE_ATTRIBUTES.claim, ...version.names },
      ExpressionAttributeValues: { ...(parts.ExpressionAttributeValues ?? {}), ...version.values },
    });
  }

  /** Step 3 failed: give the claim up, if still ours. False when it was not ours any more. */
  async release(series: string, token: string): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.options.thresholdsTable,
      Key: { [ATTRIBUTES.series]: series },
      UpdateExpression: 'REMOVE #claim',
      ConditionExpression: '#claim.#token = :token',
      ExpressionAttributeNames: { '#claim': ALERT_STATE_ATTRIBUTES.claim, '#token': 'Token' },
      ExpressionAttributeValues: { ':token': token },
    });
  }

  /**
   * Step 4: the history item, under the event time or the first free microsecond after it
   * (a put of our own item again is fine); and when the notice ends an alert, the alert
   * marked resolved on the notice that opened it. Resolves to the key written.
   */
  async record(notice: NoticeRecord, resolves?: ResolvedAlert): Promise<string> {
    const H = ALERT_HISTORY_ATTRIBUTES;
    let key = notice.at;
    for (let shift = 0; ; shift++) {
      try {
        await this.dynamo.send(
          new PutCommand({
            TableName: this.options.alertsTable,
            Item: encodeNotice(notice, key),
            ConditionExpression: 'attribute_not_exists(#time) OR #token = :token',
            ExpressionAttributeNames: { '#time': ATTRIBUTES.timestamp, '#token': H.claimToken },
            ExpressionAttributeValues: { ':token': notice.claimToken },
          }),
        );
        break;
      } catch (error) {
        if (!isConditionFailure(error) || shift >= MAX_KEY_SHIFTS) throw error;
        key = nextMicrosecond(key);
      }
    }
    if (resolves !== undefined) await this.resolveAlert(notice.series, resolves, notice.at, key);
    return key;
  }

  /** Marks an alert resolved on the notice that opened it; nothing when that notice is gone (expired). */
  async resolveAlert(series: string, alert: ResolvedAlert, resolvedAt: string, resolvedBy: string): Promise<void> {
    const parts = updateParts(resolveEpisodeUpdate(alert.kind, resolvedAt, resolvedBy));
    await this.conditionalUpdate({
      TableName: this.options.alertsTable,
      Key: { [ATTRIBUTES.series]: series, [ATTRIBUTES.timestamp]: alert.openedKey },
      ...parts,
      ConditionExpression: 'attribute_exists(#series)',
      ExpressionAttributeNames: { ...parts.ExpressionAttributeNames, '#series': ATTRIBUTES.series },
    });
  }

  /** The history item written for `claim`, if its notice was sent: the key it is under and its message id. */
  async findRecorded(series: string, claim: PendingClaim): Promise<{ key: string; messageId: string } | undefined> {
    const H = ALERT_HISTORY_ATTRIBUTES;
    let last = claim.readingAt;
    for (let shift = 0; shift < MAX_KEY_SHIFTS; shift++) last = nextMicrosecond(last);
    const response = await this.dynamo.send(
      new QueryCommand({
        TableName: this.options.alertsTable,
        KeyConditionExpression: '#series = :series AND #time BETWEEN :first AND :last',
        ExpressionAttributeNames: { '#series': ATTRIBUTES.series, '#time': ATTRIBUTES.timestamp },
        ExpressionAttributeValues: { ':series': series, ':first': claim.readingAt, ':last': last },
        ConsistentRead: true,
      }),
    );
    const kind = claim.notice === 'reminder' ? 'breach' : claim.notice;
    for (const item of response.Items ?? []) {
      const token = item[H.claimToken];
      // Items written before claims were recorded on them: the notice of that kind at the claimed time.
      const ours = token === undefined ? item[ATTRIBUTES.timestamp] === claim.readingAt && item[H.kind] === kind : token === claim.token;
      if (ours) return { key: String(item[ATTRIBUTES.timestamp]), messageId: typeof item[H.messageId] === 'string' ? (item[H.messageId] as string) : '' };
    }
    return undefined;
  }

  /**
   * Step 5: the claimed state becomes the state; `openedKey` is where the notice that
   * opened an alert was recorded. False when the claim was no longer ours.
   */
  async confirm(series: string, claim: PendingClaim, messageId: string, openedKey?: string): Promise<boolean> {
    const parts = updateParts(confirmedUpdate(claim, { messageId, ...(openedKey === undefined ? {} : { openedKey }) }));
    return this.conditionalUpdate({
      TableName: this.options.thresholdsTable,
      Key: { [ATTRIBUTES.series]: series },
      ...parts,
      ConditionExpression: '#claim.#token = :token',
      ExpressionAttributeNames: { ...parts.ExpressionAttributeNames, '#claim': ALERT_STATE_ATTRIBUTES.claim, '#token': 'Token' },
      ExpressionAttributeValues: { ...(parts.ExpressionAttributeValues ?? {}), ':token': claim.token },
    });
  }

  /**
   * An abandoned claim: confirm it when its notice is on record (it was sent), finishing
   * what recording it does (the alert it ends marked resolved); drop it otherwise.
   * A lost race (someone else resolved it) is fine.
   */
  async resolveAbandoned(series: string, claim: PendingClaim, resolves?: ResolvedAlert): Promise<'confirmed' | 'dropped'> {
    const recorded = await this.findRecorded(series, claim);
    if (recorded !== undefined) {
      if (resolves !== undefined) await this.resolveAlert(series, resolves, claim.readingAt, recorded.key);
      await this.confirm(series, claim, recorded.messageId, recorded.key);
      return 'confirmed';
    }
    await this.release(series, claim.token);
    return 'dropped';
  }

  /** Silences that have not ended by `time` (running or still to come), read consistently. */
  async silencesFrom(time: string): Promise<Silence[]> {
    const silences: Silence[] = [];
    let start: Item | undefined;
    do {
      const page = await this.dynamo.send(
        new QueryCommand({
          TableName: this.options.alertsTable,
          KeyConditionExpression: '#series = :partition AND #time > :time',
          ExpressionAttributeNames: { '#series': ATTRIBUTES.series, '#time': ATTRIBUTES.timestamp },
          ExpressionAttributeValues: { ':partition': SILENCES_PARTITION, ':time': time },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const silence = decodeSilence(item);
        if (silence !== undefined) silences.push(silence);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return silences;
  }

  private async conditionalUpdate(input: UpdateCommandInput): Promise<boolean> {
    try {
      await this.dynamo.send(new UpdateCommand(input));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
