/**
 * The alert-rule routes of the API:
 *
 *   PUT /api/thresholds  {"thing", "rule", "reason"?}                 set one series' rule
 *   PUT /api/thresholds  {"prefix" | "series": [...], "rule", "reason"?}  the same rule for many
 *   GET /api/thresholds/changes?thing=&limit=&cursor=                  its rule and changes, newest first
 *
 * The rule is checked by the same codec as the thresholds CLI (handlers/rule-item.ts:
 * same limits, same messages, JSON field names), and setting it writes only the rule's
 * attributes: the alert state on the same item is kept, so a change never re-sends or
 * forgets an alert. A rule is set exactly: a field left out or null is removed. Each
 * change is recorded (who, when, old and new, why); setting the rule a series already
 * has records nothing. Changes need a user and a JSON body, as acknowledging does.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RuleChange } from '../handlers/rule-change-item';
import { JSON_FIELD_NAMES, checkRule, ruleInputOfJson, ruleJson } from '../handlers/rule-item';
import { seriesIdProblem } from '../handlers/reading';
import type { AlertConsole } from './alert-console';
import { BODY_LIMIT_BYTES, changeRequester, cursorOf, isProblem, objectBody, parseCursor, parseLimit, text, type BodyProblem } from './alert-routes';
import type { ErrorResponse, RuleChangeJson, RuleChangesResponse, ThresholdsChangeResponse } from './api-types';
import type { UserIdentity } from './identity';
import { MAX_BULK_SERIES } from './rule-limits';
import { single, unknownParameter, type RawQuery } from './query';
import type { ReadingsRepository } from './repository';

/** Writes in flight at once during a bulk change. */
const BULK_CONCURRENCY = 10;

const changeJson = (change: RuleChange): RuleChangeJson => ({ ...change, before: change.before === null ? null : ruleJson(change.before), after: ruleJson(change.after) });

