/** The dashboard's calls to the API (same origin). */
import type { AlertsResponse, ErrorResponse, ReadingPoint, ReadingsResponse, SeriesResponse, SortOrder, ThresholdsResponse } from '../api-types';
import { parseExactJson } from '../json';

async function getJson<T>(path: string, parameters: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) query.set(name, String(value));
  const search = query.toString();
  const url = search === '' ? path : `${path}?${search}`;
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as ErrorResponse | undefined;
    throw new Error(body?.message ?? `${path} answered ${response.status}`);
  }
  // Values keep every digit the API sends (a double would keep 17 at most).
  return parseExactJson(await response.text()) as T;
}

export interface TimeRange {
  readonly from: string;
  readonly to: string;
}

export const fetchSeries = () => getJson<SeriesResponse>('/api/series');

export const fetchThresholds = (thing: string) => getJson<ThresholdsResponse>('/api/thresholds', { thing });

export const fetchAlerts = (thing: string, range: TimeRange) => getJson<AlertsResponse>('/api/alerts', { thing, ...range, limit: 1000 });

export const fetchReadingsPage = (thing: string, range: TimeRange, order: SortOrder, limit: number, cursor?: string) =>
  getJson<ReadingsResponse>('/api/readings', { thing, ...range, order, limit, cursor });

/**
 * The newest readings of a range, oldest first, following pages up to `cap` points.
 * `complete` is false when the range holds more than that.
 */
export async function fetchLatestReadings(thing: string, range: TimeRange, cap: number): Promise<{ points: ReadingPoint[]; complete: boolean }> {
  const newestFirst: ReadingPoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchReadingsPage(thing, range, 'desc', Math.min(5000, cap - newestFirst.length), cursor);
    newestFirst.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && newestFirst.length < cap);
  return { points: newestFirst.reverse(), complete: cursor === undefined };
}
