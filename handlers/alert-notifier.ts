/**
 * The alert notifier: the one home of the claim protocol (alert-state.ts) for every kind
 * of notice. A handler gives it a series' record and a decision function; the notifier
 * waits out or resolves claims in the way, checks silences, claims, publishes to the
 * rule's recipient group, records the notice, confirms the new state, and keeps a
 * read-through cache of thresholds items consistent with its own writes. Handlers only
 * parse, group and dispatch.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NoticeText } from './alert-messages';
import type { AlertKind, AlertStatus, NoDataStatus, NoticeKind, Thresholds } from './alert-rules';
import { confirmedUpdate, seriesRecordOf, type PendingClaim, type SeriesAlertRecord } from './alert-state-item';
import { applyUpdate, type AttributeUpdate } from './item-codec';
import type { NoticeRecord } from './notice-item';
import { silenceCovers, type Silence } from './silence-item';
import { AlertStateStore, ruleOfNotice, type ResolvedAlert } from './alert-state';
import { describeError, type RetryDeadline } from './batching';
import { DEFAULT_RECIPIENT_GROUP } from './contract';
import type { Decimal } from './decimal';
import { expiresAtOf, splitSeriesId } from './reading-item';
import { timestampOfMillis } from './reading-timestamp';
import { systemClock, type Clock } from './runtime';
import { ThresholdCache } from './threshold-cache';

// ---------------------------------------------------------------------------
// Plans: what a decision asks the notifier to do
// ---------------------------------------------------------------------------

/** A notice to send, decided on a record. */
export interface NoticePlan {
  readonly action: 'notify';
  readonly notice: NoticeKind;
  /** Event time: the claim's and the history item's time. */
  readonly at: string;
  /** The state once sent (of the notice's rule). */
  readonly next: AlertStatus | NoDataStatus;
  readonly text: NoticeText;
  /** What the notice is about, for the history item and webhooks. */
  readonly details: { readonly bound?: 'min' | 'max'; readonly value?: Decimal; readonly thresholds?: Thresholds; readonly since?: string };
  /** The alert this notice opens, if any (listed across the fleet from then on). */
  readonly opens?: AlertKind;
  /** The alert this notice ends, if any. */
  readonly resolves?: ResolvedAlert;
  /** The time silences are judged at. @default `at` (a reading's time) */
  readonly silencedAt?: string;
}

/** A change of state without a notice (a waiting period, a no-data rule removed while silent). */
export interface ChangePlan {
  readonly action: 'change';
  readonly rule: AlertKind;
  readonly update: AttributeUpdate;
  readonly resolves?: ResolvedAlert;
}

export type Plan = { readonly action: 'none'; readonly reason: string } | ChangePlan | NoticePlan;

/** Decides on a record; asked again with the fresh record whenever the state moved under it. */
export type Decide = (record: SeriesAlertRecord) => Plan;

export type SettleResult = 'quiet' | 'changed' | 'notified' | 'held' | 'failed';

export interface Outcome {
  readonly record: SeriesAlertRecord | null;
  readonly result: SettleResult;
}

/** What one batch (or one check) did, logged once. */
export interface NotifierCounts {
  notices: Record<NoticeKind, number>;
  quiet: Record<string, number>;
  changes: number;
  /** Notices held back by a silence. */
  held: number;
  claimConflicts: number;
  claimWaits: number;
  abandonedClaims: number;
}

export const emptyCounts = (): NotifierCounts => ({
  notices: { breach: 0, reminder: 0, recovery: 0, 'no-data': 0, 'data-resumed': 0 },
  quiet: {},
  changes: 0,
  held: 0,
  claimConflicts: 0,
  claimWaits: 0,
  abandonedClaims: 0,
});

/** The SNS topic of each recipient group: the default group's, and the configured ones by name. */
export interface RecipientTopics {
  readonly defaultTopicArn: string;
  readonly groups: Readonly<Record<string, string>>;
}

