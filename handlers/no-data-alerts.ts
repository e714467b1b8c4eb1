/**
 * The no-data check, run on a schedule (EventBridge Scheduler, every minute by default):
 * one `no-data` alert per silence of a series whose rule has a no-data period, and one
 * `data-resumed` notice when its readings arrive again, both through the alert notifier
 * (claim-protected like every notice: once each, across crashes and overlapping runs).
 *
 * How it finds them without reading readings: two parallel Scans of small tables, the
 * thresholds table (one item per series with a rule; only those with a no-data period or
 * a no-data alert open are returned) and the series catalogue (one item per series: its
 * latest reading time, kept by the store consumer). Why a Scan and not an index of
 * deadlines: a deadline index needs a write per series each time its deadline moves (a
 * key change costs two index writes), which at the readings' own rate costs more than
 * reading both tables every minute by two orders of magnitude. Writes happen only when a
 * series goes silent or reports again.
 *
 * Why this function sends the `data-resumed` notice rather than the stream consumer: it
 * owns the no-data state (the consumer's cached items would miss it for up to a minute),
 * and it sees a series resume in the catalogue within one run, without any per-reading work.
 *
 * The same catalogue Scan finds the series silent for CLOSE_OPEN_MINUTE_AFTER_MS whose open
 * minute is not yet written to their rollups (rollup-plan.ts): the check writes it and
 * marks the catalogue item, once per silence (the store consumer removes the mark with the
 * next reading), so a series silent longer than its raw readings are kept loses nothing.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSClient } from '@aws-sdk/client-sns';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { formatNoDataNotice } from './alert-messages';
import { decideNoData } from './alert-rules';
import { NO_DATA_ATTRIBUTES, noDataStateUpdate, seriesRecordOf, type SeriesAlertRecord } from './alert-state-item';
import type { Item } from './item-codec';
import { RULE_ATTRIBUTES } from './rule-item';
import { AlertNotifier, emptyCounts, type Plan } from './alert-notifier';
import { DEFAULT_RETRY_POLICY, describeError, mapWithConcurrency } from './batching';
import { ATTRIBUTES } from './contract';
import { timestampOfMillis } from './reading-timestamp';
import { CLOSE_OPEN_MINUTE_AFTER_MS, rollupRetention } from './rollup-plan';
import { closeOpenMinutes } from './rollup-store';
import { callWithRetries, type RetryContext } from './batch-write';
import { awsClients, lazyHandler, loadSettings, logger as runtimeLogger, notifierSettings, retryDeadline, systemClock, type Clock, type Settings } from './runtime';

const REQUIRED_SETTINGS = ['thresholdsTable', 'alertsTable', 'seriesTable', 'alertTopicArn'] as const;

export type NoDataAlertsSettings = Pick<
  Settings<(typeof REQUIRED_SETTINGS)[number]>,
  'thresholdsTable' | 'alertsTable' | 'seriesTable' | 'alertTopicArn' | 'hotRetentionDays' | 'recipientTopicArns' | 'thingsTable' | 'rollupsTable' | 'hourRollupRetentionDays' | 'dayRollupRetentionDays'
>;

export interface NoDataAlertsDeps {
  readonly dynamo: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly settings: NoDataAlertsSettings;
  /** @default the shared runtime logger */
  readonly logger?: Logger;
  /** "Now", claim expiry and waits. @default systemClock */
  readonly clock?: Clock;
  /** Parallel segments of each Scan. @default 4 */
  readonly scanSegments?: number;
}

/** What one check did (also logged). */
export interface NoDataCheckSummary {
  /** Series whose rule has a no-data period, or that have a no-data alert open. */
  readonly watched: number;
  /** Catalogue items read. */
  readonly catalogued: number;
  /** Series for which something was due (a notice, a change, or a claim met). */
  readonly due: number;
  readonly raised: number;
  readonly resumed: number;
  readonly held: number;
  readonly failed: number;
  /** Silent series whose open minute was written to their rollups, and those left for the next check. */
  readonly openMinutesClosed: number;
  readonly openMinutesLeft: number;
  readonly scanRequests: number;
  readonly durationMs: number;
}

export type NoDataAlertsHandler = (event: unknown, context?: Context) => Promise<NoDataCheckSummary>;

