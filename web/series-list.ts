/**
 * The series list the API pages through: the whole catalogue is small (one entry per
 * series: 50,000 series are a few megabytes), so the app keeps it in memory, refreshed in
 * the background (dynamo-repository.ts), and filters, sorts and pages it here, on the server.
 *
 * Each series is listed with a status judged at the time of the request:
 *   breached      its latest reading crosses a threshold
 *   no-data       its latest reading is older than its rule's no-data period, or, where
 *                 the rule sets none, its metric's window (metrics.ts), whatever that
 *                 reading said: an old value is no evidence either way
 *   ok            within its thresholds
 *   no-threshold  recent, with no threshold set
 * and `since`: when it entered that status, if the alert state records it, else the time
 * of its latest reading (for no-data, that is when it fell silent).
 *
 * Sorted by series id, or by attention: breached first, then no-data (each the longest
 * standing first), then ok and no-threshold by series id. Paging is by key (the cursor
 * holds the sort key of the last entry), so a page never repeats or skips an entry that
 * kept its place; an entry whose status changes between two pages may move across them.
 *
 * Quick at 50,000 series: a list once built for a filter, a sort and a set of stale
 * series is reused until the catalogue is refreshed or another series goes stale, so a
 * request costs a binary search and a slice (bench:web measures it).
 */
import { staleAfterMs } from './metrics';
import type { SeriesSummary } from './repository';

/** In the order the overview shows them. */
export const LISTED_STATUSES = ['breached', 'no-data', 'ok', 'no-threshold'] as const;
export type ListedStatus = (typeof LISTED_STATUSES)[number];

export const SERIES_SORTS = ['series', 'attention'] as const;
export type SeriesSort = (typeof SERIES_SORTS)[number];

/** One line of the overview as the API answers it. */
export interface ListedSeries extends Omit<SeriesSummary, 'status' | 'statusSince'> {
  readonly status: ListedStatus;
  /** When the series entered `status` if known, else the time of its latest reading. */
  readonly since: string;
}

/** Where a page ends, in the order of its sort. */
export interface SeriesCursor {
  readonly series: string;
  /** With sort=attention: the entry's status and since. */
  readonly status?: ListedStatus;
  readonly since?: string;
}

export interface SeriesListQuery {
  /** Text the series id must contain, any case. */
  readonly q?: string;
  /** Keep only these statuses. @default every status */
  readonly status?: readonly ListedStatus[];
  /** @default 'series' */
  readonly sort?: SeriesSort;
  readonly limit: number;
  /** Resume after this entry (the `next` of the previous page). */
  readonly after?: SeriesCursor;
}

export type StatusCounts = Record<ListedStatus, number>;

export interface SeriesListPage {
  readonly series: ListedSeries[];
  /** Series matching the query, on every page. */
  readonly total: number;
  /** Series matching `q`, by status (whatever `status` keeps): the overview's counts. */
  readonly counts: StatusCounts;
  /** The entry to resume after; absent on the last page. */
  readonly next?: SeriesCursor;
}

const RANK: Record<ListedStatus, number> = { breached: 0, 'no-data': 1, ok: 2, 'no-threshold': 3 };
/** Statuses whose entries are ordered by how long they have stood. */
const byAge = (status: ListedStatus): boolean => RANK[status] < RANK.ok;

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Attention order: status, then (breached and no-data) the longest standing first, then series id. */
function compareAttention(a: SeriesCursor, b: SeriesCursor): number {
  const statusA = a.status as ListedStatus;
  const statusB = b.status as ListedStatus;
  if (statusA !== statusB) return RANK[statusA] - RANK[statusB];
  if (byAge(statusA)) {
    const since = compareText(a.since ?? '', b.since ?? '');
    if (since !== 0) return since;
  }
  return compareText(a.series, b.series);
}

const compareSeries = (a: SeriesCursor, b: SeriesCursor): number => compareText(a.series, b.series);

/** A built list: its entries in order, the counts of the filter text's matches, and the answers written from it. */
interface Listing {
  readonly entries: readonly ListedSeries[];
  readonly counts: StatusCounts;
  /** Written answers by first position and page size: the console's refreshes ask the same pages again and again. */
  readonly answers: Map<string, string>;
}

/** Written answers kept per listing. */
const ANSWERS_KEPT = 64;

/** A catalogue (sorted by series id, as listSeries gives it) with what listing needs worked out once. */
interface Index {
  readonly lowerCaseIds: readonly string[];
  /** Epoch ms at which each entry (catalogue order) becomes no-data. */
  readonly staleAt: Float64Array;
  /** The same, sorted: how many entries are stale at a time is one binary search. */
  readonly staleAtSorted: Float64Array;
  /** Listings by filter text, statuses, sort and number of stale entries (a few at a time). */
  readonly listings: Map<string, Listing>;
}

/** Listings kept per catalogue: a handful of people's filters; past this, the oldest goes. */
const LISTINGS_KEPT = 16;

// Keyed by the catalogue array: a refresh brings a new array, and the old index goes with the old array.
const indexes = new WeakMap<readonly SeriesSummary[], Index>();

