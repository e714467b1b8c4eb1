/**
 * The REST API as the twin serves it, read from the synthesized stack's own resources:
 * rest API, resources, methods, models and validators, integrations and their responses,
 * method responses, gateway responses, stages and method settings, API keys, usage plans.
 * Templates and schemas are compiled here, once per start. Anything the twin cannot serve
 * faithfully stops start-up with an error naming the resource and attribute.
 */
import { TwinResolutionError, type StackResource, type TwinStack } from '../twin/stack';
import type { GatewayResponseDefinition } from './gateway-responses';
import { isActive, type QuotaLimit, type ThrottleLimit } from './throttling';
import { MappingTemplate } from './vtl';

export type PassthroughBehavior = 'WHEN_NO_MATCH' | 'WHEN_NO_TEMPLATES' | 'NEVER';

export interface IntegrationDefinition {
  readonly address: string;
  /** The Kinesis action named by the URI (`arn:aws:apigateway:<region>:kinesis:action/PutRecord`). */
  readonly action: string;
  readonly passthrough: PassthroughBehavior;
  /** `integration.request.header.X` → `'literal'` or `method.request.<location>.<name>`. */
  readonly requestParameters: Readonly<Record<string, string>>;
  /** Keyed by lower-case content type. */
  readonly requestTemplates: ReadonlyMap<string, MappingTemplate>;
  readonly timeoutMs: number;
}

export interface IntegrationResponseDefinition {
  readonly address: string;
  readonly statusCode: number;
  /** Matched against the backend's HTTP status; absent for the default response. */
  readonly selectionPattern?: RegExp;
  readonly templates: ReadonlyMap<string, MappingTemplate>;
  readonly responseParameters: Readonly<Record<string, string>>;
}

export interface MethodDefinition {
  readonly address: string;
  readonly httpMethod: string;
  readonly apiKeyRequired: boolean;
  readonly validateBody: boolean;
  readonly validateParameters: boolean;
  /** Model name by lower-case content type (`$default` included). */
  readonly requestModels: Readonly<Record<string, string>>;
  /** `method.request.<location>.<name>` marked required. */
  readonly requiredParameters: readonly string[];
  readonly integration: IntegrationDefinition;
  readonly integrationResponses: readonly IntegrationResponseDefinition[];
  readonly methodResponseStatuses: ReadonlySet<number>;
}

export interface ResourceNode {
  readonly id: string;
  /** `/thingsstream/batch`; `/` for the root. */
  readonly path: string;
  readonly pathPart: string;
  readonly children: ResourceNode[];
  readonly methods: Map<string, MethodDefinition>;
}

export interface StageDefinition {
  readonly name: string;
  readonly variables: Readonly<Record<string, string>>;
  /** Method settings' throttling by method path (`*\/*` or `thingsstream/PUT`). */
  readonly methodThrottles: ReadonlyMap<string, ThrottleLimit>;
  readonly accessLogFormat?: string;
}

export interface UsagePlanDefinition {
  readonly id: string;
  readonly name?: string;
  /** Stages of this API the plan covers, each with its per-method throttles. */
  readonly stages: ReadonlyMap<string, ReadonlyMap<string, ThrottleLimit>>;
  readonly throttle?: ThrottleLimit;
  readonly quota?: QuotaLimit;
}

export interface ApiKeyDefinition {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly value: string;
  readonly enabled: boolean;
  readonly plans: readonly UsagePlanDefinition[];
}

export interface RestApiDefinition {
  readonly id: string;
  readonly name: string;
  readonly root: ResourceNode;
  readonly stages: ReadonlyMap<string, StageDefinition>;
  /** The stack's own keys; keys added at run time live in ApiKeyRegistry. */
  readonly apiKeys: readonly ApiKeyDefinition[];
  /** The usage plans covering a stage of this API. */
  readonly usagePlans: readonly UsagePlanDefinition[];
  readonly gatewayResponses: readonly GatewayResponseDefinition[];
  /** Each model's draft-04 schema, by model name. */
  readonly models: Readonly<Record<string, object>>;
}

// ---------------------------------------------------------------------------
// Reading attributes
// ---------------------------------------------------------------------------

