/**
 * Gateway responses: the answers API Gateway makes itself (unknown route, bad key,
 * throttled, invalid body, integration failure...), each of a response type with a
 * default status, customised per API by `aws_api_gateway_gateway_response` resources.
 *
 * Their templates are NOT Velocity: API Gateway does simple variable substitution only
 * (`$context.*`, `$stageVariables.*`), so `$util.escapeJavaScript(...)` or `#if` in them
 * come out as written.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gatewayResponse-definition.html
 */

/** The response types the twin answers with: default status, default message, and the `x-amzn-ErrorType` header. */
export const RESPONSE_TYPES = {
  MISSING_AUTHENTICATION_TOKEN: { status: 403, message: 'Missing Authentication Token', errorType: 'MissingAuthenticationTokenException' },
  INVALID_API_KEY: { status: 403, message: 'Forbidden', errorType: 'ForbiddenException' },
  THROTTLED: { status: 429, message: 'Too Many Requests', errorType: 'TooManyRequestsException' },
  QUOTA_EXCEEDED: { status: 429, message: 'Limit Exceeded', errorType: 'LimitExceededException' },
  REQUEST_TOO_LARGE: { status: 413, message: 'Request Too Long', errorType: 'RequestTooLongException' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported Media Type', errorType: 'UnsupportedMediaTypeException' },
  BAD_REQUEST_PARAMETERS: { status: 400, message: 'Missing required request parameters', errorType: 'BadRequestException' },
  BAD_REQUEST_BODY: { status: 400, message: 'Invalid request body', errorType: 'BadRequestException' },
  API_CONFIGURATION_ERROR: { status: 500, message: 'Internal server error', errorType: 'InternalServerErrorException' },
  INTEGRATION_FAILURE: { status: 504, message: 'Internal server error', errorType: 'InternalServerErrorException' },
  INTEGRATION_TIMEOUT: { status: 504, message: 'Endpoint request timed out', errorType: 'InternalServerErrorException' },
} as const;

export type ResponseType = keyof typeof RESPONSE_TYPES;

/** Every default template, as AWS ships them. */
export const DEFAULT_GATEWAY_TEMPLATE = '{"message":$context.error.messageString}';

/** One `aws_api_gateway_gateway_response` (or `DEFAULT_4XX` / `DEFAULT_5XX`). */
export interface GatewayResponseDefinition {
  readonly responseType: string;
  readonly statusCode?: number;
  readonly responseTemplates: Readonly<Record<string, string>>;
  readonly responseParameters: Readonly<Record<string, string>>;
}

export interface GatewayAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What substitution and header mappings read: `$context` (with `error` filled in), stage variables, the method request. */
export interface SubstitutionScope {
  readonly context: Readonly<Record<string, unknown>>;
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly request: { readonly header: Readonly<Record<string, string>>; readonly querystring: Readonly<Record<string, string>>; readonly path: Readonly<Record<string, string>> };
}

const REFERENCE = /\$(context|stageVariables)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g;

function primitiveAt(root: unknown, names: readonly string[]): string | undefined {
  let value = root;
  for (const name of names) {
    if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

/**
 * Simple variable substitution: each `$context.a.b` or `$stageVariables.x` is replaced by
 * its value as text, with no quoting or escaping (that is what `messageString` is for). The
 * longest name that has a value wins, so `$context.requestId.` keeps its full stop. A
 * reference to nothing stays as written (AWS does not say; see docs/api-gateway-twin.md),
 * unless `missing` says what to write instead (access logs write `-`).
 */
export function substitute(template: string, scope: Pick<SubstitutionScope, 'context' | 'stageVariables'>, missing?: string): string {
  return template.replace(REFERENCE, (whole: string, root: string, dotted: string) => {
    const names = dotted.slice(1).split('.');
    const base = root === 'context' ? scope.context : scope.stageVariables;
    for (let length = names.length; length > 0; length -= 1) {
      const value = primitiveAt(base, names.slice(0, length));
      if (value !== undefined) return value + (length < names.length ? `.${names.slice(length).join('.')}` : '');
    }
    return missing ?? whole;
  });
}

/** A header mapping's value: `'literal'`, `method.request.<location>.<name>`, `context.<name>` or `stageVariables.<name>`. */
export function mappedValue(expression: string, scope: SubstitutionScope): string | undefined {
  if (/^'.*'$/s.test(expression)) return expression.slice(1, -1);
  const request = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(expression);
  if (request !== null) {
    const values = scope.request[request[1] as 'header' | 'querystring' | 'path'];
    const name = request[2] as string;
    if (request[1] !== 'header') return values[name];
    const key = Object.keys(values).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : values[key];
  }
  const variable = /^(context|stageVariables)\.(.+)$/.exec(expression);
  if (variable !== null) return primitiveAt(variable[1] === 'context' ? scope.context : scope.stageVariables, (variable[2] as string).split('.'));
  return undefined;
}

/** The template for the caller's `Accept`, else `application/json`, else the first one. */
export function chooseTemplate<T>(templates: Readonly<Record<string, T>>, accept: string | undefined): [string, T] | undefined {
  const entries = Object.entries(templates);
  const wanted = (accept ?? '').split(',').map((part) => (part.split(';')[0] ?? '').trim().toLowerCase());
  return entries.find(([type]) => wanted.includes(type.toLowerCase())) ?? entries.find(([type]) => type.toLowerCase() === 'application/json') ?? entries[0];
}

export class GatewayResponses {
  private readonly byType: ReadonlyMap<string, GatewayResponseDefinition>;

  constructor(definitions: readonly GatewayResponseDefinition[]) {
    this.byType = new Map(definitions.map((definition) => [definition.responseType, definition]));
  }

  /**
   * The answer for a response type: its own customisation if the API has one, else the
   * API's DEFAULT_4XX/DEFAULT_5XX customisation (whose status, when set, replaces the
   * type's default), else AWS's default template.
   */
  answer(type: ResponseType, scope: SubstitutionScope, accept: string | undefined): GatewayAnswer {
    const defaults = RESPONSE_TYPES[type];
    const own = this.byType.get(type);
    const fallback = this.byType.get(defaults.status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX');
    const definition = own ?? fallback;
    const status = own?.statusCode ?? fallback?.statusCode ?? defaults.status;
    const chosen = chooseTemplate(definition?.responseTemplates ?? {}, accept) ?? ['application/json', DEFAULT_GATEWAY_TEMPLATE];
    const headers: Record<string, string> = { 'content-type': chosen[0], 'x-amzn-errortype': defaults.errorType };
    for (const [target, expression] of Object.entries(definition?.responseParameters ?? {})) {
      const header = /^gatewayresponse\.header\.(.+)$/.exec(target);
      const value = header === null ? undefined : mappedValue(expression, scope);
      if (header !== null && value !== undefined) headers[(header[1] as string).toLowerCase()] = value;
    }
    return { status, headers, body: substitute(chosen[1], scope) };
  }
}

/** `$context.error` for a gateway response: `messageString` is the message JSON-quoted. */
export function errorContext(type: ResponseType, message: string = RESPONSE_TYPES[type].message, validationErrorString = ''): Record<string, string> {
  return { message, messageString: JSON.stringify(message), responseType: type, validationErrorString };
}
