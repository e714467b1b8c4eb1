/**
 * What the chart draws for a range, from the finest data that fits: the range's rollups
 * say how many readings it holds; up to CHART_CAP, all still kept raw, the readings
 * themselves, else the rollup buckets (a min–max band and the mean). The note says which.
 */
import { bucketStartOfMillis, bucketTimeRange } from '../../handlers/rollup';
import type { RollupStep } from '../api-types';
import { fetchReadings, fetchRollups } from './api';
import type { ChartData } from './chart';
import type { TimeRange } from './link';
import { CHART_CAP } from './settings';

const STEP_WORDS: Record<RollupStep, string> = { '1m': 'minute', '1h': 'hour', '1d': 'day' };

const count = (value: number): string => value.toLocaleString('en');

/** The data and the note for `range` of `series`. */
export async function chartData(series: string, range: TimeRange): Promise<{ data: ChartData; note: string }> {
  const rollups = await fetchRollups(series, range);
  const total = rollups.items.reduce((sum, bucket) => sum + bucket.count, 0);
  const buckets: ChartData = { kind: 'rollups', step: rollups.step, buckets: rollups.items };
  const bucketWords = `${count(rollups.items.length)} ${STEP_WORDS[rollups.step]}${rollups.items.length === 1 ? '' : 's'}`;
  if (total === 0) {
    const readings = await fetchReadings(series, range, CHART_CAP);
    return { data: { kind: 'readings', points: readings.items }, note: readings.items.length === 0 ? 'No readings in this range.' : `${count(readings.items.length)} readings.` };
  }
  if (total > CHART_CAP) {
    return { data: buckets, note: `${count(total)} readings, drawn as ${bucketWords}: the band spans each ${STEP_WORDS[rollups.step]}'s minimum to maximum, the line is its mean. Drag across the chart to zoom in; readings are drawn once the part in view holds ${count(CHART_CAP)} or fewer.` };
  }
  // The buckets hold whole minutes (hours, days): read the readings of the same span, so the two counts can be compared.
  const first = bucketTimeRange(bucketStartOfMillis(Date.parse(range.from), rollups.step), rollups.step).from;
  const last = bucketTimeRange(bucketStartOfMillis(Date.parse(range.to), rollups.step), rollups.step).to;
  const readings = await fetchReadings(series, { from: first, to: last }, CHART_CAP);
  if (readings.complete && readings.items.length >= total) {
    const from = Date.parse(range.from);
    const to = Date.parse(range.to);
    const points = readings.items.filter((point) => Date.parse(point.timestamp) >= from && Date.parse(point.timestamp) <= to);
    return { data: { kind: 'readings', points }, note: `${count(points.length)} readings. Drag across the chart to zoom in.` };
  }
  return {
    data: buckets,
    note: `${count(total)} readings, drawn as ${bucketWords} (min–max band and mean): ${count(readings.items.length)} of them are still kept one by one, the rest only as rollups and in the archive (npm run query).`,
  };
}