const fail = (resource: StackResource, attribute: string, problem: string): never => {
  throw new TwinResolutionError(`${resource.address}: ${attribute} ${problem}`, resource.address, attribute);
};
const text = (resource: StackResource, attribute: string): string => {
  const value = resource.config[attribute];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : fail(resource, attribute, 'is missing');
};
const optionalText = (resource: StackResource, attribute: string): string | undefined => (resource.config[attribute] === undefined ? undefined : text(resource, attribute));
const flag = (resource: StackResource, attribute: string, fallback: boolean): boolean => {
  const value = resource.config[attribute];
  return value === undefined ? fallback : value === true || value === 'true';
};
const stringMap = (resource: StackResource, attribute: string): Record<string, string> => {
  const value = resource.config[attribute] ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) return fail(resource, attribute, 'is not a map');
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key, String(inner)]));
};
/** A nested block: cdktf writes a single block as an object, repeated blocks as a list. */
const blocks = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]) as Record<string, unknown>[];
const throttleOf = (block: Record<string, unknown> | undefined, rate = 'rate_limit', burst = 'burst_limit'): ThrottleLimit | undefined => {
  if (block === undefined || block[rate] === undefined) return undefined;
  const limit = { rate: Number(block[rate]), burst: Number(block[burst] ?? 0) };
  return isActive(limit) ? limit : undefined;
};
const statusOf = (resource: StackResource): number => {
  const status = Number(text(resource, 'status_code'));
  return Number.isInteger(status) && status >= 100 && status <= 599 ? status : fail(resource, 'status_code', 'is not an HTTP status');
};

function templatesOf(resource: StackResource, attribute: string): Map<string, MappingTemplate> {
  return new Map(Object.entries(stringMap(resource, attribute)).map(([type, source]) => [type.toLowerCase(), new MappingTemplate(source, `${resource.address} ${attribute}["${type}"]`)]));
}

/** The same method (API, resource, HTTP method) as `method`. */
const sameMethod = (method: StackResource) => (other: StackResource) =>
  other.config.rest_api_id === method.config.rest_api_id && other.config.resource_id === method.config.resource_id && other.config.http_method === method.config.http_method;

// ---------------------------------------------------------------------------
// Building the API
// ---------------------------------------------------------------------------

const KINESIS_ACTION = /^arn:[\w-]+:apigateway:[\w-]+:kinesis:action\/([A-Za-z]+)$/;

function integrationOf(stack: TwinStack, method: StackResource): IntegrationDefinition {
  const resource = stack.resources('aws_api_gateway_integration').find(sameMethod(method)) ?? fail(method, 'integration', 'is missing: no aws_api_gateway_integration for this method');
  const type = text(resource, 'type');
  if (type !== 'AWS') fail(resource, 'type', `${type} is not emulated (the twin serves AWS service integrations with Kinesis)`);
  const action = KINESIS_ACTION.exec(text(resource, 'uri'))?.[1] ?? fail(resource, 'uri', `${text(resource, 'uri')} names no Kinesis action (arn:<partition>:apigateway:<region>:kinesis:action/<Action>)`);
  const passthrough = optionalText(resource, 'passthrough_behavior') ?? 'WHEN_NO_MATCH';
  if (!['WHEN_NO_MATCH', 'WHEN_NO_TEMPLATES', 'NEVER'].includes(passthrough)) fail(resource, 'passthrough_behavior', `${passthrough} is not a passthrough behaviour`);
  return {
    address: resource.address,
    action,
    passthrough: passthrough as PassthroughBehavior,
    requestParameters: stringMap(resource, 'request_parameters'),
    requestTemplates: templatesOf(resource, 'request_templates'),
    timeoutMs: Number(optionalText(resource, 'timeout_milliseconds') ?? 29_000),
  };
}

function integrationResponsesOf(stack: TwinStack, method: StackResource): IntegrationResponseDefinition[] {
  return stack
    .resources('aws_api_gateway_integration_response')
    .filter(sameMethod(method))
    .map((resource) => {
      const pattern = optionalText(resource, 'selection_pattern');
      let selectionPattern: RegExp | undefined;
      try {
        // Java's matches(): the whole status must match.
        selectionPattern = pattern === undefined || pattern === '' ? undefined : new RegExp(`^(?:${pattern})$`, 'u');
      } catch (error) {
        fail(resource, 'selection_pattern', `is not a regular expression: ${(error as Error).message}`);
      }
      return {
        address: resource.address,
        statusCode: statusOf(resource),
        ...(selectionPattern === undefined ? {} : { selectionPattern }),
        templates: templatesOf(resource, 'response_templates'),
        responseParameters: stringMap(resource, 'response_parameters'),
      };
    });
}

