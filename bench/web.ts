/**
 * `npm run bench:web`: how close the web app's endpoints come to the fastest possible Node
 * HTTP server on this machine, for each request the dashboard makes most:
 *   readings   GET /api/readings, a 24 h range of one series, newest first, one page of
 *              the dashboard's readings table (`--limit`)
 *   overview   GET /api/series?sort=attention, the first page of the console's overview
 *              over a fleet of 50,000 series (`--fleet`)
 *   attention  the same with a text filter and status=breached,no-data: what needs attention at one site
 *
 * Servers run in child processes, each loaded by autocannon from this process (so the
 * load generator never shares a thread with a server):
 *   bare  node:http answering the very bytes the app answers, with no routing, parsing or lookup
 *   app   the web app on an in-memory repository, its series list refreshed every few
 *         seconds as the DynamoDB repository refreshes the catalogue
 * For each request, the two are loaded in alternating rounds and each side's median round
 * is reported, so a burst of other work on a shared machine cannot land on one side only.
 * Target: the app serves at least 30 % of the bare server's requests/s, with zero errors.
 *
 *   npm run bench:web -- --rounds 3 --duration 5 --connections 100
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { Command, InvalidArgumentError } from 'commander';
import { buildApp } from '../web/app';
import { refreshedEvery } from '../web/cache';
import { DEFAULT_SERIES_CACHE_SECONDS } from '../web/config';
import { SERIES_PAGE_SIZE, TABLE_PAGE_SIZE } from '../web/dashboard/settings';
import { InMemoryRepository, type ReadingsRepository } from '../web/repository';

const TARGET_RATIO = 0.3;
const SERIES_COUNT = 20;
const READINGS_PER_SERIES = 10_000;
const BENCH_SERIES = 'things/bench/007/temperature';
const START = Date.UTC(2016, 8, 9, 0, 0, 0);

/** Of the fleet: one series in this many breached, one in this many silent for hours. */
const BREACHED_ONE_IN = 50;
const SILENT_ONE_IN = 100;

interface Options {
  readonly fleet: number;
  readonly rounds: number;
  readonly duration: number;
  readonly warmup: number;
  readonly connections: number;
  readonly limit: number;
}

type ServeMessage = { readonly port: number };
/** A server's CPU time so far (user + system), asked for around each round. */
type CpuMessage = { readonly cpuMicros: number };

/** The query every request makes: a 24-hour range of one series, newest first. */
const readingsPath = (limit: number) =>
  `/api/readings?${new URLSearchParams({ thing: BENCH_SERIES, from: new Date(START).toISOString(), to: new Date(START + 86_400_000).toISOString(), order: 'desc', limit: String(limit) })}`;

/** The overview's requests: its first page by attention, and one site's series needing attention. */
const overviewPath = (parameters: Record<string, string>) => `/api/series?${new URLSearchParams({ sort: 'attention', limit: String(SERIES_PAGE_SIZE), ...parameters })}`;

/**
 * `size` series of a fleet over 20 sites, three metrics a thing, each with its latest
 * reading in the last five minutes (silent ones: hours ago); temperatures have thresholds,
 * and some are breached, half of those with the alert handler's state saying since when.
 */
function seedFleet(repository: InMemoryRepository, size: number, now: number): void {
  const metrics = ['temperature', 'pressure', 'flow'];
  for (let index = 0; index < size; index += 1) {
    const series = `things/site-${String(index % 20).padStart(2, '0')}/unit-${String(Math.floor(index / 3)).padStart(5, '0')}/${metrics[index % 3]}`;
    const silent = index % SILENT_ONE_IN === 7;
    const breached = index % BREACHED_ONE_IN === 3;
    const at = now - (silent ? 3_600_000 + index * 1000 : (index % 300) * 1000);
    repository.putReading(series, { timestamp: new Date(at).toISOString().replace('Z', '000Z'), value: breached ? 95 : 20 + (index % 7) });
    if (index % 3 === 0 || breached) repository.putThresholds(series, { min: 5, max: 80 });
    if (breached && index % 2 === 0) {
      repository.putAlert(series, { timestamp: new Date(at - 600_000).toISOString().replace('Z', '000Z'), kind: 'breach', value: null, minThreshold: null, maxThreshold: null, messageId: null });
    }
  }
}