export interface AlertNotifierOptions {
  readonly dynamo: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly thresholdsTable: string;
  readonly alertsTable: string;
  readonly topics: RecipientTopics;
  /** Days history items are kept (TTL), counted from each notice's event time. @default kept for ever */
  readonly hotRetentionDays?: number;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Drives the cache TTL, claim expiry and waits. @default systemClock */
  readonly clock?: Clock;
  /** @default Math.random */
  readonly random?: () => number;
  /** How long thresholds items are reused across warm invocations. @default ThresholdCache's 60 s */
  readonly cacheTtlMs?: number;
  /** How long a claim is honoured before it counts as abandoned. @default DEFAULT_CLAIM_TIMEOUT_MS */
  readonly claimTimeoutMs?: number;
}

/** Lost claims and abandoned claims met by one event before it is given back. */
const MAX_CLAIM_CONFLICTS = 5;

/** The alert a claim ends, if it ends one, from the state it was made on. */
function alertEndedBy(claim: PendingClaim, record: SeriesAlertRecord): ResolvedAlert | undefined {
  if (claim.notice === 'recovery' && record.status.openedAt !== undefined) return { kind: 'breach', openedKey: record.status.openedAt };
  if (claim.notice === 'data-resumed' && record.noData.openedAt !== undefined) return { kind: 'no-data', openedKey: record.noData.openedAt };
  return undefined;
}

/** The version of the notice's rule in `record`: the claim's condition. */
const versionOf = (record: SeriesAlertRecord, rule: AlertKind): string | undefined => (rule === 'breach' ? record.status.notifiedAt : record.noData.notifiedAt);

export class AlertNotifier {
  readonly store: AlertStateStore;
  private readonly cache: ThresholdCache;
  private readonly clock: Clock;
  private readonly log: AlertNotifierOptions['logger'];
  /** Silences read for the current batch, from `floor` on. */
  private silences: { floor: string; loaded: Promise<Silence[]> } | undefined;
  private readonly unknownGroupsLogged = new Set<string>();

