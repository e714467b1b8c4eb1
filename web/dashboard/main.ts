/**
 * The console: the overview (counts by status, what needs attention first), and for the
 * series chosen a chart of the range with thresholds and alerts, the alerts and readings
 * in view, and CSV export.
 *
 * No range is cut short (chart-data.ts): up to CHART_CAP readings are drawn one by one,
 * beyond that the rollup buckets (min–max band and mean), and the note says which. Dragging across the chart zooms in: the chart loads that part, finer,
 * and the alerts, the readings table and the CSV follow.
 *
 * The address holds the series, range and zoom (link.ts): every choice is a history
 * entry, so Back, bookmarks and edited links show what they say. When the API cannot be
 * reached, a banner says so and since when, and what is shown is greyed as of its last
 * update; nothing pretends to be current.
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
import type { AlertRecord, ListedStatus, ReadingPoint, SeriesResponse } from '../api-types';
import { metricMetadata, staleAfterMs } from '../metrics';
import { fetchAlerts, fetchReadingsPage, fetchSeriesPage, fetchThresholds } from './api';
import { chartData } from './chart-data';
import { trackFreshness } from './freshness';
import { chartWidth, drawChart, OVERLAY_COLOURS, type ChartData, type Overlay } from './chart';
import { csvFileName, readingsCsv, rollupsCsv } from './csv';
import { comparedWith, linkHash, MAX_COMPARED, readLink, resolveRange, sameCompare, sameRange, type Link, type Preset, type TimeRange } from './link';
import { markSelected, renderOverview, withUnit } from './overview';
import { ruleEditor } from './rules';
import { ALERT_CAP, FILTER_DELAY_MS, REFRESH_MS, SERIES_PAGE_SIZE, TABLE_PAGE_SIZE } from './settings';
import { INPUT_FORMAT, formatDuration, formatTime, inputTime, parseInputTime, saveTimeZone, savedTimeZone, zoneName, type TimeZoneChoice } from './time';

const count = (value: number): string => value.toLocaleString('en');

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

function cell(text: string, className?: string, title?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className !== undefined) td.className = className;
  if (title !== undefined) td.title = title;
  return td;
}

const numberText = (value: Decimal | null): string => (value === null ? '—' : value.text);
const isoOfSeconds = (epochSeconds: number): string => new Date(Math.round(epochSeconds * 1000)).toISOString();
const metricOf = (series: string): string => series.slice(series.lastIndexOf('/') + 1);
const body = (id: string): HTMLTableSectionElement => element(id).querySelector('tbody') as HTMLTableSectionElement;

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

const state = {
  /** What the address says, as last shown. */
  link: { range: '1h' } as Link,
  zone: savedTimeZone(),
  /** The overview: its filters, the page shown (its cursor), the cursors of the pages before it, and the last answer. */
  list: { q: '', status: [] as ListedStatus[], cursor: undefined as string | undefined, before: [] as (string | undefined)[], next: undefined as string | undefined },
  page: undefined as SeriesResponse | undefined,
  /** The range chosen, resolved to times when the view loaded (so paging stays consistent). */
  range: undefined as TimeRange | undefined,
  /** The part of it in view: the range, or the zoom. */
  view: undefined as TimeRange | undefined,
  thresholds: {} as Thresholds,
  latest: undefined as ReadingPoint | undefined,
  alerts: [] as AlertRecord[],
  alertsComplete: true,
  chart: undefined as uPlot | undefined,
  chartData: undefined as ChartData | undefined,
  /** The compared series as drawn over it. */
  overlays: [] as Overlay[],
  table: { before: [] as (string | undefined)[], cursor: undefined as string | undefined, next: undefined as string | undefined, items: [] as ReadingPoint[] },
  /** Increases with every view load, so a slow earlier answer never overwrites a newer one. */
  generation: 0,
  chartGeneration: 0,
};

const zoomed = (): boolean => state.link.zoom !== undefined;
const freshness = trackFreshness(() => state.zone);
const rules = ruleEditor({ filter: () => ({ q: state.list.q, status: state.list.status }), zone: () => state.zone, saved: () => loadView(true) });

