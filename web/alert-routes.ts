/**
 * The alert routes of the API:
 *
 *   GET  /api/alerts?thing=<series>&from&to&order&limit&cursor   one series' notices (history)
 *   GET  /api/alerts?kind=&state=&limit=&cursor=                 alerts across the fleet, newest first
 *   POST /api/alerts/ack        {"id", "note"}                   acknowledge a firing alert
 *   GET  /api/silences?thing=&active=&limit=&cursor=             silences, latest end first
 *   POST /api/silences          {"target", "reason", "startsAt", "endsAt" | "durationMinutes"}
 *
 * Changes need a user (identity.ts) and a JSON body: a form of another site cannot send
 * `application/json` without a CORS preflight, which this API never grants, so a signed-in
 * browser cannot be made to acknowledge or silence by a page elsewhere.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ALERT_KINDS, ALERT_STATES, type AlertState } from '../handlers/alert-episode-item';
import { silenceTargetProblem } from '../handlers/silence-item';
import type { AlertKind } from '../handlers/alert-rules';
import { normaliseTimestamp, timestampMicros, timestampOfMillis } from '../handlers/reading-timestamp';
import type { AcknowledgeResponse, AlertsResponse, ErrorResponse, FleetAlertsResponse, SilenceResponse, SilencesResponse } from './api-types';
import type { AlertConsole } from './alert-console';
import type { UserIdentity } from './identity';
import { bad, encodeCursor, parseRangeQuery, single, unknownParameter, type Parsed, type RawQuery } from './query';
import type { ReadingsRepository } from './repository';

export interface AlertRoutesOptions {
  readonly repository: ReadingsRepository;
  /** Alerts across the fleet, acknowledgements and silences; without it those routes answer 503. */
  readonly console?: AlertConsole;
  readonly identity: UserIdentity;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** Page sizes of the fleet and silence lists. */
export const LIST_LIMITS = { default: 100, max: 500 } as const;
/** The longest silence: a maintenance window, not a way to switch alerts off for good. */
export const MAX_SILENCE_DAYS = 30;
const MAX_TEXT = 500;
export const BODY_LIMIT_BYTES = 8 * 1024;

export const cursorOf = (key: string | undefined): string | null => (key === undefined ? null : Buffer.from(key, 'utf8').toString('base64url'));
const keyOfCursor = (cursor: string): string | undefined => (/^[A-Za-z0-9_-]{1,4000}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : undefined);

function parseList<T extends string>(raw: RawQuery, name: string, allowed: readonly T[]): Parsed<readonly T[]> {
  const text = single(raw, name);
  if (!text.ok) return text;
  if (text.value === undefined || text.value === '') return { ok: true, value: allowed };
  const values = text.value.split(',');
  const wrong = values.find((value) => !(allowed as readonly string[]).includes(value));
  if (wrong !== undefined) return bad(name, `"${name}" takes ${allowed.join(', ')} (comma-separated for several), got ${JSON.stringify(wrong)}`);
  return { ok: true, value: [...new Set(values)] as T[] };
}

export function parseLimit(raw: RawQuery): Parsed<number> {
  const text = single(raw, 'limit');
  if (!text.ok) return text;
  if (text.value === undefined) return { ok: true, value: LIST_LIMITS.default };
  const limit = /^\d{1,9}$/.test(text.value) ? Number(text.value) : NaN;
  return limit >= 1 && limit <= LIST_LIMITS.max ? { ok: true, value: limit } : bad('limit', `"limit" must be a whole number from 1 to ${LIST_LIMITS.max}, got ${JSON.stringify(text.value)}`);
}

export function parseCursor(raw: RawQuery): Parsed<string | undefined> {
  const text = single(raw, 'cursor');
  if (!text.ok || text.value === undefined) return text;
  const key = keyOfCursor(text.value);
  return key === undefined ? bad('cursor', '"cursor" is not one this API issued: pass the "nextCursor" of the previous page unchanged') : { ok: true, value: key };
}

/** `kind`, `state`, `limit` and `cursor` of the fleet list. */
export function parseFleetQuery(raw: RawQuery): Parsed<{ kinds: readonly AlertKind[]; states: readonly AlertState[]; limit: number; after?: string }> {
  const unknown = unknownParameter(raw, ['kind', 'state', 'limit', 'cursor']);
  if (unknown !== undefined && !unknown.ok) return { ok: false, error: { ...unknown.error, message: `${unknown.error.message} (with "thing": thing, from, to, limit, order, cursor)` } };
  const kinds = parseList(raw, 'kind', ALERT_KINDS);
  if (!kinds.ok) return kinds;
  const states = parseList(raw, 'state', ALERT_STATES);
  if (!states.ok) return states;
  const limit = parseLimit(raw);
  if (!limit.ok) return limit;
  const after = parseCursor(raw);
  if (!after.ok) return after;
  return { ok: true, value: { kinds: kinds.value, states: states.value, limit: limit.value, ...(after.value === undefined ? {} : { after: after.value }) } };
}

