/**
 * The dashboard: the series list (filtered and paged by the server), a chart of the chosen
 * range with thresholds and alerts, the alert history, and a paginated readings table
 * with CSV export.
 *
 * No range is cut short: its rollups say how many readings it holds; up to CHART_CAP they
 * are drawn one by one, beyond that the chart draws the rollup buckets (min–max band and
 * mean) and says so. Dragging across the chart loads that part, at a finer step or as
 * readings once they fit.
 *
 * Every value from the API reaches the page through textContent, properties or
 * attributes set by the DOM API, never through HTML parsing, so a thing id such as
 * `<img src=x onerror=alert(1)>` is shown as the text it is.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import type uPlot from 'uplot';
import { boundCrossed, type Thresholds } from '../../handlers/alert-rules';
import type { Decimal } from '../../handlers/decimal';
import { bucketStartOfMillis, bucketTimeRange } from '../../handlers/rollup';
import type { AlertRecord, ReadingPoint, RollupStep, SeriesSummary } from '../api-types';
import { fetchAlerts, fetchReadings, fetchReadingsPage, fetchRollups, fetchSeriesPage, fetchThresholds, type TimeRange } from './api';
import { drawChart, type ChartData } from './chart';
import { csvFileName, readingsCsv, rollupsCsv } from './csv';
import { ALERT_CAP, CHART_CAP, FILTER_DELAY_MS, REFRESH_MS, SERIES_PAGE_SIZE, TABLE_PAGE_SIZE } from './settings';

const DAY_MS = 86_400_000;
const PRESETS = { '1h': 3_600_000, '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS, '1y': 365 * DAY_MS } as const;
type Preset = keyof typeof PRESETS;
const STATUS_WORDS: Record<SeriesSummary['status'], string> = { ok: 'ok', breached: 'breached', 'no-threshold': 'no threshold' };
const STEP_WORDS: Record<RollupStep, string> = { '1m': 'minute', '1h': 'hour', '1d': 'day' };

const rangeButtons = (): HTMLButtonElement[] => Array.from(document.querySelectorAll<HTMLButtonElement>('[data-range]'));
const count = (value: number): string => value.toLocaleString('en');

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

const numberText = (value: Decimal | null): string => (value === null ? '—' : value.text);

/** `2016-09-09T13:33:07.381019Z` → `2016-09-09T13:33:07` for a datetime-local input (UTC). */
const toInputValue = (iso: string): string => iso.slice(0, 19);
const isoOfSeconds = (epochSeconds: number): string => new Date(Math.round(epochSeconds * 1000)).toISOString();

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

const state = {
  selected: undefined as string | undefined,
  /** The series list: its filter, the page shown (its cursor) and the cursors of the pages before it. */
  list: { q: '', cursor: undefined as string | undefined, before: [] as (string | undefined)[], next: undefined as string | undefined },
  preset: '1h' as Preset | 'custom',
  custom: undefined as TimeRange | undefined,
  /** The range chosen (fixed when the view loads, so paging stays consistent). */
  range: undefined as TimeRange | undefined,
  /** The part of it the chart shows: the range, or the part dragged across. */
  view: undefined as TimeRange | undefined,
  thresholds: {} as Thresholds,
  alerts: [] as AlertRecord[],
  chart: undefined as uPlot | undefined,
  chartData: undefined as ChartData | undefined,
  /** Cursors of the table pages before the current one (the first page has none). */
  pageCursors: [] as (string | undefined)[],
  currentCursor: undefined as string | undefined,
  nextCursor: undefined as string | undefined,
  /** Increases with every view load, so a slow earlier answer never overwrites a newer one. */
  generation: 0,
  chartGeneration: 0,
};

const zoomed = (): boolean => state.view !== undefined && state.range !== undefined && (state.view.from !== state.range.from || state.view.to !== state.range.to);

function showError(error: unknown): void {
  const box = element<HTMLParagraphElement>('error');
  box.textContent = error instanceof Error ? error.message : String(error);
  box.hidden = false;
}