// ---------------------------------------------------------------------------
// Overview
// ---------------------------------------------------------------------------

function showOverview(): void {
  const page = state.page;
  if (page === undefined) return;
  renderOverview(body('overview'), { series: page.series, counts: page.counts, selected: state.link.series, zone: state.zone, now: freshness.lastSuccess() ?? Date.now(), onSelect: selectSeries });
  const all = Object.values(page.counts).reduce((sum, value) => sum + value, 0);
  for (const badge of Array.from(document.querySelectorAll<HTMLElement>('[data-count]'))) {
    const status = badge.dataset.count as ListedStatus | 'all';
    const text = count(status === 'all' ? all : page.counts[status]);
    if (badge.textContent !== text) badge.textContent = text;
  }
  const shown = page.series.length;
  const first = state.list.before.length * SERIES_PAGE_SIZE + 1;
  const filters = [state.list.q === '' ? '' : ` matching "${state.list.q}"`, state.list.status.length === 0 ? '' : `, ${state.list.status.map((status) => status.replace('-', ' ')).join(' or ')}`].join('');
  element('series-count').textContent = page.total === 0 ? '' : `${count(first)}–${count(first + shown - 1)} of ${count(page.total)} series${filters}, most urgent first`;
  const empty = element('overview-empty');
  empty.hidden = shown > 0;
  empty.textContent = state.list.q === '' && state.list.status.length === 0 ? 'No readings stored yet.' : `No series${filters}.`;
  element<HTMLButtonElement>('series-previous').disabled = state.list.before.length === 0;
  element<HTMLButtonElement>('series-next').disabled = state.list.next === undefined;
}

async function loadSeriesList(): Promise<void> {
  const list = state.list;
  const page = await fetchSeriesPage({ q: list.q, status: list.status, limit: SERIES_PAGE_SIZE, cursor: list.cursor });
  // A filter chosen while this page was on its way has its own request.
  if (list !== state.list) return;
  freshness.succeeded();
  state.list.next = page.nextCursor ?? undefined;
  state.page = page;
  showOverview();
}

function relist(change: Partial<typeof state.list>): void {
  state.list = { ...state.list, ...change };
  loadSeriesList().catch(freshness.failed);
}

// ---------------------------------------------------------------------------
// The address: series, range and zoom
// ---------------------------------------------------------------------------

/** Makes `link` the address (a new history entry unless `replace`) and shows it. */
function navigate(link: Link, replace = false): void {
  const hash = linkHash(link);
  if (hash !== location.hash) history[replace ? 'replaceState' : 'pushState'](null, '', hash);
  show(link);
}

/** Shows what a link says: a new series or range loads the view, a new zoom only the part in view. */
function show(link: Link): void {
  const before = state.link;
  state.link = link;
  showRangeButtons();
  if (link.series !== before.series || !sameRange(link.range, before.range) || state.range === undefined) {
    markSelected(body('overview'), link.series);
    void loadView().catch(freshness.failed);
  } else if (!sameRange(link.zoom, before.zoom)) {
    state.view = viewOf(link, state.range);
    void showView(state.generation).catch(freshness.failed);
  } else if (!sameCompare(link, before)) {
    void loadChart(state.generation).catch(freshness.failed);
  }
  showCompared();
}

/** Back, Forward, a bookmark or an edited address. */
function followAddress(): void {
  const link = readLink(location.hash);
  if (linkHash(link) !== linkHash(state.link)) show(link);
}

/** The zoom when it lies within the range, else the whole range. */
function viewOf(link: Link, range: TimeRange): TimeRange {
  const zoom = link.zoom;
  if (zoom === undefined || zoom.to <= range.from || zoom.from >= range.to) return range;
  return { from: zoom.from < range.from ? range.from : zoom.from, to: zoom.to > range.to ? range.to : zoom.to };
}

/** The link without its zoom: a new series or range shows the whole range; compared series stay. */
function unzoomed(change: Partial<Link>): Link {
  const { zoom: _dropped, ...link } = { ...state.link, ...change };
  const compare = comparedWith(link.compare ?? [], link.series);
  const { compare: _old, ...rest } = link;
  return compare.length === 0 ? rest : { ...rest, compare };
}

