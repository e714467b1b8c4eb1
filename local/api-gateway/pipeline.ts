/**
 * One request through API Gateway, in the order AWS documents where it does (route, then
 * API key, throttling and quota, request validation, integration request, integration,
 * integration response, method response) and as docs/api-gateway-twin.md chooses where
 * it does not. Every refusal is a gateway response of the API's own customisation.
 */
import type { ApiKeyRegistry } from './api-keys';
import type { ApiKeyDefinition, IntegrationResponseDefinition, MethodDefinition, RestApiDefinition } from './definition';
import { IntegrationError, type KinesisIntegration, type ServiceReply } from './aws-integration';
import type { BodyValidation } from './body-validation';
import { chooseTemplate, errorContext, GatewayResponses, mappedValue, RESPONSE_TYPES, substitute, type ResponseType, type SubstitutionScope } from './gateway-responses';
import { requestContext } from './request-context';
import { findRoute, type Route } from './routing';
import { ACCOUNT_THROTTLE, type LimitCheck, type Throttling } from './throttling';
import { MappingTemplateError, type MappingTemplate, type RequestParameters } from './vtl';

export interface MethodRequest {
  readonly method: string;
  /** Path without the query string, as sent. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header names as sent (first spelling wins), values joined by `,`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface PipelineOptions {
  readonly integration: KinesisIntegration;
  readonly validation: BodyValidation;
  readonly throttling: Throttling;
  /** The keys the API honours, the stack's and those added at run time. */
  readonly apiKeys: Pick<ApiKeyRegistry, 'find'>;
  readonly accountId: string;
  /** Execution-log lines (what API Gateway logs at ERROR level). */
  readonly log: (line: string) => void;
  /** One line per request in the stage's access-log format, when it has one. */
  readonly accessLog?: (line: string) => void;
}

type Context = ReturnType<typeof requestContext>;

/** A refusal on the way: the gateway response type and, for some, the message and validation detail. */
class Refusal {
  constructor(
    readonly type: ResponseType,
    readonly message?: string,
    readonly validationErrorString = '',
  ) {}
}

const headerNamed = (headers: Readonly<Record<string, string>>, name: string): string | undefined => {
  const lower = name.toLowerCase();
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lower) return headers[key];
  return undefined;
};

