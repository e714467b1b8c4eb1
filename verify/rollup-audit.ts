/**
 * Whether the rollups table says what the readings table holds: every minute, hour and day
 * bucket of every series recomputed from the stored readings (count, min, max, first and
 * last exact; the sum as doubles, to one part in a billion), hours and days against their
 * items, minutes against their hour's parts, and each day's parts against its hours. A
 * series' open minute, and its hour and day, are taken as readers take them (counted from
 * the readings, handlers/rollup-open.ts). For drills (after a crash, an outage) and the
 * property tests of the store consumer.
 */
import { ATTRIBUTES } from '../handlers/contract';
import { addReadings, bucketKey, bucketStart, decodePart, OPEN_MINUTE_KEY, parseBucketKey, PART_OF, partKey, partStart, ROLLUP_STEPS, type Aggregate, type RollupStep, type TimedValue } from '../handlers/rollup';
import { aggregateOfItem, openMinuteOfItem } from '../handlers/rollup-item';
import { openMinuteView } from '../handlers/rollup-open';
import { readingsOfItems } from '../handlers/reading-segment';
import { check, type DrillCheck } from './drill';
import { scanTable, type TableAccess } from './probe';

type Item = Record<string, unknown>;

export interface RollupAudit {
  /** Buckets the readings make, and series. */
  readonly buckets: number;
  readonly series: number;
  /** What disagrees, one line each (empty when the rollups are right). */
  readonly differences: string[];
}

const shown = (aggregate: Aggregate | undefined): string =>
  aggregate === undefined ? 'nothing' : `${aggregate.count} readings, ${aggregate.min.text} to ${aggregate.max.text}, ${aggregate.first} to ${aggregate.last}, sum ${aggregate.sum}`;

function disagree(expected: Aggregate | undefined, actual: Aggregate | undefined): boolean {
  if (expected === undefined || actual === undefined) return expected !== actual;
  const exact = expected.count === actual.count && expected.min.text === actual.min.text && expected.max.text === actual.max.text && expected.first === actual.first && expected.last === actual.last;
  return !exact || Math.abs(expected.sum - actual.sum) > 1e-9 * Math.max(1, Math.abs(expected.sum));
}

/** Compares rollup items with the readings (segment items of the things table, decoded) they must describe. */
export function auditRollupItems(readingItems: readonly Item[], rollupItems: readonly Item[]): RollupAudit {
  const grouped = new Map<string, TimedValue[]>();
  const series = new Set<string>();
  for (const [id, readings] of readingsOfItems(readingItems)) for (const { timestamp, value } of readings) {
    series.add(id);
    for (const step of ROLLUP_STEPS) {
      const key = `${id}|${bucketKey(step, bucketStart(timestamp, step))}`;
      const list = grouped.get(key);
      if (list === undefined) grouped.set(key, [{ timestamp, value }]);
      else list.push({ timestamp, value });
    }
  }
  const expected = new Map([...grouped].map(([key, readings]) => [key, addReadings(undefined, readings)]));
  const actual = new Map<string, Item>();
  // Buckets as readers see them around each series' open minute, and the parts they read past.
  const openViews = new Map<string, Aggregate | undefined>();
  const openParts = new Set<string>();
  for (const item of rollupItems) if (item[ATTRIBUTES.bucket] !== OPEN_MINUTE_KEY) actual.set(`${String(item[ATTRIBUTES.series])}|${String(item[ATTRIBUTES.bucket])}`, item);
  for (const item of rollupItems) {
    const marker = item[ATTRIBUTES.bucket] === OPEN_MINUTE_KEY ? openMinuteOfItem(item) : undefined;
    // A closed minute is written to its hour like any other.
    const open = marker?.closed === true ? undefined : marker?.start;
    if (open === undefined) continue;
    const series = String(item[ATTRIBUTES.series]);
    const keyOf = (step: RollupStep) => `${series}|${bucketKey(step, bucketStart(open, step))}`;
    const partsOf = (step: '1h' | '1d') => actual.get(keyOf(step))?.Parts as Record<string, string> | undefined;
    const view = openMinuteView(open, expected.get(keyOf('1m')), partsOf('1h'), partsOf('1d'));
    for (const step of ROLLUP_STEPS) openViews.set(keyOf(step), view[step]);
    openParts.add(`${keyOf('1h')} part ${partKey(open, '1h')}`).add(`${keyOf('1d')} part ${partKey(open, '1d')}`);
  }
  const differences: string[] = [];
  for (const [key, aggregate] of expected) {
    const [series, bucket] = key.split('|') as [string, string];
    const { step, start } = parseBucketKey(bucket) as { step: string; start: string };
    // A minute is a part of its hour's item.
    const hour = step === '1m' ? actual.get(`${series}|${bucketKey('1h', bucketStart(start, '1h'))}`) : undefined;
    const text = (hour?.Parts as Record<string, unknown> | undefined)?.[partKey(start, '1h')];
    const item = step === '1m' ? undefined : actual.get(key);
    const stored = step === '1m' ? (typeof text === 'string' ? decodePart(text, start, '1h') : undefined) : item === undefined ? undefined : aggregateOfItem(item);
    const found = openViews.has(key) ? openViews.get(key) : stored;
    if (disagree(aggregate, found)) differences.push(`${key}: the readings make ${shown(aggregate)}; the rollup says ${shown(found)}`);
  }
  for (const [key, item] of actual) {
    if (!expected.has(key)) differences.push(`${key}: a rollup of ${shown(aggregateOfItem(item))} where no reading is stored`);
    const bucket = parseBucketKey(String(item[ATTRIBUTES.bucket]));
    const parts = item.Parts as Record<string, string> | undefined;
    const partOf = bucket === undefined ? undefined : PART_OF[bucket.step];
    if (bucket === undefined || parts === undefined || partOf === undefined) continue;
    for (const [part, text] of Object.entries(parts)) {
      if (openParts.has(`${key} part ${part}`)) continue;
      const start = partStart(bucket.start, bucket.step, part);
      const child = expected.get(`${String(item[ATTRIBUTES.series])}|${bucketKey(partOf.step, start)}`);
      const decoded = decodePart(text, start, bucket.step);
      if (disagree(child, decoded)) differences.push(`${key} part ${part}: the readings make ${shown(child)}; the part says ${shown(decoded)}`);
    }
  }
  return { buckets: expected.size, series: series.size, differences };
}

/** Reads both tables of a platform and audits them. */
export async function auditRollups(access: TableAccess): Promise<RollupAudit> {
  const [readings, rollups] = await Promise.all([scanTable(access, 'things'), scanTable(access, 'rollups')]);
  return auditRollupItems(readings, rollups);
}

/** The audit as a drill check's detail. */
const describeAudit = (audit: RollupAudit): string =>
  `${audit.buckets} minute, hour and day buckets of ${audit.series} series recomputed from the stored readings; ${audit.differences.length === 0 ? 'all equal' : `${audit.differences.length} differ, e.g. ${audit.differences.slice(0, 2).join('; ')}`}`;

/** The drill check that the rollups equal those recomputed from the stored readings (and that there were some). */
export const rollupsCheck = (audit: RollupAudit): DrillCheck => check('the rollups equal those recomputed from the stored readings', audit.buckets > 0 && audit.differences.length === 0, describeAudit(audit));