const selectSeries = (series: string): void => navigate(unzoomed({ series }));
const zoomTo = (part: TimeRange): void => navigate({ ...state.link, zoom: part });
function resetZoom(): void {
  if (zoomed()) navigate(unzoomed({}));
}

function showRangeButtons(): void {
  const range = state.link.range;
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-range]'))) {
    button.setAttribute('aria-pressed', String(typeof range === 'string' ? button.dataset.range === range : button.dataset.range === 'custom'));
  }
  element('reset-zoom').hidden = !zoomed();
  const zoomInfo = element('zoom-info');
  zoomInfo.hidden = !zoomed() || state.view === undefined;
  if (state.view !== undefined) zoomInfo.textContent = `Zoomed in: ${formatTime(state.view.from, state.zone)} to ${formatTime(state.view.to, state.zone)}. Double-click the chart or press Reset zoom for the whole range.`;
}

// ---------------------------------------------------------------------------
// Series view
// ---------------------------------------------------------------------------

function showFacts(): void {
  const series = state.link.series;
  const facts = element('series-facts');
  if (series === undefined) return void (facts.textContent = '');
  const metric = metricOf(series);
  const { name, unit } = metricMetadata(metric);
  const { min, max } = state.thresholds;
  const parts = [`${name}${unit === undefined ? '' : ` (${unit})`}`];
  parts.push(min === undefined && max === undefined ? 'no threshold' : `thresholds ${min === undefined ? '—' : withUnit(min.text, metric)} to ${max === undefined ? '—' : withUnit(max.text, metric)}`);
  const latest = state.latest;
  const now = freshness.lastSuccess() ?? Date.now();
  const silence = latest === undefined ? 0 : now - Date.parse(latest.timestamp);
  if (latest === undefined) parts.push('no readings yet');
  else parts.push(`latest ${withUnit(latest.value.text, metric)} at ${formatTime(latest.timestamp, state.zone)} (${formatDuration(silence)} ago)`);
  // Silent past its metric's window: the overview's "no data", said here too.
  if (latest !== undefined && silence >= staleAfterMs(metric)) parts.push(`no data for ${formatDuration(silence)}`);
  facts.textContent = parts.join(' · ');
}

function showAlerts(): void {
  const view = state.view;
  const inView = view === undefined ? [] : state.alerts.filter((alert) => alert.timestamp >= view.from && alert.timestamp <= `${view.to.slice(0, 23)}999Z`);
  const rows = inView.map((alert) => {
    const row = document.createElement('tr');
    row.dataset.timestamp = alert.timestamp;
    row.append(cell(formatTime(alert.timestamp, state.zone), undefined, alert.timestamp), cell(alert.kind), cell(numberText(alert.value), 'number'), cell(numberText(alert.minThreshold), 'number'), cell(numberText(alert.maxThreshold), 'number'));
    return row;
  });
  body('alerts').replaceChildren(...rows);
  const note = element('alerts-note');
  note.hidden = rows.length > 0 && state.alertsComplete;
  note.textContent = rows.length === 0 ? 'No alerts in view.' : `The first ${count(ALERT_CAP)} alerts of this range are listed and marked; choose a shorter range for the rest.`;
}

/** An alert's details, for a marker clicked, tapped or pressed: no hover needed. */
function showAlertDetail(alert: AlertRecord): void {
  const metric = metricOf(state.link.series ?? '');
  const limits = [alert.minThreshold === null ? undefined : `min ${withUnit(alert.minThreshold.text, metric)}`, alert.maxThreshold === null ? undefined : `max ${withUnit(alert.maxThreshold.text, metric)}`].filter(Boolean).join(', ');
  const detail = element('alert-detail');
  detail.textContent = `${alert.kind[0]?.toUpperCase()}${alert.kind.slice(1)} at ${formatTime(alert.timestamp, state.zone)}: ${alert.value === null ? 'value not recorded' : withUnit(alert.value.text, metric)}${limits === '' ? '' : ` (${limits})`}.`;
  detail.hidden = false;
  for (const row of Array.from(body('alerts').rows)) row.classList.toggle('highlight', row.dataset.timestamp === alert.timestamp);
}

