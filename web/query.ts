/**
 * Query-string parsing for the API: every parameter is checked, and a bad one is
 * reported by name with what would be accepted, so a caller can fix the request
 * without reading the source.
 */
import { normaliseTimestamp } from '../handlers/reading-timestamp';
import { bucketStart, ROLLUP_STEPS, STEP_MS, type RollupStep } from '../handlers/rollup';
import type { RollupRetentionDays } from './config';
import type { RangeQuery, RollupQuery, SortOrder } from './repository';
import { LISTED_STATUSES, SERIES_SORTS, type ListedStatus, type SeriesCursor, type SeriesListQuery, type SeriesSort } from './series-list';

export interface ParameterError {
  readonly parameter: string;
  readonly message: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ParameterError };

/** Page sizes of the time-range endpoints. */
export const PAGE_LIMITS = { default: 1000, max: 5000 } as const;

/** DynamoDB's largest partition key, in UTF-8 bytes: a longer `thing` could never match. */
const MAX_SERIES_BYTES = 2048;

export type RawQuery = Readonly<Record<string, unknown>>;

export const bad = (parameter: string, message: string): Parsed<never> => ({ ok: false, error: { parameter, message } });

/** A parameter whose percent-escapes do not decode to UTF-8 text (e.g. `%FF`). */
export const NOT_UTF8 = Symbol('not UTF-8');

/** Decodes one `application/x-www-form-urlencoded` component; NOT_UTF8 when its bytes are not UTF-8. */
function decodeComponent(text: string): string | typeof NOT_UTF8 {
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    // decodeURIComponent refuses escapes that are not UTF-8 (URIError) instead of substituting U+FFFD.
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return NOT_UTF8;
  }
}

/**
 * The query string as the routes read it: repeated names give an array (refused by the
 * routes, which take each parameter once), and a value whose bytes are not UTF-8 is
 * NOT_UTF8, so it is refused by name rather than read as text it is not (the usual parsers
 * keep the escapes as they are, or put U+FFFD in their place).
 */
export function parseQueryString(query: string): Record<string, unknown> {
  const parameters: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (query === '') return parameters;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    const decodedName = decodeComponent(rawName);
    const name = decodedName === NOT_UTF8 ? rawName : decodedName;
    const value = equals < 0 ? '' : decodeComponent(pair.slice(equals + 1));
    const known = parameters[name];
    parameters[name] = known === undefined ? value : Array.isArray(known) ? [...known, value] : [known, value];
  }
  return parameters;
}

/** Rejects parameters the endpoint does not know (a typo such as `lmit` would otherwise be ignored silently). */
export function unknownParameter(raw: RawQuery, known: readonly string[]): Parsed<never> | undefined {
  const unknown = Object.keys(raw).find((name) => !known.includes(name));
  if (unknown === undefined) return undefined;
  return bad(unknown, `unknown parameter "${unknown}": this endpoint takes ${known.length === 0 ? 'no parameters' : known.join(', ')}`);
}

/** A parameter's single value; repeating a parameter is an error rather than a guess at which one counts. */
export function single(raw: RawQuery, name: string): Parsed<string | undefined> {
  const value = raw[name];
  if (value === undefined) return { ok: true, value: undefined };
  if (value === NOT_UTF8) return bad(name, `"${name}" is not UTF-8 text: its percent-escapes must encode UTF-8 bytes`);
  if (typeof value !== 'string') return bad(name, `"${name}" must be given once`);
  return { ok: true, value };
}

function parseSeries(raw: RawQuery): Parsed<string> {
  const text = single(raw, 'thing');
  if (!text.ok) return text;
  if (text.value === undefined || text.value.trim() === '') {
    return bad('thing', '"thing" is required: the series id, "<thing id>/<metric>", e.g. things/harrow/001/temperature');
  }
  if (Buffer.byteLength(text.value, 'utf8') > MAX_SERIES_BYTES) return bad('thing', `"thing" must be at most ${MAX_SERIES_BYTES} bytes long`);
  return { ok: true, value: text.value };
}

function parseTime(raw: RawQuery, name: 'from' | 'to'): Parsed<string | undefined> {
  const text = single(raw, name);
  if (!text.ok || text.value === undefined) return text;
  // Epoch milliseconds arrive as digits; the reading model takes them as a number.
  const normalised = normaliseTimestamp(/^\d+$/.test(text.value) ? Number(text.value) : text.value);
  if (normalised.ok) return normalised;
  // A "+01:00" zone left unencoded in a URL arrives as " 01:00".
  const hint = / \d{2}:?\d{2}$/.test(text.value) ? ' (write "+" in a URL as %2B)' : '';
  return bad(name, `"${name}": ${normalised.error.message.replace(/^"timestamp" /, '')}${hint}`);
}

