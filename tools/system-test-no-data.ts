/**
 * The no-data part of `npm run system-test`: once the run's readings are checked, the
 * series falls silent, and the scheduled no-data check must raise one no-data alert for it,
 * then one recovery when a reading comes again.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { addSeconds } from '../handlers/alert-rules';
import { decodeNotice } from '../handlers/notice-item';
import type { Check, SystemTestOptions } from './system-test';
import { awaitNotice, fleetLists, putReading, queryAll, type SentReading } from './system-test-probes';
import type { ReadingClock } from './synthetic';
import type { Target } from './target';
import { setThresholds } from './threshold-store';

export interface NoDataPhase {
  readonly series: string;
  readonly thingId: string;
  readonly min: number;
  readonly max: number;
  /** The last reading of the run: the silence starts there. */
  readonly last: SentReading;
  readonly clock: ReadingClock;
  readonly options: SystemTestOptions;
  readonly log: (line: string) => void;
  readonly checks: Check[];
}

/**
 * The no-data part: gives the series a no-data period, waits for the one no-data alert
 * (dated the period after the last reading) and its listing across the fleet, then sends
 * one reading and waits for the one recovery (dated by that reading). Returns the reading
 * sent, so it is removed with the others.
 */
export async function checkNoData(target: Target, dynamo: DynamoDBDocumentClient, phase: NoDataPhase): Promise<SentReading | undefined> {
  const { series, checks, options } = phase;
  const afterSeconds = options.noDataAfterSeconds ?? 60;
  const timeoutSeconds = options.timeoutSeconds ?? 120;
  const pollMs = options.pollIntervalMs ?? 500;
  const dueAt = addSeconds(phase.last.normalised, afterSeconds);
  // Set only now, so the silence cannot start between two of the run's readings.
  await setThresholds(dynamo, target.tables.thresholds, series, { min: phase.min, max: phase.max, noDataAfterSeconds: afterSeconds });
  phase.log(`  no-data period ${afterSeconds} s: expecting a no-data alert dated ${dueAt}`);
  const raised = await awaitNotice(dynamo, target.tables.alerts, series, 'no-data', phase.last.normalised, Date.now() + (afterSeconds + timeoutSeconds) * 1000, pollMs);
  const raisedAt = raised?.key;
  checks.push({
    name: `a no-data alert ${afterSeconds} s after the last reading (the scheduled no-data check)`,
    ok: raisedAt === dueAt,
    ...(raisedAt === dueAt ? {} : { detail: raisedAt === undefined ? `none within ${afterSeconds + timeoutSeconds} s` : `dated ${raisedAt}, expected ${dueAt}` }),
  });
  if (raisedAt === undefined) return undefined;
  const listed = await fleetLists(target.webUrl, series, raisedAt, 'no-data', 'firing');
  checks.push({ name: 'the no-data alert listed as firing across the fleet (/api/alerts?kind=no-data&state=firing)', ok: listed, ...(listed ? {} : { detail: `${series} at ${raisedAt} not listed` }) });

  // The same value as the last reading: it changes nothing for the range, only ends the silence.
  const resumed = await putReading(target, phase.thingId, phase.last.temperature, phase.clock.next(phase.thingId));
  if (resumed.status !== 200) {
    checks.push({ name: 'API accepted the reading that ends the silence', ok: false, detail: `HTTP ${resumed.status} ${resumed.response.slice(0, 120)}` });
    return resumed;
  }
  const recovered = await awaitNotice(dynamo, target.tables.alerts, series, 'data-resumed', raisedAt, Date.now() + timeoutSeconds * 1000, pollMs);
  const recoveredAt = recovered?.key;
  checks.push({
    name: 'one recovery (data-resumed) dated by the reading that ended the silence',
    ok: recoveredAt === resumed.normalised,
    ...(recoveredAt === resumed.normalised ? {} : { detail: recoveredAt === undefined ? `none within ${timeoutSeconds} s` : `dated ${recoveredAt}, expected ${resumed.normalised}` }),
  });
  // After that reading the series is silent again, and until the run removes its rule the check may rightly raise
  // that silence too (on a slow machine, or with a short period): only the notices up to the reading are this silence's.
  const noDataNotices = (await queryAll(dynamo, target.tables.alerts, series))
    .map(decodeNotice)
    .filter((entry) => (entry.kind === 'no-data' || entry.kind === 'data-resumed') && entry.key <= resumed.normalised);
  checks.push({ name: 'exactly one no-data alert and one recovery in the history', ok: noDataNotices.length === 2, ...(noDataNotices.length === 2 ? {} : { detail: `${noDataNotices.length} no-data notices` }) });
  return resumed;
}
