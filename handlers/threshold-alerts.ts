/**
 * Kinesis consumer that sends threshold alerts: every metric of every reading is judged
 * by its series' rule (alert-rules.ts); a notice due (out of range long enough, still out
 * after the cooldown, back inside) or a waiting period starting or ending is carried out
 * by the alert notifier (alert-notifier.ts), which makes each notice go out once.
 *
 * Not built on the Powertools batch processor: records are not independent here. A batch
 * is read in two passes: the first parses every record and gathers the batch's series, whose
 * items are then read at once (the notifier's cache, then BatchGetItem); the second walks
 * the readings in stream order without I/O, since most change nothing. A series' first
 * reading that needs I/O, and every later one of that series, are then settled in order,
 * while different series proceed side by side.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { formatNotice } from './alert-messages';
import { decideAlert } from './alert-rules';
import { thresholdStateUpdate, type SeriesAlertRecord } from './alert-state-item';
import { AlertNotifier, emptyCounts, type NotifierCounts, type Plan } from './alert-notifier';
import { describeError, mapWithConcurrency } from './batching';
import type { Decimal } from './decimal';
import { readingOfRecord, unpackRecords } from './kinesis-record';
import { type Reading } from './reading';
import { seriesId } from './reading-item';
import { awsClients, lazyHandler, loadSettings, logger as runtimeLogger, notifierSettings, retryDeadline, systemClock, type Clock, type Settings } from './runtime';

const REQUIRED_SETTINGS = ['thresholdsTable', 'alertsTable', 'alertTopicArn'] as const;

export type ThresholdAlertsSettings = Pick<
  Settings<(typeof REQUIRED_SETTINGS)[number]>,
  'thresholdsTable' | 'alertsTable' | 'alertTopicArn' | 'alertCooldownSeconds' | 'hotRetentionDays' | 'futureToleranceSeconds' | 'recipientTopicArns'
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
}

export type ThresholdAlertsHandler = (event: KinesisStreamEvent, context?: Context) => Promise<KinesisStreamBatchResponse>;

/** One metric of one reading, and where it came from in the batch. */
interface MetricReading {
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
  queue?: MetricReading[];
}

/** Per-batch counts, logged once per invocation. */
interface BatchCounts extends NotifierCounts {
  records: number;
  /** Readings in the records (a packed record holds several). */
  readings: number;
  skipped: number;
  skippedReasons: Record<string, number>;
  series: number;
  cacheHits: number;
  thresholdReads: number;
  failedRecords: number;
}

/** Series evaluated side by side (each in stream order). */
const SERIES_CONCURRENCY = 16;
/** Time kept free at the end of an invocation when waiting for another consumer's claim. */
const INVOCATION_MARGIN_MS = 5_000;

