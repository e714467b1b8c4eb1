/**
 * The web app: a JSON API over the readings, thresholds and alert history, and the
 * dashboard that charts them. Built apart from the process entry (server.ts) so tests,
 * the benchmark and the local platform run it in-process.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { describeError } from '../handlers/batching';
import { DEFAULT_ROLLUP_RETENTION_DAYS } from '../handlers/contract';
import type { AlertConsole } from './alert-console';
import { alertRoutes } from './alert-routes';
import { ruleRoutes } from './rule-routes';
import type { ErrorResponse, LivenessResponse, ReadingsResponse, RollupsResponse, SeriesResponse, ThresholdsResponse } from './api-types';
import { dashboardAssets, type DashboardAssets } from './assets';
import { exactJson } from './json';
import type { RollupRetentionDays } from './config';
import { noIdentity, type UserIdentity } from './identity';
import { encodeCursor, encodeSeriesCursor, parseQueryString, parseRangeQuery, parseRollupQuery, parseSeriesListQuery, parseSeriesQuery, type ParameterError } from './query';
import { readinessCheck, type ReadinessOptions } from './readiness';
import type { Page, ReadingsRepository } from './repository';
import { seriesPageAnswer } from './series-list';
import { API_HELMET_OPTIONS, PAGE_HELMET_OPTIONS, securityHeaders } from './security-headers';
import { classifyStoreError, type StoreProblem } from './store-errors';

export interface AppDependencies {
  readonly repository: ReadingsRepository;
  /** The dashboard's files. @default the in-memory esbuild bundle, built once per process */
  readonly assets?: DashboardAssets | Promise<DashboardAssets>;
  /** Fastify's logger setting. @default false (tests, benchmarks); server.ts turns it on */
  readonly logger?: FastifyServerOptions['logger'];
  /** `/healthz`'s deadline and reuse of its answer. @default DEFAULT_READINESS */
  readonly readiness?: ReadinessOptions;
  /** How long a client may take to send a request. @default SERVER_TIMEOUTS */
  readonly timeouts?: ServerTimeouts;
  /** Days each step of rollups is kept, for `step=auto`. @default DEFAULT_ROLLUP_RETENTION_DAYS */
  readonly rollupRetentionDays?: RollupRetentionDays;
  /** Epoch ms, for `step=auto` and for judging which series have gone quiet. @default Date.now */
  readonly now?: () => number;
  /** Alerts across the fleet, acknowledgements, silences (alert-routes.ts) and rule changes (rule-routes.ts). @default none: those routes answer 503 */
  readonly alertConsole?: AlertConsole;
  /** Who makes a change. @default noIdentity: changes refused (server.ts and the local platform choose from the configuration) */
  readonly identity?: UserIdentity;
}

export interface ServerTimeouts {
  /** To send the request line and headers. */
  readonly headersMs: number;
  /** To send the whole request, body included. */
  readonly requestMs: number;
}

/**
 * A client that trickles its headers or body in holds a socket and memory for as long as
 * it likes (slowloris); these bound it. Every request this app serves is a small GET, so
 * seconds are generous. A timed-out request is answered 408 and its connection closed.
 */
export const SERVER_TIMEOUTS: ServerTimeouts = { headersMs: 10_000, requestMs: 30_000 };

/** What the API answers while DynamoDB is busy or out of reach: a sentence for a person and a retry hint for a program. */
const TEMPORARY_FAILURES: Partial<Record<StoreProblem, { message: string; retryAfterSeconds: number }>> = {
  busy: { message: 'The data store is busy; retry in a moment.', retryAfterSeconds: 1 },
  unreachable: { message: 'The data store cannot be reached right now; retry in a few seconds. Stored data is not affected.', retryAfterSeconds: 5 },
};

/** Probes that run every few seconds would drown the request log. */
const UNLOGGED_PATHS = new Set(['/healthz', '/livez']);

const pathOf = (url: string): string => {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
};

function badParameter(reply: FastifyReply, error: ParameterError): FastifyReply {
  const body: ErrorResponse = { error: 'bad-parameter', parameter: error.parameter, message: error.message };
  return reply.code(400).send(body);
}

const nextCursor = (page: Page<unknown>): string | null => (page.next === undefined ? null : encodeCursor(page.next));

/**
 * Answers are serialised by fastify's default, JSON.stringify: for pages of readings it
 * costs less than a schema-compiled serialiser (measured with bench:web), and every
 * repository builds its answer objects field by field, so nothing extra can leak out.
 */
