/**
 * The API keys the twin honours: the stack's own (`aws_api_gateway_api_key` with its
 * `aws_api_gateway_usage_plan_key`s) and those created while it runs through the small
 * control plane below, which answers the AWS SDK's API Gateway calls in the shapes of
 * API Gateway's REST control plane:
 *
 *   POST   /apikeys                       CreateApiKey (enabled defaults to false, as in AWS)
 *   GET    /apikeys[?name=&includeValues=] GetApiKeys (paged by limit/position)
 *   GET    /apikeys/{id}[?includeValue=]  GetApiKey
 *   PATCH  /apikeys/{id}                  UpdateApiKey (replace /enabled, /name, /description)
 *   DELETE /apikeys/{id}                  DeleteApiKey
 *   GET    /usageplans                    GetUsagePlans
 *   POST   /usageplans/{id}/keys          CreateUsagePlanKey
 *   GET    /usageplans/{id}/keys          GetUsagePlanKeys
 *
 * https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html (and the pages
 * of the other actions). Changes are kept in a JSON file (the platform's data folder), so
 * keys survive a restart; the stack's own keys may be disabled or deleted the same way,
 * until the next start reads an edited stack.
 */
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ApiKeyDefinition, RestApiDefinition, UsagePlanDefinition } from './definition';
import type { Answer } from './pipeline';

/** A key as the control plane keeps it. Dates are epoch seconds, as API Gateway sends them. */
interface StoredKey {
  readonly id: string;
  name: string;
  description?: string;
  readonly value: string;
  enabled: boolean;
  readonly createdDate: number;
  lastUpdatedDate: number;
  readonly planIds: string[];
}

/** What the file holds: keys created at run time, and run-time changes to the stack's keys. */
interface SavedState {
  readonly keys: StoredKey[];
  readonly stackKeys: Record<string, { enabled?: boolean; name?: string; description?: string; deleted?: true }>;
}

/** AWS's own rule for an imported value: 20 to 128 alphanumeric characters. */
const VALUE_PATTERN = /^[A-Za-z0-9]{20,128}$/;
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const randomText = (length: number, alphabet = ALPHANUMERIC) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
/** GetApiKeys and GetUsagePlanKeys answer 25 items a page unless asked, at most 500. */
const PAGE = { default: 25, max: 500 } as const;

const CONTROL_PATH = /^\/(apikeys|usageplans)(?:\/([^/]+)(?:\/(keys))?)?\/?$/;

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

const reply = (status: number, body: unknown): Answer => ({ status, headers: { 'content-type': 'application/json' }, body: body === undefined ? '' : JSON.stringify(body) });

export class ApiKeyRegistry {
  private readonly keys: StoredKey[];
  /** Every request looks its key up by value: a fleet's thousands of keys are not scanned. */
  private readonly byValue = new Map<string, StoredKey>();
  private readonly stackKeys: SavedState['stackKeys'];
  private readonly plans: ReadonlyMap<string, UsagePlanDefinition>;