function indexOf(catalogue: readonly SeriesSummary[]): Index {
  let index = indexes.get(catalogue);
  if (index === undefined) {
    const staleAt = Float64Array.from(catalogue, (entry) => Date.parse(entry.latestTimestamp) + (entry.noDataAfterSeconds === undefined ? staleAfterMs(entry.metric) : entry.noDataAfterSeconds * 1000));
    index = { lowerCaseIds: catalogue.map((entry) => entry.series.toLowerCase()), staleAt, staleAtSorted: staleAt.slice().sort(), listings: new Map() };
    indexes.set(catalogue, index);
  }
  return index;
}

/** How many of the sorted deadlines are at or before `now`. */
function countAtOrBefore(sorted: Float64Array, now: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) <= now) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Written out field by field: a rest-spread copy of 50,000 entries costs tens of milliseconds more. */
function listed(summary: SeriesSummary, stale: boolean): ListedSeries {
  const status: ListedStatus = stale ? 'no-data' : summary.status;
  const since = stale ? summary.latestTimestamp : (summary.statusSince ?? summary.latestTimestamp);
  const { series, thingId, metric, latestTimestamp, latestValue, minThreshold, maxThreshold } = summary;
  return { series, thingId, metric, latestTimestamp, latestValue, minThreshold, maxThreshold, status, since };
}

const bySince = (a: ListedSeries, b: ListedSeries): number => compareText(a.since, b.since);

function buildListing(catalogue: readonly SeriesSummary[], index: Index, query: SeriesListQuery, now: number): Listing {
  const q = query.q?.toLowerCase();
  const keep = query.status === undefined ? undefined : new Set(query.status);
  const counts: StatusCounts = { breached: 0, 'no-data': 0, ok: 0, 'no-threshold': 0 };
  const entries: ListedSeries[] = [];
  catalogue.forEach((summary, at) => {
    if (q !== undefined && !(index.lowerCaseIds[at] as string).includes(q)) return;
    const entry = listed(summary, (index.staleAt[at] as number) <= now);
    counts[entry.status] += 1;
    if (keep === undefined || keep.has(entry.status)) entries.push(entry);
  });
  if (query.sort !== 'attention') return { entries, counts, answers: new Map() };
  // By status, each group in series order as the catalogue is; then the two that need
  // attention by how long (the sort is stable: equal times stay in series order).
  const groups = LISTED_STATUSES.map((status) => entries.filter((entry) => entry.status === status));
  (groups[0] as ListedSeries[]).sort(bySince);
  (groups[1] as ListedSeries[]).sort(bySince);
  return { entries: groups.flat(), counts, answers: new Map() };
}

/** The listing for the query as things stand at `now`: built once per filter, sort and set of stale entries. */
function listingOf(catalogue: readonly SeriesSummary[], query: SeriesListQuery, now: number): Listing {
  const index = indexOf(catalogue);
  // Deadlines only pass, so the number passed names the set of stale entries.
  const stale = countAtOrBefore(index.staleAtSorted, now);
  const key = JSON.stringify([query.q?.toLowerCase() ?? null, query.status ?? null, query.sort ?? 'series', stale]);
  let listing = index.listings.get(key);
  if (listing === undefined) {
    listing = buildListing(catalogue, index, query, now);
    if (index.listings.size >= LISTINGS_KEPT) index.listings.delete(index.listings.keys().next().value as string);
    index.listings.set(key, listing);
  }
  return listing;
}

/** First position whose entry sorts after `after`. */
function positionAfter(entries: readonly ListedSeries[], after: SeriesCursor, compare: (a: SeriesCursor, b: SeriesCursor) => number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(entries[middle] as ListedSeries, after) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

const cursorOf = (entry: ListedSeries, sort: SeriesSort): SeriesCursor =>
  sort === 'attention' ? { series: entry.series, status: entry.status, since: entry.since } : { series: entry.series };

function pageOf(listing: Listing, start: number, query: SeriesListQuery): SeriesListPage {
  const { entries, counts } = listing;
  const series = entries.slice(start, start + query.limit);
  const last = series[series.length - 1];
  const page = { series, total: entries.length, counts };
  return start + series.length < entries.length && last !== undefined ? { ...page, next: cursorOf(last, query.sort ?? 'series') } : page;
}

function startOf(listing: Listing, query: SeriesListQuery): number {
  return query.after === undefined ? 0 : positionAfter(listing.entries, query.after, query.sort === 'attention' ? compareAttention : compareSeries);
}

/**
 * One page of the catalogue as the query asks, every status judged at `now` (epoch ms),
 * as `write` writes it, written once per listing: until the catalogue is read
 * again or another series goes quiet, the same page is the same text, and writing 50
 * entries as JSON costs far more than finding them.
 */
export function seriesPageAnswer(catalogue: readonly SeriesSummary[], query: SeriesListQuery, now: number, write: (page: SeriesListPage) => string): string {
  const listing = listingOf(catalogue, query, now);
  const start = startOf(listing, query);
  const key = `${start}:${query.limit}`;
  let answer = listing.answers.get(key);
  if (answer === undefined) {
    answer = write(pageOf(listing, start, query));
    if (listing.answers.size >= ANSWERS_KEPT) listing.answers.delete(listing.answers.keys().next().value as string);
    listing.answers.set(key, answer);
  }
  return answer;
}