export interface RuleRoutesOptions {
  readonly repository: ReadingsRepository;
  /** Without it these routes answer 503. */
  readonly console?: AlertConsole;
  readonly identity: UserIdentity;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** The series a change covers: `thing`, every catalogued series under `prefix`, or the `series` listed. */
async function targetSeries(body: Record<string, unknown>, repository: ReadingsRepository): Promise<string[] | BodyProblem> {
  const given = (['thing', 'prefix', 'series'] as const).filter((field) => body[field] !== undefined);
  if (given.length !== 1) return { field: given[1] ?? 'thing', message: 'give one of "thing" (a series id), "prefix" (every series under it) or "series" (a list of series ids)' };
  const { thing, prefix, series } = body;
  if (given[0] === 'thing') return typeof thing === 'string' ? [thing] : { field: 'thing', message: '"thing" must be a series id, e.g. things/boiler/7/temperature' };
  if (given[0] === 'series') {
    if (!Array.isArray(series) || series.length === 0 || series.length > MAX_BULK_SERIES || !series.every((id) => typeof id === 'string')) {
      return { field: 'series', message: `"series" must be a list of 1 to ${MAX_BULK_SERIES} series ids` };
    }
    return [...new Set(series as string[])];
  }
  if (typeof prefix !== 'string' || prefix === '') return { field: 'prefix', message: '"prefix" must be the start of series ids, e.g. things/boiler/' };
  const matching = (await repository.listSeries()).map((summary) => summary.series).filter((id) => id.startsWith(prefix));
  if (matching.length === 0) return { field: 'prefix', message: `no series starts with ${JSON.stringify(prefix)}` };
  if (matching.length > MAX_BULK_SERIES) return { field: 'prefix', message: `${matching.length} series start with ${JSON.stringify(prefix)}: one change covers at most ${MAX_BULK_SERIES}, so give a longer prefix` };
  return matching;
}

export function ruleRoutes(options: RuleRoutesOptions) {
  const { repository } = options;
  const now = options.now ?? Date.now;
  const changer = changeRequester(options.identity);
  const badBody = (reply: FastifyReply, problem: BodyProblem) => reply.code(400).send({ error: 'bad-body', parameter: problem.field, message: problem.message } satisfies ErrorResponse);
  const noConsole = (reply: FastifyReply) =>
    reply.code(503).send({ error: 'unavailable', message: 'Changing alert rules needs the platform\'s DynamoDB tables, which this app was started without.' } satisfies ErrorResponse);

  return async function register(app: FastifyInstance): Promise<void> {
    app.put('/api/thresholds', { bodyLimit: BODY_LIMIT_BYTES * 8 }, async (request, reply) => {
      const user = await changer(request, reply);
      if (user === undefined) return reply;
      const body = objectBody(request.body, ['thing', 'prefix', 'series', 'rule', 'reason']);
      if (isProblem(body)) return badBody(reply, body);
      const reason = body.reason === undefined || body.reason === '' ? '' : text(body, 'reason', true);
      if (isProblem(reason)) return badBody(reply, reason);
      const shape = ruleInputOfJson(body.rule);
      if (shape.problems.length > 0) return badBody(reply, { field: 'rule', message: shape.problems.join('; ') });
      const series = await targetSeries(body, repository);
      if (isProblem(series)) return badBody(reply, series);
      const wrongIds = series.flatMap((id) => seriesIdProblem(id) ?? []);
      if (wrongIds.length > 0) return badBody(reply, { field: body.thing === undefined ? 'series' : 'thing', message: wrongIds.join('; ') });
      // One rule for every series: checked once, the ids being good.
      const { rule, problems } = checkRule(series[0] as string, shape.input, JSON_FIELD_NAMES);
      if (problems.length > 0) return badBody(reply, { field: 'rule', message: problems.join('; ') });
      if (options.console === undefined) return noConsole(reply);
      const changedAt = new Date(now()).toISOString();
      const changes: RuleChangeJson[] = [];
      const unchanged: string[] = [];
      for (let start = 0; start < series.length; start += BULK_CONCURRENCY) {
        const results = await Promise.all(series.slice(start, start + BULK_CONCURRENCY).map((id) => options.console!.setRule(id, rule, { changedBy: user, changedAt, reason: reason ?? '' })));
        results.forEach((result, index) => (result.outcome === 'changed' ? changes.push(changeJson(result.change)) : unchanged.push(series[start + index]!)));
      }
      const response: ThresholdsChangeResponse = { rule: ruleJson(rule), changes, unchanged };
      return response;
    });

    app.get('/api/thresholds/changes', async (request, reply) => {
      const raw = request.query as RawQuery;
      const badParameter = (error: { parameter: string; message: string }) => reply.code(400).send({ error: 'bad-parameter', parameter: error.parameter, message: error.message } satisfies ErrorResponse);
      const unknown = unknownParameter(raw, ['thing', 'limit', 'cursor']);
      if (unknown !== undefined && !unknown.ok) return badParameter(unknown.error);
      const thing = single(raw, 'thing');
      if (!thing.ok) return badParameter(thing.error);
      if (thing.value === undefined || thing.value === '') return badParameter({ parameter: 'thing', message: '"thing" is required: the series whose rule changes to list' });
      const limit = parseLimit(raw);
      if (!limit.ok) return badParameter(limit.error);
      const after = parseCursor(raw);
      if (!after.ok) return badParameter(after.error);
      if (options.console === undefined) return noConsole(reply);
      const [rule, page] = await Promise.all([
        options.console.rule(thing.value),
        options.console.ruleChanges({ series: thing.value, limit: limit.value, ...(after.value === undefined ? {} : { after: after.value }) }),
      ]);
      const response: RuleChangesResponse = { thing: thing.value, rule: rule === null ? null : ruleJson(rule), items: page.items.map(changeJson), nextCursor: cursorOf(page.next) };
      return response;
    });
  };
}
