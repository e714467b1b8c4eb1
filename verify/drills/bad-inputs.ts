/**
 * Drill: the bad-input matrix (bad-input-cases.ts) against a platform holding data worth
 * protecting. Every request to the ingest and web APIs must get the expected 4xx with a
 * message that names what is wrong, every tool command line the expected usage error; no
 * answer may be a 5xx or show a stack trace or a source path, and nothing stored may change:
 * not the four tables, the failure queue, the published alerts or the stream.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { TABLES } from '../../handlers/contract';
import { mapWithConcurrency } from '../../handlers/batching';
import { seriesId } from '../../handlers/reading-item';
import type { TableKey } from '../../local/defaults';
import { setThresholds } from '../../tools/threshold-store';
import { check, type Drill, type DrillCheck } from '../drill';
import { compareKeys, count, drillReadings, expectedKeys, pollUntil, scanTable, seconds, sendBatches, showsStackTrace, storedCount, storedKeys, waitForQuiet, type DrillPlatform, withDrillPlatform } from '../probe';
import { BAD_INPUT_CASES, CLI_FIXTURES, type BadInputCase, type CliArg, type CliCase, type HttpCase, type Surface } from './bad-input-cases';
import { PROJECT_ROOT } from '../../build/project-root';


// ---------------------------------------------------------------------------
// What is stored, and what changed
// ---------------------------------------------------------------------------

/** Everything the platform holds that a bad input could change, in a form that compares exactly. */
export interface StoredSnapshot {
  /** Each table's items as canonical JSON (keys sorted), sorted. */
  readonly tables: Readonly<Record<TableKey, readonly string[]>>;
  /** Failure-queue messages: id and body. */
  readonly failureQueue: readonly string[];
  /** Published alerts: id and message. */
  readonly alerts: readonly string[];
  /** Records on the stream, all shards. */
  readonly streamRecords: number;
}

/** JSON with object keys sorted and sets as sorted arrays, so equal items give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner instanceof Set) return [...inner].sort();
    if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
      return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return inner;
  });
}

async function streamRecordCount(drill: DrillPlatform): Promise<number> {
  const { Shards = [] } = await drill.kinesis.send(new ListShardsCommand({ StreamName: drill.platform.streamName }));
  let records = 0;
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await drill.kinesis.send(
      new GetShardIteratorCommand({ StreamName: drill.platform.streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (iterator !== undefined) {
      const page = await drill.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      records += page.Records?.length ?? 0;
      // An open shard always gives a next iterator: stop at the first empty page.
      iterator = (page.Records?.length ?? 0) === 0 ? undefined : page.NextShardIterator;
    }
  }
  return records;
}

export async function snapshotStored(drill: DrillPlatform): Promise<StoredSnapshot> {
  const tables = {} as Record<TableKey, string[]>;
  for (const table of Object.keys(TABLES) as TableKey[]) tables[table] = (await scanTable(drill, table)).map(canonicalJson).sort();
  return {
    tables,
    failureQueue: drill.platform.failureQueue().map((message) => `${message.messageId} ${message.body}`),
    alerts: drill.platform.alerts().map((message) => `${message.messageId} ${message.message}`),
    streamRecords: await streamRecordCount(drill),
  };
}

/** What is in `after` and not in `before` and the other way round, counting repeats. */
function multisetDifference(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  const remaining = new Map<string, number>();
  for (const entry of before) remaining.set(entry, (remaining.get(entry) ?? 0) + 1);
  const added: string[] = [];
  for (const entry of after) {
    const left = remaining.get(entry) ?? 0;
    if (left > 0) remaining.set(entry, left - 1);
    else added.push(entry);
  }
  const removed = [...remaining].flatMap(([entry, left]) => Array.from({ length: left }, () => entry));
  return { added, removed };
}

const shorten = (text: string, length = 160): string => (text.length > length ? `${text.slice(0, length - 3)}...` : text);

