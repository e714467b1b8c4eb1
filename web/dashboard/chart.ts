/**
 * The series chart (uPlot): the readings, the min/max thresholds as dashed lines, the
 * breaching readings as red points, and the alerts as markers above the plot. Drag
 * across the chart to zoom in, double-click (or "Reset zoom") to zoom out.
 */
import uPlot from 'uplot';
import { boundCrossed, type Thresholds } from '../../handlers/alert-rules';
import type { Decimal } from '../../handlers/decimal';
import type { AlertRecord, ReadingPoint } from '../api-types';

/** Colours drawn on the canvas; the browser test looks for the threshold colours. */
export const CHART_COLOURS = { value: '#1c7ed6', min: '#2f9e44', max: '#e8590c', breach: '#e03131' } as const;

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

export interface ChartInput {
  readonly series: string;
  readonly points: readonly ReadingPoint[];
  readonly thresholds: Thresholds;
  readonly alerts: readonly AlertRecord[];
  /** The requested range, in epoch seconds: the x axis spans it even where there are no readings. */
  readonly range: { readonly from: number; readonly to: number };
}

/** Draws each alert as a marker element over the plot, so it can be hovered (and found by tests). */
function alertMarkers(alerts: readonly AlertRecord[]): uPlot.Plugin {
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
          const marker = document.createElement('div');
          marker.className = `alert-marker ${ALERT_CLASSES[alert.kind] ?? ''}`;
          marker.style.left = `${left}px`;
          marker.title = `${alert.kind}: ${alert.value?.text ?? '?'} at ${alert.timestamp}`;
          markers.push(marker);
        }
        layer.replaceChildren(...markers);
      },
    },
  };
}

export function drawChart(
  container: HTMLElement,
  input: ChartInput,
  events: { onZoom: (zoomed: boolean) => void },
): uPlot {
  const xs = input.points.map((point) => seconds(point.timestamp));
  // Drawn at double precision (a pixel is far coarser); breaches are decided on the exact values.
  const values = input.points.map((point) => point.value.approx);
  const { min, max } = input.thresholds;
  const constant = (bound: Decimal | undefined) => xs.map(() => bound?.approx ?? null);
  const breaching = input.points.map((point) => (boundCrossed(input.thresholds, point.value) === undefined ? null : point.value.approx));

  const options: uPlot.Options = {
    width: Math.max(320, container.clientWidth),
    height: 320,
    // Times are shown in UTC, as in the tables.
    tzDate: (epochSeconds) => uPlot.tzDate(new Date(epochSeconds * 1000), 'Etc/UTC'),
    scales: { x: { time: true, range: (_chart, low, high) => (xs.length === 0 ? [input.range.from, input.range.to] : [low, high]) } },
    cursor: { drag: { x: true, y: false, setScale: true } },
    series: [
      { label: 'time (UTC)', value: '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}' },
      { label: input.series, stroke: CHART_COLOURS.value, width: 1.5, points: { show: xs.length < 200 } },
      { label: 'min threshold', stroke: CHART_COLOURS.min, width: 2, dash: [8, 4], points: { show: false }, show: min !== undefined },
      { label: 'max threshold', stroke: CHART_COLOURS.max, width: 2, dash: [8, 4], points: { show: false }, show: max !== undefined },
      {
        label: 'out of range',
        stroke: CHART_COLOURS.breach,
        paths: () => null,
        points: { show: true, size: 8, fill: CHART_COLOURS.breach, stroke: CHART_COLOURS.breach },
      },
    ],
    axes: [{ values: TIME_AXIS }, { size: 60 }],
    plugins: [alertMarkers(input.alerts)],
    hooks: {
      // Fires for drag-zoom, double-click and resetZoom alike; zoomed means narrower than the data.
      setScale: [
        (chart, key) => {
          if (key !== 'x' || xs.length === 0) return;
          const { min, max } = chart.scales.x as uPlot.Scale;
          events.onZoom((min ?? -Infinity) > (xs[0] as number) || (max ?? Infinity) < (xs[xs.length - 1] as number));
        },
      ],
    },
  };
  const data: uPlot.AlignedData = [xs, values, constant(min), constant(max), breaching];
  container.replaceChildren();
  return new uPlot(options, data, container);
}

/** Back to the whole loaded range. */
export function resetZoom(chart: uPlot): void {
  const xs = chart.data[0];
  if (xs.length > 0) chart.setScale('x', { min: xs[0] as number, max: xs[xs.length - 1] as number });
}
