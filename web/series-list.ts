/**
 * The series list the API pages through: the whole catalogue is small (one entry per
 * series: 50,000 series are a few megabytes), so the app keeps it in memory, refreshed in
 * the background (dynamo-repository.ts), and filters and pages it here, on the server.
 *
 * A query names what to keep (`q`) and where to resume (`after`); filters and orders other
 * than by series id (status, "breached since") extend `SeriesListQuery` and `matching`
 * without changing the paging.
 */
import type { SeriesSummary } from './repository';

export interface SeriesListQuery {
  /** Text the series id must contain, any case. */
  readonly q?: string;
  readonly limit: number;
  /** Resume after this series id (the `next` of the previous page). */
  readonly after?: string;
}

export interface SeriesListPage {
  readonly series: SeriesSummary[];
  /** Series matching the query, on every page. */
  readonly total: number;
  /** The series id to resume after; absent on the last page. */
  readonly next?: string;
}

/** A catalogue (sorted by series id, as listSeries gives it) with what filtering needs worked out once. */
interface Index {
  readonly lowerCaseIds: readonly string[];
  /** The last filter asked and its matches: paging through one filter filters once. */
  last?: { readonly q: string; readonly matches: readonly SeriesSummary[] };
}

// Keyed by the catalogue array: a refresh brings a new array, and the old index goes with the old array.
const indexes = new WeakMap<readonly SeriesSummary[], Index>();

function indexOf(catalogue: readonly SeriesSummary[]): Index {
  let index = indexes.get(catalogue);
  if (index === undefined) indexes.set(catalogue, (index = { lowerCaseIds: catalogue.map((entry) => entry.series.toLowerCase()) }));
  return index;
}

/** The entries the query keeps, in series order. */
function matching(catalogue: readonly SeriesSummary[], query: SeriesListQuery): readonly SeriesSummary[] {
  if (query.q === undefined) return catalogue;
  const index = indexOf(catalogue);
  const q = query.q.toLowerCase();
  if (index.last?.q === q) return index.last.matches;
  const matches = catalogue.filter((_entry, at) => (index.lowerCaseIds[at] as string).includes(q));
  index.last = { q, matches };
  return matches;
}

/** First position whose series id sorts after `after`. */
function positionAfter(entries: readonly SeriesSummary[], after: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((entries[middle] as SeriesSummary).series <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function pageSeries(catalogue: readonly SeriesSummary[], query: SeriesListQuery): SeriesListPage {
  const matches = matching(catalogue, query);
  const start = query.after === undefined ? 0 : positionAfter(matches, query.after);
  const series = matches.slice(start, start + query.limit);
  const last = series[series.length - 1];
  return start + series.length < matches.length && last !== undefined ? { series, total: matches.length, next: last.series } : { series, total: matches.length };
}