/** Every difference between two snapshots, one sentence each; empty when nothing changed. */
export function diffSnapshots(before: StoredSnapshot, after: StoredSnapshot): string[] {
  const changes: string[] = [];
  const compare = (what: string, a: readonly string[], b: readonly string[]) => {
    const { added, removed } = multisetDifference(a, b);
    if (added.length > 0) changes.push(`${what}: ${added.length} added, e.g. ${shorten(added[0] as string)}`);
    if (removed.length > 0) changes.push(`${what}: ${removed.length} gone, e.g. ${shorten(removed[0] as string)}`);
  };
  for (const table of Object.keys(before.tables) as TableKey[]) compare(`${table} table`, before.tables[table], after.tables[table] ?? []);
  compare('failure queue', before.failureQueue, after.failureQueue);
  compare('published alerts', before.alerts, after.alerts);
  if (before.streamRecords !== after.streamRecords) changes.push(`stream: ${before.streamRecords} records before, ${after.streamRecords} after`);
  return changes;
}

// ---------------------------------------------------------------------------
// Running the cases
// ---------------------------------------------------------------------------

export interface CaseOutcome {
  readonly case: BadInputCase;
  /** `HTTP 400` or `exit 2`, or why there was no answer. */
  readonly answer: string;
  /** The answer's text: every string of a JSON body, or the body; the tool's stderr and stdout. */
  readonly text: string;
  /** Every way the answer differs from the expected refusal; empty when it is the one expected. */
  readonly problems: readonly string[];
  readonly serverError: boolean;
  readonly stackTrace: boolean;
}


/** Every string in a JSON value, in order. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, inner]) => [key, ...stringsOf(inner)]);
  return value === undefined || value === null ? [] : [String(value)];
}

interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string;
  readonly body: string;
}

/** One request, its path sent exactly as written (fetch would resolve `..`). */
function sendRaw(origin: string, method: string, requestPath: string, headers: Record<string, string>, body: string | undefined): Promise<HttpAnswer> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const options = { host: hostname, port: Number(port), method, path: requestPath, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } };
    // A connection of its own: a refusal may close the connection (431, 413), which must not fail the next case.
    const outgoing = httpRequest({ ...options, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    // Refused, reset or silent before the whole answer arrived: the case got no answer.
    outgoing.on('error', reject);
    outgoing.setTimeout(30_000, () => outgoing.destroy(new Error('no answer within 30 s')));
    outgoing.end(body);
  });
}

async function runHttpCase(entry: HttpCase, platform: DrillPlatform['platform']): Promise<CaseOutcome> {
  const spec = entry.request;
  const origin = entry.surface === 'ingest' ? new URL(platform.urls.ingest).origin : platform.urls.web;
  const body = typeof spec.body === 'function' ? spec.body() : spec.body;
  const headers: Record<string, string> = { ...spec.headers };
  const contentType = spec.contentType === undefined ? (body === undefined ? null : 'application/json') : spec.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const key = { valid: platform.apiKey, wrong: `${platform.apiKey}-wrong`, empty: '', none: undefined }[spec.apiKey ?? (entry.surface === 'ingest' ? 'valid' : 'none')];
  if (key !== undefined) headers['x-api-key'] = key;

  let answer: HttpAnswer;
  try {
    answer = await sendRaw(origin, spec.method, spec.path, headers, body);
  } catch (error) {
    const reason = `no answer (${(error as Error).message})`;
    return { case: entry, answer: reason, text: '', problems: [reason], serverError: false, stackTrace: false };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    parsed = undefined;
  }
  const text = [`${answer.status} ${answer.statusText}`, ...(parsed === undefined ? [answer.body] : stringsOf(parsed))].join(' ').trim();
  const expected = entry.expect;
  const statuses: readonly number[] = typeof expected.status === 'number' ? [expected.status] : expected.status;
  const problems: string[] = [];
  if (!statuses.includes(answer.status)) problems.push(`status ${answer.status}, expected ${statuses.join(' or ')}`);
  if ((expected.json ?? true) && (parsed === undefined || !answer.contentType.startsWith('application/json'))) problems.push(`not a JSON answer (content-type ${answer.contentType || 'none'})`);
  if (!expected.message.test(text)) problems.push(`message does not match ${expected.message}`);
  return { case: entry, answer: `HTTP ${answer.status}`, text, problems, serverError: answer.status >= 500, stackTrace: showsStackTrace(answer.body) || showsStackTrace(text) };
}

