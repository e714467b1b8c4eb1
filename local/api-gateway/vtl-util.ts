/**
 * `$util` of API Gateway mapping templates, and the Java string, list and map methods
 * templates call on values (API Gateway runs Apache Velocity on the JVM, so
 * `"x".replaceAll(...)` is Java's regex replaceAll, not JavaScript's literal one).
 *
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
 */

/** A template ran into input it cannot handle (API Gateway answers such requests 400). */
export class BadTemplateInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadTemplateInputError';
  }
}

const hex = (unit: number, width: number): string => unit.toString(16).toUpperCase().padStart(width, '0');

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\b': '\\b', '\n': '\\n', '\t': '\\t', '\f': '\\f', '\r': '\\r', "'": "\\'", '"': '\\"', '\\': '\\\\', '/': '\\/' };

/**
 * JavaScript string escaping as Apache Commons Lang does it (and so API Gateway): quotes,
 * backslash and slash get a backslash (`'` too, which is not valid JSON: the documented
 * quirk), other control characters and every UTF-16 unit above 0x7F become `\uXXXX`.
 */
export function escapeJavaScript(text: string): string {
  let escaped = '';
  for (let at = 0; at < text.length; at += 1) {
    const char = text[at] as string;
    const unit = text.charCodeAt(at);
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) escaped += short;
    else if (unit < 0x20 || unit > 0x7f) escaped += `\\u${hex(unit, 4)}`;
    else escaped += char;
  }
  return escaped;
}

/** `application/x-www-form-urlencoded` as Java's URLEncoder writes it: only `A-Za-z0-9.-*_` stay, a space is `+`. */
export function urlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()~]/g, (char) => `%${hex(char.charCodeAt(0), 2)}`)
    .replace(/%20/g, '+');
}

export function urlDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new BadTemplateInputError(`$util.urlDecode: ${JSON.stringify(text)} is not form-encoded`);
  }
}

export function parseJson(text: unknown): unknown {
  try {
    return JSON.parse(String(text));
  } catch (error) {
    throw new BadTemplateInputError(`$util.parseJson: ${(error as Error).message}`);
  }
}

/** The `$util` object a template sees (copied per render: velocityjs writes an `eval` helper onto objects it calls). */
export const TEMPLATE_UTIL = {
  escapeJavaScript: (value: unknown) => escapeJavaScript(String(value ?? '')),
  parseJson,
  urlEncode: (value: unknown) => urlEncode(String(value ?? '')),
  urlDecode: (value: unknown) => urlDecode(String(value ?? '')),
  base64Encode: (value: unknown) => Buffer.from(String(value ?? ''), 'utf8').toString('base64'),
  base64Decode: (value: unknown) => Buffer.from(String(value ?? ''), 'base64').toString('utf8'),
};

// ---------------------------------------------------------------------------
// Java methods on template values
// ---------------------------------------------------------------------------

/** velocityjs's hook for a method call: `$value.name(params)`. */
export interface MethodHandler {
  readonly uid: string;
  match(call: { property: string; context: unknown; params: unknown[] }): boolean;
  resolve(call: { property: string; context: unknown; params: unknown[] }): unknown;
}

const javaRegex = (pattern: unknown, whole = false): RegExp => new RegExp(whole ? `^(?:${String(pattern)})$` : String(pattern), 'gu');
/** Java's `$1` group references and `\` escapes in a replacement, as JavaScript's `$1` and `$$`. */
const javaReplacement = (replacement: unknown): string => String(replacement).replace(/\\(.)|\$/g, (match: string, escaped?: string) => (escaped === undefined ? match : escaped === '$' ? '$$' : escaped));

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Java's `String.hashCode()`: over the UTF-16 units, `h = 31 * h + unit` in 32-bit two's
 * complement (https://docs.oracle.com/javase/8/docs/api/java/lang/String.html#hashCode--).
 */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let at = 0; at < text.length; at += 1) hash = (Math.imul(hash, 31) + text.charCodeAt(at)) | 0;
  return hash;
}

/** Java's List index check: an index outside the list throws IndexOutOfBoundsException, which fails the template. */
function listIndex(list: readonly unknown[], index: unknown): number {
  const at = Number(index);
  if (!Number.isInteger(at) || at < 0 || at >= list.length) throw new Error(`IndexOutOfBoundsException: Index: ${String(index)}, Size: ${list.length}`);
  return at;
}

const STRING_METHODS: Readonly<Record<string, (text: string, ...params: unknown[]) => unknown>> = {
  contains: (text, part) => text.includes(String(part)),
  replaceAll: (text, pattern, replacement) => text.replace(javaRegex(pattern), javaReplacement(replacement)),
  replaceFirst: (text, pattern, replacement) => text.replace(new RegExp(String(pattern), 'u'), javaReplacement(replacement)),
  replace: (text, target, replacement) => text.split(String(target)).join(String(replacement)),
  matches: (text, pattern) => javaRegex(pattern, true).test(text),
  split: (text, pattern) => text.split(new RegExp(String(pattern), 'u')),
  equals: (text, other) => text === other,
  equalsIgnoreCase: (text, other) => typeof other === 'string' && text.toLowerCase() === other.toLowerCase(),
  isEmpty: (text) => text.length === 0,
  length: (text) => text.length,
  hashCode: (text) => javaStringHash(text),
};

const LIST_METHODS: Readonly<Record<string, (list: unknown[], ...params: unknown[]) => unknown>> = {
  contains: (list, item) => list.includes(item),
  isEmpty: (list) => list.length === 0,
  count: (list) => list.length,
  get: (list, index) => list[listIndex(list, index)],
  /** Replaces an element and returns the one it replaced, as Java's List.set does. */
  set: (list, index, value) => {
    const at = listIndex(list, index);
    const previous = list[at];
    list[at] = value;
    return previous;
  },
};

const MAP_METHODS: Readonly<Record<string, (map: Record<string, unknown>, ...params: unknown[]) => unknown>> = {
  containsKey: (map, key) => Object.prototype.hasOwnProperty.call(map, String(key)),
  isEmpty: (map) => Object.keys(map).length === 0,
  values: (map) => Object.values(map),
  count: (map) => Object.keys(map).length,
};

function handlersFor<T>(kind: string, test: (value: unknown) => value is T, methods: Readonly<Record<string, (value: T, ...params: unknown[]) => unknown>>): MethodHandler[] {
  return Object.entries(methods).map(([name, method]) => ({
    uid: `java ${kind}.${name}`,
    match: ({ property, context }) => property === name && test(context),
    resolve: ({ context, params }) => method(context as T, ...params),
  }));
}

/** Java String, List and Map methods that JavaScript values lack or define differently. */
export const JAVA_METHODS: readonly MethodHandler[] = [
  ...handlersFor('String', (value): value is string => typeof value === 'string', STRING_METHODS),
  ...handlersFor('List', (value): value is unknown[] => Array.isArray(value), LIST_METHODS),
  ...handlersFor('Map', isMap, MAP_METHODS),
];