function seededRepository(fleet: number): ReadingsRepository {
  const repository = new InMemoryRepository();
  for (let series = 0; series < SERIES_COUNT; series += 1) {
    const id = `things/bench/${String(series).padStart(3, '0')}/temperature`;
    for (let index = 0; index < READINGS_PER_SERIES; index += 1) {
      // One reading every 10 s: the 24 h range holds 8,640 of them.
      const timestamp = new Date(START + index * 10_000).toISOString().replace('Z', '000Z');
      repository.putReading(id, { timestamp, value: Math.round((20 + 3 * Math.sin(index / 50)) * 100) / 100 });
    }
  }
  repository.putThresholds(BENCH_SERIES, { min: 18, max: 25 });
  seedFleet(repository, fleet, Date.now());
  // As the DynamoDB repository serves the catalogue: read again in the background every few seconds.
  return { ...bindAll(repository), listSeries: refreshedEvery(DEFAULT_SERIES_CACHE_SECONDS, () => repository.listSeries()) };
}

const bindAll = (repository: InMemoryRepository): ReadingsRepository => ({
  checkTables: () => repository.checkTables(),
  listSeries: () => repository.listSeries(),
  readings: (query) => repository.readings(query),
  rollups: (query) => repository.rollups(query),
  alerts: (query) => repository.alerts(query),
  thresholds: (series) => repository.thresholds(series),
});

// ---------------------------------------------------------------------------
// Child: one server
// ---------------------------------------------------------------------------

async function serve(kind: string, fleet: number): Promise<void> {
  let port: number;
  if (kind === 'app') {
    const app = buildApp({ repository: seededRepository(fleet), assets: new Map() });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  } else {
    const body = await new Promise<string>((resolve) => process.once('message', (message: { body: string }) => resolve(message.body)));
    const payload = Buffer.from(body);
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length });
      response.end(payload);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }
  process.on('message', (message) => {
    if (message !== 'cpu') return;
    const usage = process.cpuUsage();
    process.send?.({ cpuMicros: usage.user + usage.system } satisfies CpuMessage);
  });
  process.send?.({ port } satisfies ServeMessage);
}

// ---------------------------------------------------------------------------
// Parent: load, measure, compare
// ---------------------------------------------------------------------------

