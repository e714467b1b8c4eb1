/**
 * `npm run query -- [--json] "<SQL>"`: SQL over the archived readings, as the table
 * `readings(series, thing_id, metric, ts, value, year, month, day, hour)`, on the local
 * archive with DuckDB (default) or on a deployment's archive with Athena.
 *
 *   npm run query -- "SELECT series, count(*) FROM readings GROUP BY series"
 *   npm run query -- --from-outputs cdktf.out/stacks/pipeline --json "SELECT ..."
 *
 * Rows go to stdout (a table, or with --json an array of row objects); progress and the
 * summary (time, and on Athena the bytes scanned and their cost) go to stderr. DuckDB and
 * the AWS SDK are loaded only by the path that uses them.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import * as path from 'node:path';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { ARCHIVE_PROCESSING } from '../handlers/archive-format';
import { LOCAL_DEFAULTS } from '../local/defaults';
import { ARCHIVE_LIMITS } from '../stacks/construct-defaults';
import { PIPELINE_OUTPUTS } from '../stacks/output-names';
import { runCli, throwParseErrors, UsageError } from './cli';
import type { AthenaProgress, AthenaRunOptions } from './query-athena';
import { formatBytes, plural, renderTable, rowObjects, type QueryResult } from './query-output';
import { readOutputs, regionOfUrl, TargetError, type Outputs } from './target';

export interface QueryFlags {
  readonly json: boolean;
  readonly dataDir?: string;
  readonly fromOutputs?: string;
  readonly workgroup?: string;
  readonly database?: string;
  readonly region?: string;
}

export type QueryTarget =
  | { readonly kind: 'local'; readonly dataDir: string }
  | { readonly kind: 'athena'; readonly region: string; readonly workgroup: string; readonly database: string };

/** The local archive unless a deployment is named (by its outputs or by workgroup and database). */
export function resolveQueryTarget(flags: Omit<QueryFlags, 'json'>, env: Readonly<Record<string, string | undefined>> = process.env): QueryTarget {
  const deployment = flags.fromOutputs !== undefined || flags.workgroup !== undefined || flags.database !== undefined;
  if (!deployment) return { kind: 'local', dataDir: path.resolve(flags.dataDir ?? LOCAL_DEFAULTS.dataDir) };
  if (flags.dataDir !== undefined) throw new UsageError('--data-dir names the local archive; leave it out when querying a deployment (--from-outputs, --workgroup, --database)');

  const outputs: Outputs = flags.fromOutputs === undefined ? {} : readOutputs(flags.fromOutputs);
  const workgroup = flags.workgroup ?? outputs[PIPELINE_OUTPUTS.queryWorkgroup];
  const database = flags.database ?? outputs[PIPELINE_OUTPUTS.queryDatabase];
  const missing = [
    ...(workgroup === undefined ? [`--workgroup (or the ${PIPELINE_OUTPUTS.queryWorkgroup} output)`] : []),
    ...(database === undefined ? [`--database (or the ${PIPELINE_OUTPUTS.queryDatabase} output)`] : []),
  ];
  if (missing.length > 0) {
    const stale = flags.fromOutputs === undefined ? '' : `; ${flags.fromOutputs} lacks them, so the pipeline stack was deployed before SQL over the archive: deploy it again`;
    throw new TargetError(`to query a deployment, also give ${missing.join(' and ')}${stale}`);
  }
  const region = flags.region ?? regionOfUrl(outputs[PIPELINE_OUTPUTS.ingestUrl]) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? LOCAL_DEFAULTS.region;
  return { kind: 'athena', region, workgroup: workgroup!, database: database! };
}

export interface QueryIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Rows go to a terminal: colour the table's header and borders. */
  readonly terminal: boolean;
  /** Progress of a running Athena query. @default a progress line when stderr is a terminal, nothing otherwise */
  readonly progress?: (progress: AthenaProgress) => void;
  /** Athena client and timing, for tests. */
  readonly athena?: Pick<AthenaRunOptions, 'client' | 'sleep'>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const dollars = (usd: number) => `$${usd < 0.01 ? usd.toFixed(6) : usd.toFixed(2)}`;