/** A y axis's label: the metric's name and unit, e.g. `Temperature (°C)`. */
function valueLabel(series: string): string {
  const { name, unit } = metricMetadata(metricOf(series));
  return unit === undefined ? name : `${name} (${unit})`;
}

/** Draws what the chart holds, in the zone shown (again after a switch of zone, without asking the API). */
function drawView(): void {
  const series = state.link.series;
  const view = state.view;
  const data = state.chartData;
  if (series === undefined || view === undefined || data === undefined) return;
  state.chart?.destroy();
  state.chart = drawChart(
    element('chart'),
    { series, data, overlays: state.overlays, thresholds: state.thresholds, alerts: state.alerts, range: { from: Date.parse(view.from) / 1000, to: Date.parse(view.to) / 1000 }, zone: state.zone, valueLabel: valueLabel(series) },
    { onSelect: (from, to) => zoomTo({ from: isoOfSeconds(from), to: isoOfSeconds(to) }), onReset: resetZoom, onAlert: showAlertDetail },
  );
}

/** Draws the part of the range in view, from the finest data that fits. */
async function loadChart(generation: number): Promise<void> {
  const series = state.link.series;
  const view = state.view;
  if (series === undefined || view === undefined) return;
  const chartGeneration = ++state.chartGeneration;
  const compared = state.link.compare ?? [];
  const [{ data, note }, ...others] = await Promise.all([chartData(series, view), ...compared.map((id) => chartData(id, view))]);
  if (generation !== state.generation || chartGeneration !== state.chartGeneration) return;
  state.chartData = data;
  state.overlays = others.map((other, index) => ({ series: compared[index] as string, data: other.data, valueLabel: valueLabel(compared[index] as string) }));
  drawView();
  element('chart-note').textContent = note;
  element<HTMLButtonElement>('download-csv').disabled = data.kind === 'readings' ? data.points.length === 0 : data.buckets.length === 0;
}

/** The part in view: chart, alerts and readings table; a refresh keeps the alert details open and a focused chart as it is. */
async function showView(generation: number, refreshing = false, keepChart = false): Promise<void> {
  showRangeButtons();
  showAlerts();
  if (!refreshing) element('alert-detail').hidden = true;
  if (!keepChart) await loadChart(generation);
  state.table.before = [];
  await loadTablePage(undefined, generation);
}

/** Loads the chosen series over the chosen range; `refreshing` keeps the chart a keyboard user is on. */
async function loadView(refreshing = false): Promise<void> {
  const series = state.link.series;
  if (series === undefined) return;
  const generation = ++state.generation;
  const range = resolveRange(state.link.range, Date.now());
  state.range = range;
  state.view = viewOf(state.link, range);
  element('series-title').textContent = series;
  rules.show(series);
  const [thresholds, alerts, latest] = await Promise.all([fetchThresholds(series), fetchAlerts(series, range, ALERT_CAP), fetchReadingsPage(series, {}, 'desc', 1)]);
  if (generation !== state.generation) return;
  freshness.succeeded();
  element('error').hidden = true;
  state.thresholds = {
    ...(thresholds.minThreshold === null ? {} : { min: thresholds.minThreshold }),
    ...(thresholds.maxThreshold === null ? {} : { max: thresholds.maxThreshold }),
  };
  state.latest = latest.items[0];
  state.alerts = alerts.items;
  state.alertsComplete = alerts.complete;
  showFacts();
  await showView(generation, refreshing, refreshing && element('chart').contains(document.activeElement));
}

async function loadTablePage(cursor: string | undefined, generation = state.generation): Promise<void> {
  const series = state.link.series;
  const view = state.view;
  if (series === undefined || view === undefined) return;
  const page = await fetchReadingsPage(series, view, 'desc', TABLE_PAGE_SIZE, cursor);
  if (generation !== state.generation) return;
  state.table.cursor = cursor;
  state.table.next = page.nextCursor ?? undefined;
  state.table.items = page.items;
  showTable();
}