/** `limit`: a page size within `limits`, or their default. */
function parseLimit(raw: RawQuery, limits: { readonly default: number; readonly max: number }): Parsed<number> {
  const text = single(raw, 'limit');
  if (!text.ok || text.value === undefined) return text.ok ? { ok: true, value: limits.default } : text;
  const limit = /^\d{1,9}$/.test(text.value) ? Number(text.value) : NaN;
  if (!(limit >= 1 && limit <= limits.max)) return bad('limit', `"limit" must be a whole number from 1 to ${limits.max}, got ${JSON.stringify(text.value)}`);
  return { ok: true, value: limit };
}

/** Cursors are opaque to callers: the base64url of the timestamp the page ended on. */
export const encodeCursor = (timestamp: string): string => Buffer.from(timestamp, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return undefined;
  const timestamp = Buffer.from(cursor, 'base64url').toString('utf8');
  const normalised = normaliseTimestamp(timestamp);
  return normalised.ok && normalised.value === timestamp ? timestamp : undefined;
}

/** `thing`, `from`, `to`, `limit`, `order` and `cursor` of a time-range endpoint. */
export function parseRangeQuery(raw: RawQuery): Parsed<RangeQuery> {
  const unknown = unknownParameter(raw, ['thing', 'from', 'to', 'limit', 'order', 'cursor']);
  if (unknown !== undefined) return unknown;

  const series = parseSeries(raw);
  if (!series.ok) return series;
  const from = parseTime(raw, 'from');
  if (!from.ok) return from;
  const to = parseTime(raw, 'to');
  if (!to.ok) return to;
  if (from.value !== undefined && to.value !== undefined && to.value < from.value) {
    return bad('to', `"to" (${to.value}) is before "from" (${from.value})`);
  }

  const limitParsed = parseLimit(raw, PAGE_LIMITS);
  if (!limitParsed.ok) return limitParsed;
  const limit = limitParsed.value;

  const orderText = single(raw, 'order');
  if (!orderText.ok) return orderText;
  const order = (orderText.value ?? 'asc') as SortOrder;
  if (order !== 'asc' && order !== 'desc') return bad('order', `"order" must be "asc" (oldest first) or "desc" (newest first), got ${JSON.stringify(orderText.value)}`);

  const cursorText = single(raw, 'cursor');
  if (!cursorText.ok) return cursorText;
  let after: string | undefined;
  if (cursorText.value !== undefined) {
    after = decodeCursor(cursorText.value);
    if (after === undefined) return bad('cursor', '"cursor" is not one this API issued: pass the "nextCursor" of the previous page unchanged');
    if ((from.value !== undefined && after < from.value) || (to.value !== undefined && after > to.value)) {
      return bad('cursor', '"cursor" belongs to another time range: keep "from" and "to" unchanged while paging');
    }
  }

  const query: RangeQuery = { series: series.value, order, limit };
  return {
    ok: true,
    value: {
      ...query,
      ...(from.value === undefined ? {} : { from: from.value }),
      ...(to.value === undefined ? {} : { to: to.value }),
      ...(after === undefined ? {} : { after }),
    },
  };
}

/** `thing` alone (thresholds endpoint). */
export function parseSeriesQuery(raw: RawQuery): Parsed<string> {
  return unknownParameter(raw, ['thing']) ?? parseSeries(raw);
}

/** Buckets `step=auto` keeps a chart to: a pixel or two each on a wide screen. */
export const AUTO_MAX_BUCKETS = 2_000;
/** Buckets one answer may hold at a given step: a year of hours, 27 years of days (minutes and hours are read from the parts of their hours' and days' items, a few kB each). */
export const MAX_BUCKETS = 10_000;

/** Buckets of `step` from the one holding `from` to the one holding `to` (epoch ms). */
export const bucketCount = (from: number, to: number, step: RollupStep): number => Math.floor(to / STEP_MS[step]) - Math.floor(from / STEP_MS[step]) + 1;

/**
 * `step=auto`: the finest step with at most AUTO_MAX_BUCKETS buckets in the range whose
 * rollups are still kept where the range starts, else days.
 */
export function autoStep(from: number, to: number, now: number, retention: RollupRetentionDays): RollupStep {
  // The bucket holding `from` expires `days` after it ends.
  const kept = (step: RollupStep) => {
    const days = retention[step];
    return days === undefined || (Math.floor(from / STEP_MS[step]) + 1) * STEP_MS[step] + days * 86_400_000 > now;
  };
  return ROLLUP_STEPS.find((step) => bucketCount(from, to, step) <= AUTO_MAX_BUCKETS && kept(step)) ?? '1d';
}

export interface RollupQueryOptions {
  /** Epoch ms. */
  readonly now: number;
  readonly retention: RollupRetentionDays;
}