function methodOf(stack: TwinStack, method: StackResource, models: Readonly<Record<string, object>>): MethodDefinition {
  const authorization = optionalText(method, 'authorization') ?? 'NONE';
  if (authorization !== 'NONE') fail(method, 'authorization', `${authorization} is not emulated (the twin serves methods with authorization NONE and API keys)`);
  const validatorId = optionalText(method, 'request_validator_id');
  const validator = validatorId === undefined ? undefined : (stack.resources('aws_api_gateway_request_validator').find((candidate) => candidate.id === validatorId) ?? fail(method, 'request_validator_id', `${validatorId} names no aws_api_gateway_request_validator`));
  const requestModels = Object.fromEntries(Object.entries(stringMap(method, 'request_models')).map(([type, model]) => [type.toLowerCase(), model]));
  for (const [type, model] of Object.entries(requestModels)) if (models[model] === undefined) fail(method, `request_models["${type}"]`, `names no aws_api_gateway_model "${model}"`);
  const requestParameters = method.config.request_parameters as Record<string, unknown> | undefined;
  return {
    address: method.address,
    httpMethod: text(method, 'http_method').toUpperCase(),
    apiKeyRequired: flag(method, 'api_key_required', false),
    validateBody: validator !== undefined && flag(validator, 'validate_request_body', false),
    validateParameters: validator !== undefined && flag(validator, 'validate_request_parameters', false),
    requestModels,
    requiredParameters: Object.entries(requestParameters ?? {}).flatMap(([name, required]) => (required === true || required === 'true' ? [name] : [])),
    integration: integrationOf(stack, method),
    integrationResponses: integrationResponsesOf(stack, method),
    methodResponseStatuses: new Set(stack.resources('aws_api_gateway_method_response').filter(sameMethod(method)).map(statusOf)),
  };
}

function resourceTree(stack: TwinStack, api: StackResource, models: Readonly<Record<string, object>>): ResourceNode {
  const resources = stack.resources('aws_api_gateway_resource').filter((resource) => resource.config.rest_api_id === api.id);
  const root: ResourceNode = { id: `${api.id}-root`, path: '/', pathPart: '', children: [], methods: new Map() };
  const byId = new Map<string, ResourceNode>();
  const nodeOf = (resource: StackResource): ResourceNode => {
    const known = byId.get(resource.id);
    if (known !== undefined) return known;
    const parentId = text(resource, 'parent_id');
    const parentResource = resources.find((candidate) => candidate.id === parentId);
    // Whatever else a parent id names, it is the API's root resource.
    const parent = parentResource === undefined ? root : nodeOf(parentResource);
    const pathPart = text(resource, 'path_part');
    const node: ResourceNode = { id: resource.id, path: `${parent.path === '/' ? '' : parent.path}/${pathPart}`, pathPart, children: [], methods: new Map() };
    parent.children.push(node);
    byId.set(resource.id, node);
    return node;
  };
  resources.forEach(nodeOf);
  for (const method of stack.resources('aws_api_gateway_method').filter((candidate) => candidate.config.rest_api_id === api.id)) {
    const resourceId = text(method, 'resource_id');
    // As for parents: a resource id that is none of the API's resources is its root.
    const node = byId.get(resourceId) ?? root;
    const definition = methodOf(stack, method, models);
    node.methods.set(definition.httpMethod, definition);
  }
  return root;
}

/** Method settings' paths as `path/METHOD` without the leading slash (`~1` is AWS's escaped `/`). */
const normaliseMethodPath = (methodPath: string): string => methodPath.replace(/~1/g, '/').replace(/^\/+/, '');

function stagesOf(stack: TwinStack, api: StackResource): Map<string, StageDefinition> {
  const settings = stack.resources('aws_api_gateway_method_settings').filter((resource) => resource.config.rest_api_id === api.id);
  return new Map(
    stack
      .resources('aws_api_gateway_stage')
      .filter((stage) => stage.config.rest_api_id === api.id)
      .map((stage) => {
        const name = text(stage, 'stage_name');
        const methodThrottles = new Map<string, ThrottleLimit>();
        for (const setting of settings.filter((candidate) => String(candidate.config.stage_name) === name)) {
          const limit = throttleOf(blocks(setting.config.settings)[0], 'throttling_rate_limit', 'throttling_burst_limit');
          if (limit !== undefined) methodThrottles.set(normaliseMethodPath(text(setting, 'method_path')), limit);
        }
        const format = blocks(stage.config.access_log_settings)[0]?.format;
        return [name, { name, variables: stringMap(stage, 'variables'), methodThrottles, ...(typeof format === 'string' ? { accessLogFormat: format } : {}) }];
      }),
  );
}