/** The flags that point a tool at the drill platform. */
function targetFlags(platform: DrillPlatform['platform']): Record<string, string> {
  return {
    '--api-url': platform.urls.ingest,
    '--api-key': platform.apiKey,
    '--web-url': platform.urls.web,
    '--region': platform.region,
    '--dynamodb-endpoint': platform.urls.dynamodb,
    '--things-table': platform.tables.things,
    '--thresholds-table': platform.tables.thresholds,
    '--alerts-table': platform.tables.alerts,
    '--series-table': platform.tables.series,
  };
}

/** The command line of a case, as run. */
export function cliArguments(entry: CliCase, fixtureDir: string, target: Readonly<Record<string, string>>): string[] {
  const literal = (arg: CliArg): string => (typeof arg === 'string' ? arg : 'fixture' in arg ? path.join(fixtureDir, arg.fixture) : path.join(fixtureDir, arg.missingFile));
  const args = entry.args.map(literal);
  if (entry.target === false) return args;
  return [...args, ...Object.entries(target).filter(([flag]) => !args.includes(flag)).flat()];
}

/** The environment of a tool run: no AWS credentials or API key from the caller's shell can steer it. */
function toolEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^(AWS_|IOT_)/.test(name)) env[name] = value;
  return { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1' };
}

const CLI_TIMEOUT_MS = 60_000;

function runCliCase(entry: CliCase, args: readonly string[]): Promise<CaseOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('tools', `${entry.tool}.ts`), ...args], { cwd: PROJECT_ROOT, env: toolEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = `${stderr}\n${stdout}`.trim();
      const problems: string[] = [];
      if (code !== entry.expect.exitCode) problems.push(signal === null ? `exit ${code}, expected ${entry.expect.exitCode}` : `killed by ${signal} after ${CLI_TIMEOUT_MS / 1000} s`);
      if (!entry.expect.message.test(text)) problems.push(`output does not match ${entry.expect.message}`);
      resolve({ case: entry, answer: signal === null ? `exit ${code}` : `killed (${signal})`, text, problems, serverError: false, stackTrace: showsStackTrace(text) });
    });
  });
}

/** Runs every case, outcomes in the order of `cases`: the tools (slow to start) in parallel beside the HTTP requests. */
export async function runCases(cases: readonly BadInputCase[], drill: DrillPlatform, fixtureDir: string): Promise<CaseOutcome[]> {
  mkdirSync(fixtureDir, { recursive: true });
  for (const [name, text] of Object.entries(CLI_FIXTURES)) writeFileSync(path.join(fixtureDir, name), text);
  const target = targetFlags(drill.platform);
  const outcomes: CaseOutcome[] = new Array(cases.length);
  const toolCases = [...cases.entries()].filter((entry): entry is [number, CliCase] => entry[1].surface === 'cli');
  // Starting a tool is CPU-bound (loading TypeScript and the SDK): one per core, and one more waiting on I/O.
  const tools = mapWithConcurrency(toolCases, availableParallelism() + 1, async ([index, entry]) => {
    outcomes[index] = await runCliCase(entry, cliArguments(entry, fixtureDir, target));
  });
  for (const [index, entry] of cases.entries()) if (entry.surface !== 'cli') outcomes[index] = await runHttpCase(entry, drill.platform);
  await tools;
  return outcomes;
}

// ---------------------------------------------------------------------------
// The drill
// ---------------------------------------------------------------------------

const GOOD_READINGS = 60;
const PREFIX = 'bad-input-drill';
/** One series has a range, and some of its readings leave it, so the alert tables hold something to protect too. */
const WATCHED = { thing: `things/${PREFIX}/000`, min: 18, max: 25 } as const;

const listed = (items: readonly string[], limit = 8): string => (items.length <= limit ? items.join('; ') : `${items.slice(0, limit).join('; ')}; and ${items.length - limit} more`);

export const perSurface = (cases: readonly BadInputCase[]): Record<Surface, number> => ({
  ingest: cases.filter((entry) => entry.surface === 'ingest').length,
  web: cases.filter((entry) => entry.surface === 'web').length,
  cli: cases.filter((entry) => entry.surface === 'cli').length,
});

