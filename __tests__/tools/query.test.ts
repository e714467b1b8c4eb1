/**
 * `npm run query`: locally with DuckDB over archive objects laid out as Firehose writes
 * them, and against a deployment with a mocked Athena client
 * (https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryExecution.html,
 * https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryResults.html).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  type QueryExecution,
  type QueryExecutionState,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { ARCHIVE_COLUMNS } from '../../handlers/archive-format';
import type { Reading } from '../../handlers/reading';
import { PIPELINE_OUTPUTS } from '../../stacks/output-names';
import { EXIT_USAGE, exitCodeOf, formatError, throwParseErrors } from '../../tools/cli';
import { queryProgram, type QueryIo } from '../../tools/query';
import { athenaCell, athenaCost, runAthenaQuery, type AthenaProgress } from '../../tools/query-athena';
import { reading, writeArchiveObject } from './archive-fixture';

interface Run {
  readonly out: string[];
  readonly err: string[];
  readonly exitCode: number;
  readonly message?: string;
}

async function run(args: readonly string[], io: Partial<QueryIo> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const program = throwParseErrors(queryProgram({ out: (text) => out.push(text), err: (text) => err.push(text), terminal: false, ...io }));
  program.configureOutput({ writeErr: (text) => err.push(text), writeOut: (text) => out.push(text) });
  try {
    await program.parseAsync([...args], { from: 'user' });
    return { out, err, exitCode: 0 };
  } catch (error) {
    return { out, err, exitCode: exitCodeOf(error), message: formatError(error) };
  }
}

const json = (result: Run) => JSON.parse(result.out.join('')) as Record<string, unknown>[];

// ---------------------------------------------------------------------------
// Local archive (DuckDB)
// ---------------------------------------------------------------------------

describe('locally, over the archive objects', () => {
  let dataDir: string;
  /** Every archived (reading, arrival) pair, to compute the expected answers from. */
  const archived: { reading: Reading; arrival: Date }[] = [];
  const START = Date.UTC(2026, 10, 28, 0, 0, 0);
  const QUARTER = 15 * 60_000;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'query-local-'));
    // Two days of a reading every 15 minutes from two things (one with two metrics), each
    // arriving 2 minutes after it was taken; one reading of the first day arrives late, next day.
    for (let index = 0; index < 2 * 96; index++) {
      const at = START + index * QUARTER;
      const value = (offset: number) => (20 + ((index * 37 + offset) % 50) / 10).toFixed(1);
      archived.push({ reading: reading({ id: 'things/harrow/001', timestamp: at, temperature: value(0), humidity: value(13) }), arrival: new Date(at + 120_000) });
      archived.push({ reading: reading({ id: 'things/harrow/002', timestamp: new Date(at).toISOString(), temperature: Number(value(29)) }), arrival: new Date(at + 120_000) });
    }
    archived.push({ reading: reading({ id: 'things/harrow/002', timestamp: '2026-11-28T23:50:00Z', temperature: 30 }), arrival: new Date(Date.UTC(2026, 10, 29, 1, 5)) });
    // Firehose writes an object per buffer: here one per arrival hour, and the first hour in two.
    const byHour = new Map<number, typeof archived>();
    for (const entry of archived) {
      const hour = Math.floor(entry.arrival.getTime() / 3_600_000);
      byHour.set(hour, [...(byHour.get(hour) ?? []), entry]);
    }
    for (const [hour, entries] of byHour) {
      const arrival = new Date(hour * 3_600_000 + 60_000);
      if (entries === byHour.values().next().value) {
        writeArchiveObject(dataDir, arrival, entries.slice(0, 3).map((entry) => entry.reading));
        writeArchiveObject(dataDir, new Date(arrival.getTime() + 300_000), entries.slice(3).map((entry) => entry.reading));
      } else writeArchiveObject(dataDir, arrival, entries.map((entry) => entry.reading));
    }
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Every archived row: one per metric. */
  const rows = () =>
    archived.flatMap(({ reading: r, arrival }) => [...r.metrics].map(([metric, value]) => ({ series: `${r.id}/${metric}`, ts: r.timestamp, value: value.approx, arrival })));

  it('exposes the contract\'s columns with their types, plus INTEGER year/month/day/hour from the path', async () => {
    const result = await run(['--data-dir', dataDir, '--json', 'DESCRIBE readings']);
    expect(result.exitCode).toBe(0);
    expect(json(result).map((row) => [row.column_name, row.column_type])).toEqual([
      ...ARCHIVE_COLUMNS.map((column) => [column.name, column.duckdbType]),
      ['year', 'INTEGER'],
      ['month', 'INTEGER'],
      ['day', 'INTEGER'],
      ['hour', 'INTEGER'],
    ]);
  });

  it('answers daily means per series as computed from the readings', async () => {
    const result = await run(['--data-dir', dataDir, '--json', "SELECT series, date_trunc('day', ts) AS day, avg(value) AS mean, count(*) AS readings FROM readings GROUP BY 1, 2 ORDER BY 1, 2"]);
    expect(result.exitCode).toBe(0);
    const expected = new Map<string, { sum: number; count: number }>();
    for (const row of rows()) {
      const key = `${row.series}|${row.ts.slice(0, 10)} 00:00:00`;
      const entry = expected.get(key) ?? { sum: 0, count: 0 };
      expected.set(key, { sum: entry.sum + row.value, count: entry.count + 1 });
    }
    const answered = json(result);
    expect(answered.map((row) => `${String(row.series)}|${String(row.day)}`)).toEqual([...expected.keys()].sort());
    for (const row of answered) {
      const { sum, count } = expected.get(`${String(row.series)}|${String(row.day)}`)!;
      expect(row.readings).toBe(count);
      expect(row.mean as number).toBeCloseTo(sum / count, 9);
    }
    // Three series over two days, the late reading counted on the day it was taken.
    expect(answered).toHaveLength(6);
    expect(answered.find((row) => row.series === 'things/harrow/002/temperature' && String(row.day).startsWith('2026-11-28'))?.readings).toBe(97);
  });

  it('answers the hours a series went above a threshold', async () => {
    const result = await run(['--data-dir', dataDir, '--json', "SELECT series, date_trunc('hour', ts) AS hour_start, max(value) AS peak FROM readings WHERE value > 24.5 GROUP BY 1, 2 ORDER BY 1, 2"]);
    const expected = new Map<string, number>();
    for (const row of rows().filter((candidate) => candidate.value > 24.5)) {
      const key = `${row.series}|${row.ts.slice(0, 13).replace('T', ' ')}:00:00`;
      expected.set(key, Math.max(expected.get(key) ?? -Infinity, row.value));
    }
    expect(json(result).map((row) => [`${String(row.series)}|${String(row.hour_start)}`, row.peak])).toEqual([...expected.entries()].sort(([a], [b]) => a.localeCompare(b)));
    expect(expected.size).toBeGreaterThan(5);
  });

  it('puts each reading in the partition of the hour it arrived, not the hour it was taken', async () => {
    const result = await run(['--data-dir', dataDir, '--json', "SELECT year, month, day, hour, value FROM readings WHERE series = 'things/harrow/002/temperature' AND value = 30"]);
    expect(json(result)).toEqual([{ year: 2026, month: 11, day: 29, hour: 1, value: 30 }]);
    const hours = await run(['--data-dir', dataDir, '--json', 'SELECT count(DISTINCT (year, month, day, hour)) AS hours, count(*) AS lines FROM readings']);
    const arrivalHours = new Set(archived.map(({ arrival }) => Math.floor(arrival.getTime() / 3_600_000)));
    expect(json(hours)).toEqual([{ hours: arrivalHours.size, lines: rows().length }]);
  });

  it('runs Athena\'s spelling of common functions too, in UTC as Athena does', async () => {
    const sql =
      "SELECT approx_distinct(series) AS series, to_unixtime(min(ts)) AS first, count_if(regexp_like(metric, '^temp')) AS temperatures " +
      "FROM readings WHERE ts >= from_iso8601_timestamp('2026-11-29T01:00:00+01:00')";
    const result = await run(['--data-dir', dataDir, '--json', sql]);
    expect(result.exitCode).toBe(0);
    const second = rows().filter((row) => row.ts >= '2026-11-29T00:00:00');
    expect(json(result)).toEqual([{ series: 3, first: Date.UTC(2026, 10, 29) / 1000, temperatures: second.filter((row) => row.series.endsWith('/temperature')).length }]);
  });

  it('prints a table by default and says how many rows and archive objects it read', async () => {
    const result = await run(['--data-dir', dataDir, "SELECT metric, count(*) AS n FROM readings GROUP BY metric ORDER BY metric"]);
    expect(result.exitCode).toBe(0);
    const table = result.out.join('\n');
    expect(table).toMatch(/metric\s+│\s+n/);
    expect(table).toMatch(/humidity\s+│\s+192 │/);
    expect(table).toMatch(/temperature\s+│\s+385 │/);
    // One object per arrival hour, and the first hour in two.
    const objects = new Set(archived.map(({ arrival }) => Math.floor(arrival.getTime() / 3_600_000))).size + 1;
    expect(result.err.join('\n')).toMatch(new RegExp(`^2 rows in [\\d.]+ s · DuckDB over ${objects} archive objects under .*archive$`));
  });

  it('answers over an empty archive with the same columns and no rows, and says the archive is empty', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'query-empty-'));
    try {
      const result = await run(['--data-dir', empty, '--json', 'SELECT count(*) AS n, max(ts) AS latest FROM readings']);
      expect(json(result)).toEqual([{ n: 0, latest: null }]);
      expect(result.err.join('\n')).toMatch(/no archived readings under .* yet: .*when the platform stops.* 60 s before the processor flattens them, then 300 s.*--archive-buffer-seconds 5/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('fails with DuckDB\'s message (exit 1) on a bad query, and with a usage error (exit 2) on a bad command line', async () => {
    const bad = await run(['--data-dir', dataDir, 'SELECT nope FROM readings']);
    expect(bad.exitCode).toBe(1);
    expect(bad.message).toMatch(/Binder Error: .*nope/);
    expect((await run(['--data-dir', dataDir, '   '])).exitCode).toBe(EXIT_USAGE);
    expect((await run([])).exitCode).toBe(EXIT_USAGE);
    const mixed = await run(['--data-dir', dataDir, '--workgroup', 'w', '--database', 'd', 'SELECT 1']);
    expect(mixed).toMatchObject({ exitCode: EXIT_USAGE, message: expect.stringMatching(/--data-dir names the local archive/) });
    expect((await run(['--bogus', 'SELECT 1'])).exitCode).toBe(EXIT_USAGE);
  });
});