/** Series settled side by side. */
const SERIES_CONCURRENCY = 16;
/** Open minutes one check closes at most, so it ends well within its timeout; the next check takes the rest. */
const OPEN_MINUTES_PER_CHECK = 500;
/** A check waits this long at most for another run's claim on a series; the next run tries again. */
const CLAIM_WAIT_MS = 5_000;

export function createNoDataAlertsHandler(deps: NoDataAlertsDeps): NoDataAlertsHandler {
  const { settings, dynamo } = deps;
  const log = deps.logger ?? runtimeLogger;
  const clock = deps.clock ?? systemClock;
  const segments = deps.scanSegments ?? 4;
  const notifier = new AlertNotifier({
    dynamo,
    sns: deps.sns,
    ...notifierSettings(settings),
    logger: log,
    clock,
    // Each check reads the state afresh: nothing to reuse between runs a minute apart.
    cacheTtlMs: 0,
  });

  /** Every item a parallel Scan returns, and the number of Scan calls it took. */
  async function scanAll(input: ScanCommandInput): Promise<{ items: Item[]; requests: number }> {
    const items: Item[] = [];
    let requests = 0;
    await Promise.all(
      Array.from({ length: segments }, async (_, segment) => {
        let start: Item | undefined;
        do {
          const page = await dynamo.send(new ScanCommand({ ...input, Segment: segment, TotalSegments: segments, ExclusiveStartKey: start }));
          requests += 1;
          items.push(...(page.Items ?? []));
          start = page.LastEvaluatedKey;
        } while (start !== undefined);
      }),
    );
    return { items, requests };
  }

  const planFor =
    (series: string, latest: string | undefined, nowMs: number) =>
    (record: SeriesAlertRecord): Plan => {
      const decision = decideNoData(record.rule, record.noData, latest, nowMs);
      if (decision.action === 'none') return decision;
      const opened = record.noData.openedAt;
      const resolves = opened === undefined ? {} : { resolves: { kind: 'no-data' as const, openedKey: opened } };
      if (decision.action === 'change') return { action: 'change', rule: 'no-data', update: noDataStateUpdate(decision.next), ...resolves };
      const silentSince = decision.notice === 'no-data' ? (latest as string) : (record.noData.silentSince as string);
      return {
        action: 'notify',
        notice: decision.notice,
        at: decision.at,
        next: decision.next,
        text: formatNoDataNotice({ notice: decision.notice, series, afterSeconds: record.rule.noDataAfterSeconds ?? 0, silentSince, at: decision.at }),
        details: { since: silentSince },
        // Held while a silence covers the series when the check runs, so it is raised once the silence is over.
        silencedAt: timestampOfMillis(nowMs),
        ...(decision.notice === 'no-data' ? { opens: 'no-data' as const } : resolves),
      };
    };

  /**
   * Writes the open minute of each series silent for CLOSE_OPEN_MINUTE_AFTER_MS whose
   * catalogue item is not marked yet, then marks it (on the condition that no newer reading
   * came meanwhile); a series not closed now is tried again by the next check.
   */
  async function closeSilentOpenMinutes(catalogue: readonly Item[], latest: ReadonlyMap<string, string>, nowMs: number, retry: RetryContext): Promise<{ openMinutesClosed: number; openMinutesLeft: number }> {
    const { rollupsTable, thingsTable } = settings;
    if (rollupsTable === undefined || thingsTable === undefined) return { openMinutesClosed: 0, openMinutesLeft: 0 };
    const silentBefore = timestampOfMillis(nowMs - CLOSE_OPEN_MINUTE_AFTER_MS);
    const silent = catalogue.flatMap((item) => {
      const series = String(item[ATTRIBUTES.series]);
      const time = latest.get(series);
      return item[ATTRIBUTES.openMinuteClosed] !== true && time !== undefined && time < silentBefore ? [[series, time] as const] : [];
    });
    const latestOf = new Map(silent.slice(0, OPEN_MINUTES_PER_CHECK));
    const { closed, outcome } = await closeOpenMinutes(dynamo, latestOf, { ...retry, rollupsTable, thingsTable, retention: rollupRetention(settings), now: nowMs, concurrency: SERIES_CONCURRENCY });
    let marked = 0;
    await mapWithConcurrency(closed, SERIES_CONCURRENCY, async (series) => {
      const mark = await callWithRetries(
        () =>
          dynamo.send(
            new UpdateCommand({
              TableName: settings.seriesTable,
              Key: { [ATTRIBUTES.series]: series },
              UpdateExpression: 'SET #closed = :closed',
              ConditionExpression: '#latest = :latest',
              ExpressionAttributeNames: { '#closed': ATTRIBUTES.openMinuteClosed, '#latest': ATTRIBUTES.latestTimestamp },
              ExpressionAttributeValues: { ':closed': true, ':latest': latestOf.get(series) },
            }),
          ),
        retry,
      );
      if (mark.ok) marked += 1;
      // A newer reading came: the series is no longer silent, and its new open minute is the store consumer's.
      else if ((mark.error as { name?: string }).name !== 'ConditionalCheckFailedException') outcome.errors.push(describeError(mark.error));
    });
    if (outcome.errors.length > 0) log.warn('open minutes of silent series not all written to their rollups; the next check tries again', { errors: outcome.errors.slice(0, 5) });
    return { openMinutesClosed: marked, openMinutesLeft: silent.length - marked };
  }

  return async (event, context) => {
    const started = clock.now();
    // Retries stop in time for the check to report, as the consumers' do.
    const deadline = retryDeadline(context, clock);
    const retry: RetryContext = { policy: DEFAULT_RETRY_POLICY, sleep: (ms) => clock.sleep(ms), random: Math.random, ...(deadline === undefined ? {} : { deadline }) };
    notifier.beginBatch();
    // Only series with a no-data period, or with a no-data alert still open (its rule since removed).
    const [watched, catalogue] = await Promise.all([
      scanAll({
        TableName: settings.thresholdsTable,
        // Eventually consistent (half the cost): a claim's condition catches a stale item.
        FilterExpression: 'attribute_exists(#after) OR attribute_exists(#silent)',
        ExpressionAttributeNames: { '#after': RULE_ATTRIBUTES.noDataAfterSeconds, '#silent': NO_DATA_ATTRIBUTES.silentSince },
      }),
      scanAll({
        TableName: settings.seriesTable,
        ProjectionExpression: '#series, #latest, #closed',
        ExpressionAttributeNames: { '#series': ATTRIBUTES.series, '#latest': ATTRIBUTES.latestTimestamp, '#closed': ATTRIBUTES.openMinuteClosed },
      }),
    ]);
    const latest = new Map<string, string>();
    for (const item of catalogue.items) {
      const time = item[ATTRIBUTES.latestTimestamp];
      if (typeof time === 'string') latest.set(String(item[ATTRIBUTES.series]), time);
    }

    const nowMs = clock.now();
    const counts = emptyCounts();
    const due: { series: string; record: SeriesAlertRecord }[] = [];
    for (const item of watched.items) {
      const record = seriesRecordOf(item);
      const series = String(item[ATTRIBUTES.series]);
      if (record.claim !== undefined || decideNoData(record.rule, record.noData, latest.get(series), nowMs).action !== 'none') due.push({ series, record });
    }
    let failed = 0;
    await mapWithConcurrency(due, SERIES_CONCURRENCY, async ({ series, record }) => {
      try {
        const outcome = await notifier.settle(series, record, planFor(series, latest.get(series), nowMs), CLAIM_WAIT_MS, counts);
        if (outcome.result === 'failed') failed += 1;
      } catch (error) {
        failed += 1;
        log.error('no-data alert state could not be read or written; the next check tries again', { series, error: describeError(error) });
      }
    });

    const openMinutes = await closeSilentOpenMinutes(catalogue.items, latest, nowMs, retry);

    const summary: NoDataCheckSummary = {
      watched: watched.items.length,
      catalogued: catalogue.items.length,
      due: due.length,
      raised: counts.notices['no-data'],
      resumed: counts.notices['data-resumed'],
      held: counts.held,
      failed,
      ...openMinutes,
      scanRequests: watched.requests + catalogue.requests,
      durationMs: clock.now() - started,
    };
    log.info('no-data check done', { ...summary, claimConflicts: counts.claimConflicts, abandonedClaims: counts.abandonedClaims, scheduledTime: (event as { scheduledTime?: unknown } | null)?.scheduledTime });
    return summary;
  };
}

function fromEnvironment(): NoDataAlertsHandler {
  const clients = awsClients();
  return createNoDataAlertsHandler({ dynamo: clients.dynamo, sns: clients.sns, settings: loadSettings(process.env, REQUIRED_SETTINGS) });
}

/** The Lambda entry point, configured from the environment on the first invocation. */
export const handler = lazyHandler(fromEnvironment);