/** A problem with a request body: the field at fault and what would be accepted. */
export interface BodyProblem {
  readonly field: string;
  readonly message: string;
}

export type Body = Record<string, unknown>;

export function objectBody(body: unknown, fields: readonly string[]): Body | BodyProblem {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { field: '(body)', message: `the body must be a JSON object with ${fields.join(', ')}` };
  const unknown = Object.keys(body).find((key) => !fields.includes(key));
  return unknown === undefined ? (body as Body) : { field: unknown, message: `unknown field "${unknown}": the body takes ${fields.join(', ')}` };
}

export function text(body: Body, field: string, required: boolean): string | undefined | BodyProblem {
  const value = body[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT || /[\u0000-\u0008\u000b-\u001f]/.test(value)) {
    return { field, message: `"${field}" must be text of 1 to ${MAX_TEXT} characters without control characters` };
  }
  return value.trim();
}

function time(body: Body, field: string): string | undefined | BodyProblem {
  const value = body[field];
  if (value === undefined) return undefined;
  const normalised = normaliseTimestamp(value);
  return normalised.ok ? normalised.value : { field, message: `"${field}": ${normalised.error.message.replace(/^"timestamp" /, '')}` };
}

export const isProblem = (value: unknown): value is BodyProblem => typeof value === 'object' && value !== null && 'field' in value && 'message' in value;

/**
 * The user behind a change, or undefined once the answer refusing it is sent (wrong content
 * type, another site's page, no sign-in). Every route that changes something starts here.
 */
export function changeRequester(identity: UserIdentity) {
  return async function changer(request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
    if (!/^application\/json(\s*;|$)/i.test(request.headers['content-type'] ?? '')) {
      await reply.code(415).send({ error: 'unsupported-media-type', message: 'Send the body as JSON with content-type: application/json.' } satisfies ErrorResponse);
      return undefined;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== 'null' && URL.canParse(origin) && new URL(origin).host !== request.headers.host) {
      await reply.code(403).send({ error: 'forbidden', message: 'Changes are accepted from this app\'s own pages only.' } satisfies ErrorResponse);
      return undefined;
    }
    const who = await identity.identify(request.headers);
    if (who.ok) return who.user;
    await reply.code(who.status).send({ error: who.status === 401 ? 'sign-in-required' : 'forbidden', message: who.message } satisfies ErrorResponse);
    return undefined;
  };
}

