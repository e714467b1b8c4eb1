/**
 * The JSON the API answers with, shared by the server (app.ts) and the dashboard, so
 * the two cannot disagree about a field.
 */
import type { AlertRecord, ReadingPoint, SeriesSummary, SortOrder } from './repository';

export interface SeriesResponse {
  readonly series: SeriesSummary[];
}

export interface RangeResponse<T> {
  readonly thing: string;
  readonly order: SortOrder;
  readonly items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export type ReadingsResponse = RangeResponse<ReadingPoint>;
export type AlertsResponse = RangeResponse<AlertRecord>;

export interface ThresholdsResponse {
  readonly thing: string;
  readonly minThreshold: number | null;
  readonly maxThreshold: number | null;
}

export interface ErrorResponse {
  /** A stable code: `bad-parameter`, `not-found`, `internal`, ... */
  readonly error: string;
  readonly message: string;
  /** The query parameter at fault, for `bad-parameter`. */
  readonly parameter?: string;
}

export type { AlertRecord, ReadingPoint, SeriesSummary, SortOrder };
