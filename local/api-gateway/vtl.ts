/**
 * API Gateway mapping templates (integration request and response templates), rendered
 * by a real Velocity engine (velocityjs) with the variables API Gateway gives them:
 * `$input`, `$util`, `$context` and `$stageVariables`, `#foreach` with `$foreach.index`,
 * `$foreach.count` and `$foreach.hasNext`, and AWS's limit of 1,000 iterations per loop.
 *
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/models-mappings.html
 */
import { Compile, parse } from 'velocityjs';
import { compileJsonPath, evaluateJsonPath, JsonPathError, type CompiledPath } from './json-path';
import { BadTemplateInputError, JAVA_METHODS, TEMPLATE_UTIL, type MethodHandler } from './vtl-util';

export { BadTemplateInputError } from './vtl-util';

/** Iterations one `#foreach` may run (API Gateway's quota, "Iterations in a #foreach ... in a mapping template"). */
export const FOREACH_ITERATION_LIMIT = 1_000;

/** The request parameters `$input.params()` returns, by location. */
export interface RequestParameters {
  readonly path: Readonly<Record<string, string>>;
  readonly querystring: Readonly<Record<string, string>>;
  readonly header: Readonly<Record<string, string>>;
}

/** What `$input` reads: a payload (the method request's, or the integration's answer) and the method request's parameters. */
export interface TemplatePayload {
  /** The raw payload. */
  readonly body: string;
  /** The payload parsed as JSON, when the caller already has it (validation parsed it). */
  readonly parsed?: unknown;
  readonly params: RequestParameters;
}

export interface TemplateScope {
  readonly payload: TemplatePayload;
  /** `$context`: mutable, so `#set($context.responseOverride.status = ...)` reaches the caller. */
  readonly context: Record<string, unknown>;
  readonly stageVariables: Readonly<Record<string, string>>;
}

/** A template failed while rendering (a configuration error, unless it is a BadTemplateInputError). */
export class MappingTemplateError extends Error {
  constructor(
    message: string,
    /** True when the request's own content made the template fail (a 400 rather than a 500 on AWS). */
    readonly badInput: boolean,
  ) {
    super(message);
    this.name = 'MappingTemplateError';
  }
}

/** A bounded memo by text: templates build the same paths and strings at every iteration. */
function memo<T>(build: (text: string) => T): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    let value = cache.get(text);
    if (value === undefined) {
      value = build(text);
      if (cache.size > 10_000) cache.clear();
      cache.set(text, value);
    }
    return value;
  };
}

const compiledPath = memo(compileJsonPath);
const jsonPath = (expression: unknown): CompiledPath => compiledPath(String(expression));

/** `$input` for one payload: the JSON is parsed at most once, and only if the template reads it. */
function inputVariable(payload: TemplatePayload) {
  let parsed = payload.parsed;
  let isParsed = 'parsed' in payload;
  const document = (): unknown => {
    if (!isParsed) {
      try {
        parsed = payload.body.trim() === '' ? {} : JSON.parse(payload.body);
      } catch (error) {
        throw new BadTemplateInputError(`the payload is not JSON: ${(error as Error).message}`);
      }
      isParsed = true;
    }
    return parsed;
  };
  const { path, querystring, header } = payload.params;
  const headerNamed = (name: string): string | undefined => {
    const lower = name.toLowerCase();
    const found = Object.keys(header).find((key) => key.toLowerCase() === lower);
    return found === undefined ? undefined : header[found];
  };
  return {
    body: payload.body,
    json: (expression: unknown): string => {
      const value = evaluateJsonPath(jsonPath(expression), document());
      return value === undefined ? '' : JSON.stringify(value);
    },
    path: (expression: unknown): unknown => evaluateJsonPath(jsonPath(expression), document()),
    params: (name?: unknown): unknown => {
      if (name === undefined) return { path: { ...path }, querystring: { ...querystring }, header: { ...header } };
      const key = String(name);
      return path[key] ?? querystring[key] ?? headerNamed(key) ?? '';
    },
  };
}

/** Double-quoted strings of templates, parsed once: velocityjs parses them again at every evaluation. */
const parseString = memo((text) => parse(text));

/**
 * velocityjs's compiler with API Gateway's loop limit (each body rendering of the innermost
 * loop counts), and with interpolated strings (`"$.Data[$foreach.index]"`) parsed once.
 */
class LimitedCompile extends Compile {
  private readonly loops: { first: unknown; length: number; count: number }[] = [];

  protected override evalStr(text: string): string {
    return this.renderAstList(parseString(text), this.contextId);
  }

  getBlockEach(block: unknown[]): string {
    this.loops.push({ first: block[1], length: block.length - 1, count: 0 });
    try {
      return (Compile.prototype as unknown as { getBlockEach(block: unknown[]): string }).getBlockEach.call(this, block);
    } finally {
      this.loops.pop();
    }
  }

  override renderAstList(asts?: Parameters<Compile['renderAstList']>[0], contextId?: string): string {
    const loop = this.loops[this.loops.length - 1];
    if (loop !== undefined && asts !== undefined && contextId?.startsWith('foreach:') && asts.length === loop.length && asts[0] === loop.first) {
      loop.count += 1;
      if (loop.count > FOREACH_ITERATION_LIMIT) throw new Error(`#foreach ran more than ${FOREACH_ITERATION_LIMIT} iterations, API Gateway's limit`);
    }
    return super.renderAstList(asts, contextId);
  }
}

const unsupported = (directive: string) => () => {
  throw new Error(`#${directive} is not available in API Gateway mapping templates`);
};

/** One mapping template, parsed once. */
export class MappingTemplate {
  private readonly asts: ReturnType<typeof parse>;

  constructor(
    readonly source: string,
    /** Names the template in errors, e.g. `aws_api_gateway_integration.x request_templates["application/json"]`. */
    readonly name: string,
    /** The Java methods template values have; fewer shows what a template does where API Gateway lacks one. */
    private readonly javaMethods: readonly MethodHandler[] = JAVA_METHODS,
  ) {
    try {
      this.asts = parse(source);
    } catch (error) {
      throw new Error(`${name} is not a valid Velocity template: ${(error as Error).message}`);
    }
  }

  render(scope: TemplateScope): string {
    const compiler = new LimitedCompile(this.asts, { escape: false, customMethodHandlers: [...this.javaMethods] });
    const variables = { input: inputVariable(scope.payload), util: { ...TEMPLATE_UTIL }, context: scope.context, stageVariables: { ...scope.stageVariables } };
    try {
      return compiler.render(variables, { include: unsupported('include'), parse: unsupported('parse'), evaluate: unsupported('evaluate') });
    } catch (error) {
      const badInput = error instanceof BadTemplateInputError;
      const reason = error instanceof JsonPathError || badInput ? error.message : `${(error as Error).message}`;
      throw new MappingTemplateError(`${this.name}: ${reason}`, badInput);
    }
  }
}