/** The media type of the request body; API Gateway takes a request without one as JSON. */
const mediaType = (headers: Readonly<Record<string, string>>): string => (headerNamed(headers, 'content-type') ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';

export class ApiPipeline {
  private readonly gatewayResponses: GatewayResponses;

  constructor(
    private readonly api: RestApiDefinition,
    private readonly options: PipelineOptions,
  ) {
    this.gatewayResponses = new GatewayResponses(api.gatewayResponses);
  }

  /** A gateway response for a request refused before it was read (413 by its Content-Length). */
  refuse(type: ResponseType, request: Omit<MethodRequest, 'body'>): Answer {
    const context = this.contextOf(request);
    return this.gatewayAnswer(new Refusal(type), context, request, {});
  }

  async handle(request: MethodRequest): Promise<Answer> {
    const started = Date.now();
    const context = this.contextOf(request);
    const route = findRoute(this.api, request.method, request.path);
    const params: RequestParameters = {
      path: route?.pathParameters ?? {},
      querystring: Object.fromEntries(request.query),
      header: request.headers,
    };
    let answer: Answer;
    try {
      if (route === undefined) throw new Refusal('MISSING_AUTHENTICATION_TOKEN');
      Object.assign(context, { stage: route.stage.name, resourcePath: route.resource.path, resourceId: route.resource.id });
      this.admit(route, request, context);
      const parsed = await this.validate(route.method, request);
      answer = await this.integrate(route, request, params, parsed, context);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      answer = this.gatewayAnswer(error, context, request, params);
    }
    this.writeAccessLog(route, context, answer, started);
    return answer;
  }

  private contextOf(request: Omit<MethodRequest, 'body'>): Context {
    return requestContext({
      accountId: this.options.accountId,
      apiId: this.api.id,
      httpMethod: request.method,
      path: request.path,
      host: headerNamed(request.headers, 'host') ?? 'localhost',
      sourceIp: request.sourceIp,
      userAgent: headerNamed(request.headers, 'user-agent'),
      now: Date.now(),
    });
  }

  /** API key, then throttling (usage plan, stage, account), then the usage plan's quota. */
  private admit(route: Route, request: MethodRequest, context: Context): void {
    const { method, stage, resource } = route;
    let key: ApiKeyDefinition | undefined;
    if (method.apiKeyRequired) {
      const value = headerNamed(request.headers, 'x-api-key') ?? '';
      key = this.options.apiKeys.find(value, stage.name);
      if (key === undefined) throw new Refusal('INVALID_API_KEY');
      Object.assign(context.identity, { apiKey: key.value, apiKeyId: key.id });
    }
    const methodPath = `${resource.path.slice(1)}/${method.httpMethod}`;
    const plan = key?.plans.find((candidate) => candidate.stages.has(stage.name));
    const limits: LimitCheck[] = [];
    const planMethod = plan?.stages.get(stage.name)?.get(methodPath);
    if (plan !== undefined && key !== undefined) {
      if (planMethod !== undefined) limits.push({ bucket: `plan ${plan.id} key ${key.id} ${methodPath}`, limit: planMethod });
      if (plan.throttle !== undefined) limits.push({ bucket: `plan ${plan.id} key ${key.id}`, limit: plan.throttle });
    }
    const stageLimit = stage.methodThrottles.get(methodPath) ?? stage.methodThrottles.get('*/*');
    if (stageLimit !== undefined) limits.push({ bucket: `stage ${stage.name} ${methodPath}`, limit: stageLimit });
    limits.push({ bucket: 'account', limit: ACCOUNT_THROTTLE });
    const outcome = this.options.throttling.admit(limits, plan?.quota === undefined || key === undefined ? undefined : { bucket: `quota ${plan.id} ${key.id}`, limit: plan.quota });
    if (outcome !== 'ok') throw new Refusal(outcome);
  }

  /** Required parameters, then the body against the model for its content type. Returns the parsed body when validated. */
  private async validate(method: MethodDefinition, request: MethodRequest): Promise<{ value: unknown } | undefined> {
    if (method.validateParameters) {
      const missing = method.requiredParameters.filter((name) => {
        const [, location, parameter] = /^method\.request\.(path|querystring|header)\.(.+)$/.exec(name) ?? [];
        if (parameter === undefined) return false;
        const value = location === 'header' ? headerNamed(request.headers, parameter) : location === 'querystring' ? request.query.get(parameter) : undefined;
        return location !== 'path' && (value === undefined || value === null || value.trim() === '');
      });
      if (missing.length > 0) {
        const message = `Missing required request parameters: [${missing.map((name) => name.split('.').slice(3).join('.')).join(', ')}]`;
        throw new Refusal('BAD_REQUEST_PARAMETERS', message, message);
      }
    }
    if (!method.validateBody) return undefined;
    const model = method.requestModels[mediaType(request.headers)] ?? method.requestModels.$default;
    if (model === undefined) return undefined;
    const check = await this.options.validation.check(model, request.body);
    if (!check.ok) {
      const detail = `[${check.message}]`;
      this.options.log(`${request.method} ${request.path}: Request body does not match model schema for content type ${mediaType(request.headers)}: ${detail}`);
      throw new Refusal('BAD_REQUEST_BODY', undefined, detail);
    }
    return { value: check.value };
  }

  private render(template: MappingTemplate, payload: { body: string; parsed?: unknown }, params: RequestParameters, context: Context, stageVariables: Readonly<Record<string, string>>): string {
    try {
      return template.render({ payload: { ...payload, params }, context, stageVariables });
    } catch (error) {
      if (!(error instanceof MappingTemplateError)) throw error;
      this.options.log(`Execution failed: ${error.message}`);
      throw new Refusal(error.badInput ? 'BAD_REQUEST_BODY' : 'API_CONFIGURATION_ERROR');
    }
  }

  private async integrate(route: Route, request: MethodRequest, params: RequestParameters, parsed: { value: unknown } | undefined, context: Context): Promise<Answer> {
    const { integration } = route.method;
    const stageVariables = route.stage.variables;
    const scope: SubstitutionScope = { context, stageVariables, request: params };
    const type = mediaType(request.headers);
    const template = integration.requestTemplates.get(type);
    const rawBody = request.body.toString('utf8');
    let body: string;
    if (template !== undefined) body = this.render(template, { body: rawBody, ...(parsed === undefined ? {} : { parsed: parsed.value }) }, params, context, stageVariables);
    else if (integration.passthrough === 'WHEN_NO_MATCH' || (integration.passthrough === 'WHEN_NO_TEMPLATES' && integration.requestTemplates.size === 0)) body = rawBody;
    else throw new Refusal('UNSUPPORTED_MEDIA_TYPE');

    const headers: Record<string, string> = {};
    for (const [target, expression] of Object.entries(integration.requestParameters)) {
      const header = /^integration\.request\.header\.(.+)$/.exec(target);
      const value = header === null ? undefined : mappedValue(expression, scope);
      if (header !== null && value !== undefined) headers[header[1] as string] = value;
    }
    // A template's #set($context.requestOverride.header.X = ...) wins over the mapping.
    Object.assign(headers, (context.requestOverride as { header: Record<string, string> }).header);

    let reply: ServiceReply;
    const calledAt = Date.now();
    try {
      reply = await this.options.integration.call({ action: integration.action, body, headers, timeoutMs: integration.timeoutMs });
    } catch (error) {
      if (!(error instanceof IntegrationError)) throw error;
      this.options.log(`Execution failed due to an integration error (${integration.address}): ${error.message}`);
      throw new Refusal(error.timedOut ? 'INTEGRATION_TIMEOUT' : 'INTEGRATION_FAILURE');
    }
    Object.assign(context, { integration: { status: reply.status, latency: Date.now() - calledAt } });
    return this.methodResponse(route, request, params, reply, context);
  }

  /** The integration response selected by the backend's status code, rendered over its body. */
  private methodResponse(route: Route, request: MethodRequest, params: RequestParameters, reply: ServiceReply, context: Context): Answer {
    const responses = route.method.integrationResponses;
    const status = String(reply.status);
    const selected: IntegrationResponseDefinition | undefined = responses.find((response) => response.selectionPattern?.test(status)) ?? responses.find((response) => response.selectionPattern === undefined);
    if (selected === undefined) {
      this.options.log(`Execution failed due to configuration error: no integration response of ${route.method.address} matches status ${status} and there is no default`);
      throw new Refusal('API_CONFIGURATION_ERROR');
    }
    if (!route.method.methodResponseStatuses.has(selected.statusCode)) {
      this.options.log(`Execution failed due to configuration error: ${selected.address} answers ${selected.statusCode}, which has no aws_api_gateway_method_response`);
      throw new Refusal('API_CONFIGURATION_ERROR');
    }
    const chosen = chooseTemplate(Object.fromEntries(selected.templates), headerNamed(request.headers, 'accept'));
    const body = chosen === undefined ? reply.body : this.render(chosen[1], { body: reply.body }, params, context, route.stage.variables);
    const headers: Record<string, string> = { 'content-type': chosen?.[0] ?? 'application/json', 'x-amzn-requestid': String(context.requestId) };
    for (const [target, expression] of Object.entries(selected.responseParameters)) {
      const header = /^method\.response\.header\.(.+)$/.exec(target);
      const source = /^integration\.response\.header\.(.+)$/.exec(expression);
      const value = source !== null ? headerNamed(reply.headers, source[1] as string) : /^'.*'$/s.test(expression) ? expression.slice(1, -1) : undefined;
      if (header !== null && value !== undefined) headers[(header[1] as string).toLowerCase()] = value;
    }
    for (const [name, value] of Object.entries(context.responseOverride.header)) headers[name.toLowerCase()] = String(value);
    const override = Number(context.responseOverride.status);
    const finalStatus = Number.isInteger(override) && override >= 100 && override <= 599 ? override : selected.statusCode;
    return { status: finalStatus, headers, body };
  }

  private gatewayAnswer(refusal: Refusal, context: Context, request: Omit<MethodRequest, 'body'>, params: Partial<RequestParameters>): Answer {
    context.error = errorContext(refusal.type, refusal.message ?? RESPONSE_TYPES[refusal.type].message, refusal.validationErrorString);
    const scope: SubstitutionScope = { context, stageVariables: {}, request: { path: params.path ?? {}, querystring: params.querystring ?? Object.fromEntries(request.query), header: request.headers } };
    const answer = this.gatewayResponses.answer(refusal.type, scope, headerNamed(request.headers, 'accept'));
    return { ...answer, headers: { ...answer.headers, 'x-amzn-requestid': String(context.requestId) } };
  }

  private writeAccessLog(route: Route | undefined, context: Context, answer: Answer, started: number): void {
    const format = route?.stage.accessLogFormat;
    if (format === undefined || this.options.accessLog === undefined) return;
    Object.assign(context, { status: answer.status, responseLatency: Date.now() - started, responseLength: Buffer.byteLength(answer.body) });
    this.options.accessLog(substitute(format, { context, stageVariables: route?.stage.variables ?? {} }, '-'));
  }
}