export function createThresholdAlertsHandler(deps: ThresholdAlertsDeps): ThresholdAlertsHandler {
  const { settings } = deps;
  const log = deps.logger ?? runtimeLogger;
  const clock = deps.clock ?? systemClock;
  const cooldown = settings.alertCooldownSeconds;
  const toleranceMs = settings.futureToleranceSeconds * 1000;
  const notifier = new AlertNotifier({
    dynamo: deps.dynamo,
    sns: deps.sns,
    ...notifierSettings(settings),
    logger: log,
    clock,
    ...(deps.random === undefined ? {} : { random: deps.random }),
    ...(deps.cacheTtlMs === undefined ? {} : { cacheTtlMs: deps.cacheTtlMs }),
    ...(deps.claimTimeoutMs === undefined ? {} : { claimTimeoutMs: deps.claimTimeoutMs }),
  });

  /** What the rule says about one reading of `series`, given its record. */
  const planFor =
    (series: string, reading: MetricReading) =>
    (record: SeriesAlertRecord): Plan => {
      const { rule, status } = record;
      const decision = decideAlert(rule, status, reading, cooldown, reading.horizonMs);
      if (decision.action === 'none') return decision;
      if (decision.action === 'change') return { action: 'change', rule: 'breach', update: thresholdStateUpdate(decision.next) };
      // A breach that had to last `for` seconds, or a reminder: when it began.
      const began = decision.next.changedAt;
      const since = decision.notice !== 'recovery' && began !== undefined && began < reading.timestamp ? began : undefined;
      return {
        action: 'notify',
        notice: decision.notice,
        at: reading.timestamp,
        next: decision.next,
        text: formatNotice({ notice: decision.notice, series, bound: decision.bound, thresholds: rule, reading, cooldownSeconds: cooldown, ...(since === undefined ? {} : { since }) }),
        details: { bound: decision.bound, value: reading.value, thresholds: rule, ...(since === undefined ? {} : { since }) },
        ...(decision.notice === 'breach' && status.condition !== 'breached' ? { opens: 'breach' as const } : {}),
        ...(decision.notice === 'recovery' && status.openedAt !== undefined ? { resolves: { kind: 'breach' as const, openedKey: status.openedAt } } : {}),
      };
    };

  /** Settles a series' readings from its first one needing I/O, in stream order; returns the record index it stopped at, if any. */
  async function settleSeries(slot: SeriesSlot, waitBudgetMs: number, counts: BatchCounts): Promise<number | undefined> {
    let record = slot.record;
    for (const reading of slot.queue ?? []) {
      try {
        const outcome = await notifier.settle(slot.series, record, planFor(slot.series, reading), waitBudgetMs, counts);
        // Later readings of a failed series wait for its redelivery, so stream order holds.
        if (outcome.result === 'failed') return reading.recordIndex;
        record = outcome.record;
      } catch (error) {
        log.error('alert state could not be read or written; the record is retried', { series: slot.series, readingAt: reading.timestamp, error: describeError(error) });
        notifier.forget(slot.series);
        return reading.recordIndex;
      }
    }
    return undefined;
  }

  return async (event, context) => {
    // Each reading of a packed record counts as a record of its own: a failure resumes from its whole record.
    const records = unpackRecords(event.Records);
    const counts: BatchCounts = { ...emptyCounts(), records: event.Records.length, readings: records.length, skipped: 0, skippedReasons: {}, series: 0, cacheHits: 0, thresholdReads: 0, failedRecords: 0 };
    notifier.beginBatch();

    // Pass 1: parse, and meet every series of the batch (for one BatchGetItem per 100).
    // Slots are found by thing, then metric: metric names from JSON.parse are interned,
    // so no "<id>/<metric>" string is built and hashed per metric per record.
    const readings: (Reading | undefined)[] = new Array(records.length);
    const horizons: number[] = new Array(records.length);
    const slotsByThing = new Map<string, Map<string, SeriesSlot>>();
    const slots: SeriesSlot[] = [];
    records.forEach((record, recordIndex) => {
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
        const read = await notifier.load(slots.map((slot) => slot.series), retryDeadline(context, clock));
        for (const slot of slots) slot.record = read.records.get(slot.series) ?? null;
        counts.cacheHits = read.cacheHits;
        counts.thresholdReads = read.requests;
        loaded = true;
      } catch (error) {
        log.error('thresholds could not be read; the whole batch is retried', { error: describeError(error) });
        failedIndexes.add(0);
      }
    }

    if (loaded && slots.length > 0) {
      // Pass 2, in stream order and without I/O: most readings change nothing. A series'
      // first reading that needs I/O (a change or notice due, a claim met) and every later
      // one of that series are queued, to be settled in order below.
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
            counts.quiet['no-thresholds'] = (counts.quiet['no-thresholds'] ?? 0) + 1;
            return;
          }
          if (record.claim === undefined) {
            const decision = decideAlert(record.rule, record.status, { value, timestamp }, cooldown, horizonMs);
            if (decision.action === 'none') {
              counts.quiet[decision.reason] = (counts.quiet[decision.reason] ?? 0) + 1;
              return;
            }
          }
          slot.queue = [{ recordIndex, value, timestamp, horizonMs }];
          queued.push(slot);
        });
      });

      const remaining = context?.getRemainingTimeInMillis();
      const waitBudgetMs = Math.max(0, Math.min(notifier.claimTimeoutMs + 1_000, remaining === undefined ? Infinity : remaining - INVOCATION_MARGIN_MS));
      const stops = await mapWithConcurrency(queued, SERIES_CONCURRENCY, (slot) => settleSeries(slot, waitBudgetMs, counts));
      for (const stop of stops) if (stop !== undefined) failedIndexes.add(stop);
    }

    // Readings of one packed record share its sequence number: name each failed record once.
    const failedRecords = new Set([...failedIndexes].sort((a, b) => a - b).map((index) => records[index]?.kinesis.sequenceNumber ?? ''));
    const batchItemFailures = [...failedRecords].map((itemIdentifier) => ({ itemIdentifier }));
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
