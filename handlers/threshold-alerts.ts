/**
 * Kinesis consumer that e-mails threshold alerts: every metric of every
 * reading is checked against its series' thresholds; a change of state (out of range,
 * back to normal) and a reminder per cooldown are published to SNS and recorded in the
 * alerts table. The claim protocol in alert-state.ts makes each notice go out once.
 *
 * Not built on the Powertools batch processor: records are not independent here. A batch
 * is read in two passes: the first parses every record and gathers the batch's series, whose
 * thresholds are then read at once (cache, then BatchGetItem); the second walks the readings
 * in stream order without I/O, since most change nothing. A series' first reading that
 * needs I/O, and every later one of that series, are then settled in order, while different
 * series proceed side by side.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { decideAlert, formatNotice, type AlertDecision, type NoticeKind, type QuietReason } from './alert-rules';
import { AlertStateStore, ThresholdCache, type PendingClaim, type SeriesAlertRecord } from './alert-state';
import { describeError, mapWithConcurrency, type RetryDeadline } from './batching';
import type { Decimal } from './decimal';
import { readingOfRecord } from './kinesis-record';
import { readingItems, seriesId, splitSeriesId, type Reading } from './reading';
import { awsClients, lazyHandler, loadSettings, logger as runtimeLogger, retryDeadline, systemClock, type Clock, type Settings } from './runtime';

const REQUIRED_SETTINGS = ['thresholdsTable', 'alertsTable', 'alertTopicArn'] as const;

export type ThresholdAlertsSettings = Pick<
  Settings<(typeof REQUIRED_SETTINGS)[number]>,
  'thresholdsTable' | 'alertsTable' | 'alertTopicArn' | 'alertCooldownSeconds' | 'hotRetentionDays' | 'futureToleranceSeconds'
>;

export interface ThresholdAlertsDeps {
  readonly dynamo: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly settings: ThresholdAlertsSettings;
  /** @default the shared runtime logger */
  readonly logger?: Logger;
  /** Drives the cache TTL, claim expiry and waits. @default systemClock */
  readonly clock?: Clock;
  /** @default Math.random */
  readonly random?: () => number;
  /** How long thresholds and alert state are reused across warm invocations. @default ThresholdCache's 60 s */
  readonly cacheTtlMs?: number;
  /**
   * How long a claim is honoured before it counts as abandoned: longer than one SNS publish
   * can take, shorter than the function timeout (a consumer may wait that long for another's claim).
   * @default DEFAULT_CLAIM_TIMEOUT_MS (30 s)
   */
  readonly claimTimeoutMs?: number;
  /** Series evaluated side by side (each in stream order). @default 16 */
  readonly seriesConcurrency?: number;
}

export type ThresholdAlertsHandler = (event: KinesisStreamEvent, context?: Context) => Promise<KinesisStreamBatchResponse>;

/** One metric of one reading, where it came from in the batch. */
interface Observation {
  readonly recordIndex: number;
  readonly value: Decimal;
  readonly timestamp: string;
  /** The latest reading time (epoch ms) accepted when its record arrived (see decideAlert). */
  readonly horizonMs: number;
}

/** One series met in the batch, and its thresholds item (`null`: none). */
interface SeriesSlot {
  readonly series: string;
  record: SeriesAlertRecord | null;
  /** Its readings from the first one that needs I/O on, in stream order. */
  queue?: Observation[];
}

type Outcome = { readonly record: SeriesAlertRecord | null; readonly result: 'quiet' | 'notified' | 'failed' };

/** Per-batch counts, logged once per invocation. */
interface BatchCounts {
  records: number;
  skipped: number;
  skippedReasons: Record<string, number>;
  series: number;
  cacheHits: number;
  thresholdReads: number;
  notices: Record<NoticeKind, number>;
  quiet: Record<QuietReason, number>;
  claimConflicts: number;
  claimWaits: number;
  abandonedClaims: number;
  failedRecords: number;
}

/** Lost claims and abandoned claims met by one reading before it is handed back to Lambda. */
const MAX_CLAIM_CONFLICTS = 5;
/** Time kept free at the end of an invocation when waiting for another consumer's claim. */
const INVOCATION_MARGIN_MS = 5_000;

