/**
 * The archive's SQL contract: how Firehose lays readings out in S3, what each line of an
 * archived object holds, and the `readings` table both SQL engines expose over them. The
 * Firehose processor (handlers/archive-flatten.ts) writes this format, the Glue table
 * (stacks/archive-query.ts) and the local DuckDB view (tools/query-local.ts) read it, so
 * a change here changes all three. Free of cdktf and of any SDK: tools load it cheaply.
 *
 * One line per metric of each reading, newline-delimited JSON, gzipped by Firehose:
 *
 *   {"series":"things/harrow/001/temperature","thing_id":"things/harrow/001","metric":"temperature","ts":"2016-09-09 13:33:07.381019","value":19.57}
 *
 * - `ts` is UTC, `yyyy-MM-dd HH:mm:ss.ffffff` (a space, no zone): the form Athena expects
 *   for a TIMESTAMP column in JSON (https://docs.aws.amazon.com/athena/latest/ug/data-types-timestamps.html),
 *   which DuckDB also casts to TIMESTAMP. Athena keeps milliseconds (Hive tables read
 *   TIMESTAMP(3)); DuckDB keeps all six digits.
 * - `value` is a JSON number, so SQL sees a DOUBLE; DynamoDB and the web API keep the
 *   exact decimal the sensor sent (e.g. "19.57" written as a string).
 */
import { type Reading } from './reading';
import { SERIES_SEPARATOR } from './reading-item';

/** The table name in the Glue database and in the local DuckDB session. */
export const ARCHIVE_TABLE = 'readings';

/** The key prefix (and local folder) of archived readings; Firehose's error output lives beside it, not under it. */
export const ARCHIVE_ROOT = 'readings';

export interface ArchiveColumn {
  readonly name: string;
  /** Hive type in the Glue table. */
  readonly glueType: string;
  /** DuckDB type of the same column. */
  readonly duckdbType: string;
  readonly comment: string;
}

/** The columns of every archived line, in line order. */
export const ARCHIVE_COLUMNS = [
  { name: 'series', glueType: 'string', duckdbType: 'VARCHAR', comment: 'series id: <thing id>/<metric>, as in DynamoDB and the web API' },
  { name: 'thing_id', glueType: 'string', duckdbType: 'VARCHAR', comment: 'the reading\'s id' },
  { name: 'metric', glueType: 'string', duckdbType: 'VARCHAR', comment: 'metric name' },
  { name: 'ts', glueType: 'timestamp', duckdbType: 'TIMESTAMP', comment: 'time of the measurement, UTC' },
  { name: 'value', glueType: 'double', duckdbType: 'DOUBLE', comment: 'metric value as a double (DynamoDB keeps the exact decimal)' },
] as const satisfies readonly ArchiveColumn[];

export type ArchiveColumnName = (typeof ARCHIVE_COLUMNS)[number]['name'];
export type ArchiveLine = { readonly [K in ArchiveColumnName]: K extends 'value' ? number : string };

export interface ArchivePartition {
  readonly name: string;
  /** Java DateTimeFormatter pattern Firehose's `!{timestamp:...}` expands in the prefix. */
  readonly firehosePattern: string;
  /** Zero-padded width of the value in the key. */
  readonly digits: number;
  /** Values Athena projects; `year` takes its range from the deployment's configuration. */
  readonly range?: readonly [number, number];
}

/**
 * `year=YYYY/month=MM/day=DD/hour=HH/`: the UTC hour in which Firehose received the oldest
 * record of the object (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html),
 * not the readings' own time, so a late reading sits in the hour it arrived. Both engines
 * expose them as INTEGER columns.
 */
export const ARCHIVE_PARTITIONS = [
  { name: 'year', firehosePattern: 'yyyy', digits: 4 },
  { name: 'month', firehosePattern: 'MM', digits: 2, range: [1, 12] },
  { name: 'day', firehosePattern: 'dd', digits: 2, range: [1, 31] },
  { name: 'hour', firehosePattern: 'HH', digits: 2, range: [0, 23] },
] as const satisfies readonly ArchivePartition[];