export function buildApp(deps: AppDependencies): FastifyInstance {
  const { repository } = deps;
  const pageHeaders = securityHeaders(PAGE_HELMET_OPTIONS);
  // API answers change with every reading: never cached.
  const apiHeaders = { ...securityHeaders(API_HELMET_OPTIONS), 'cache-control': 'no-store' };
  const timeouts = deps.timeouts ?? SERVER_TIMEOUTS;
  const app = Fastify({
    logger: deps.logger ?? false,
    requestTimeout: timeouts.requestMs,
    routerOptions: { querystringParser: parseQueryString },
    // The load balancer's health checks would drown the request log.
    logController: new LogController({ disableRequestLogging: (request) => UNLOGGED_PATHS.has(pathOf(request.url)) }),
    // A URL fastify cannot even route (a malformed %-escape) gets the API's error shape and headers too.
    frameworkErrors: (error, _request, reply) => {
      const body: ErrorResponse = { error: 'bad-request', message: error.message };
      void (reply as FastifyReply).code(error.statusCode ?? 400).headers(apiHeaders).send(body);
    },
  });
  app.server.headersTimeout = timeouts.headersMs;
  // Node checks the timeouts every 30 s by default, which would let a 10 s limit run to 40 s.
  (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(1_000, timeouts.headersMs);
  // Metric values and thresholds are written with every digit they have (json.ts).
  app.setReplySerializer((payload) => exactJson(payload));

  app.addHook('onRequest', (request, reply, done) => {
    const path = pathOf(request.url);
    reply.headers(path.startsWith('/api/') || UNLOGGED_PATHS.has(path) ? apiHeaders : pageHeaders);
    done();
  });

  // The methods of each route, so a known path asked with another method gets 405 and `Allow`.
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    let methods = methodsByPath.get(route.url);
    if (methods === undefined) methodsByPath.set(route.url, (methods = new Set()));
    for (const method of [route.method].flat()) methods.add(method);
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) {
      const body: ErrorResponse = { error: 'bad-request', message: error.message };
      return reply.code(status).send(body);
    }
    const problem = classifyStoreError(error);
    request.log.error({ err: error, problem }, 'request failed');
    const temporary = TEMPORARY_FAILURES[problem];
    if (temporary !== undefined) {
      const body: ErrorResponse = { error: 'unavailable', message: temporary.message };
      return reply.code(503).header('retry-after', String(temporary.retryAfterSeconds)).send(body);
    }
    // No stack, no message of the failing library: they may name tables, hosts or keys.
    const body: ErrorResponse = { error: 'internal', message: `The server could not answer; its log has the details (request ${request.id}).` };
    return reply.code(500).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const methods = methodsByPath.get(path);
    if (methods !== undefined) {
      const allow = [...methods].sort().join(', ');
      const body: ErrorResponse = { error: 'method-not-allowed', message: `${request.method} ${path} is not allowed: use ${allow}` };
      return reply.code(405).header('allow', allow).send(body);
    }
    const body: ErrorResponse = { error: 'not-found', message: `Nothing at ${request.method} ${path}` };
    return reply.code(404).send(body);
  });

  // Liveness: the process answers. The load balancer and the container health check use
  // this one, so a DynamoDB outage cannot get every healthy task killed and replaced in a
  // loop (new tasks could not reach DynamoDB either); the tasks stay up and recover by themselves.
  app.get('/livez', async (): Promise<LivenessResponse> => ({ status: 'ok' }));

  // Readiness: every table the app reads answers. For people and monitors, 503 with the reason.
  const readiness = readinessCheck(repository, deps.readiness);
  let wasReady = true;
  app.get('/healthz', async (request, reply) => {
    const { ready, body, failures } = await readiness();
    // Logged when it changes, not on every check.
    if (ready !== wasReady) {
      wasReady = ready;
      if (ready) request.log.info('data store readable again');
      else request.log.error({ failures: failures.map(({ table, error }) => ({ table, error: describeError(error) })) }, body.message ?? 'data store not ready');
    }
    return reply.code(ready ? 200 : 503).send(body);
  });

  const now = deps.now ?? Date.now;
  app.get('/api/series', async (request, reply) => {
    const query = parseSeriesListQuery(request.query as Record<string, unknown>);
    if (!query.ok) return badParameter(reply, query.error);
    const answer = seriesPageAnswer(await repository.listSeries(), query.value, now(), (page) => {
      const body: SeriesResponse = { series: page.series, total: page.total, counts: page.counts, nextCursor: page.next === undefined ? null : encodeSeriesCursor(page.next) };
      return exactJson(body);
    });
    return reply.type('application/json; charset=utf-8').send(answer);
  });

  const rollupOptions = { retention: deps.rollupRetentionDays ?? DEFAULT_ROLLUP_RETENTION_DAYS, now };
  app.get('/api/rollups', async (request, reply) => {
    const query = parseRollupQuery(request.query as Record<string, unknown>, { retention: rollupOptions.retention, now: rollupOptions.now() });
    if (!query.ok) return badParameter(reply, query.error);
    const body: RollupsResponse = { thing: query.value.series, step: query.value.step, items: await repository.rollups(query.value) };
    return body;
  });

  app.get('/api/readings', async (request, reply) => {
    const query = parseRangeQuery(request.query as Record<string, unknown>);
    if (!query.ok) return badParameter(reply, query.error);
    const page = await repository.readings(query.value);
    const body: ReadingsResponse = { thing: query.value.series, order: query.value.order, items: page.items, nextCursor: nextCursor(page) };
    return body;
  });

  const changeOptions = { repository, identity: deps.identity ?? noIdentity, ...(deps.now === undefined ? {} : { now: deps.now }), ...(deps.alertConsole === undefined ? {} : { console: deps.alertConsole }) };
  app.register(alertRoutes(changeOptions));
  app.register(ruleRoutes(changeOptions));

  app.get('/api/thresholds', async (request, reply) => {
    const query = parseSeriesQuery(request.query as Record<string, unknown>);
    if (!query.ok) return badParameter(reply, query.error);
    const thresholds = await repository.thresholds(query.value);
    const body: ThresholdsResponse = { thing: query.value, minThreshold: thresholds.min ?? null, maxThreshold: thresholds.max ?? null };
    return body;
  });

  // The dashboard: its files are ready before the app answers (fastify waits for plugins).
  app.register(async (dashboard) => {
    const assets = await (deps.assets ?? dashboardAssets());
    for (const [urlPath, file] of assets) {
      dashboard.get(urlPath, async (_request, reply) =>
        reply
          .type(file.contentType)
          .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
          .send(file.body),
      );
    }
  });

  return app;
}