function showTable(): void {
  const rows = state.table.items.map((point: ReadingPoint) => {
    const row = document.createElement('tr');
    const out = boundCrossed(state.thresholds, point.value);
    if (out !== undefined) row.className = 'breaching';
    row.append(cell(formatTime(point.timestamp, state.zone), undefined, point.timestamp), cell(point.value.text, 'number'), cell(out === undefined ? '' : `${out === 'min' ? 'below min' : 'above max'}`));
    return row;
  });
  body('readings').replaceChildren(...rows);
  const first = state.table.before.length * TABLE_PAGE_SIZE + 1;
  element('page-info').textContent = rows.length === 0 ? 'No readings in view' : `Readings ${first}–${first + rows.length - 1}, newest first`;
  element<HTMLButtonElement>('page-newer').disabled = state.table.before.length === 0;
  element<HTMLButtonElement>('page-older').disabled = state.table.next === undefined;
}

/** Saves what the chart draws (the part in view): the readings, or the buckets of a range drawn from its rollups. */
function downloadCsv(): void {
  const series = state.link.series;
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

// ---------------------------------------------------------------------------
// Compare
// ---------------------------------------------------------------------------

/** The compared series, each with its line's colour and a button to stop comparing it. */
function showCompared(): void {
  const compared = state.link.compare ?? [];
  const items = compared.map((id, index) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = OVERLAY_COLOURS[index % OVERLAY_COLOURS.length] as string;
    const name = document.createElement('span');
    name.textContent = id;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Stop comparing ${id}`);
    remove.addEventListener('click', () => navigate({ ...state.link, compare: compared.filter((other) => other !== id) }));
    item.append(swatch, name, remove);
    return item;
  });
  element('compare-list').replaceChildren(...items);
  element<HTMLButtonElement>('compare-add').disabled = compared.length >= MAX_COMPARED;
  // Suggestions: the series on the overview's page.
  const options = (state.page?.series ?? []).filter((entry) => entry.series !== state.link.series && !compared.includes(entry.series)).map((entry) => {
    const option = document.createElement('option');
    option.value = entry.series;
    return option;
  });
  element('compare-options').replaceChildren(...options);
}

function addCompared(event: Event): void {
  event.preventDefault();
  const input = element<HTMLInputElement>('compare-input');
  const id = input.value.trim();
  if (id === '' || state.link.series === undefined) return;
  input.value = '';
  navigate({ ...state.link, compare: comparedWith([...(state.link.compare ?? []), id], state.link.series) });
}

// ---------------------------------------------------------------------------
// Range and zone
// ---------------------------------------------------------------------------

function closeCustomRange(): void {
  element('custom-range').hidden = true;
  element('custom-range-button').setAttribute('aria-expanded', 'false');
}

function toggleCustomRange(): void {
  const form = element('custom-range');
  if (!form.hidden) return closeCustomRange();
  form.hidden = false;
  element('custom-range-button').setAttribute('aria-expanded', 'true');
  const shown = state.range ?? resolveRange(state.link.range, Date.now());
  element<HTMLInputElement>('range-from').value = inputTime(Date.parse(shown.from), state.zone);
  element<HTMLInputElement>('range-to').value = inputTime(Date.parse(shown.to), state.zone);
  element('range-zone').textContent = zoneName(state.zone);
  element('range-error').textContent = '';
  element<HTMLInputElement>('range-from').focus();
}

function applyCustomRange(event: Event): void {
  event.preventDefault();
  const read = (id: string) => parseInputTime(element<HTMLInputElement>(id).value, state.zone);
  const from = read('range-from');
  const to = read('range-to');
  const problem = from === undefined ? 'From' : to === undefined ? 'To' : undefined;
  const error = element('range-error');
  if (problem !== undefined) return void (error.textContent = `${problem}: write a time as ${INPUT_FORMAT} (24-hour, ${zoneName(state.zone)}).`);
  if ((to as number) <= (from as number)) return void (error.textContent = 'To must be after From.');
  error.textContent = '';
  closeCustomRange();
  navigate(unzoomed({ range: { from: new Date(from as number).toISOString(), to: new Date(to as number).toISOString() } }));
}

function chooseZone(zone: TimeZoneChoice): void {
  state.zone = zone;
  saveTimeZone(zone);
  for (const heading of Array.from(document.querySelectorAll('.time-heading'))) heading.textContent = `Time (${zoneName(zone)})`;
  freshness.showUpdated();
  showOverview();
  showFacts();
  showRangeButtons();
  showAlerts();
  showTable();
  if (!element('chart').contains(document.activeElement)) drawView();
  if (!element('custom-range').hidden) element('range-zone').textContent = zoneName(zone);
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

async function refresh(): Promise<void> {
  if (!element<HTMLInputElement>('auto-refresh').checked || document.visibilityState !== 'visible') return;
  try {
    await loadSeriesList();
    // A moving window follows the clock unless the user is reading a zoomed chart or an older page.
    if (typeof state.link.range === 'string' && !zoomed() && state.table.before.length === 0) await loadView(true);
  } catch (error) {
    freshness.failed(error);
  }
}

function start(): void {
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  element<HTMLInputElement>('series-filter').addEventListener('input', (event) => {
    clearTimeout(filterTimer);
    const q = (event.target as HTMLInputElement).value.trim();
    filterTimer = setTimeout(() => relist({ q, cursor: undefined, before: [], next: undefined }), FILTER_DELAY_MS);
  });
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-status]'))) {
    button.addEventListener('click', () => {
      for (const other of Array.from(document.querySelectorAll('[data-status]'))) other.setAttribute('aria-pressed', String(other === button));
      relist({ status: button.dataset.status === '' ? [] : [button.dataset.status as ListedStatus], cursor: undefined, before: [], next: undefined });
    });
  }
  element('series-next').addEventListener('click', () => {
    if (state.list.next !== undefined) relist({ before: [...state.list.before, state.list.cursor], cursor: state.list.next, next: undefined });
  });
  element('series-previous').addEventListener('click', () => {
    if (state.list.before.length === 0) return;
    const before = [...state.list.before];
    const cursor = before.pop();
    relist({ before, cursor, next: undefined });
  });
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-range]'))) {
    const range = button.dataset.range as Preset | 'custom';
    if (range === 'custom') {
      button.id = 'custom-range-button';
      button.setAttribute('aria-expanded', 'false');
      button.addEventListener('click', toggleCustomRange);
    } else {
      button.addEventListener('click', () => {
        closeCustomRange();
        navigate(unzoomed({ range }));
      });
    }
  }
  element('custom-range').addEventListener('submit', applyCustomRange);
  element('compare-form').addEventListener('submit', addCompared);
  element('reset-zoom').addEventListener('click', resetZoom);
  element('page-older').addEventListener('click', () => {
    if (state.table.next === undefined) return;
    state.table.before.push(state.table.cursor);
    void loadTablePage(state.table.next).catch(freshness.failed);
  });
  element('page-newer').addEventListener('click', () => {
    if (state.table.before.length === 0) return;
    void loadTablePage(state.table.before.pop()).catch(freshness.failed);
  });
  element('download-csv').addEventListener('click', downloadCsv);
  // A skip link moves focus itself: following its #fragment would replace the link's series, range and zoom.
  for (const skip of Array.from(document.querySelectorAll<HTMLAnchorElement>('.skip-links a'))) {
    skip.addEventListener('click', (event) => {
      event.preventDefault();
      element(skip.hash.slice(1)).focus();
    });
  }
  element('retry').addEventListener('click', () => void refresh());
  const zoneSelect = element<HTMLSelectElement>('time-zone');
  zoneSelect.value = state.zone;
  zoneSelect.addEventListener('change', () => chooseZone(zoneSelect.value === 'utc' ? 'utc' : 'local'));
  window.addEventListener('resize', () => state.chart?.setSize({ width: chartWidth(element('chart')), height: 320 }));
  window.addEventListener('popstate', followAddress);
  window.addEventListener('hashchange', followAddress);

  chooseZone(state.zone);
  const link = readLink(location.hash);
  // The address as the page reads it (a hand-edited link is tidied), without a new history entry.
  history.replaceState(null, '', linkHash(link));
  state.link = link;
  showRangeButtons();
  showCompared();
  Promise.all([loadSeriesList(), loadView()]).catch(freshness.failed);
  setInterval(() => void refresh(), REFRESH_MS);
}

start();