/** A one-line progress display that is cleared when the query ends. */
function terminalProgress(): { update: (progress: AthenaProgress) => void; stop: () => void } {
  const bar = new SingleBar({ format: ' Athena {state} | {elapsed} | scanned {scanned}', stream: process.stderr, hideCursor: true, clearOnComplete: true });
  let started = false;
  return {
    update: (progress) => {
      const payload = { state: progress.state.toLowerCase(), elapsed: seconds(progress.elapsedMs), scanned: formatBytes(progress.scannedBytes) };
      if (!started) bar.start(1, 0, payload);
      else bar.update(0, payload);
      started = true;
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

async function runOnAthena(sql: string, target: Extract<QueryTarget, { kind: 'athena' }>, io: QueryIo): Promise<QueryResult> {
  const { runAthenaQuery, ATHENA_PRICE } = await import('./query-athena');
  const display = io.progress === undefined && process.stderr.isTTY === true ? terminalProgress() : undefined;
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once('SIGINT', interrupt);
  try {
    const result = await runAthenaQuery(sql, target, { ...io.athena, signal: stop.signal, onProgress: io.progress ?? display?.update }).catch((error: unknown) => {
      if ((error as Error).name !== 'AccessDeniedException') throw error;
      throw new TargetError(`${(error as Error).message}: attach the policy of the pipeline stack's ${PIPELINE_OUTPUTS.queryPolicyArn} output to this identity (docs/query.md)`);
    });
    display?.stop();
    io.err(
      `${plural(result.rows.length, 'row')} in ${seconds(result.elapsedMs)} · scanned ${formatBytes(result.scannedBytes)}, billed ${formatBytes(result.billedBytes)}: ` +
        `${dollars(result.costUsd)} at $${ATHENA_PRICE.usdPerTerabyte.toFixed(2)}/TB (Athena list price, ${ATHENA_PRICE.region}, ${ATHENA_PRICE.listed}) · query ${result.queryId} in ${target.workgroup}`,
    );
    return result;
  } finally {
    display?.stop();
    process.removeListener('SIGINT', interrupt);
  }
}

async function runLocally(sql: string, target: Extract<QueryTarget, { kind: 'local' }>, io: QueryIo): Promise<QueryResult> {
  const { runLocalQuery, LOCAL_ARCHIVE_DIR } = await import('./query-local');
  const result = await runLocalQuery(sql, target.dataDir);
  const where = path.join(target.dataDir, LOCAL_ARCHIVE_DIR);
  const source =
    result.archiveFiles === 0
      ? `no archived readings under ${where} yet: the local Firehose writes them when the platform stops, or once its buffers' time has passed ` +
        `(by default ${ARCHIVE_PROCESSING.bufferIntervalSeconds} s before the processor flattens them, then ${ARCHIVE_LIMITS.bufferSeconds.default} s); ` +
        '`npm start -- --archive-buffer-seconds 5` writes them within seconds'
      : `DuckDB over ${plural(result.archiveFiles, 'archive object')} under ${where}`;
  io.err(`${plural(result.rows.length, 'row')} in ${seconds(result.elapsedMs)} · ${source}`);
  return result;
}

export function queryProgram(io: QueryIo): Command {
  return new Command('npm run query --')
    .description('Run SQL over the archived readings: the table readings(series, thing_id, metric, ts, value, year, month, day, hour). Local archive (DuckDB) by default; a deployment (Athena) with --from-outputs or --workgroup/--database. See docs/query.md.')
    .argument('<sql>', 'one SQL statement, e.g. "SELECT series, avg(value) FROM readings GROUP BY series"')
    .option('--json', 'print the rows as a JSON array of objects', false)
    .option('--data-dir <dir>', `data folder of the local platform, as for npm start (default: ${LOCAL_DEFAULTS.dataDir})`)
    .option('--from-outputs <path>', "query the deployment named by the pipeline stack's outputs: its Terraform folder (runs `terraform output -json` there) or a JSON file of them")
    .option('--workgroup <name>', 'Athena workgroup of the deployment (output query_workgroup)')
    .option('--database <name>', 'Glue database of the deployment (output query_database)')
    .option('--region <region>', `AWS region of the deployment (default: from the ingest URL output, $AWS_REGION, or ${LOCAL_DEFAULTS.region})`)
    .showHelpAfterError('(add --help for usage)')
    .action(async (sql: string, flags: QueryFlags) => {
      if (sql.trim() === '') throw new UsageError('the SQL statement is empty: give one, e.g. "SELECT count(*) FROM readings"');
      const target = resolveQueryTarget(flags);
      const result = target.kind === 'local' ? await runLocally(sql, target, io) : await runOnAthena(sql, target, io);
      io.out(flags.json ? JSON.stringify(rowObjects(result)) : renderTable(result, io.terminal));
    });
}

if (require.main === module) {
  const io: QueryIo = { out: (text) => console.log(text), err: (text) => console.error(text), terminal: process.stdout.isTTY === true };
  runCli(() => throwParseErrors(queryProgram(io)).parseAsync());
}
