/**
 * `npm run query` on this machine: DuckDB over the local archive, the gzipped JSON-lines
 * objects the local Firehose writes under `<data dir>/archive/<bucket>/readings/...`, as
 * the same `readings` table (columns and types from handlers/archive-format.ts, plus the
 * year/month/day/hour partition columns read from the path), so a query written for
 * Athena runs here unchanged wherever the two dialects agree (docs/query.md).
 */
import * as path from 'node:path';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection } from '@duckdb/node-api';
import { ARCHIVE_COLUMNS, ARCHIVE_PARTITIONS, ARCHIVE_TABLE, PARTITION_TYPES, archivePrefix } from '../handlers/archive-format';
import { doubleCell, integerCell, type Cell, type QueryResult } from './query-output';

/** Where the local Firehose keeps its buckets, under the data dir. */
export const LOCAL_ARCHIVE_DIR = 'archive';

export interface LocalQueryResult extends QueryResult {
  readonly archiveFiles: number;
  readonly elapsedMs: number;
}

/** Failed while running (bad SQL, unknown column): the query ran and failed. */
export class LocalQueryError extends Error {
  override readonly name = 'LocalQueryError';
}

/** Every archived object, in any bucket: `<data dir>/archive/**\/readings/year=*\/month=*\/day=*\/hour=*\/*.gz`. */
export function archiveGlob(dataDir: string): string {
  return path.join(path.resolve(dataDir), LOCAL_ARCHIVE_DIR, '**', `${archivePrefix(() => '*')}*.gz`);
}

const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * The session as Athena's: UTC (Athena's session time zone), and DuckDB macros under the
 * Trino names of functions DuckDB spells differently, so more queries run unchanged on
 * both engines (docs/query.md lists what still differs).
 */
export const ATHENA_COMPATIBILITY = [
  "SET TimeZone = 'UTC'",
  'CREATE TEMP MACRO approx_distinct(x) AS approx_count_distinct(x)',
  'CREATE TEMP MACRO approx_percentile(x, p) AS approx_quantile(x, p)',
  'CREATE TEMP MACRO from_iso8601_timestamp(text) AS CAST(text AS TIMESTAMPTZ)',
  'CREATE TEMP MACRO regexp_like(text, pattern) AS regexp_matches(text, pattern)',
  'CREATE TEMP MACRO to_unixtime(t) AS epoch(t)',
] as const;

/** The `readings` view over the archive objects (or an empty one with the same columns when there are none yet). */
export function readingsViewSql(glob: string | undefined): string {
  const columns = [...ARCHIVE_COLUMNS.map((column) => column.name), ...ARCHIVE_PARTITIONS.map((partition) => partition.name)].join(', ');
  if (glob === undefined) {
    const typed = [
      ...ARCHIVE_COLUMNS.map((column) => `NULL::${column.duckdbType} AS ${column.name}`),
      ...ARCHIVE_PARTITIONS.map((partition) => `NULL::${PARTITION_TYPES.duckdbType} AS ${partition.name}`),
    ];
    return `CREATE VIEW ${ARCHIVE_TABLE} AS SELECT ${typed.join(', ')} WHERE false`;
  }
  const columnTypes = ARCHIVE_COLUMNS.map((column) => `${column.name}: '${column.duckdbType}'`).join(', ');
  const partitionTypes = ARCHIVE_PARTITIONS.map((partition) => `'${partition.name}': ${PARTITION_TYPES.duckdbType}`).join(', ');
  return (
    `CREATE VIEW ${ARCHIVE_TABLE} AS SELECT ${columns} FROM read_json(${quote(glob)}, ` +
    `format = 'newline_delimited', compression = 'gzip', columns = {${columnTypes}}, ` +
    `hive_partitioning = true, hive_types = {${partitionTypes}})`
  );
}

const INTEGER_TYPES = new Set([DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT]);
const FLOAT_TYPES = new Set([DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE]);

/** DuckDB's JSON form of a value, with integers as numbers where exact, like the Athena path. */
function cellOf(typeId: DuckDBTypeId, value: unknown): Cell {
  if (typeof value === 'string' && INTEGER_TYPES.has(typeId)) return integerCell(value);
  if (typeof value === 'string' && FLOAT_TYPES.has(typeId)) return doubleCell(value);
  return value as Cell;
}

async function countFiles(connection: DuckDBConnection, glob: string): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT count(*) AS files FROM glob(${quote(glob)})`);
  return Number(reader.getRowsJson()[0]?.[0] ?? 0);
}

/** Runs one SQL statement over the local archive of `dataDir`. */
export async function runLocalQuery(sql: string, dataDir: string): Promise<LocalQueryResult> {
  const started = performance.now();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const glob = archiveGlob(dataDir);
    const archiveFiles = await countFiles(connection, glob);
    for (const statement of ATHENA_COMPATIBILITY) await connection.run(statement);
    await connection.run(readingsViewSql(archiveFiles === 0 ? undefined : glob));
    let reader;
    try {
      reader = await connection.runAndReadAll(sql);
    } catch (error) {
      throw new LocalQueryError((error as Error).message);
    }
    const types = reader.columnTypes();
    const columns = reader.columnNames().map((name, index) => ({ name, type: String(types[index]) }));
    const rows = reader.getRowsJson().map((row) => row.map((value, index) => cellOf(types[index]!.typeId, value)));
    return { columns, rows, archiveFiles, elapsedMs: performance.now() - started };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
