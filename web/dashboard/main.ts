/**
 * The dashboard: an overview of every series' latest value, a series picker with a
 * filter, a chart of the chosen range with thresholds and alerts, the alert history,
 * and a paginated readings table with CSV export.
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
import type { AlertRecord, ReadingPoint, SeriesSummary } from '../api-types';
import { fetchAlerts, fetchLatestReadings, fetchReadingsPage, fetchSeries, fetchThresholds, type TimeRange } from './api';
import { drawChart, resetZoom } from './chart';
import { csvFileName, readingsCsv } from './csv';
import { CHART_CAP, REFRESH_MS, TABLE_PAGE_SIZE } from './settings';

const PRESETS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 } as const;
type Preset = keyof typeof PRESETS;
const STATUS_WORDS: Record<SeriesSummary['status'], string> = { ok: 'ok', breached: 'breached', 'no-threshold': 'no threshold' };

const rangeButtons = (): HTMLButtonElement[] => Array.from(document.querySelectorAll<HTMLButtonElement>('[data-range]'));

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

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

const state = {
  seriesList: [] as SeriesSummary[],
  selected: undefined as string | undefined,
  preset: '1h' as Preset | 'custom',
  custom: undefined as TimeRange | undefined,
  /** The range the view shows (fixed when it loads, so paging stays consistent). */
  range: undefined as TimeRange | undefined,
  thresholds: {} as Thresholds,
  chart: undefined as uPlot | undefined,
  chartPoints: [] as ReadingPoint[],
  zoomed: false,
  /** Cursors of the table pages before the current one (the first page has none). */
  pageCursors: [] as (string | undefined)[],
  currentCursor: undefined as string | undefined,
  nextCursor: undefined as string | undefined,
  /** Increases with every view load, so a slow earlier answer never overwrites a newer one. */
  generation: 0,
};

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
// Overview and picker
// ---------------------------------------------------------------------------

function renderOverview(): void {
  const rows = state.seriesList.map((summary) => {
    const row = document.createElement('tr');
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
  element('overview-empty').hidden = rows.length > 0;
}

function renderPicker(): void {
  const filter = element<HTMLInputElement>('series-filter').value.trim().toLowerCase();
  const options = state.seriesList
    .filter((summary) => summary.series.toLowerCase().includes(filter))
    .map((summary) => {
      const option = document.createElement('option');
      option.value = summary.series;
      option.textContent = summary.series;
      option.selected = summary.series === state.selected;
      return option;
    });
  element<HTMLSelectElement>('series-select').replaceChildren(...options);
}

async function loadOverview(): Promise<void> {
  const { series } = await fetchSeries();
  state.seriesList = series;
  renderOverview();
  renderPicker();
  element('updated').textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
}

// ---------------------------------------------------------------------------
// Series view
// ---------------------------------------------------------------------------

function selectSeries(series: string): void {
  state.selected = series;
  // replaceState does not fire hashchange, so this does not come back through seriesFromHash.
  history.replaceState(null, '', `#${new URLSearchParams({ series })}`);
  renderPicker();
  void loadView();
}

/** The series named in the URL (`#series=...`), if any. */
const seriesFromHash = (): string | undefined => new URLSearchParams(location.hash.slice(1)).get('series') ?? undefined;

/** A link, a bookmark or an edited address bar changed `#series=`: show that series, without a reload. */
function followHash(): void {
  const series = seriesFromHash();
  if (series !== undefined && series !== state.selected) selectSeries(series);
}

function renderAlerts(alerts: readonly AlertRecord[]): void {
  const rows = alerts.map((alert) => {
    const row = document.createElement('tr');
    row.append(cell(alert.timestamp), cell(alert.kind), cell(numberText(alert.value), 'number'), cell(numberText(alert.minThreshold), 'number'), cell(numberText(alert.maxThreshold), 'number'));
    return row;
  });
  element('alerts').querySelector('tbody')?.replaceChildren(...rows);
  element('alerts-empty').hidden = rows.length > 0;
}

async function loadView(): Promise<void> {
  const series = state.selected;
  if (series === undefined) return;
  const generation = ++state.generation;
  const range = currentRange();
  state.range = range;
  element('series-title').textContent = series;
  try {
    const [thresholds, alerts, readings] = await Promise.all([
      fetchThresholds(series),
      fetchAlerts(series, range),
      fetchLatestReadings(series, range, CHART_CAP),
    ]);
    if (generation !== state.generation) return;
    clearError();
    state.thresholds = {
      ...(thresholds.minThreshold === null ? {} : { min: thresholds.minThreshold }),
      ...(thresholds.maxThreshold === null ? {} : { max: thresholds.maxThreshold }),
    };
    state.chartPoints = readings.points;
    state.chart?.destroy();
    state.zoomed = false;
    element('reset-zoom').hidden = true;
    state.chart = drawChart(
      element('chart'),
      {
        series,
        points: readings.points,
        thresholds: state.thresholds,
        alerts: alerts.items,
        range: { from: Date.parse(range.from) / 1000, to: Date.parse(range.to) / 1000 },
      },
      { onZoom: (zoomed) => ((state.zoomed = zoomed), (element('reset-zoom').hidden = !zoomed)) },
    );
    element('chart-note').textContent =
      readings.points.length === 0
        ? 'No readings in this range.'
        : readings.complete
          ? `${readings.points.length} readings. Drag across the chart to zoom in.`
          : `This range holds more than ${CHART_CAP} readings: the newest ${CHART_CAP} are drawn. Choose a shorter range to see the rest.`;
    element<HTMLButtonElement>('download-csv').disabled = readings.points.length === 0;
    renderAlerts(alerts.items);
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
  const rows = page.items.map((point) => {
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

function downloadCsv(): void {
  const series = state.selected;
  if (series === undefined) return;
  const blob = new Blob([readingsCsv(series, state.chartPoints)], { type: 'text/csv' });
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
  state.custom = { from, to };
  void loadView();
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

async function refresh(): Promise<void> {
  if (!element<HTMLInputElement>('auto-refresh').checked || document.visibilityState !== 'visible') return;
  try {
    await loadOverview();
    // A moving window follows the clock unless the user is reading a zoomed chart or an older page.
    if (state.preset !== 'custom' && !state.zoomed && state.pageCursors.length === 0) await loadView();
  } catch (error) {
    showError(error);
  }
}

function start(): void {
  element('series-filter').addEventListener('input', renderPicker);
  element<HTMLSelectElement>('series-select').addEventListener('change', (event) => {
    const value = (event.target as HTMLSelectElement).value;
    if (value !== '') selectSeries(value);
  });
  for (const button of rangeButtons()) {
    button.addEventListener('click', () => choosePreset(button.dataset.range as Preset | 'custom'));
  }
  element('apply-range').addEventListener('click', applyCustomRange);
  element('reset-zoom').addEventListener('click', () => state.chart !== undefined && resetZoom(state.chart));
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
  loadOverview()
    .then(() => loadView())
    .catch(showError);
  setInterval(() => void refresh(), REFRESH_MS);
}

start();
