/**
 * What the console knows about each metric: the name to show, its unit, and how long its
 * series may go without a reading before the overview flags it "no data". The one place
 * this is written: the server judges staleness from it and the dashboard bundles it for
 * names and units, so the two cannot disagree.
 *
 * Keyed by the metric part of a series id (`things/harrow/001/temperature` → `temperature`).
 * A metric not listed is shown by its own name, without a unit, and goes stale after
 * DEFAULT_STALE_AFTER_MINUTES. Add your fleet's metrics here; a sensor that reports
 * hourly needs a `staleAfterMinutes` above 60.
 */
export interface MetricMetadata {
  /** Shown instead of the metric id, e.g. `Vibration` for `vibration_mm_s`. */
  readonly name: string;
  /** Written after values and on the chart's axis. @default none */
  readonly unit?: string;
  /** Minutes without a reading after which a series of this metric is "no data". @default DEFAULT_STALE_AFTER_MINUTES */
  readonly staleAfterMinutes?: number;
}

/** A sensor reporting every few seconds to minutes that has said nothing for a quarter of an hour has stopped. */
export const DEFAULT_STALE_AFTER_MINUTES = 15;

const METRICS: ReadonlyMap<string, MetricMetadata> = new Map<string, MetricMetadata>([
  ['temperature', { name: 'Temperature', unit: '°C' }],
  ['pressure', { name: 'Pressure', unit: 'bar' }],
  ['flow', { name: 'Flow', unit: 'm³/h' }],
  ['humidity', { name: 'Relative humidity', unit: '%' }],
  ['vibration_mm_s', { name: 'Vibration', unit: 'mm/s' }],
  ['energy', { name: 'Energy', unit: 'kWh' }],
  ['power', { name: 'Power', unit: 'kW' }],
  ['level', { name: 'Level', unit: '%' }],
  ['battery', { name: 'Battery', unit: '%', staleAfterMinutes: 24 * 60 }],
]);

/** The metric's entry, or one made from its id. A Map, so a metric called `constructor` finds nothing inherited. */
export function metricMetadata(metric: string): MetricMetadata {
  return METRICS.get(metric) ?? { name: metric };
}

/** How long a series of `metric` may stay silent, in milliseconds. */
export const staleAfterMs = (metric: string): number => (metricMetadata(metric).staleAfterMinutes ?? DEFAULT_STALE_AFTER_MINUTES) * 60_000;