function clearError(): void {
  element('error').hidden = true;
}

function currentRange(): TimeRange {
  if (state.preset === 'custom' && state.custom !== undefined) return state.custom;
  const now = Date.now();
  const span = PRESETS[state.preset === 'custom' ? '1h' : state.preset];
  return { from: new Date(now - span).toISOString(), to: new Date(now).toISOString() };
}

// ---------------------------------------------------------------------------
// Series list
// ---------------------------------------------------------------------------

function renderSeries(series: readonly SeriesSummary[], total: number): void {
  const rows = series.map((summary) => {
    const row = document.createElement('tr');
    if (summary.series === state.selected) row.className = 'selected';
    const link = document.createElement('button');
    link.type = 'button';
    link.className = 'series-link';
    link.textContent = summary.series;
    link.addEventListener('click', () => selectSeries(summary.series));
    const name = document.createElement('td');
    name.append(link);
    const status = document.createElement('span');
    status.className = `status status-${summary.status}`;
    status.textContent = STATUS_WORDS[summary.status] ?? summary.status;
    const statusCell = document.createElement('td');
    statusCell.append(status);
    row.append(name, cell(summary.latestValue.text, 'number'), cell(summary.latestTimestamp), statusCell);
    return row;
  });
  element('overview').querySelector('tbody')?.replaceChildren(...rows);
  const first = state.list.before.length * SERIES_PAGE_SIZE + 1;
  element('series-count').textContent = total === 0 ? '' : `${count(first)}–${count(first + rows.length - 1)} of ${count(total)} series${state.list.q === '' ? '' : ` matching "${state.list.q}"`}`;
  const empty = element('overview-empty');
  empty.hidden = rows.length > 0;
  empty.textContent = state.list.q === '' ? 'No readings stored yet.' : `No series matches "${state.list.q}".`;
  element<HTMLButtonElement>('series-previous').disabled = state.list.before.length === 0;
  element<HTMLButtonElement>('series-next').disabled = state.list.next === undefined;
}

async function loadSeriesList(): Promise<void> {
  const { q, cursor } = state.list;
  const page = await fetchSeriesPage(q, SERIES_PAGE_SIZE, cursor);
  // A filter typed while this page was on its way has its own request.
  if (q !== state.list.q || cursor !== state.list.cursor) return;
  state.list.next = page.nextCursor ?? undefined;
  renderSeries(page.series, page.total);
  element('updated').textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
}

function filterSeries(q: string): void {
  state.list = { q, cursor: undefined, before: [], next: undefined };
  loadSeriesList().catch(showError);
}

// ---------------------------------------------------------------------------
// Series view
// ---------------------------------------------------------------------------

function selectSeries(series: string): void {
  state.selected = series;
  // replaceState does not fire hashchange, so this does not come back through seriesFromHash.
  history.replaceState(null, '', `#${new URLSearchParams({ series })}`);
  for (const row of Array.from(element('overview').querySelectorAll('tbody tr'))) {
    row.classList.toggle('selected', row.querySelector('.series-link')?.textContent === series);
  }
  void loadView();
}

/** The series named in the URL (`#series=...`), if any. */
const seriesFromHash = (): string | undefined => new URLSearchParams(location.hash.slice(1)).get('series') ?? undefined;

/** A link, a bookmark or an edited address bar changed `#series=`: show that series, without a reload. */
function followHash(): void {
  const series = seriesFromHash();
  if (series !== undefined && series !== state.selected) selectSeries(series);
}

function renderAlerts(alerts: readonly AlertRecord[], complete: boolean): void {
  const rows = alerts.map((alert) => {
    const row = document.createElement('tr');
    row.append(cell(alert.timestamp), cell(alert.kind), cell(numberText(alert.value), 'number'), cell(numberText(alert.minThreshold), 'number'), cell(numberText(alert.maxThreshold), 'number'));
    return row;
  });
  element('alerts').querySelector('tbody')?.replaceChildren(...rows);
  const note = element('alerts-note');
  note.hidden = rows.length > 0 && complete;
  note.textContent = rows.length === 0 ? 'No alerts in this range.' : `The first ${count(ALERT_CAP)} alerts of this range are listed and marked; choose a shorter range for the rest.`;
}