// ---------------------------------------------------------------------------
// Deployment (Athena, mocked)
// ---------------------------------------------------------------------------

describe('against a deployment, on Athena', () => {
  const athena = mockClient(AthenaClient);
  let dir: string;
  let outputsFile: string;
  const QUERY_ID = '2f2b3c4d-0000-4000-8000-000000000001';

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'query-athena-'));
    outputsFile = path.join(dir, 'outputs.json');
    writeFileSync(
      outputsFile,
      JSON.stringify({
        pipeline: {
          [PIPELINE_OUTPUTS.ingestUrl]: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/thingsstream',
          [PIPELINE_OUTPUTS.queryWorkgroup]: 'iot-archive',
          [PIPELINE_OUTPUTS.queryDatabase]: 'iot_archive',
        },
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => athena.reset());

  const execution = (state: QueryExecutionState, scanned: number, extra: Partial<QueryExecution> = {}): GetQueryExecutionCommandOutput => ({
    $metadata: {},
    QueryExecution: { QueryExecutionId: QUERY_ID, StatementType: 'DML', Status: { State: state }, Statistics: { DataScannedInBytes: scanned }, ResultConfiguration: { OutputLocation: `s3://results/results/${QUERY_ID}.csv` }, ...extra },
  });
  const columns = [
    { Name: 'series', Label: 'series', Type: 'varchar' },
    { Name: 'day', Label: 'day', Type: 'timestamp' },
    { Name: 'mean', Label: 'mean', Type: 'double' },
    { Name: 'n', Label: 'n', Type: 'bigint' },
  ];
  const row = (...values: (string | undefined)[]) => ({ Data: values.map((value) => (value === undefined ? {} : { VarCharValue: value })) });

  function succeedAfterPolls() {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED', 0))
      .resolvesOnce(execution('RUNNING', 40_000_000))
      .resolvesOnce(execution('RUNNING', 90_000_000))
      .resolves(execution('SUCCEEDED', 123_456_789));
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: QUERY_ID, MaxResults: 1000 })
      .resolves({
        ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('series', 'day', 'mean', 'n'), row('things/harrow/001/temperature', '2026-11-28 00:00:00.000', '22.45', '96')] },
        NextToken: 'page-2',
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: QUERY_ID, NextToken: 'page-2' })
      // A later page has no header row, even when a value looks like one.
      .resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('series', undefined, 'NaN', '9007199254740993')] } });
  }

  it('runs the SQL in the deployment\'s workgroup and database, polling with progress until it succeeds', async () => {
    succeedAfterPolls();
    const progress: AthenaProgress[] = [];
    const waits: number[] = [];
    const result = await run(['--from-outputs', outputsFile, '--json', "SELECT series, date_trunc('day', ts) AS day, avg(value) AS mean, count(*) AS n FROM readings GROUP BY 1, 2"], {
      progress: (update) => progress.push(update),
      athena: { sleep: async (ms) => void waits.push(ms) },
    });
    expect(result.exitCode).toBe(0);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toEqual({
      QueryString: "SELECT series, date_trunc('day', ts) AS day, avg(value) AS mean, count(*) AS n FROM readings GROUP BY 1, 2",
      WorkGroup: 'iot-archive',
      QueryExecutionContext: { Database: 'iot_archive', Catalog: 'AwsDataCatalog' },
    });
    expect(progress.map((update) => [update.state, update.scannedBytes])).toEqual([
      ['QUEUED', 0],
      ['RUNNING', 40_000_000],
      ['RUNNING', 90_000_000],
      ['SUCCEEDED', 123_456_789],
    ]);
    // Quick at first, then slower: a waiting query costs few calls.
    expect(waits).toEqual([200, 300, 450]);
    expect(json(result)).toEqual([
      { series: 'things/harrow/001/temperature', day: '2026-11-28 00:00:00.000', mean: 22.45, n: 96 },
      { series: 'series', day: null, mean: 'NaN', n: '9007199254740993' },
    ]);
  });

  it('takes the region from the ingest URL output, and ends with the bytes scanned and their cost at the list price', async () => {
    succeedAfterPolls();
    const regions: string[] = [];
    const result = await run(['--from-outputs', outputsFile, 'SELECT 1'], { athena: { sleep: async () => undefined } });
    for (const call of athena.calls()) regions.push(await (call.thisValue as AthenaClient).config.region());
    expect(new Set(regions)).toEqual(new Set(['eu-west-1']));
    // 123,456,789 bytes round up to 118 MiB; $5 per TiB.
    const usd = ((118 * 2 ** 20) / 2 ** 40) * 5;
    expect(result.err.join('\n')).toContain(`2 rows in`);
    expect(result.err.join('\n')).toContain(`scanned 123 MB, billed 124 MB: $${usd.toFixed(6)} at $5.00/TB (Athena list price, us-east-1, 2026-11) · query ${QUERY_ID} in iot-archive`);
    expect(result.out.join('\n')).toMatch(/things\/harrow\/001\/temperature │ 2026-11-28 00:00:00.000 │\s+22\.45 │\s+96 │/);
  });

  it.each<[string, Partial<QueryExecution>, RegExp]>([
    ['FAILED', { Status: { State: 'FAILED', StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved" } }, /failed: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved\.$/],
    ['CANCELLED', { Status: { State: 'CANCELLED', StateChangeReason: 'Query exhausted resources' } }, /was cancelled: Query exhausted resources\. It scanned 5000 bytes, billed as 10485760\./],
  ])('reports a %s query with Athena\'s reason and exits 1', async (_state, status, message) => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolvesOnce(execution('RUNNING', 0)).resolves(execution('RUNNING', 5_000, status));
    const result = await run(['--workgroup', 'iot-archive', '--database', 'iot_archive', '--region', 'eu-west-2', 'SELECT nope FROM readings'], { athena: { sleep: async () => undefined } });
    expect(result.exitCode).toBe(1);
    expect(result.message).toMatch(new RegExp(`^Athena query ${QUERY_ID} `));
    expect(result.message).toMatch(message);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('stops the query on Athena when interrupted', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolvesOnce(execution('RUNNING', 1_000)).resolves(execution('CANCELLED', 2_000));
    athena.on(StopQueryExecutionCommand).resolves({});
    const stop = new AbortController();
    const promise = runAthenaQuery('SELECT 1', { region: 'eu-west-2', workgroup: 'w', database: 'd' }, {
      client: new AthenaClient({ region: 'eu-west-2' }),
      signal: stop.signal,
      sleep: async () => stop.abort(),
    });
    await expect(promise).rejects.toThrow(/was cancelled: you stopped it/);
    expect(athena.commandCalls(StopQueryExecutionCommand).map((call) => call.args[0].input)).toEqual([{ QueryExecutionId: QUERY_ID }]);
  });

  it('points at the query policy when the caller may not use the workgroup (exit 2)', async () => {
    athena.on(StartQueryExecutionCommand).rejects(Object.assign(new Error('User: arn:aws:iam::123456789012:user/analyst is not authorized to perform: athena:StartQueryExecution'), { name: 'AccessDeniedException' }));
    const result = await run(['--from-outputs', outputsFile, 'SELECT 1']);
    expect(result).toMatchObject({ exitCode: EXIT_USAGE, message: expect.stringMatching(/not authorized to perform: athena:StartQueryExecution: attach the policy of the pipeline stack's query_policy_arn output/) });
  });

  it('names what is missing to reach a deployment (exit 2)', async () => {
    const stale = path.join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify({ [PIPELINE_OUTPUTS.ingestUrl]: { value: 'https://x.execute-api.eu-west-2.amazonaws.com/prod/thingsstream' } }));
    const result = await run(['--from-outputs', stale, 'SELECT 1']);
    expect(result).toMatchObject({ exitCode: EXIT_USAGE, message: expect.stringMatching(/--workgroup .* and --database .*deployed before SQL over the archive/) });
    expect((await run(['--workgroup', 'w', 'SELECT 1'])).message).toMatch(/also give --database/);
    expect((await run(['--from-outputs', path.join(dir, 'absent.json'), 'SELECT 1'])).exitCode).toBe(EXIT_USAGE);
    expect(athena.calls()).toHaveLength(0);
  });
});

describe('Athena cost and values', () => {
  it('bills whole MB with a 10 MB minimum, and nothing for DDL or failed queries (https://aws.amazon.com/athena/pricing/)', () => {
    expect(athenaCost(0, 'DML', 'SUCCEEDED')).toEqual({ billedBytes: 10 * 2 ** 20, usd: ((10 * 2 ** 20) / 2 ** 40) * 5 });
    expect(athenaCost(2 ** 40, 'DML', 'SUCCEEDED')).toEqual({ billedBytes: 2 ** 40, usd: 5 });
    expect(athenaCost(11 * 2 ** 20 + 1, 'DML', 'SUCCEEDED').billedBytes).toBe(12 * 2 ** 20);
    expect(athenaCost(5 * 2 ** 30, 'DDL', 'SUCCEEDED').usd).toBe(0);
    expect(athenaCost(5 * 2 ** 30, 'DML', 'FAILED').usd).toBe(0);
    expect(athenaCost(5 * 2 ** 30, 'DML', 'CANCELLED').usd).toBeGreaterThan(0);
  });

  it('turns Athena\'s text values into JSON by column type', () => {
    expect(athenaCell('bigint', '42')).toBe(42);
    expect(athenaCell('integer', '-7')).toBe(-7);
    expect(athenaCell('double', '19.57')).toBe(19.57);
    expect(athenaCell('double', 'Infinity')).toBe('Infinity');
    expect(athenaCell('boolean', 'false')).toBe(false);
    expect(athenaCell('decimal(38,2)', '12.30')).toBe('12.30');
    expect(athenaCell('timestamp(3)', '2026-11-28 00:00:00.000')).toBe('2026-11-28 00:00:00.000');
    expect(athenaCell('varchar', undefined)).toBeNull();
  });
});
