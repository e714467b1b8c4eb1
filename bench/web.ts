/**
 * `npm run bench:web`: how close the web app's readings endpoint comes to the fastest
 * possible Node HTTP server on this machine.
 *
 * Two servers run in child processes, each loaded by autocannon from this process (so
 * the load generator never shares a thread with a server):
 *   bare  node:http answering the very bytes the app answers, with no routing, parsing or lookup
 *   app   the web app on an in-memory repository: GET /api/readings, a 24 h range of one
 *         series, newest first, one page of the dashboard's readings table (`--limit`)
 * They are loaded in alternating rounds and each side's median round is reported, so a
 * burst of other work on a shared machine cannot land on one side only.
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
import { TABLE_PAGE_SIZE } from '../web/dashboard/settings';
import { InMemoryRepository } from '../web/repository';

const TARGET_RATIO = 0.3;
const SERIES_COUNT = 20;
const READINGS_PER_SERIES = 10_000;
const BENCH_SERIES = 'things/bench/007/temperature';
const START = Date.UTC(2016, 8, 9, 0, 0, 0);

interface Options {
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

function seededRepository(): InMemoryRepository {
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
  return repository;
}

// ---------------------------------------------------------------------------
// Child: one server
// ---------------------------------------------------------------------------

async function serve(kind: string): Promise<void> {
  let port: number;
  if (kind === 'app') {
    const app = buildApp({ repository: seededRepository(), assets: new Map() });
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

async function startServer(kind: 'app' | 'bare', body?: string): Promise<{ child: ChildProcess; base: string }> {
  // fork reuses this process's execArgv, so the child runs through tsx too.
  const child = fork(__filename, ['--serve', kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
    .description('requests/s of GET /api/readings (in-memory repository) against a bare node:http server, 100 connections')
    .option('--rounds <n>', 'alternating rounds per server', positive('rounds'), 3)
    .option('--duration <seconds>', 'measured seconds per server per round', positive('duration'), 5)
    .option('--warmup <seconds>', 'unmeasured seconds per server first (JIT warm-up)', (text) => Number(text), 2)
    .option('--connections <n>', 'concurrent connections', positive('connections'), 100)
    .option('--limit <n>', 'readings per response (default: a page of the dashboard\'s readings table)', positive('limit'), TABLE_PAGE_SIZE)
    .parse();
  const options = program.opts<Options>();
  const path = readingsPath(options.limit);

  const app = await startServer('app');
  let bare: { child: ChildProcess; base: string } | undefined;
  try {
    // The bare server answers exactly what the app answers, so both move the same bytes.
    const response = await fetch(`${app.base}${path}`);
    const body = await response.text();
    if (response.status !== 200) throw new Error(`the app answered ${response.status} to the benchmark query: ${body}`);
    bare = await startServer('bare', body);

    console.log(`GET ${path}`);
    console.log(
      `${options.connections} connections, ${options.rounds} alternating rounds of ${options.duration} s per server after ${options.warmup} s warm-up, response ${Buffer.byteLength(body)} bytes\n`,
    );
    const targets: Record<'bare' | 'app', Server> = { bare: { child: bare.child, url: `${bare.base}/` }, app: { child: app.child, url: `${app.base}${path}` } };
    if (options.warmup > 0) for (const server of Object.values(targets)) await load(server, options, options.warmup);
    const rounds: { bare: Measurement[]; app: Measurement[] } = { bare: [], app: [] };
    for (let round = 0; round < options.rounds; round += 1) {
      rounds.bare.push(await load(targets.bare, options, options.duration));
      rounds.app.push(await load(targets.app, options, options.duration));
    }
    report(summarise(rounds.bare), summarise(rounds.app));
  } finally {
    await stopServer(app.child);
    if (bare !== undefined) await stopServer(bare.child);
  }
}

function report(bare: Measurement, app: Measurement): void {
  const rows = [
    ['server', 'requests/s', 'p99 ms', 'errors', 'CPU µs/request'],
    ...([['bare node:http', bare], ['web app /api/readings', app]] as const).map(([name, measured]) => [
      name,
      measured.requestsPerSecond.toFixed(0),
      String(measured.p99Ms),
      String(measured.errors),
      measured.cpuMicrosPerRequest.toFixed(0),
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length))) ?? [];
  for (const row of rows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join('  '));

  const ratio = app.requestsPerSecond / bare.requestsPerSecond;
  const passed = ratio >= TARGET_RATIO && app.errors === 0 && bare.errors === 0;
  console.log(`\nratio ${(ratio * 100).toFixed(1)} % of bare (target >= ${TARGET_RATIO * 100} %, zero errors): ${passed ? 'PASS' : 'FAIL'}`);
  console.log(`CPU per request: the app spends ${(app.cpuMicrosPerRequest / bare.cpuMicrosPerRequest).toFixed(1)}x the bare server's`);
  if (!passed) process.exitCode = 1;
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3] as string).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
