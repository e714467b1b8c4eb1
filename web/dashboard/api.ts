/** The dashboard's calls to the API (same origin). */
import type { AlertRecord, AlertsResponse, ErrorResponse, ReadingPoint, ReadingsResponse, RollupsResponse, SeriesResponse, SortOrder, ThresholdsResponse } from '../api-types';
import { Decimal } from '../../handlers/decimal';
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

/** The API's largest page of readings or alerts. */
const LARGEST_PAGE = 5000;

/** Every JSON number arrives as a Decimal (parseExactJson); counts and means are plain numbers. */
const plain = (value: unknown): number => (value instanceof Decimal ? value.approx : Number(value));

export async function fetchSeriesPage(q: string, limit: number, cursor?: string): Promise<SeriesResponse> {
  const page = await getJson<SeriesResponse>('/api/series', { q: q === '' ? undefined : q, limit, cursor });
  return { ...page, total: plain(page.total) };
}

export const fetchThresholds = (thing: string) => getJson<ThresholdsResponse>('/api/thresholds', { thing });

export async function fetchRollups(thing: string, range: TimeRange): Promise<RollupsResponse> {
  const answer = await getJson<RollupsResponse>('/api/rollups', { thing, ...range, step: 'auto' });
  return { ...answer, items: answer.items.map((bucket) => ({ ...bucket, count: plain(bucket.count), mean: plain(bucket.mean) })) };
}

export const fetchReadingsPage = (thing: string, range: TimeRange, order: SortOrder, limit: number, cursor?: string) =>
  getJson<ReadingsResponse>('/api/readings', { thing, ...range, order, limit, cursor });

/** Every item of a range, oldest first, following pages up to `cap`; `complete` is false when the range holds more. */
async function allPages<T>(fetchPage: (limit: number, cursor?: string) => Promise<{ items: T[]; nextCursor: string | null }>, cap: number): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(Math.min(LARGEST_PAGE, cap - items.length), cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && items.length < cap);
  return { items, complete: cursor === undefined };
}

export const fetchReadings = (thing: string, range: TimeRange, cap: number): Promise<{ items: ReadingPoint[]; complete: boolean }> =>
  allPages((limit, cursor) => fetchReadingsPage(thing, range, 'asc', limit, cursor), cap);

export const fetchAlerts = (thing: string, range: TimeRange, cap: number): Promise<{ items: AlertRecord[]; complete: boolean }> =>
  allPages((limit, cursor) => getJson<AlertsResponse>('/api/alerts', { thing, ...range, limit, cursor }), cap);
