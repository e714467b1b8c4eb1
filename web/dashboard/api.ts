/** The dashboard's calls to the API (same origin). */
import type { AlertRecord, AlertsResponse, ErrorResponse, ReadingPoint, ReadingsResponse, RollupsResponse, RuleChangesResponse, SeriesResponse, SortOrder, ThresholdsChangeResponse, ThresholdsResponse } from '../api-types';
import { Decimal } from '../../handlers/decimal';
import { parseExactJson } from '../json';
import type { ListedStatus } from '../series-list';
import type { TimeRange } from './link';

/**
 * Why a call failed, as the page tells it: `offline` (the web app did not answer at all),
 * `unavailable` (it answered that its data store is out of reach: 503), or `refused`
 * (it answered that the request is wrong, or failed: a message to show).
 */
export class ApiError extends Error {
  constructor(
    readonly kind: 'offline' | 'unavailable' | 'refused',
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function getJson<T>(path: string, parameters: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) query.set(name, String(value));
  const search = query.toString();
  const url = search === '' ? path : `${path}?${search}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } });
  } catch {
    // The browser says only "Failed to fetch": the server, or the way to it, is down.
    throw new ApiError('offline', 'The web app cannot be reached.');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as ErrorResponse | undefined;
    // A proxy or load balancer in front answers 502/504 when the app is down.
    const kind = response.status === 503 ? 'unavailable' : response.status === 502 || response.status === 504 ? 'offline' : 'refused';
    throw new ApiError(kind, body?.message ?? `${path} answered ${response.status}`);
  }
  // Values keep every digit the API sends (a double would keep 17 at most).
  return parseExactJson(await response.text()) as T;
}

export type { TimeRange };

/** The API's largest page of readings or alerts. */
const LARGEST_PAGE = 5000;

/** Every JSON number arrives as a Decimal (parseExactJson); counts and means are plain numbers. */
const plain = (value: unknown): number => (value instanceof Decimal ? value.approx : Number(value));

export interface SeriesPageQuery {
  readonly q: string;
  /** Empty: every status. */
  readonly status: readonly ListedStatus[];
  readonly limit: number;
  readonly cursor?: string;
}

/** A page of the overview, most urgent first. */
export async function fetchSeriesPage(query: SeriesPageQuery): Promise<SeriesResponse> {
  const page = await getJson<SeriesResponse>('/api/series', {
    q: query.q === '' ? undefined : query.q,
    status: query.status.length === 0 ? undefined : query.status.join(','),
    sort: 'attention',
    limit: query.limit,
    cursor: query.cursor,
  });
  const counts = Object.fromEntries(Object.entries(page.counts).map(([status, value]) => [status, plain(value)])) as SeriesResponse['counts'];
  return { ...page, total: plain(page.total), counts };
}

export const fetchThresholds = (thing: string) => getJson<ThresholdsResponse>('/api/thresholds', { thing });

export async function fetchRollups(thing: string, range: TimeRange): Promise<RollupsResponse> {
  const answer = await getJson<RollupsResponse>('/api/rollups', { thing, ...range, step: 'auto' });
  return { ...answer, items: answer.items.map((bucket) => ({ ...bucket, count: plain(bucket.count), mean: plain(bucket.mean) })) };
}

export const fetchReadingsPage = (thing: string, range: Partial<TimeRange>, order: SortOrder, limit: number, cursor?: string) =>
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

/** Sends a change as JSON; a refusal (400, 403, 409...) is an ApiError with the API's message. */
async function sendJson<T>(method: 'PUT' | 'POST', path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { method, headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    throw new ApiError('offline', 'The web app cannot be reached: nothing was changed.');
  }
  if (!response.ok) {
    const answer = (await response.json().catch(() => undefined)) as ErrorResponse | undefined;
    throw new ApiError(response.status === 503 ? 'unavailable' : 'refused', answer?.message ?? `${path} answered ${response.status}`);
  }
  return parseExactJson(await response.text()) as T;
}

/** A rule as the form gives it: decimals as typed (every digit kept), periods in seconds (as typed when not a number, for the API to refuse), null for "not set". */
export interface RuleFields {
  readonly min: string | null;
  readonly max: string | null;
  readonly for: number | string | null;
  readonly hysteresis: string | null;
  readonly noDataAfterSeconds: number | string | null;
  readonly recipients: string | null;
}

/** Where a rule goes: one series, or a list of them. */
export type RuleTarget = { readonly thing: string } | { readonly series: readonly string[] };

export const putRule = (target: RuleTarget, rule: RuleFields, reason: string) =>
  sendJson<ThresholdsChangeResponse>('PUT', '/api/thresholds', { ...target, rule, ...(reason === '' ? {} : { reason }) });

export const fetchRuleChanges = (thing: string, limit: number) => getJson<RuleChangesResponse>('/api/thresholds/changes', { thing, limit });

/** Every series the overview's filter matches, up to `cap`; `total` says how many match in all. */
export async function matchingSeries(query: Omit<SeriesPageQuery, 'limit' | 'cursor'>, cap: number): Promise<{ series: string[]; total: number }> {
  const series: string[] = [];
  let cursor: string | undefined;
  let total = 0;
  do {
    const page = await fetchSeriesPage({ ...query, limit: Math.min(cap - series.length, 500), cursor });
    total = page.total;
    series.push(...page.series.map((entry) => entry.series));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && series.length < cap);
  return { series, total };
}