async function startServer(kind: 'app' | 'bare', fleet: number, body?: string): Promise<{ child: ChildProcess; base: string }> {
  // fork reuses this process's execArgv, so the child runs through tsx too.
  const child = fork(__filename, ['--serve', kind, String(fleet)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (body !== undefined) child.send({ body });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: ServeMessage) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the ${kind} server exited with ${code} before listening`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
}

interface Measurement {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** The server's own CPU time per request: unlike requests/s, barely moved by other work on the machine. */
  readonly cpuMicrosPerRequest: number;
}

const cpuMicros = (child: ChildProcess) =>
  new Promise<number>((resolve) => {
    child.once('message', (message: CpuMessage) => resolve(message.cpuMicros));
    child.send('cpu');
  });

async function load(server: Server, options: Options, duration: number): Promise<Measurement> {
  const before = await cpuMicros(server.child);
  const result = await autocannon({ url: server.url, connections: options.connections, duration, pipelining: 1 });
  const after = await cpuMicros(server.child);
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    // Anything but a 2xx answer counts as an error, as do socket errors and timeouts.
    errors: result.errors + result.timeouts + result.non2xx,
    cpuMicrosPerRequest: result.requests.total === 0 ? 0 : (after - before) / result.requests.total,
  };
}

/** The round with the median requests/s; p99 is the worst round's, errors the sum of all rounds. */
function summarise(rounds: readonly Measurement[]): Measurement {
  const sorted = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const median = sorted[Math.floor(sorted.length / 2)] as Measurement;
  return {
    requestsPerSecond: median.requestsPerSecond,
    p99Ms: Math.max(...rounds.map((round) => round.p99Ms)),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    cpuMicrosPerRequest: median.cpuMicrosPerRequest,
  };
}

const positive = (name: string) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
  return value;
};

async function main(): Promise<void> {
  const program = new Command('bench:web')
    .description('requests/s of GET /api/readings and of the overview\'s GET /api/series (in-memory repository) against a bare node:http server, 100 connections')
    .option('--fleet <n>', 'series in the catalogue the overview lists', positive('fleet'), 50_000)
    .option('--rounds <n>', 'alternating rounds per server', positive('rounds'), 3)
    .option('--duration <seconds>', 'measured seconds per server per round', positive('duration'), 5)
    .option('--warmup <seconds>', 'unmeasured seconds per server first (JIT warm-up)', (text) => Number(text), 2)
    .option('--connections <n>', 'concurrent connections', positive('connections'), 100)
    .option('--limit <n>', 'readings per response (default: a page of the dashboard\'s readings table)', positive('limit'), TABLE_PAGE_SIZE)
    .parse();
  const options = program.opts<Options>();
  const requests = [
    { name: 'web app /api/readings', path: readingsPath(options.limit) },
    { name: `overview, ${options.fleet.toLocaleString('en')} series`, path: overviewPath({}) },
    { name: 'attention at one site', path: overviewPath({ q: 'site-07/', status: 'breached,no-data' }) },
  ];

  console.log(`${options.connections} connections, ${options.rounds} alternating rounds of ${options.duration} s per server after ${options.warmup} s warm-up, for each request\n`);
  const started = Date.now();
  const app = await startServer('app', options.fleet);
  console.log(`app ready with ${options.fleet.toLocaleString('en')} series in the catalogue after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const results: { name: string; bytes: number; bare: Measurement; app: Measurement }[] = [];
  try {
    for (const request of requests) {
      // The bare server answers exactly what the app answers, so both move the same bytes.
      // The first answer builds what the later ones reuse (for the overview: the catalogue read and the list sorted).
      const asked = performance.now();
      const response = await fetch(`${app.base}${request.path}`);
      const body = await response.text();
      const firstMs = performance.now() - asked;
      if (response.status !== 200) throw new Error(`the app answered ${response.status} to ${request.path}: ${body}`);
      const bare = await startServer('bare', options.fleet, body);
      try {
        console.log(`GET ${request.path}  (${Buffer.byteLength(body)} bytes; first answer ${firstMs.toFixed(0)} ms)`);
        const targets: Record<'bare' | 'app', Server> = { bare: { child: bare.child, url: `${bare.base}/` }, app: { child: app.child, url: `${app.base}${request.path}` } };
        if (options.warmup > 0) for (const server of Object.values(targets)) await load(server, options, options.warmup);
        const rounds: { bare: Measurement[]; app: Measurement[] } = { bare: [], app: [] };
        for (let round = 0; round < options.rounds; round += 1) {
          rounds.bare.push(await load(targets.bare, options, options.duration));
          rounds.app.push(await load(targets.app, options, options.duration));
        }
        results.push({ name: request.name, bytes: Buffer.byteLength(body), bare: summarise(rounds.bare), app: summarise(rounds.app) });
      } finally {
        await stopServer(bare.child);
      }
    }
  } finally {
    await stopServer(app.child);
  }
  console.log('');
  report(results);
}

function report(results: readonly { name: string; bare: Measurement; app: Measurement }[]): void {
  const rows = [['request', 'server', 'requests/s', 'p99 ms', 'errors', 'CPU µs/request', 'of bare']];
  for (const { name, bare, app } of results) {
    for (const [server, measured] of [['bare node:http', bare], ['web app', app]] as const) {
      rows.push([
        server === 'web app' ? '' : name,
        server,
        measured.requestsPerSecond.toFixed(0),
        String(measured.p99Ms),
        String(measured.errors),
        measured.cpuMicrosPerRequest.toFixed(0),
        server === 'web app' ? `${((app.requestsPerSecond / bare.requestsPerSecond) * 100).toFixed(1)} %` : '',
      ]);
    }
  }
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length))) ?? [];
  for (const row of rows) console.log(row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join('  '));

  let passed = true;
  console.log('');
  for (const { name, bare, app } of results) {
    const ratio = app.requestsPerSecond / bare.requestsPerSecond;
    const ok = ratio >= TARGET_RATIO && app.errors === 0 && bare.errors === 0;
    passed &&= ok;
    console.log(`${name}: ${(ratio * 100).toFixed(1)} % of bare (target >= ${TARGET_RATIO * 100} %, zero errors): ${ok ? 'PASS' : 'FAIL'}; CPU per request ${(app.cpuMicrosPerRequest / bare.cpuMicrosPerRequest).toFixed(1)}x the bare server's`);
  }
  if (!passed) process.exitCode = 1;
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3] as string, Number(process.argv[4])).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
