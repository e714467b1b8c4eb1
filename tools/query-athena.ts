/**
 * `npm run query` against a deployment: one statement on Athena in the archive's
 * workgroup (whose enforced settings choose the results location, encryption and scan
 * limit), polled until it ends, then every page of results; bytes scanned and their cost
 * at Athena's list price.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecution,
  type ResultSet,
} from '@aws-sdk/client-athena';
import { doubleCell, integerCell, type Cell, type QueryColumn, type QueryResult } from './query-output';

/**
 * Athena's list price for SQL queries: $5.00 per TB scanned, each query rounded up to the
 * next MB with a 10 MB minimum; DDL and failed queries are free, cancelled ones pay for what
 * they scanned (https://aws.amazon.com/athena/pricing/, US East (N. Virginia), as listed
 * in November 2026; other regions may differ). TB and MB are read as 2^40 and 2^20 bytes.
 */
export const ATHENA_PRICE = { usdPerTerabyte: 5, minimumBytes: 10 * 2 ** 20, roundingBytes: 2 ** 20, region: 'us-east-1', listed: '2026-11' } as const;

/** What Athena bills for a query that scanned `scannedBytes`. */
export function athenaCost(scannedBytes: number, statementType: string | undefined, state: string): { billedBytes: number; usd: number } {
  if (statementType === 'DDL' || state === 'FAILED') return { billedBytes: 0, usd: 0 };
  const rounded = Math.ceil(scannedBytes / ATHENA_PRICE.roundingBytes) * ATHENA_PRICE.roundingBytes;
  const billedBytes = Math.max(rounded, ATHENA_PRICE.minimumBytes);
  return { billedBytes, usd: (billedBytes / 2 ** 40) * ATHENA_PRICE.usdPerTerabyte };
}

export interface AthenaTarget {
  readonly region: string;
  readonly workgroup: string;
  readonly database: string;
}

export interface AthenaProgress {
  readonly state: string;
  readonly elapsedMs: number;
  readonly scannedBytes: number;
}

export interface AthenaQueryResult extends QueryResult {
  readonly queryId: string;
  readonly scannedBytes: number;
  readonly billedBytes: number;
  readonly costUsd: number;
  readonly elapsedMs: number;
  readonly outputLocation?: string;
}

export interface AthenaRunOptions {
  /** @default a client for the target's region with the SDK's credential chain */
  readonly client?: Pick<AthenaClient, 'send'>;
  readonly onProgress?: (progress: AthenaProgress) => void;
  /** Stops the query on Athena (Ctrl-C): it ends CANCELLED and pays for what it scanned. */
  readonly signal?: AbortSignal;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The query ran and did not succeed (FAILED or CANCELLED): the reason Athena gives. */
export class AthenaQueryError extends Error {
  override readonly name = 'AthenaQueryError';
}

/** Polls quickly at first (most queries take seconds), then every 2 s. */
const POLL = { firstMs: 200, factor: 1.5, maxMs: 2_000 } as const;
const PAGE_SIZE = 1_000;
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export async function runAthenaQuery(sql: string, target: AthenaTarget, options: AthenaRunOptions = {}): Promise<AthenaQueryResult> {
  const client = options.client ?? new AthenaClient({ region: target.region });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = performance.now();
  const { QueryExecutionId: queryId } = await client.send(
    new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: target.workgroup, QueryExecutionContext: { Database: target.database, Catalog: 'AwsDataCatalog' } }),
  );
  if (queryId === undefined) throw new AthenaQueryError('Athena started the query but returned no query id');

  let execution: QueryExecution | undefined;
  let stopRequested = false;
  for (let wait: number = POLL.firstMs; ; wait = Math.min(wait * POLL.factor, POLL.maxMs)) {
    if (options.signal?.aborted && !stopRequested) {
      stopRequested = true;
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }));
    }
    execution = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }))).QueryExecution;
    const state = execution?.Status?.State ?? 'UNKNOWN';
    options.onProgress?.({ state, elapsedMs: performance.now() - started, scannedBytes: execution?.Statistics?.DataScannedInBytes ?? 0 });
    if (ENDED.has(state)) break;
    await sleep(wait);
  }

  const state = execution?.Status?.State ?? 'UNKNOWN';
  const scannedBytes = execution?.Statistics?.DataScannedInBytes ?? 0;
  if (state !== 'SUCCEEDED') {
    const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
    const cost = athenaCost(scannedBytes, execution?.StatementType, state);
    const paid = cost.usd > 0 ? ` It scanned ${scannedBytes} bytes, billed as ${cost.billedBytes}.` : '';
    const why = state === 'CANCELLED' && stopRequested ? 'you stopped it' : reason;
    throw new AthenaQueryError(`Athena query ${queryId} ${state === 'CANCELLED' ? 'was cancelled' : 'failed'}: ${why}.${paid}`);
  }

  const { columns, rows } = await fetchResults(client, queryId, execution?.StatementType);
  const cost = athenaCost(scannedBytes, execution?.StatementType, state);
  return {
    columns,
    rows,
    queryId,
    scannedBytes,
    billedBytes: cost.billedBytes,
    costUsd: cost.usd,
    elapsedMs: performance.now() - started,
    ...(execution?.ResultConfiguration?.OutputLocation === undefined ? {} : { outputLocation: execution.ResultConfiguration.OutputLocation }),
  };
}

async function fetchResults(client: Pick<AthenaClient, 'send'>, queryId: string, statementType: string | undefined): Promise<QueryResult> {
  let columns: QueryColumn[] = [];
  const rows: Cell[][] = [];
  let nextToken: string | undefined;
  let first = true;
  do {
    const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: queryId, MaxResults: PAGE_SIZE, ...(nextToken === undefined ? {} : { NextToken: nextToken }) }));
    const set: ResultSet = page.ResultSet ?? {};
    if (first) columns = (set.ResultSetMetadata?.ColumnInfo ?? []).map((info) => ({ name: info.Label ?? info.Name ?? '', type: info.Type ?? 'varchar' }));
    const pageRows = set.Rows ?? [];
    // A SELECT's first row holds the column names (https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryResults.html).
    const skip = first && isHeader(pageRows[0]?.Data?.map((datum) => datum.VarCharValue), columns, statementType) ? 1 : 0;
    for (const row of pageRows.slice(skip)) rows.push(columns.map((column, index) => athenaCell(column.type, row.Data?.[index]?.VarCharValue)));
    nextToken = page.NextToken;
    first = false;
  } while (nextToken !== undefined);
  return { columns, rows };
}

function isHeader(values: (string | undefined)[] | undefined, columns: readonly QueryColumn[], statementType: string | undefined): boolean {
  if (values === undefined) return false;
  if (statementType === 'DML') return true;
  return statementType === undefined && values.length === columns.length && values.every((value, index) => value === columns[index]!.name);
}

/** Athena returns every value as text; numbers and booleans become JSON numbers and booleans. */
export function athenaCell(type: string, text: string | undefined): Cell {
  if (text === undefined) return null;
  switch (type.toLowerCase()) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'bigint':
      return integerCell(text);
    case 'double':
    case 'float':
    case 'real':
      return doubleCell(text);
    case 'boolean':
      return text === 'true';
    default:
      return text;
  }
}