export function alertRoutes(options: AlertRoutesOptions) {
  const { repository, identity } = options;
  const now = options.now ?? Date.now;

  const badParameter = (reply: FastifyReply, error: { parameter: string; message: string }) =>
    reply.code(400).send({ error: 'bad-parameter', parameter: error.parameter, message: error.message } satisfies ErrorResponse);
  const badBody = (reply: FastifyReply, problem: BodyProblem) => reply.code(400).send({ error: 'bad-body', parameter: problem.field, message: problem.message } satisfies ErrorResponse);
  const noConsole = (reply: FastifyReply) =>
    reply.code(503).send({ error: 'unavailable', message: 'Alerts across the fleet, acknowledgements and silences need the platform\'s DynamoDB tables, which this app was started without.' } satisfies ErrorResponse);

  const changer = changeRequester(identity);

  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/api/alerts', async (request, reply) => {
      const raw = request.query as RawQuery;
      if (raw.thing !== undefined) {
        const query = parseRangeQuery(raw);
        if (!query.ok) return badParameter(reply, query.error);
        const page = await repository.alerts(query.value);
        const body: AlertsResponse = { thing: query.value.series, order: query.value.order, items: page.items, nextCursor: page.next === undefined ? null : encodeCursor(page.next) };
        return body;
      }
      const query = parseFleetQuery(raw);
      if (!query.ok) return badParameter(reply, query.error);
      if (options.console === undefined) return noConsole(reply);
      const page = await options.console.fleetAlerts(query.value);
      const body: FleetAlertsResponse = { kinds: query.value.kinds, states: query.value.states, items: page.items, nextCursor: cursorOf(page.next) };
      return body;
    });

    app.post('/api/alerts/ack', { bodyLimit: BODY_LIMIT_BYTES }, async (request, reply) => {
      const user = await changer(request, reply);
      if (user === undefined) return reply;
      const body = objectBody(request.body, ['id', 'note']);
      if (isProblem(body)) return badBody(reply, body);
      const id = typeof body.id === 'string' && body.id !== '' ? body.id : undefined;
      if (id === undefined) return badBody(reply, { field: 'id', message: '"id" is required: the "id" of an alert from GET /api/alerts' });
      const note = body.note === undefined ? '' : text(body, 'note', true);
      if (isProblem(note)) return badBody(reply, note);
      if (options.console === undefined) return noConsole(reply);
      const result = await options.console.acknowledge(id, { by: user, at: new Date(now()).toISOString(), note: note ?? '' });
      if (result.outcome === 'not-found') return reply.code(404).send({ error: 'not-found', message: `No alert has the id ${JSON.stringify(id)}: take the "id" of an alert from GET /api/alerts.` } satisfies ErrorResponse);
      if (result.outcome === 'not-firing') {
        return reply.code(409).send({ error: 'conflict', message: `The alert is ${result.state}, not firing: only a firing alert can be acknowledged.` } satisfies ErrorResponse);
      }
      const response: AcknowledgeResponse = { alert: result.alert };
      return response;
    });

    app.get('/api/silences', async (request, reply) => {
      const raw = request.query as RawQuery;
      const unknown = unknownParameter(raw, ['thing', 'active', 'limit', 'cursor']);
      if (unknown !== undefined && !unknown.ok) return badParameter(reply, unknown.error);
      const thing = single(raw, 'thing');
      if (!thing.ok) return badParameter(reply, thing.error);
      const active = single(raw, 'active');
      if (!active.ok) return badParameter(reply, active.error);
      if (active.value !== undefined && active.value !== 'true' && active.value !== 'false') {
        return badParameter(reply, { parameter: 'active', message: `"active" must be true (silences not over yet, the default) or false (every silence), got ${JSON.stringify(active.value)}` });
      }
      const limit = parseLimit(raw);
      if (!limit.ok) return badParameter(reply, limit.error);
      const after = parseCursor(raw);
      if (!after.ok) return badParameter(reply, after.error);
      if (options.console === undefined) return noConsole(reply);
      const page = await options.console.silences({
        limit: limit.value,
        ...(active.value === 'false' ? {} : { notOverAt: timestampOfMillis(now()) }),
        ...(thing.value === undefined ? {} : { series: thing.value }),
        ...(after.value === undefined ? {} : { after: after.value }),
      });
      const body: SilencesResponse = { items: page.items, nextCursor: cursorOf(page.next) };
      return body;
    });

    app.post('/api/silences', { bodyLimit: BODY_LIMIT_BYTES }, async (request, reply) => {
      const user = await changer(request, reply);
      if (user === undefined) return reply;
      const body = objectBody(request.body, ['target', 'reason', 'startsAt', 'endsAt', 'durationMinutes']);
      if (isProblem(body)) return badBody(reply, body);
      const target = typeof body.target === 'string' ? body.target : undefined;
      const targetProblem = target === undefined ? '"target" is required: a series id, or a prefix ending in "/"' : silenceTargetProblem(target);
      if (targetProblem !== undefined) return badBody(reply, { field: 'target', message: `"target": ${targetProblem}` });
      const reason = text(body, 'reason', true);
      if (isProblem(reason)) return badBody(reply, reason);
      const startsAt = time(body, 'startsAt');
      if (isProblem(startsAt)) return badBody(reply, startsAt);
      const endsAt = time(body, 'endsAt');
      if (isProblem(endsAt)) return badBody(reply, endsAt);
      const duration = body.durationMinutes;
      if ((endsAt === undefined) === (duration === undefined)) return badBody(reply, { field: 'endsAt', message: 'give "endsAt" or "durationMinutes" (one of them)' });
      const maxMinutes = MAX_SILENCE_DAYS * 24 * 60;
      if (duration !== undefined && !(Number.isSafeInteger(duration) && (duration as number) >= 1 && (duration as number) <= maxMinutes)) {
        return badBody(reply, { field: 'durationMinutes', message: `"durationMinutes" must be a whole number from 1 to ${maxMinutes}` });
      }
      const nowMs = now();
      const start = startsAt ?? timestampOfMillis(nowMs);
      const end = endsAt ?? timestampOfMillis(timestampMicros(start) / 1000 + (duration as number) * 60_000);
      if (end <= timestampOfMillis(nowMs)) return badBody(reply, { field: 'endsAt', message: `"endsAt" (${end}) is already past: a silence must end in the future` });
      if (end <= start) return badBody(reply, { field: 'endsAt', message: `"endsAt" (${end}) must be after "startsAt" (${start})` });
      if (timestampMicros(end) - timestampMicros(start) > MAX_SILENCE_DAYS * 86_400_000_000) return badBody(reply, { field: 'endsAt', message: `a silence lasts at most ${MAX_SILENCE_DAYS} days` });
      if (options.console === undefined) return noConsole(reply);
      const silence = await options.console.createSilence({ target: target as string, startsAt: start, endsAt: end, reason: reason as string, createdBy: user, createdAt: new Date(nowMs).toISOString() });
      const response: SilenceResponse = { silence };
      return reply.code(201).send(response);
    });
  };
}
