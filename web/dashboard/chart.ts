/**
 * The series chart (uPlot) over the range in view: either each reading, or, for a range
 * holding more readings than are worth drawing, the rollup buckets as a min–max band with
 * the mean as a line. Either way: the min/max thresholds as dashed lines, what lies out of
 * range as red points (a bucket shows its extreme that crossed), and the alerts as markers
 * above the plot, each a button (its details by click, tap or keyboard, not only by hover).
 * The x axis spans the whole range in view, so gaps show. Dragging across the chart, with
 * a mouse or a finger, asks for that part (the page loads it, finer); double-click asks
 * for the whole range. Times are in the zone the page shows (local or UTC).
 */
import uPlot from 'uplot';
import { boundCrossed, type Thresholds } from '../../handlers/alert-rules';
import type { Decimal } from '../../handlers/decimal';
import { STEP_MS } from '../../handlers/rollup';
import type { AlertRecord, ReadingPoint, RollupPoint, RollupStep } from '../api-types';
import { formatTime, zoneName, type TimeZoneChoice } from './time';

/** Colours drawn on the canvas; the browser test looks for them. */
export const CHART_COLOURS = { value: '#1c7ed6', band: 'rgba(28, 126, 214, 0.25)', min: '#2f9e44', max: '#e8590c', breach: '#e03131' } as const;

const ALERT_CLASSES: Record<string, string> = { breach: 'alert-breach', reminder: 'alert-breach', recovery: 'alert-recovery' };

const seconds = (timestamp: string): number => Date.parse(timestamp) / 1000;

/**
 * 24-hour time-axis labels (uPlot's default is 12-hour): per tick spacing, the label and
 * the extra line shown where a larger unit changes.
 */