  /** `file`: where run-time changes are kept; without it they last as long as the twin. */
  constructor(
    private readonly api: RestApiDefinition,
    private readonly file?: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.plans = new Map(api.usagePlans.map((plan) => [plan.id, plan]));
    const saved: SavedState = file !== undefined && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SavedState) : { keys: [], stackKeys: {} };
    this.keys = saved.keys;
    this.stackKeys = saved.stackKeys;
    const started = Math.floor(clock() / 1000);
    for (const key of api.apiKeys) {
      const change = this.stackKeys[key.id];
      if (change?.deleted === true) continue;
      this.keys.unshift({
        id: key.id,
        name: change?.name ?? key.name,
        ...(change?.description ?? key.description ? { description: change?.description ?? key.description } : {}),
        value: key.value,
        enabled: change?.enabled ?? key.enabled,
        createdDate: started,
        lastUpdatedDate: started,
        planIds: key.plans.map((plan) => plan.id),
      });
    }
    // Stack keys left to AWS share the local value: the first answers, as the list did.
    for (const key of this.keys) if (!this.byValue.has(key.value)) this.byValue.set(key.value, key);
  }

  /** The enabled key with this value in a usage plan of the stage, as the pipeline checks it. */
  find(value: string, stage: string): ApiKeyDefinition | undefined {
    if (value === '') return undefined;
    const key = this.byValue.get(value);
    if (key?.enabled !== true) return undefined;
    const plans = key.planIds.flatMap((id) => this.plans.get(id) ?? []);
    if (!plans.some((plan) => plan.stages.has(stage))) return undefined;
    return { id: key.id, name: key.name, value: key.value, enabled: true, plans };
  }

  /** Whether the path is the control plane's (whose calls AWS does not bill as API requests). */
  handles(path: string): boolean {
    return CONTROL_PATH.test(path);
  }

  /** A control-plane request's answer, or undefined when the path is not the control plane's. */
  control(method: string, path: string, query: URLSearchParams, body: Buffer): Answer | undefined {
    const match = CONTROL_PATH.exec(path);
    if (match === null) return undefined;
    const [, collection, id, keys] = match;
    try {
      const input = body.byteLength === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      if (collection === 'apikeys' && keys === undefined) {
        if (id === undefined && method === 'POST') return reply(201, this.view(this.create(input), true));
        if (id === undefined && method === 'GET') return this.page(query, this.keys.filter((key) => key.name.startsWith(query.get('name') ?? '')), (key) => this.view(key, query.get('includeValues') === 'true'));
        if (id !== undefined && method === 'GET') return reply(200, this.view(this.keyOf(id), query.get('includeValue') === 'true'));
        if (id !== undefined && method === 'PATCH') return reply(200, this.view(this.update(this.keyOf(id), input), false));
        if (id !== undefined && method === 'DELETE') return reply(202, this.remove(this.keyOf(id)));
      }
      if (collection === 'usageplans' && id === undefined && method === 'GET') return this.page(query, [...this.plans.values()].filter((plan) => !query.has('keyId') || this.keyOf(query.get('keyId') as string).planIds.includes(plan.id)), (plan) => this.planView(plan));
      if (collection === 'usageplans' && id !== undefined && keys !== undefined) {
        const plan = this.plans.get(id) ?? this.notFound('Invalid Usage Plan ID specified');
        if (method === 'POST') return reply(201, this.planKeyView(this.attach(plan, input)));
        if (method === 'GET') return this.page(query, this.keys.filter((key) => key.planIds.includes(plan.id) && key.name.startsWith(query.get('nameQuery') ?? '')), (key) => this.planKeyView(key));
      }
      return reply(404, { message: `No control-plane action ${method} ${path} in the local twin` });
    } catch (error) {
      if (error instanceof ControlError) return { ...reply(error.status, { message: error.message }), headers: { 'content-type': 'application/json', 'x-amzn-ErrorType': error.errorType } };
      if (error instanceof SyntaxError) return { ...reply(400, { message: `Could not parse request body into json: ${error.message}` }), headers: { 'content-type': 'application/json', 'x-amzn-ErrorType': 'BadRequestException' } };
      throw error;
    }
  }

  private create(input: Record<string, unknown>): StoredKey {
    if (typeof input.name !== 'string' || input.name === '' || input.name.length > 1024) this.badRequest('name must be 1 to 1024 characters');
    const value = input.value === undefined ? randomText(40) : String(input.value);
    if (!VALUE_PATTERN.test(value)) this.badRequest('API Key value should be at least 20 characters');
    if (this.byValue.has(value)) throw new ControlError(409, 'ConflictException', 'API Key already exists');
    const now = Math.floor(this.clock() / 1000);
    const key: StoredKey = {
      id: randomText(10, 'abcdefghijklmnopqrstuvwxyz0123456789'),
      name: input.name as string,
      ...(typeof input.description === 'string' ? { description: input.description } : {}),
      value,
      enabled: input.enabled === true,
      createdDate: now,
      lastUpdatedDate: now,
      planIds: [],
    };
    this.keys.push(key);
    this.byValue.set(value, key);
    this.save();
    return key;
  }

  private update(key: StoredKey, input: Record<string, unknown>): StoredKey {
    const operations = Array.isArray(input.patchOperations) ? (input.patchOperations as { op?: string; path?: string; value?: string }[]) : [];
    for (const { op, path, value } of operations) {
      if (op !== 'replace') this.badRequest(`Invalid patch operation specified. Must be 'replace' when modifying ${path}`);
      if (path === '/enabled') {
        if (value !== 'true' && value !== 'false') this.badRequest(`Invalid value for /enabled: ${value}`);
        key.enabled = value === 'true';
      } else if (path === '/name' && value) key.name = value;
      else if (path === '/description') key.description = value ?? '';
      else this.badRequest(`Invalid patch path ${path}`);
    }
    key.lastUpdatedDate = Math.floor(this.clock() / 1000);
    if (this.isStackKey(key)) this.stackKeys[key.id] = { enabled: key.enabled, name: key.name, ...(key.description === undefined ? {} : { description: key.description }) };
    this.save();
    return key;
  }

  private remove(key: StoredKey): undefined {
    this.keys.splice(this.keys.indexOf(key), 1);
    this.byValue.delete(key.value);
    if (this.isStackKey(key)) this.stackKeys[key.id] = { deleted: true };
    this.save();
    return undefined;
  }

  private attach(plan: UsagePlanDefinition, input: Record<string, unknown>): StoredKey {
    if (input.keyType !== 'API_KEY') this.badRequest('keyType must be API_KEY');
    const key = this.keys.find((candidate) => candidate.id === input.keyId) ?? this.notFound('Invalid API Key identifier specified');
    if (key.planIds.includes(plan.id)) throw new ControlError(409, 'ConflictException', `Usage Plan ${plan.id} cannot be added because API Key ${key.id} cannot reference multiple Usage Plans with the same API Stage`);
    if (this.isStackKey(key)) this.badRequest("the local twin changes the usage plans of the stack's own keys only through the stack");
    key.planIds.push(plan.id);
    this.save();
    return key;
  }

  private page<T>(query: URLSearchParams, items: readonly T[], view: (item: T) => unknown): Answer {
    const limit = Math.min(Number(query.get('limit') ?? PAGE.default) || PAGE.default, PAGE.max);
    const from = Number(query.get('position') ?? 0) || 0;
    const next = from + limit < items.length ? String(from + limit) : undefined;
    return reply(200, { item: items.slice(from, from + limit).map(view), ...(next === undefined ? {} : { position: next }) });
  }

  private view(key: StoredKey, withValue: boolean) {
    return {
      id: key.id,
      name: key.name,
      ...(key.description === undefined ? {} : { description: key.description }),
      ...(withValue ? { value: key.value } : {}),
      enabled: key.enabled,
      createdDate: key.createdDate,
      lastUpdatedDate: key.lastUpdatedDate,
      stageKeys: [],
    };
  }

  private planKeyView = (key: StoredKey) => ({ id: key.id, type: 'API_KEY', name: key.name, value: key.value });

  private planView(plan: UsagePlanDefinition) {
    return {
      id: plan.id,
      ...(plan.name === undefined ? {} : { name: plan.name }),
      apiStages: [...plan.stages.keys()].map((stage) => ({ apiId: this.api.id, stage })),
      ...(plan.throttle === undefined ? {} : { throttle: { rateLimit: plan.throttle.rate, burstLimit: plan.throttle.burst } }),
      ...(plan.quota === undefined ? {} : { quota: { limit: plan.quota.limit, period: plan.quota.period, offset: plan.quota.offset ?? 0 } }),
    };
  }

  private isStackKey = (key: StoredKey) => this.api.apiKeys.some((stackKey) => stackKey.id === key.id);

  private keyOf(id: string): StoredKey {
    return this.keys.find((key) => key.id === id) ?? this.notFound('Invalid API Key identifier specified');
  }

  private notFound(message: string): never {
    throw new ControlError(404, 'NotFoundException', message);
  }

  private badRequest(message: string): never {
    throw new ControlError(400, 'BadRequestException', message);
  }

  /** Written whole to a temporary file and renamed, so a crash leaves the old file or the new one. */
  private save(): void {
    if (this.file === undefined) return;
    const state: SavedState = { keys: this.keys.filter((key) => !this.isStackKey(key)), stackKeys: this.stackKeys };
    writeFileSync(`${this.file}.tmp`, JSON.stringify(state, null, 2));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