/**
 * What the chart draws for a range: its rollups say how many readings it holds; when they
 * fit, the readings themselves (unless some are no longer kept raw), else the buckets.
 */
async function chartData(series: string, range: TimeRange): Promise<{ data: ChartData; note: string }> {
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

/** Draws the part of the range in view, from the finest data that fits. */
async function loadChart(generation = state.generation): Promise<void> {
  const series = state.selected;
  const view = state.view;
  if (series === undefined || view === undefined) return;
  const chartGeneration = ++state.chartGeneration;
  const { data, note } = await chartData(series, view);
  if (generation !== state.generation || chartGeneration !== state.chartGeneration) return;
  state.chart?.destroy();
  state.chartData = data;
  state.chart = drawChart(
    element('chart'),
    { series, data, thresholds: state.thresholds, alerts: state.alerts, range: { from: Date.parse(view.from) / 1000, to: Date.parse(view.to) / 1000 } },
    { onSelect: (from, to) => zoomTo({ from: isoOfSeconds(from), to: isoOfSeconds(to) }), onReset: resetZoom },
  );
  element('chart-note').textContent = note;
  element('reset-zoom').hidden = !zoomed();
  element<HTMLButtonElement>('download-csv').disabled = data.kind === 'readings' ? data.points.length === 0 : data.buckets.length === 0;
}

function zoomTo(part: TimeRange): void {
  state.view = part;
  loadChart().catch(showError);
}

function resetZoom(): void {
  if (!zoomed()) return;
  state.view = state.range;
  loadChart().catch(showError);
}

async function loadView(): Promise<void> {
  const series = state.selected;
  if (series === undefined) return;
  const generation = ++state.generation;
  const range = currentRange();
  state.range = range;
  state.view = range;
  element('series-title').textContent = series;
  try {
    const [thresholds, alerts] = await Promise.all([fetchThresholds(series), fetchAlerts(series, range, ALERT_CAP)]);
    if (generation !== state.generation) return;
    clearError();
    state.thresholds = {
      ...(thresholds.minThreshold === null ? {} : { min: thresholds.minThreshold }),
      ...(thresholds.maxThreshold === null ? {} : { max: thresholds.maxThreshold }),
    };
    state.alerts = alerts.items;
    renderAlerts(alerts.items, alerts.complete);
    await loadChart(generation);
    state.pageCursors = [];
    await loadTablePage(undefined, generation);
  } catch (error) {
    if (generation === state.generation) showError(error);
  }
}

async function loadTablePage(cursor: string | undefined, generation = state.generation): Promise<void> {
  const series = state.selected;
  const range = state.range;
  if (series === undefined || range === undefined) return;
  const page = await fetchReadingsPage(series, range, 'desc', TABLE_PAGE_SIZE, cursor);
  if (generation !== state.generation) return;
  state.currentCursor = cursor;
  state.nextCursor = page.nextCursor ?? undefined;
  const rows = page.items.map((point: ReadingPoint) => {
    const row = document.createElement('tr');
    const out = boundCrossed(state.thresholds, point.value);
    if (out !== undefined) row.className = 'breaching';
    row.append(cell(point.timestamp), cell(point.value.text, 'number'), cell(out === undefined ? '' : `${out === 'min' ? 'below min' : 'above max'}`));
    return row;
  });
  element('readings').querySelector('tbody')?.replaceChildren(...rows);
  const first = state.pageCursors.length * TABLE_PAGE_SIZE + 1;
  element('page-info').textContent = rows.length === 0 ? 'No readings' : `Readings ${first}–${first + rows.length - 1}, newest first`;
  element<HTMLButtonElement>('page-newer').disabled = state.pageCursors.length === 0;
  element<HTMLButtonElement>('page-older').disabled = state.nextCursor === undefined;
}

/** Saves what the chart draws: the readings, or the buckets of a range drawn from its rollups. */
function downloadCsv(): void {
  const series = state.selected;
  const data = state.chartData;
  if (series === undefined || data === undefined) return;
  const text = data.kind === 'readings' ? readingsCsv(series, data.points) : rollupsCsv(series, data.step, data.buckets);
  const blob = new Blob([text], { type: 'text/csv' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = csvFileName(series);
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function choosePreset(preset: Preset | 'custom'): void {
  state.preset = preset;
  for (const button of rangeButtons()) {
    button.setAttribute('aria-pressed', String(button.dataset.range === preset));
  }
  const custom = element('custom-range');
  custom.hidden = preset !== 'custom';
  if (preset === 'custom') {
    const shown = state.range ?? currentRange();
    element<HTMLInputElement>('range-from').value = toInputValue(shown.from);
    element<HTMLInputElement>('range-to').value = toInputValue(shown.to);
    return;
  }
  void loadView();
}

function applyCustomRange(): void {
  const from = element<HTMLInputElement>('range-from').value;
  const to = element<HTMLInputElement>('range-to').value;
  if (from === '' || to === '') return showError('Give both ends of the custom range.');
  // datetime-local values carry no zone; the API reads them as UTC, as the inputs say.
  state.custom = { from: `${from}Z`, to: `${to}Z` };
  void loadView();
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

async function refresh(): Promise<void> {
  if (!element<HTMLInputElement>('auto-refresh').checked || document.visibilityState !== 'visible') return;
  try {
    await loadSeriesList();
    // A moving window follows the clock unless the user is reading a zoomed chart or an older page.
    if (state.preset !== 'custom' && !zoomed() && state.pageCursors.length === 0) await loadView();
  } catch (error) {
    showError(error);
  }
}

function start(): void {
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  element<HTMLInputElement>('series-filter').addEventListener('input', (event) => {
    clearTimeout(filterTimer);
    const q = (event.target as HTMLInputElement).value.trim();
    filterTimer = setTimeout(() => filterSeries(q), FILTER_DELAY_MS);
  });
  element('series-next').addEventListener('click', () => {
    if (state.list.next === undefined) return;
    state.list = { ...state.list, before: [...state.list.before, state.list.cursor], cursor: state.list.next, next: undefined };
    loadSeriesList().catch(showError);
  });
  element('series-previous').addEventListener('click', () => {
    if (state.list.before.length === 0) return;
    const before = [...state.list.before];
    const cursor = before.pop();
    state.list = { ...state.list, before, cursor, next: undefined };
    loadSeriesList().catch(showError);
  });
  for (const button of rangeButtons()) {
    button.addEventListener('click', () => choosePreset(button.dataset.range as Preset | 'custom'));
  }
  element('apply-range').addEventListener('click', applyCustomRange);
  element('reset-zoom').addEventListener('click', resetZoom);
  element('page-older').addEventListener('click', () => {
    if (state.nextCursor === undefined) return;
    state.pageCursors.push(state.currentCursor);
    void loadTablePage(state.nextCursor).catch(showError);
  });
  element('page-newer').addEventListener('click', () => {
    if (state.pageCursors.length === 0) return;
    const previous = state.pageCursors.pop();
    void loadTablePage(previous).catch(showError);
  });
  element('download-csv').addEventListener('click', downloadCsv);
  window.addEventListener('resize', () => state.chart?.setSize({ width: Math.max(320, element('chart').clientWidth), height: 320 }));

  for (const button of rangeButtons()) {
    button.setAttribute('aria-pressed', String(button.dataset.range === state.preset));
  }
  window.addEventListener('hashchange', followHash);
  state.selected = seriesFromHash();
  Promise.all([loadSeriesList(), loadView()]).catch(showError);
  setInterval(() => void refresh(), REFRESH_MS);
}

start();