/** `thing`, `from` and `to` (required), `step` (1m, 1h, 1d or auto, the default) of the rollups endpoint. */
export function parseRollupQuery(raw: RawQuery, options: RollupQueryOptions): Parsed<RollupQuery> {
  const unknown = unknownParameter(raw, ['thing', 'from', 'to', 'step']);
  if (unknown !== undefined) return unknown;
  const series = parseSeries(raw);
  if (!series.ok) return series;
  const from = parseTime(raw, 'from');
  if (!from.ok) return from;
  if (from.value === undefined) return bad('from', '"from" is required: the start of the range, e.g. 2026-11-01T00:00:00Z');
  const to = parseTime(raw, 'to');
  if (!to.ok) return to;
  if (to.value === undefined) return bad('to', '"to" is required: the end of the range, e.g. 2026-12-01T00:00:00Z');
  if (to.value < from.value) return bad('to', `"to" (${to.value}) is before "from" (${from.value})`);
  const stepText = single(raw, 'step');
  if (!stepText.ok) return stepText;
  const step = stepText.value ?? 'auto';
  if (step !== 'auto' && !(ROLLUP_STEPS as readonly string[]).includes(step)) {
    return bad('step', `"step" must be ${ROLLUP_STEPS.join(', ')} or auto (the finest with at most ${AUTO_MAX_BUCKETS} buckets), got ${JSON.stringify(step)}`);
  }
  const fromMs = Date.parse(from.value);
  const toMs = Date.parse(to.value);
  const chosen = step === 'auto' ? autoStep(fromMs, toMs, options.now, options.retention) : (step as RollupStep);
  const buckets = bucketCount(fromMs, toMs, chosen);
  if (buckets > MAX_BUCKETS) {
    return bad('step', `the range holds ${buckets} buckets of ${chosen}, more than ${MAX_BUCKETS}: use a coarser step, auto, or a shorter range`);
  }
  return { ok: true, value: { series: series.value, step: chosen, from: bucketStart(from.value, chosen), to: bucketStart(to.value, chosen) } };
}

/** Page sizes of the series list. */
export const SERIES_PAGE_LIMITS = { default: 100, max: 1000 } as const;
/** Longest filter text: longer than any series id worth searching for. */
const MAX_FILTER_LENGTH = 256;

/** `q` (filter text), `status`, `sort`, `limit` and `cursor` of the series endpoint. */
export function parseSeriesListQuery(raw: RawQuery): Parsed<SeriesListQuery> {
  const unknown = unknownParameter(raw, ['q', 'status', 'sort', 'limit', 'cursor']);
  if (unknown !== undefined) return unknown;
  const q = single(raw, 'q');
  if (!q.ok) return q;
  if (q.value !== undefined && q.value.length > MAX_FILTER_LENGTH) return bad('q', `"q" must be at most ${MAX_FILTER_LENGTH} characters`);
  const statusText = single(raw, 'status');
  if (!statusText.ok) return statusText;
  let status: ListedStatus[] | undefined;
  if (statusText.value !== undefined) {
    const names = statusText.value.split(',').map((name) => name.trim());
    const wrong = names.find((name) => !(LISTED_STATUSES as readonly string[]).includes(name));
    if (wrong !== undefined) return bad('status', `"status" takes one or more of ${LISTED_STATUSES.join(', ')}, separated by commas; got ${JSON.stringify(wrong)}`);
    status = LISTED_STATUSES.filter((name) => names.includes(name));
  }
  const sortText = single(raw, 'sort');
  if (!sortText.ok) return sortText;
  const sort = (sortText.value ?? 'series') as SeriesSort;
  if (!SERIES_SORTS.includes(sort)) return bad('sort', `"sort" must be "series" (by id) or "attention" (breached, then no data, longest standing first), got ${JSON.stringify(sortText.value)}`);
  const limit = parseLimit(raw, SERIES_PAGE_LIMITS);
  if (!limit.ok) return limit;
  const cursorText = single(raw, 'cursor');
  if (!cursorText.ok) return cursorText;
  let after: SeriesCursor | undefined;
  if (cursorText.value !== undefined) {
    const decoded = decodeSeriesCursor(cursorText.value);
    if (decoded === undefined) return bad('cursor', '"cursor" is not one this API issued: pass the "nextCursor" of the previous page unchanged');
    if ((decoded.status !== undefined) !== (sort === 'attention')) return bad('cursor', '"cursor" belongs to another sort order: keep "sort" unchanged while paging');
    after = decoded;
  }
  const filter = q.value?.trim() ?? '';
  return {
    ok: true,
    value: { limit: limit.value, sort, ...(filter === '' ? {} : { q: filter }), ...(status === undefined ? {} : { status }), ...(after === undefined ? {} : { after }) },
  };
}

/**
 * Series-list cursors: the base64url of the last entry's sort key, `{"after": <series id>}`
 * by series, with `"status"` and `"since"` by attention.
 */
export const encodeSeriesCursor = (cursor: SeriesCursor): string =>
  Buffer.from(JSON.stringify({ after: cursor.series, ...(cursor.status === undefined ? {} : { status: cursor.status, since: cursor.since }) }), 'utf8').toString('base64url');

function decodeSeriesCursor(cursor: string): SeriesCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(cursor)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown; status?: unknown; since?: unknown } | null;
    if (typeof value?.after !== 'string') return undefined;
    if (value.status === undefined) return { series: value.after };
    if (!(LISTED_STATUSES as readonly unknown[]).includes(value.status) || typeof value.since !== 'string') return undefined;
    return { series: value.after, status: value.status as ListedStatus, since: value.since };
  } catch {
    return undefined;
  }
}