export const badInputDrill: Drill = {
  id: 'bad-inputs',
  title: `${BAD_INPUT_CASES.length} bad inputs to the ingest API, the web API and the tools: each a clear 4xx or usage error, none a 5xx or stack trace, nothing stored changes`,
  async run({ workDir, log = () => undefined }) {
    const started = Date.now();
    return withDrillPlatform(path.join(workDir, 'platform'), async (drill) => {
      // Data to protect: readings of a few things, a range on one series, and the alerts it caused.
      const good = drillReadings(GOOD_READINGS, { prefix: PREFIX, things: 3, startMs: Date.UTC(2024, 4, 1), value: (index) => (index % 9 === 0 ? 30 : 20 + (index % 5)) });
      await setThresholds(drill.dynamo, drill.platform.tables.thresholds, seriesId(WATCHED.thing, 'temperature'), { min: WATCHED.min, max: WATCHED.max });
      await sendBatches(drill.platform, good);
      const seeded = await pollUntil(async () => (drill.platform.alerts().length > 0 && (await storedCount(drill)) >= GOOD_READINGS ? true : undefined), 60_000);
      await waitForQuiet(drill, 60_000);
      const before = await snapshotStored(drill);
      const seededStored = compareKeys(expectedKeys(good), await storedKeys(drill)).found;
      log(`bad-inputs: ${seededStored} readings and ${before.alerts.length} alerts stored after ${seconds(Date.now() - started)}; running ${BAD_INPUT_CASES.length} cases`);

      const casesStarted = Date.now();
      const outcomes = await runCases(BAD_INPUT_CASES, drill, path.join(workDir, 'fixtures'));
      log(`bad-inputs: cases answered in ${seconds(Date.now() - casesStarted)}; waiting for the pipeline to go quiet`);
      const quiet = await waitForQuiet(drill, 60_000);
      const after = await snapshotStored(drill);
      const changes = diffSnapshots(before, after);

      const handled = outcomes.filter((outcome) => outcome.problems.length === 0);
      const missed = outcomes.filter((outcome) => outcome.problems.length > 0);
      const serverErrors = outcomes.filter((outcome) => outcome.serverError);
      const traces = outcomes.filter((outcome) => outcome.stackTrace);
      const surfaces = perSurface(BAD_INPUT_CASES);
      const show = (outcome: CaseOutcome) => `${outcome.case.surface === 'cli' ? outcome.case.tool : outcome.case.surface} "${outcome.case.name}": ${outcome.answer} ${JSON.stringify(shorten(outcome.text, 200))} (${outcome.problems.join(', ')})`;
      const checks: DrillCheck[] = [
        check(
          'there is data to protect: good readings stored and an alert sent before the bad inputs',
          seeded === true && seededStored === GOOD_READINGS && before.alerts.length > 0,
          `${count(seededStored)} of ${count(GOOD_READINGS)} readings stored, ${before.alerts.length} alert(s), ${before.tables.thresholds.length} threshold item(s)`,
        ),
        check(
          'every bad input gets the refusal expected: status or exit code, and a message naming what is wrong',
          missed.length === 0,
          `${handled.length} of ${outcomes.length} (ingest ${surfaces.ingest}, web ${surfaces.web}, tools ${surfaces.cli})${missed.length === 0 ? '' : `; not as expected: ${listed(missed.map(show))}`}`,
        ),
        check('no bad input gets a 5xx answer', serverErrors.length === 0, serverErrors.length === 0 ? `none of ${outcomes.length - surfaces.cli} requests` : listed(serverErrors.map(show))),
        check('no answer or tool output shows a stack trace or a source path', traces.length === 0, traces.length === 0 ? `none of ${outcomes.length}` : listed(traces.map(show))),
        check(
          'nothing stored changed: tables, failure queue, published alerts, stream',
          changes.length === 0 && quiet,
          changes.length === 0
            ? `${Object.values(after.tables).reduce((sum, items) => sum + items.length, 0)} items, ${after.failureQueue.length} queued, ${after.alerts.length} alerts, ${after.streamRecords} stream records, before and after${quiet ? '' : ' (but the pipeline did not go quiet)'}`
            : listed(changes),
        ),
      ];
      return {
        checks,
        badInputs: { tried: outcomes.length, handled: handled.length },
        readings: { sent: good.length, stored: compareKeys(expectedKeys(good), await storedKeys(drill)).found, failureQueue: after.failureQueue.length },
      };
    });
  },
};