  constructor(private readonly options: AlertNotifierOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
    this.cache = new ThresholdCache({ now: () => this.clock.now(), ...(options.cacheTtlMs === undefined ? {} : { ttlMs: options.cacheTtlMs }) });
    this.store = new AlertStateStore(options.dynamo, {
      thresholdsTable: options.thresholdsTable,
      alertsTable: options.alertsTable,
      clock: this.clock,
      ...(options.claimTimeoutMs === undefined ? {} : { claimTimeoutMs: options.claimTimeoutMs }),
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  }

  get claimTimeoutMs(): number {
    return this.store.claimTimeoutMs;
  }

  /** Starts a batch: silences are read again (once) when a notice is due. */
  beginBatch(): void {
    this.silences = undefined;
  }

  /**
   * The records of `series`: cached ones, the rest read with BatchGetItem (and cached).
   * Resolves to the records and how many were cache hits and BatchGetItem calls.
   */
  async load(series: readonly string[], deadline?: RetryDeadline): Promise<{ records: Map<string, SeriesAlertRecord | null>; cacheHits: number; requests: number }> {
    const records = new Map<string, SeriesAlertRecord | null>();
    const missing: string[] = [];
    for (const id of series) {
      const cached = this.cache.get(id);
      if (cached === undefined) missing.push(id);
      else records.set(id, cached);
    }
    if (missing.length === 0) return { records, cacheHits: series.length, requests: 0 };
    const loaded = await this.store.readMany(missing, deadline);
    for (const id of missing) {
      const record = loaded.records.get(id) ?? null;
      this.cache.set(id, record);
      records.set(id, record);
      if (record !== null && record.problems.length > 0) this.log.warn('thresholds item has unusable fields', { series: id, problems: record.problems });
    }
    return { records, cacheHits: series.length - missing.length, requests: loaded.requests };
  }

  /** Drops a series from the cache (its state is unknown after a failure). */
  forget(series: string): void {
    this.cache.forget(series);
  }

  private async reread(series: string): Promise<SeriesAlertRecord | null> {
    const record = await this.store.read(series);
    this.cache.set(series, record);
    return record;
  }

  private async silenced(series: string, time: string): Promise<Silence | undefined> {
    if (this.silences === undefined || this.silences.floor > time) this.silences = { floor: time, loaded: this.store.silencesFrom(time) };
    const silences = await this.silences.loaded;
    return silences.find((silence) => silenceCovers(silence, series, time));
  }

  /**
   * Carries out what `decide` says for `series`, starting from `initial`: waits up to
   * `waitBudgetMs` for another consumer's claim, resolves abandoned claims, and decides
   * again whenever the state moved under it. Throws on an error of DynamoDB it cannot ride out.
   */
  async settle(series: string, initial: SeriesAlertRecord | null, decide: Decide, waitBudgetMs: number, counts: NotifierCounts): Promise<Outcome> {
    let record = initial;
    let conflicts = 0;
    let waits = 0;
    let waitedMs = 0;
    for (;;) {
      if (record === null) return this.quiet(counts, 'no-thresholds', null);
      const { claim } = record;
      if (claim !== undefined) {
        if (this.store.isAbandoned(claim)) {
          if (++conflicts > MAX_CLAIM_CONFLICTS) return this.giveUp(series);
          const resolution = await this.store.resolveAbandoned(series, claim, alertEndedBy(claim, record));
          counts.abandonedClaims += 1;
          this.log.warn('resolved an abandoned alert claim', { series, claimedAt: claim.readingAt, notice: claim.notice, resolution });
        } else {
          if (waitedMs >= waitBudgetMs) {
            this.log.warn('another consumer still holds the alert claim; the event is tried again', { series, waitedMs });
            return { record, result: 'failed' };
          }
          const pause = Math.min(1_000, 100 * 2 ** waits++, waitBudgetMs - waitedMs);
          counts.claimWaits += 1;
          await this.clock.sleep(pause);
          waitedMs += pause;
        }
        record = await this.reread(series);
        continue;
      }

      const plan = decide(record);
      if (plan.action === 'none') return this.quiet(counts, plan.reason, record);
      if (plan.action === 'change') {
        if (await this.store.apply(series, plan.rule, versionOf(record, plan.rule), plan.update)) {
          if (plan.resolves !== undefined) await this.store.resolveAlert(series, plan.resolves, timestampOfMillis(this.clock.now()), 'rule changed');
          const changed = seriesRecordOf(applyUpdate(record.item, plan.update));
          this.cache.update(series, changed);
          counts.changes += 1;
          return { record: changed, result: 'changed' };
        }
      } else {
        const silence = await this.silenced(series, plan.silencedAt ?? plan.at);
        if (silence !== undefined) {
          counts.held += 1;
          this.log.info('notice held by a silence', { series, notice: plan.notice, at: plan.at, silence: silence.id, until: silence.endsAt });
          return { record, result: 'held' };
        }
        const claimed = plan.notice === 'no-data' || plan.notice === 'data-resumed'
          ? this.store.newClaim(plan.notice, plan.at, plan.next as NoDataStatus)
          : this.store.newClaim(plan.notice, plan.at, plan.next as AlertStatus);
        if (await this.store.claim(series, versionOf(record, ruleOfNotice(plan.notice)), claimed)) return this.send(series, record, plan, claimed, counts);
      }
      counts.claimConflicts += 1;
      if (++conflicts > MAX_CLAIM_CONFLICTS) return this.giveUp(series);
      record = await this.reread(series);
    }
  }

  private quiet(counts: NotifierCounts, reason: string, record: SeriesAlertRecord | null): Outcome {
    counts.quiet[reason] = (counts.quiet[reason] ?? 0) + 1;
    return { record, result: 'quiet' };
  }

  private giveUp(series: string): Outcome {
    this.log.warn('alert state kept changing under this consumer; the event is tried again', { series });
    this.cache.forget(series);
    return { record: null, result: 'failed' };
  }

  private topicOf(series: string, group: string | undefined): { arn: string; group: string } {
    if (group === undefined || group === DEFAULT_RECIPIENT_GROUP) return { arn: this.options.topics.defaultTopicArn, group: DEFAULT_RECIPIENT_GROUP };
    const arn = this.options.topics.groups[group];
    if (arn !== undefined) return { arn, group };
    // Never lost: a group the configuration no longer has falls back to the default one.
    if (!this.unknownGroupsLogged.has(group)) {
      this.unknownGroupsLogged.add(group);
      this.log.warn('a rule names a recipient group the configuration does not declare; its alerts go to the default group', { series, group });
    }
    return { arn: this.options.topics.defaultTopicArn, group: DEFAULT_RECIPIENT_GROUP };
  }

  /** Steps 3-5, once the claim is ours. */
  private async send(series: string, record: SeriesAlertRecord, plan: NoticePlan, claim: PendingClaim, counts: NotifierCounts): Promise<Outcome> {
    const topic = this.topicOf(series, record.rule.recipients);
    let messageId: string;
    try {
      const published = await this.options.sns.send(
        new PublishCommand({ TopicArn: topic.arn, Subject: plan.text.subject, Message: protocolMessages(series, plan), MessageStructure: 'json' }),
      );
      messageId = published.MessageId ?? '';
    } catch (error) {
      this.log.error('alert not published; releasing the claim so the event is tried again', { series, notice: plan.notice, at: plan.at, error: describeError(error) });
      try {
        if (!(await this.store.release(series, claim.token))) this.cache.forget(series);
      } catch (releaseError) {
        this.log.warn('claim not released; it expires and is resolved later', { series, error: describeError(releaseError) });
        this.cache.forget(series);
      }
      return { record, result: 'failed' };
    }
    counts.notices[plan.notice] += 1;
    this.log.info('alert published', { series, notice: plan.notice, at: plan.at, group: topic.group, messageId });

    let recordedKey: string | undefined;
    try {
      const expiresAt = expiresAtOf(plan.at, this.options.hotRetentionDays);
      const notice: NoticeRecord = {
        series,
        notice: plan.notice,
        at: plan.at,
        claimToken: claim.token,
        messageId,
        subject: plan.text.subject,
        sentAt: new Date(this.clock.now()).toISOString(),
        recipients: topic.group,
        ...(plan.details.bound === undefined ? {} : { bound: plan.details.bound }),
        ...(plan.details.value === undefined ? {} : { value: plan.details.value }),
        ...(plan.details.thresholds === undefined ? {} : { rule: plan.details.thresholds }),
        ...(plan.details.since === undefined ? {} : { since: plan.details.since }),
        ...(plan.opens === undefined ? {} : { opens: plan.opens }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      };
      recordedKey = await this.store.record(notice, plan.resolves);
    } catch (error) {
      this.log.error('alert sent but its history item was not written', { series, at: plan.at, messageId, error: describeError(error) });
    }
    const extra = { messageId, ...(plan.opens === undefined || recordedKey === undefined ? {} : { openedKey: recordedKey }) };
    if (await this.store.confirm(series, claim, messageId, extra.openedKey)) {
      const confirmed = seriesRecordOf(applyUpdate(record.item, confirmedUpdate(claim, extra)));
      this.cache.update(series, confirmed);
      return { record: confirmed, result: 'notified' };
    }
    // Our claim outlived its timeout and was resolved by someone else from the history item.
    this.log.warn('claim expired before it was confirmed', { series, at: plan.at, claimTimeoutMs: this.claimTimeoutMs });
    return { record: await this.reread(series), result: 'notified' };
  }
}

/**
 * The message for each kind of subscriber (SNS `MessageStructure: json`): email the whole
 * text (`default`), SMS the one-line subject (one message of at most 160 characters),
 * HTTPS webhooks a JSON document with every field and exact values.
 */
function protocolMessages(series: string, plan: NoticePlan): string {
  const { thingId, metric } = splitSeriesId(series);
  const { details } = plan;
  const fields: [string, string | Decimal | undefined][] = [
    ['notice', plan.notice],
    ['series', series],
    ['thingId', thingId],
    ['metric', metric],
    ['at', plan.at],
    ['value', details.value],
    ['bound', details.bound],
    ['minThreshold', details.thresholds?.min],
    ['maxThreshold', details.thresholds?.max],
    ['since', details.since],
    ['subject', plan.text.subject],
  ];
  // Values and bounds as JSON numbers with every digit (JSON.stringify would round them through doubles).
  const webhook = `{${fields
    .filter((field): field is [string, string | Decimal] => field[1] !== undefined)
    .map(([name, value]) => `${JSON.stringify(name)}:${typeof value === 'string' ? JSON.stringify(value) : value.text}`)
    .join(',')}}`;
  return JSON.stringify({ default: plan.text.message, sms: plan.text.subject, https: webhook });
}