const TIME_AXIS: uPlot.Axis.Values = [
  [3600 * 24 * 365, '{YYYY}', null, null, null, null, null, null, 1],
  [3600 * 24 * 28, '{MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600 * 24, '{MM}-{DD}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{YYYY}-{MM}-{DD}', null, '\n{MM}-{DD}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{YYYY}-{MM}-{DD}', null, '\n{MM}-{DD}', null, null, null, 1],
  [1, ':{ss}', '\n{YYYY}-{MM}-{DD} {HH}:{mm}', null, '\n{MM}-{DD} {HH}:{mm}', null, '\n{HH}:{mm}', null, 1],
  [0.001, ':{ss}.{fff}', '\n{YYYY}-{MM}-{DD} {HH}:{mm}', null, '\n{MM}-{DD} {HH}:{mm}', null, '\n{HH}:{mm}', null, 1],
];

/** What the chart draws: readings one by one, or buckets of one step. */
export type ChartData = { readonly kind: 'readings'; readonly points: readonly ReadingPoint[] } | { readonly kind: 'rollups'; readonly step: RollupStep; readonly buckets: readonly RollupPoint[] };

/** Another series drawn over the chart: its readings or its buckets' means, on the axis of its unit. */
export interface Overlay {
  readonly series: string;
  readonly data: ChartData;
  /** The y axis's label; overlays with the chosen series' label share its axis. */
  readonly valueLabel: string;
}

/** Overlay line colours, apart from the chart's own. */
export const OVERLAY_COLOURS = ['#7048e8', '#0c8599', '#d6336c', '#5c940d'] as const;

export interface ChartInput {
  readonly series: string;
  readonly data: ChartData;
  readonly overlays: readonly Overlay[];
  readonly thresholds: Thresholds;
  readonly alerts: readonly AlertRecord[];
  /** The range in view, in epoch seconds: the x axis spans it whatever the data. */
  readonly range: { readonly from: number; readonly to: number };
  readonly zone: TimeZoneChoice;
  /** The y axis's label: the metric's name and unit. */
  readonly valueLabel: string;
}

export interface ChartEvents {
  /** The user dragged across part of the chart (epoch seconds). */
  readonly onSelect: (from: number, to: number) => void;
  /** The user double-clicked: back to the whole range. */
  readonly onReset: () => void;
  /** The user clicked, tapped or pressed an alert's marker. */
  readonly onAlert: (alert: AlertRecord) => void;
}

/** Draws each alert as a marker button over the plot: hover shows its title, click, tap or Enter its details. */
function alertMarkers(alerts: readonly AlertRecord[], zone: TimeZoneChoice, onAlert: (alert: AlertRecord) => void): uPlot.Plugin {
  let layer: HTMLDivElement;
  return {
    hooks: {
      init: (chart) => {
        layer = document.createElement('div');
        layer.className = 'alert-layer';
        chart.over.appendChild(layer);
      },
      draw: (chart) => {
        const markers: HTMLElement[] = [];
        for (const alert of alerts) {
          const left = chart.valToPos(seconds(alert.timestamp), 'x');
          if (!(left >= 0 && left <= chart.over.clientWidth)) continue;
          const marker = document.createElement('button');
          marker.type = 'button';
          marker.className = `alert-marker ${ALERT_CLASSES[alert.kind] ?? ''}`;
          marker.style.left = `${left}px`;
          marker.title = `${alert.kind}: ${alert.value?.text ?? '?'} at ${formatTime(alert.timestamp, zone)}`;
          marker.setAttribute('aria-label', `${alert.kind} alert, ${marker.title}: show details`);
          marker.addEventListener('click', () => onAlert(alert));
          markers.push(marker);
        }
        layer.replaceChildren(...markers);
      },
    },
  };
}

const thresholdSeries = (thresholds: Thresholds): uPlot.Series[] => [
  { label: 'min threshold', stroke: CHART_COLOURS.min, width: 2, dash: [8, 4], points: { show: false }, show: thresholds.min !== undefined },
  { label: 'max threshold', stroke: CHART_COLOURS.max, width: 2, dash: [8, 4], points: { show: false }, show: thresholds.max !== undefined },
];

const BREACH_SERIES: uPlot.Series = {
  label: 'out of range',
  stroke: CHART_COLOURS.breach,
  paths: () => null,
  points: { show: true, size: 8, fill: CHART_COLOURS.breach, stroke: CHART_COLOURS.breach },
};

/** Series and columns of each reading. Drawn at double precision (a pixel is far coarser); breaches are decided on the exact values. */
function readingsPlot(input: ChartInput, points: readonly ReadingPoint[]): { series: uPlot.Series[]; data: uPlot.AlignedData } {
  const xs = points.map((point) => seconds(point.timestamp));
  const constant = (bound: Decimal | undefined) => xs.map(() => bound?.approx ?? null);
  const breaching = points.map((point) => (boundCrossed(input.thresholds, point.value) === undefined ? null : point.value.approx));
  return {
    series: [
      { label: `time (${zoneName(input.zone)})`, value: '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}' },
      { label: input.series, stroke: CHART_COLOURS.value, width: 1.5, points: { show: xs.length < 200 } },
      ...thresholdSeries(input.thresholds),
      BREACH_SERIES,
    ],
    data: [xs, points.map((point) => point.value.approx), constant(input.thresholds.min), constant(input.thresholds.max), breaching],
  };
}

/**
 * Series and columns of buckets: min and max (the band between them), mean, thresholds and
 * the extreme that crossed one. A missing bucket becomes a gap (nulls), not a line across it.
 */
function rollupsPlot(input: ChartInput, step: RollupStep, buckets: readonly RollupPoint[]): { series: uPlot.Series[]; data: uPlot.AlignedData } {
  const stepSeconds = STEP_MS[step] / 1000;
  const columns: (number | null)[][] = [[], [], [], [], [], [], []];
  const [xs, mins, maxs, means, minLine, maxLine, breaching] = columns as [number[], (number | null)[], (number | null)[], (number | null)[], (number | null)[], (number | null)[], (number | null)[]];
  const { min, max } = input.thresholds;
  buckets.forEach((bucket, index) => {
    const x = seconds(bucket.start);
    xs.push(x);
    mins.push(bucket.min.approx);
    maxs.push(bucket.max.approx);
    means.push(bucket.mean);
    minLine.push(min?.approx ?? null);
    maxLine.push(max?.approx ?? null);
    const crossed = boundCrossed(input.thresholds, bucket.max) === 'max' ? bucket.max : boundCrossed(input.thresholds, bucket.min) === 'min' ? bucket.min : undefined;
    breaching.push(crossed?.approx ?? null);
    const next = buckets[index + 1];
    if (next !== undefined && seconds(next.start) > x + stepSeconds) {
      xs.push(x + stepSeconds);
      for (const column of columns.slice(1)) column.push(null);
    }
  });
  const label = { '1m': 'per minute', '1h': 'per hour', '1d': 'per day' }[step];
  return {
    series: [
      { label: `bucket start (${zoneName(input.zone)})`, value: '{YYYY}-{MM}-{DD} {HH}:{mm}' },
      { label: `min ${label}`, stroke: CHART_COLOURS.band, width: 1, points: { show: false } },
      { label: `max ${label}`, stroke: CHART_COLOURS.band, width: 1, points: { show: false } },
      { label: `${input.series} (mean ${label})`, stroke: CHART_COLOURS.value, width: 1.5, points: { show: buckets.length < 100 } },
      ...thresholdSeries(input.thresholds),
      BREACH_SERIES,
    ],
    data: columns as uPlot.AlignedData,
  };
}

/**
 * A finger dragged sideways across the plot selects that part, as a mouse drag does
 * (uPlot's own drag follows only the mouse); an upward or downward swipe still scrolls the page.
 */
function touchZoom(chart: uPlot, onSelect: (from: number, to: number) => void): void {
  const over = chart.over;
  over.style.touchAction = 'pan-y';
  let start: number | undefined;
  const offset = (touch: Touch) => Math.min(Math.max(touch.clientX - over.getBoundingClientRect().left, 0), over.clientWidth);
  over.addEventListener('touchstart', (event) => {
    start = event.touches.length === 1 ? offset(event.touches[0] as Touch) : undefined;
  }, { passive: true });
  over.addEventListener('touchmove', (event) => {
    const touch = event.touches[0];
    if (start === undefined || touch === undefined) return;
    const at = offset(touch);
    chart.setSelect({ left: Math.min(start, at), width: Math.abs(at - start), top: 0, height: over.clientHeight }, false);
  }, { passive: true });
  over.addEventListener('touchend', () => {
    const { left, width } = chart.select;
    start = undefined;
    chart.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (width >= 10) onSelect(chart.posToVal(left, 'x'), chart.posToVal(left + width, 'x'));
  });
}

/** The chart's width: its container's, so it never makes the page scroll sideways. */
export const chartWidth = (container: HTMLElement): number => Math.max(240, container.clientWidth);

/** An overlay's columns: time and value (a bucket's mean), a missing bucket a gap. */
function overlayColumns(data: ChartData): uPlot.AlignedData {
  if (data.kind === 'readings') return [data.points.map((point) => seconds(point.timestamp)), data.points.map((point) => point.value.approx)];
  const stepSeconds = STEP_MS[data.step] / 1000;
  const xs: number[] = [];
  const means: (number | null)[] = [];
  data.buckets.forEach((bucket, index) => {
    xs.push(seconds(bucket.start));
    means.push(bucket.mean);
    const next = data.buckets[index + 1];
    if (next !== undefined && seconds(next.start) > seconds(bucket.start) + stepSeconds) {
      xs.push(seconds(bucket.start) + stepSeconds);
      means.push(null);
    }
  });
  return [xs, means];
}

/**
 * The chosen series' plot with the overlays joined onto one time axis (uPlot.join: a time
 * one series lacks is spanned, a missing bucket stays a gap), each overlay on the scale of
 * its unit, with an axis on the right for each unit the chosen series does not share.
 */
function withOverlays(input: ChartInput, plot: { series: uPlot.Series[]; data: uPlot.AlignedData }): { series: uPlot.Series[]; data: uPlot.AlignedData; axes: uPlot.Axis[] } {
  const axes: uPlot.Axis[] = [];
  const scales = new Map<string, string>([[input.valueLabel, 'y']]);
  const series = input.overlays.map((overlay, index): uPlot.Series => {
    let scale = scales.get(overlay.valueLabel);
    const stroke = OVERLAY_COLOURS[index % OVERLAY_COLOURS.length] as string;
    if (scale === undefined) {
      scale = `y${scales.size}`;
      scales.set(overlay.valueLabel, scale);
      axes.push({ scale, side: 1, size: 60, label: overlay.valueLabel, labelSize: 20, stroke, grid: { show: false } });
    }
    const mean = overlay.data.kind === 'rollups' ? ` (mean per ${{ '1m': 'minute', '1h': 'hour', '1d': 'day' }[overlay.data.step]})` : '';
    return { label: `${overlay.series}${mean}`, stroke, width: 1.5, scale, points: { show: false } };
  });
  if (input.overlays.length === 0) return { ...plot, axes };
  return { series: [...plot.series, ...series], data: uPlot.join([plot.data, ...input.overlays.map((overlay) => overlayColumns(overlay.data))]), axes };
}

export function drawChart(container: HTMLElement, input: ChartInput, events: ChartEvents): uPlot {
  const plot = withOverlays(input, input.data.kind === 'readings' ? readingsPlot(input, input.data.points) : rollupsPlot(input, input.data.step, input.data.buckets));
  const options: uPlot.Options = {
    width: chartWidth(container),
    height: 320,
    // Times in the zone the tables show.
    tzDate: (epochSeconds) => (input.zone === 'utc' ? uPlot.tzDate(new Date(epochSeconds * 1000), 'Etc/UTC') : new Date(epochSeconds * 1000)),
    scales: { x: { time: true, range: () => [input.range.from, input.range.to] } },
    // The page loads the selected part itself (finer data), so uPlot only draws the selection.
    cursor: { drag: { x: true, y: false, setScale: false } },
    series: plot.series,
    ...(input.data.kind === 'rollups' ? { bands: [{ series: [2, 1], fill: CHART_COLOURS.band }] } : {}),
    axes: [{ values: TIME_AXIS }, { size: 60, label: input.valueLabel, labelSize: 20 }, ...plot.axes],
    plugins: [alertMarkers(input.alerts, input.zone, events.onAlert)],
    hooks: {
      setSelect: [
        (chart) => {
          const { left, width } = chart.select;
          if (width < 5) return;
          const from = chart.posToVal(left, 'x');
          const to = chart.posToVal(left + width, 'x');
          chart.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          events.onSelect(from, to);
        },
      ],
    },
  };
  container.replaceChildren();
  const chart = new uPlot(options, plot.data, container);
  chart.over.addEventListener('dblclick', () => events.onReset());
  touchZoom(chart, events.onSelect);
  return chart;
}
