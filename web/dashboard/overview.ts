/**
 * The overview: counts by status (each a filter button), then the series most in need of
 * attention first (breached, then no data, each the longest standing first), paged and
 * filtered by the server.
 *
 * Rows are kept by series id and updated in place, so the ten-second refresh never
 * rebuilds the element a keyboard user is on: a row's button stays the same element,
 * and focus stays where it was even when the row moves.
 */
import type { ListedSeries, ListedStatus, StatusCounts } from '../api-types';
import { metricMetadata } from '../metrics';
import { formatDuration, formatTime, type TimeZoneChoice } from './time';

export const STATUS_WORDS: Record<ListedStatus, string> = { breached: 'breached', 'no-data': 'no data', ok: 'ok', 'no-threshold': 'no threshold' };

/** `66.8 °C`: the value's exact digits and its metric's unit, never split across lines. */
export const withUnit = (text: string, metric: string): string => {
  const unit = metricMetadata(metric).unit;
  return unit === undefined ? text : `${text}\u00a0${unit}`;
};

export interface OverviewRender {
  readonly series: readonly ListedSeries[];
  readonly counts: StatusCounts;
  readonly selected: string | undefined;
  readonly zone: TimeZoneChoice;
  readonly now: number;
  readonly onSelect: (series: string) => void;
}

/** Digits past which a value may wrap rather than widen the table (a 38-digit energy total). */
const LONG_VALUE = 14;

interface Row {
  readonly row: HTMLTableRowElement;
  readonly button: HTMLButtonElement;
  readonly thing: HTMLSpanElement;
  readonly metric: HTMLSpanElement;
  readonly value: HTMLTableCellElement;
  readonly badge: HTMLSpanElement;
  readonly since: HTMLTableCellElement;
  onSelect: () => void;
}

const rows = new Map<string, Row>();

function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

function newRow(series: string): Row {
  const row = document.createElement('tr');
  row.dataset.series = series;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'series-link';
  const thing = document.createElement('span');
  thing.className = 'thing';
  const metric = document.createElement('span');
  metric.className = 'metric';
  button.append(thing, metric);
  const name = document.createElement('td');
  name.append(button);
  const value = document.createElement('td');
  value.className = 'number live';
  const statusCell = document.createElement('td');
  const badge = document.createElement('span');
  statusCell.append(badge);
  const since = document.createElement('td');
  since.className = 'since live';
  row.append(name, value, statusCell, since);
  const entry: Row = { row, button, thing, metric, value, badge, since, onSelect: () => undefined };
  button.addEventListener('click', () => entry.onSelect());
  return entry;
}

/** The thing id with a line-break opportunity after each `/`, so a narrow screen wraps it between its parts. */
function setThing(node: HTMLElement, thingId: string): void {
  if (node.textContent === thingId) return;
  const parts = thingId.split('/');
  node.replaceChildren(...parts.flatMap((part, at) => (at === parts.length - 1 ? [part] : [`${part}/`, document.createElement('wbr')])));
}

function update(entry: Row, summary: ListedSeries, render: OverviewRender): void {
  const metric = metricMetadata(summary.metric);
  setThing(entry.thing, summary.thingId);
  setText(entry.metric, metric.name);
  entry.button.title = summary.series;
  setText(entry.value, withUnit(summary.latestValue.text, summary.metric));
  entry.value.classList.toggle('long', summary.latestValue.text.length > LONG_VALUE);
  entry.badge.className = `status status-${summary.status} live`;
  setText(entry.badge, STATUS_WORDS[summary.status] ?? summary.status);
  // How long it has stood, for what needs attention; when it last reported, for the rest.
  const age = formatDuration(render.now - Date.parse(summary.since));
  setText(entry.since, summary.status === 'breached' || summary.status === 'no-data' ? `for ${age}` : `${formatDuration(render.now - Date.parse(summary.latestTimestamp))} ago`);
  entry.since.title = `${summary.status === 'breached' || summary.status === 'no-data' ? 'since' : 'latest reading'} ${formatTime(summary.since, render.zone)}; latest reading ${summary.latestTimestamp}`;
  entry.row.classList.toggle('selected', summary.series === render.selected);
  entry.onSelect = () => render.onSelect(summary.series);
}

/** Shows the page, reusing the rows of series already shown. */
export function renderOverview(body: HTMLTableSectionElement, render: OverviewRender): void {
  const active = document.activeElement;
  const wanted = render.series.map((summary) => {
    let entry = rows.get(summary.series);
    if (entry === undefined) rows.set(summary.series, (entry = newRow(summary.series)));
    update(entry, summary, render);
    return entry.row;
  });
  const kept = new Set(render.series.map((summary) => summary.series));
  for (const [series, entry] of rows) {
    if (!kept.has(series)) {
      entry.row.remove();
      rows.delete(series);
    }
  }
  // Only rows out of place move; moving the focused one would drop focus, so it is given back.
  wanted.forEach((row, at) => {
    if (body.children[at] !== row) body.insertBefore(row, body.children[at] ?? null);
  });
  if (active instanceof HTMLElement && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });
}

/** Marks the chosen series' row without waiting for the next page. */
export function markSelected(body: HTMLTableSectionElement, series: string | undefined): void {
  for (const row of Array.from(body.rows)) row.classList.toggle('selected', row.dataset.series === series);
}
