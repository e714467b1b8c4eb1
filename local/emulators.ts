/**
 * The embedded AWS emulators from npm: dynalite (DynamoDB) and kinesalite (Kinesis),
 * each on its own port, on LevelDB folders when persistent, in memory otherwise.
 *
 * Both answer any request with an `Origin` header with `Access-Control-Allow-Origin: *`,
 * so any web page open in the developer's browser could read and delete the local tables
 * and streams (a browser sends `Origin` with every cross-site fetch, and a page rebinding
 * its own name to 127.0.0.1 still sends its own origin). Here every request from a web
 * page is refused before the emulator sees it, unless its origin is allowed; SDK clients
 * send no `Origin` and are not affected. Slow clients are cut off by header and request
 * timeouts, as on the platform's other servers.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { dynamoChecksum, type TappedCall } from './usage-meter';

// Neither package ships type declarations; both return a plain Node HTTP server.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: EmulatorOptions & { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite = require('kinesalite') as (options: EmulatorOptions & { createStreamMs?: number; deleteStreamMs?: number; updateStreamMs?: number; shardLimit?: number }) => Server;

interface EmulatorOptions {
  /** LevelDB folder; in memory when absent. */
  readonly path?: string;
}

export interface RunningEmulator {
  /** `http://<host>:<port>`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * An emulator that can be taken down and brought back in place, for failure drills: while
 * down its port refuses connections, as a DynamoDB endpoint that cannot be reached would;
 * back up, it serves the same data on the same port.
 */
export interface RestartableEmulator extends RunningEmulator {
  /** Closes the port and every open connection; the data stays on disk. */
  takeDown(): Promise<void>;
  /** Listens again on the same port with the same data. */
  bringBack(): Promise<void>;
}

export interface EmulatorStartOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** LevelDB folder; in memory when absent. */
  readonly path?: string;
  /** Web origins (`http://localhost:3000`) whose pages may call the emulator. @default none */
  readonly allowedOrigins?: readonly string[];
  /** @default EMULATOR_TIMEOUTS */
  readonly timeouts?: EmulatorTimeouts;
  /** Sees each JSON call (by its `X-Amz-Target` action) and its answer, for metering. @default none */
  readonly tap?: EmulatorTap;
}

/** Sees one call's action and JSON body; returns what to send the emulator and how to pass its answer on, or undefined to leave the call alone. */
export type EmulatorTap = (action: string, body: string) => TappedCall | undefined;

export interface EmulatorTimeouts {
  /** To send the request line and headers. */
  readonly headersMs: number;
  /** To send the whole request, body included. */
  readonly requestMs: number;
}

/** Local SDK calls send their request in milliseconds; a client that takes seconds is stuck or hostile. */
export const EMULATOR_TIMEOUTS: EmulatorTimeouts = { headersMs: 10_000, requestMs: 60_000 };

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Puts the origin check in front of the emulator's own request handler, and sets the
 * server's timeouts (Node answers 408 and closes the connection when one passes).
 */
function guard(server: Server, name: string, options: EmulatorStartOptions): void {
  const allowed = new Set(options.allowedOrigins ?? []);
  const emulator = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const origin = request.headers.origin;
    if (origin !== undefined && !allowed.has(origin)) {
      // No CORS headers: the page cannot read this answer, and the emulator never saw the request.
      request.resume();
      const preflight = request.method === 'OPTIONS' ? 'cross-origin preflight ' : '';
      response.writeHead(403, { 'content-type': 'application/json', connection: 'close' });
      response.end(
        JSON.stringify({
          __type: 'AccessDeniedException',
          message: `the local ${name} refuses ${preflight}requests from web pages (Origin ${origin}): only programs on this machine may use it`,
        }),
      );
      return;
    }
    if (options.tap !== undefined && request.method === 'POST') tapCall(request, response, options.tap, (stand) => emulator.forEach((listener) => listener.call(server, stand, response)));
    else for (const listener of emulator) listener.call(server, request, response);
  });
  const timeouts = options.timeouts ?? EMULATOR_TIMEOUTS;
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  // Read when the server starts listening; Node's default (30 s) would stretch short timeouts.
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(1_000, timeouts.headersMs);
}

