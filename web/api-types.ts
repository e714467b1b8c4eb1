/**
 * The JSON the API answers with, shared by the server (app.ts) and the dashboard, so
 * the two cannot disagree about a field. Every metric value and threshold is a Decimal:
 * a JSON number written with every digit stored (json.ts), read back as one.
 */
import type { AlertState } from '../handlers/alert-episode-item';
import type { RuleJson } from '../handlers/rule-item';
import type { AlertKind } from '../handlers/alert-rules';
import type { Decimal } from '../handlers/decimal';
import type { RollupStep } from '../handlers/rollup';
import type { FleetAlert, Silence } from './alert-console';
import type { AlertRecord, ReadingPoint, RollupPoint, SeriesSummary, SortOrder } from './repository';
import type { ListedSeries, ListedStatus, StatusCounts } from './series-list';
import type { StoreProblem } from './store-errors';

/** A page of the series list, in the order asked (`sort`). */
export interface SeriesResponse {
  readonly series: ListedSeries[];
  /** Series matching the filter (`q` and `status`), across every page. */
  readonly total: number;
  /** Series matching `q`, by status, whatever `status` keeps. */
  readonly counts: StatusCounts;
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** `GET /api/rollups`: the buckets of the range that hold readings, oldest first, at `step` (the one `auto` chose). */
export interface RollupsResponse {
  readonly thing: string;
  readonly step: RollupStep;
  readonly items: RollupPoint[];
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

/** `GET /api/alerts` without `thing`: alerts across the fleet, newest first. */
export interface FleetAlertsResponse {
  readonly kinds: readonly AlertKind[];
  readonly states: readonly AlertState[];
  readonly items: FleetAlert[];
  /** Pass as `cursor` (with the same `kind` and `state`) for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** `POST /api/alerts/ack`: the alert, now acknowledged. */
export interface AcknowledgeResponse {
  readonly alert: FleetAlert;
}

/** `POST /api/silences`: the silence created (201). */
export interface SilenceResponse {
  readonly silence: Silence;
}

/** `GET /api/silences`: latest end first. */
export interface SilencesResponse {
  readonly items: Silence[];
  readonly nextCursor: string | null;
}

export interface RuleChangeJson {
  readonly id: string;
  readonly series: string;
  readonly changedBy: string;
  readonly changedAt: string;
  readonly reason: string;
  readonly before: RuleJson | null;
  readonly after: RuleJson;
}

/** `PUT /api/thresholds`: the rule set, the changes recorded, and the series that already had it. */
export interface ThresholdsChangeResponse {
  readonly rule: RuleJson;
  readonly changes: RuleChangeJson[];
  readonly unchanged: string[];
}

/** `GET /api/thresholds/changes`: the series' rule now (null: none) and its changes, newest first. */
export interface RuleChangesResponse {
  readonly thing: string;
  readonly rule: RuleJson | null;
  readonly items: RuleChangeJson[];
  readonly nextCursor: string | null;
}

export interface ThresholdsResponse {
  readonly thing: string;
  readonly minThreshold: Decimal | null;
  readonly maxThreshold: Decimal | null;
}

export interface ErrorResponse {
  /** A stable code: `bad-parameter`, `not-found`, `internal`, ... */
  readonly error: string;
  readonly message: string;
  /** The query parameter at fault, for `bad-parameter`. */
  readonly parameter?: string;
}

/** `GET /livez`: the process is up and answering; says nothing about DynamoDB. */
export interface LivenessResponse {
  readonly status: 'ok';
}

export interface TableHealth {
  /** The table's name. */
  readonly table: string;
  /** What the app keeps in it: `readings`, `thresholds`, `alert history`, `series catalogue`. */
  readonly holds: string;
  readonly status: 'ok' | StoreProblem;
  /** What is wrong and what to check; absent when ok. */
  readonly problem?: string;
}

/** `GET /healthz`: 200 when every table the app reads answers, else 503 saying which does not and why. */
export interface HealthResponse {
  readonly status: 'ok' | 'unavailable';
  /** When unavailable: what is wrong, in a sentence. */
  readonly message?: string;
  readonly tables: TableHealth[];
}

export type { AlertRecord, FleetAlert, ListedSeries, ListedStatus, ReadingPoint, RollupPoint, RollupStep, SeriesSummary, Silence, SortOrder, StatusCounts };