export function createThresholdAlertsHandler(deps: ThresholdAlertsDeps): ThresholdAlertsHandler {
  const { settings, sns } = deps;
  const log = deps.logger ?? runtimeLogger;
  const clock = deps.clock ?? systemClock;
  const seriesConcurrency = deps.seriesConcurrency ?? 16;
  const cooldown = settings.alertCooldownSeconds;
  const toleranceMs = settings.futureToleranceSeconds * 1000;
  const cache = new ThresholdCache({ now: () => clock.now(), ...(deps.cacheTtlMs === undefined ? {} : { ttlMs: deps.cacheTtlMs }) });
  const store = new AlertStateStore(deps.dynamo, {
    thresholdsTable: settings.thresholdsTable,
    alertsTable: settings.alertsTable,
    clock,
    ...(deps.claimTimeoutMs === undefined ? {} : { claimTimeoutMs: deps.claimTimeoutMs }),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
  const { claimTimeoutMs } = store;

  const reread = async (series: string): Promise<SeriesAlertRecord | null> => {
    const record = await store.read(series);
    cache.set(series, record);
    return record;
  };

  /** The history item expires with the reading it is about (`readingItems` holds the rule). */
  function historyExpiry(series: string, reading: Observation): { expiresAt?: number } {
    if (settings.hotRetentionDays === undefined) return {};
    const { thingId, metric } = splitSeriesId(series);
    const [item] = readingItems({ id: thingId, timestamp: reading.timestamp, metrics: new Map([[metric, reading.value]]) }, settings.hotRetentionDays);
    return item?.ExpiresAt === undefined ? {} : { expiresAt: item.ExpiresAt };
  }

  /** Steps 3-5 of the protocol, once the claim is ours. */
  async function send(series: string, record: SeriesAlertRecord, reading: Observation, decision: AlertDecision & { action: 'notify' }, claim: PendingClaim, counts: BatchCounts): Promise<Outcome> {
    const text = formatNotice({ notice: decision.notice, series, bound: decision.bound, thresholds: record.thresholds, reading, cooldownSeconds: cooldown });
    let messageId: string;
    try {
      const published = await sns.send(new PublishCommand({ TopicArn: settings.alertTopicArn, Subject: text.subject, Message: text.message }));
      messageId = published.MessageId ?? '';
    } catch (error) {
      log.error('alert not published; releasing the claim so the record is retried', { series, notice: decision.notice, readingAt: reading.timestamp, error: describeError(error) });
      try {
        if (!(await store.release(series, claim.token))) cache.forget(series);
      } catch (releaseError) {
        log.warn('claim not released; it expires and is resolved later', { series, error: describeError(releaseError) });
        cache.forget(series);
      }
      return { record, result: 'failed' };
    }
    counts.notices[decision.notice] += 1;
    log.info('alert published', { series, notice: decision.notice, bound: decision.bound, value: reading.value, readingAt: reading.timestamp, messageId });

    try {
      await store.record(
        { series, claim, bound: decision.bound, value: reading.value, thresholds: record.thresholds, messageId, subject: text.subject, ...historyExpiry(series, reading) },
        new Date(clock.now()).toISOString(),
      );
    } catch (error) {
      log.error('alert sent but its history item was not written', { series, readingAt: reading.timestamp, messageId, error: describeError(error) });
    }
    if (await store.confirm(series, claim, messageId)) {
      const confirmed: SeriesAlertRecord = { thresholds: record.thresholds, status: claim.next, problems: record.problems, claim: undefined };
      cache.update(series, confirmed);
      return { record: confirmed, result: 'notified' };
    }
    // Our claim outlived its timeout and was resolved by someone else from the history item.
    log.warn('claim expired before it was confirmed', { series, readingAt: reading.timestamp, claimTimeoutMs });
    return { record: await reread(series), result: 'notified' };
  }

  function giveUp(series: string, reading: Observation): Outcome {
    log.warn('alert state kept changing under this consumer; the record is retried', { series, readingAt: reading.timestamp });
    cache.forget(series);
    return { record: null, result: 'failed' };
  }

  /** The slow path of one reading: a claim is in the way or a notice is due. */
  async function settle(series: string, initial: SeriesAlertRecord, reading: Observation, waitBudgetMs: number, counts: BatchCounts): Promise<Outcome> {
    let record: SeriesAlertRecord | null = initial;
    let conflicts = 0;
    let waits = 0;
    let waitedMs = 0;
    for (;;) {
      if (record === null) {
        counts.quiet['no-thresholds'] += 1;
        return { record, result: 'quiet' };
      }
      const { claim } = record;
      if (claim !== undefined) {
        if (store.isAbandoned(claim)) {
          if (++conflicts > MAX_CLAIM_CONFLICTS) return giveUp(series, reading);
          const resolution = await store.resolveAbandoned(series, claim);
          counts.abandonedClaims += 1;
          log.warn('resolved an abandoned alert claim', { series, claimedReadingAt: claim.readingAt, notice: claim.notice, resolution });
        } else {
          if (waitedMs >= waitBudgetMs) {
            log.warn('another consumer still holds the alert claim; the record is retried', { series, readingAt: reading.timestamp, waitedMs });
            return { record, result: 'failed' };
          }
          const pause = Math.min(1_000, 100 * 2 ** waits++, waitBudgetMs - waitedMs);
          counts.claimWaits += 1;
          await clock.sleep(pause);
          waitedMs += pause;
        }
        record = await reread(series);
        continue;
      }
      const decision = decideAlert(record.thresholds, record.status, reading, cooldown, reading.horizonMs);
      if (decision.action === 'none') {
        counts.quiet[decision.reason] += 1;
        return { record, result: 'quiet' };
      }
      const newClaim = store.newClaim(decision.notice, reading.timestamp, decision.next);
      if (await store.claim(series, record.status, newClaim)) return send(series, record, reading, decision, newClaim, counts);
      counts.claimConflicts += 1;
      if (++conflicts > MAX_CLAIM_CONFLICTS) return giveUp(series, reading);
      record = await reread(series);
    }
  }

  /** Settles a series' readings from its first one needing I/O, in stream order; returns the record index it stopped at, if any. */
  async function settleSeries(slot: SeriesSlot, readings: readonly Observation[], waitBudgetMs: number, counts: BatchCounts): Promise<number | undefined> {
    let record = slot.record;
    for (const reading of readings) {
      if (record === null) {
        counts.quiet['no-thresholds'] += 1;
        continue;
      }
      let outcome: Outcome;
      try {
        outcome = await settle(slot.series, record, reading, waitBudgetMs, counts);
      } catch (error) {
        log.error('alert state could not be read or written; the record is retried', { series: slot.series, readingAt: reading.timestamp, error: describeError(error) });
        cache.forget(slot.series);
        return reading.recordIndex;
      }
      // Later readings of a failed series wait for its redelivery, so stream order holds.
      if (outcome.result === 'failed') return reading.recordIndex;
      record = outcome.record;
    }
    return undefined;
  }

  /** Fills in each slot's record, from the cache or with BatchGetItem calls. */
  async function loadRecords(slots: readonly SeriesSlot[], counts: BatchCounts, deadline: RetryDeadline | undefined): Promise<void> {
    const missing: SeriesSlot[] = [];
    for (const slot of slots) {
      const cached = cache.get(slot.series);
      if (cached === undefined) missing.push(slot);
      else slot.record = cached;
    }
    counts.cacheHits = slots.length - missing.length;
    if (missing.length === 0) return;
    const loaded = await store.readMany(missing.map((slot) => slot.series), deadline);
    counts.thresholdReads = loaded.requests;
    for (const slot of missing) {
      const record = loaded.records.get(slot.series) ?? null;
      cache.set(slot.series, record);
      slot.record = record;
      if (record !== null && record.problems.length > 0) log.warn('thresholds item has unusable bounds', { series: slot.series, problems: record.problems });
    }
  }

  return async (event, context) => {
    const counts: BatchCounts = {
      records: event.Records.length,
      skipped: 0,
      skippedReasons: {},
      series: 0,
      cacheHits: 0,
      thresholdReads: 0,
      notices: { breach: 0, reminder: 0, recovery: 0 },
      quiet: { 'no-thresholds': 0, 'not-newer': 0, 'in-range': 0, cooldown: 0 },
      claimConflicts: 0,
      claimWaits: 0,
      abandonedClaims: 0,
      failedRecords: 0,
    };

    // Pass 1: parse, and meet every series of the batch (for one BatchGetItem per 100).
    // Slots are found by thing, then metric: metric names from JSON.parse are interned,
    // so no "<id>/<metric>" string is built and hashed per metric per record.
    const readings: (Reading | undefined)[] = new Array(event.Records.length);
    const horizons: number[] = new Array(event.Records.length);
    const slotsByThing = new Map<string, Map<string, SeriesSlot>>();
    const slots: SeriesSlot[] = [];
    event.Records.forEach((record, recordIndex) => {
      const parsed = readingOfRecord(record, { maxAheadMs: toleranceMs });
      if (!parsed.ok) {
        // The store handler sends these to the failure queue (future ones too: they never reach alert state); here they only count.
        counts.skipped += 1;
        counts.skippedReasons[parsed.error.code] = (counts.skippedReasons[parsed.error.code] ?? 0) + 1;
        return;
      }
      const { id, metrics } = parsed.value;
      readings[recordIndex] = parsed.value;
      horizons[recordIndex] = record.kinesis.approximateArrivalTimestamp * 1000 + toleranceMs;
      let thingSlots = slotsByThing.get(id);
      if (thingSlots === undefined) slotsByThing.set(id, (thingSlots = new Map()));
      const known = thingSlots;
      metrics.forEach((_value, metric) => {
        if (known.has(metric)) return;
        const slot: SeriesSlot = { series: seriesId(id, metric), record: null };
        known.set(metric, slot);
        slots.push(slot);
      });
    });
    counts.series = slots.length;

    const failedIndexes = new Set<number>();
    let loaded = slots.length === 0;
    if (!loaded) {
      try {
        await loadRecords(slots, counts, retryDeadline(context, clock));
        loaded = true;
      } catch (error) {
        log.error('thresholds could not be read; the whole batch is retried', { error: describeError(error) });
        failedIndexes.add(0);
      }
    }

    if (loaded && slots.length > 0) {
      // Pass 2, in stream order and without I/O: most readings change nothing. A series'
      // first reading that needs I/O (a notice due, a claim met) and every later one of
      // that series are queued, to be settled in order below.
      const queued: SeriesSlot[] = [];
      readings.forEach((reading, recordIndex) => {
        if (reading === undefined) return;
        const thingSlots = slotsByThing.get(reading.id) as Map<string, SeriesSlot>;
        const { timestamp } = reading;
        const horizonMs = horizons[recordIndex] as number;
        reading.metrics.forEach((value, metric) => {
          const slot = thingSlots.get(metric) as SeriesSlot;
          if (slot.queue !== undefined) {
            slot.queue.push({ recordIndex, value, timestamp, horizonMs });
            return;
          }
          const record = slot.record;
          if (record === null) {
            counts.quiet['no-thresholds'] += 1;
            return;
          }
          if (record.claim === undefined) {
            const decision = decideAlert(record.thresholds, record.status, { value, timestamp }, cooldown, horizonMs);
            if (decision.action === 'none') {
              counts.quiet[decision.reason] += 1;
              return;
            }
          }
          slot.queue = [{ recordIndex, value, timestamp, horizonMs }];
          queued.push(slot);
        });
      });

      const remaining = context?.getRemainingTimeInMillis();
      const waitBudgetMs = Math.max(0, Math.min(claimTimeoutMs + 1_000, remaining === undefined ? Infinity : remaining - INVOCATION_MARGIN_MS));
      const stops = await mapWithConcurrency(queued, seriesConcurrency, (slot) => settleSeries(slot, slot.queue ?? [], waitBudgetMs, counts));
      for (const stop of stops) if (stop !== undefined) failedIndexes.add(stop);
    }

    const batchItemFailures = [...failedIndexes]
      .sort((a, b) => a - b)
      .map((index) => ({ itemIdentifier: event.Records[index]?.kinesis.sequenceNumber ?? '' }));
    counts.failedRecords = batchItemFailures.length;
    log.info('threshold alerts batch done', { ...counts });
    return { batchItemFailures };
  };
}

function fromEnvironment(): ThresholdAlertsHandler {
  const clients = awsClients();
  return createThresholdAlertsHandler({ dynamo: clients.dynamo, sns: clients.sns, settings: loadSettings(process.env, REQUIRED_SETTINGS) });
}

/** The Lambda entry point, configured from the environment on the first invocation. */
export const handler = lazyHandler(fromEnvironment);