/**
 * Reads the whole request, lets the tap see (and replace) its body, hands the emulator a
 * stand-in request with that body, and lets the tap see (and replace) the answer; a changed
 * answer gets its length and, for DynamoDB, its checksum header set again.
 */
function tapCall(request: IncomingMessage, response: ServerResponse, tap: EmulatorTap, serve: (stand: IncomingMessage) => void): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const action = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const call = /json/.test(String(request.headers['content-type'] ?? '')) ? tap(action, body) : undefined;
    const sent = call?.body ?? body;
    const stand = Object.assign(Readable.from(sent === '' ? [] : [Buffer.from(sent, 'utf8')]), {
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(sent)) },
      method: request.method,
      url: request.url,
      socket: request.socket,
    }) as unknown as IncomingMessage;
    if (call !== undefined) {
      const end = response.end.bind(response) as (chunk?: unknown) => ServerResponse;
      response.end = ((chunk?: unknown) => {
        const answer = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
        const passed = call.answered(response.statusCode, answer);
        if (passed === answer) return end(chunk);
        response.setHeader('Content-Length', Buffer.byteLength(passed));
        if (response.hasHeader('x-amz-crc32')) response.setHeader('x-amz-crc32', dynamoChecksum(passed));
        return end(passed);
      }) as ServerResponse['end'];
    }
    serve(stand);
  });
}

/** Most shards kinesalite lets one stream have (its default is 10). */
export const KINESIS_SHARD_LIMIT = 50;

async function listen(server: Server, name: string, options: EmulatorStartOptions): Promise<RunningEmulator> {
  guard(server, name, options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? new Error(`${name} cannot listen on ${options.host}:${options.port}: the port is in use by another program`) : error;
      // `close` also closes the emulator's LevelDB store, which would otherwise stay locked.
      server.close(() => reject(reason));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const endpoint = `http://${options.host}:${(server.address() as AddressInfo).port}`;
  // Requests being answered: the store must not close under one (dynalite's LevelDB iterator then throws outside any request).
  let answering = 0;
  server.on('request', (_request, response: ServerResponse) => {
    answering += 1;
    response.once('close', () => (answering -= 1));
  });
  return {
    endpoint,
    async stop() {
      // No new connections; the calls being answered finish (briefly), then keep-alive sockets
      // of SDK clients, which would otherwise hold the close open, are cut. Both emulators
      // close their LevelDB store in `close`, so data is flushed first.
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeIdleConnections();
      for (const deadline = Date.now() + STOP_GRACE_MS; answering > 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** How long stopping an emulator waits for the calls it is answering. */
const STOP_GRACE_MS = 5_000;

const DYNALITE_NAME = 'DynamoDB emulator (dynalite)';
const createDynalite = (path: string | undefined) => dynalite({ ...(path === undefined ? {} : { path }), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

export async function startDynamoEmulator(options: EmulatorStartOptions): Promise<RestartableEmulator> {
  let running: RunningEmulator | undefined = await listen(createDynalite(options.path), DYNALITE_NAME, options);
  const endpoint = running.endpoint;
  // Coming back on the port first chosen, even when the caller asked for any free one.
  const samePort = { ...options, port: Number(new URL(endpoint).port) };
  const stop = async () => {
    const current = running;
    running = undefined;
    await current?.stop();
  };
  return {
    endpoint,
    async takeDown() {
      if (options.path === undefined) throw new Error('an in-memory DynamoDB emulator cannot be taken down: its data would be lost');
      await stop();
    },
    async bringBack() {
      running ??= await listen(createDynalite(options.path), DYNALITE_NAME, samePort);
    },
    stop,
  };
}

export function startKinesisEmulator(options: EmulatorStartOptions): Promise<RunningEmulator> {
  const server = kinesalite({
    ...(options.path === undefined ? {} : { path: options.path }),
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: KINESIS_SHARD_LIMIT,
  });
  return listen(server, 'Kinesis emulator (kinesalite)', options);
}