/** Hive and DuckDB type of the partition columns. */
export const PARTITION_TYPES = { glueType: 'int', duckdbType: 'INTEGER' } as const;

/** `readings/year=<v>/month=<v>/day=<v>/hour=<v>/`, each `<v>` written by `value`. */
export function archivePrefix(value: (partition: ArchivePartition) => string): string {
  return `${ARCHIVE_ROOT}/${ARCHIVE_PARTITIONS.map((partition) => `${partition.name}=${value(partition)}/`).join('')}`;
}

/** The Firehose S3 prefix: the partition values come from the arrival time. */
export const FIREHOSE_PREFIX = archivePrefix((partition) => `!{timestamp:${partition.firehosePattern}}`);

/** Where an object received at `arrival` goes, as Firehose evaluates FIREHOSE_PREFIX (UTC). */
export function archivePrefixAt(arrival: Date): string {
  const values: Record<string, number> = {
    year: arrival.getUTCFullYear(),
    month: arrival.getUTCMonth() + 1,
    day: arrival.getUTCDate(),
    hour: arrival.getUTCHours(),
  };
  return archivePrefix((partition) => String(values[partition.name]).padStart(partition.digits, '0'));
}

// ---------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------

/** `2016-09-09T13:33:07.381019Z` (a normalised reading time) → `2016-09-09 13:33:07.381019`. */
export function archiveTimestamp(normalised: string): string {
  return `${normalised.slice(0, 10)} ${normalised.slice(11, 26)}`;
}

/** One archive line as JSON text: the reference form, which `archiveLines` writes faster. */
export function archiveLine(line: ArchiveLine): string {
  return JSON.stringify(line);
}

/**
 * The archived lines of one reading (JSON text, no newline), one per metric in the sender's
 * order; each is `archiveLine` of that metric. Written as text, five times faster than
 * stringifying an object per metric: the id is escaped once, and metric names, `/`, the
 * time and finite numbers never need escaping (a number's text is its JSON).
 */
export function archiveLines(reading: Reading): string[] {
  const ts = archiveTimestamp(reading.timestamp);
  const id = JSON.stringify(reading.id);
  const seriesOpen = `${id.slice(0, -1)}${SERIES_SEPARATOR}`;
  const lines: string[] = [];
  for (const [metric, value] of reading.metrics) {
    lines.push(`{"series":${seriesOpen}${metric}","thing_id":${id},"metric":"${metric}","ts":"${ts}","value":${value}}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Firehose processing
// ---------------------------------------------------------------------------

/**
 * How Firehose feeds the processor. Flattening multiplies the bytes (a 100-byte reading with
 * two metrics becomes about 280), and the response is base64 inside JSON, capped with the
 * request at 6 MB (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html),
 * so Firehose hands over at most 1 MB at a time and the processor keeps its answer under
 * `responseBudgetBytes`: records past it are returned ProcessingFailed (kept whole under
 * the error prefix) rather than failing the whole invocation.
 */
export const ARCHIVE_PROCESSING = {
  bufferSizeMiB: 1,
  bufferIntervalSeconds: 60,
  numberOfRetries: 3,
  responseBudgetBytes: 5_500_000,
} as const;

// ---------------------------------------------------------------------------
// Deployment defaults (the configuration schema and the query construct share them)
// ---------------------------------------------------------------------------

export const ARCHIVE_QUERY_DEFAULTS = {
  /** Bytes one Athena query may scan before Athena cancels it, in GB (10^9 bytes). */
  maxScanGigabytes: 10,
  /** Days query results stay in the results bucket. */
  resultsExpireDays: 7,
  /** Years Athena projects partitions for: data outside them is invisible to SQL. */
  firstYear: 2026,
  lastYear: 2035,
} as const;