function usagePlansOf(stack: TwinStack, api: StackResource): UsagePlanDefinition[] {
  return stack.resources('aws_api_gateway_usage_plan').flatMap((plan) => {
    const stages = new Map(
      blocks(plan.config.api_stages)
        .filter((block) => block.api_id === api.id)
        .map((block) => [String(block.stage), new Map(blocks(block.throttle).flatMap((throttle) => { const limit = throttleOf(throttle); return limit === undefined ? [] : [[normaliseMethodPath(String(throttle.path)), limit] as const]; }))]),
    );
    if (stages.size === 0) return [];
    const quotaBlock = blocks(plan.config.quota_settings)[0];
    const throttle = throttleOf(blocks(plan.config.throttle_settings)[0]);
    const quota = quotaBlock === undefined ? undefined : { limit: Number(quotaBlock.limit), period: String(quotaBlock.period) as QuotaLimit['period'], offset: Number(quotaBlock.offset ?? 0) };
    const name = optionalText(plan, 'name');
    return [{ id: plan.id, ...(name === undefined ? {} : { name }), stages, ...(throttle === undefined ? {} : { throttle }), ...(quota === undefined ? {} : { quota }) }];
  });
}

function apiKeysOf(stack: TwinStack, plans: readonly UsagePlanDefinition[], generatedValue: string): ApiKeyDefinition[] {
  const planKeys = stack.resources('aws_api_gateway_usage_plan_key');
  return stack.resources('aws_api_gateway_api_key').map((key) => ({
    id: key.id,
    name: optionalText(key, 'name') ?? key.address,
    ...(optionalText(key, 'description') === undefined ? {} : { description: optionalText(key, 'description') as string }),
    // A key without a value gets one generated by AWS; locally, the configured one.
    value: optionalText(key, 'value') ?? generatedValue,
    enabled: flag(key, 'enabled', true),
    plans: plans.filter((plan) => planKeys.some((link) => link.config.usage_plan_id === plan.id && link.config.key_id === key.id)),
  }));
}

function modelsOf(stack: TwinStack, api: StackResource): Record<string, object> {
  return Object.fromEntries(
    stack
      .resources('aws_api_gateway_model')
      .filter((model) => model.config.rest_api_id === api.id)
      .map((model) => {
        try {
          return [text(model, 'name'), JSON.parse(text(model, 'schema')) as object];
        } catch (error) {
          return fail(model, 'schema', `is not JSON: ${(error as Error).message}`);
        }
      }),
  );
}

/** Reads the stack's one REST API. */
export function readRestApi(stack: TwinStack, generatedApiKeyValue: string): RestApiDefinition {
  const apis = stack.resources('aws_api_gateway_rest_api');
  if (apis.length !== 1) throw new TwinResolutionError(`the API Gateway twin serves one REST API; ${stack.file} has ${apis.length} (${apis.map((api) => api.address).join(', ') || 'none'})`);
  const api = apis[0] as StackResource;
  const keySource = optionalText(api, 'api_key_source') ?? 'HEADER';
  if (keySource !== 'HEADER') fail(api, 'api_key_source', `${keySource} is not emulated (the twin reads keys from the X-API-Key header)`);
  const models = modelsOf(stack, api);
  const plans = usagePlansOf(stack, api);
  return {
    id: api.id,
    name: text(api, 'name'),
    root: resourceTree(stack, api, models),
    stages: stagesOf(stack, api),
    apiKeys: apiKeysOf(stack, plans, generatedApiKeyValue),
    usagePlans: plans,
    gatewayResponses: stack
      .resources('aws_api_gateway_gateway_response')
      .filter((response) => response.config.rest_api_id === api.id)
      .map((response) => {
        const status = optionalText(response, 'status_code');
        return {
          responseType: text(response, 'response_type'),
          ...(status === undefined ? {} : { statusCode: Number(status) }),
          responseTemplates: stringMap(response, 'response_templates'),
          responseParameters: stringMap(response, 'response_parameters'),
        };
      }),
    models,
  };
}
