/**
 * The JSONPath that `$input.json(x)` and `$input.path(x)` take in API Gateway mapping
 * templates. AWS points to Goessner's article and Jayway's Java implementation without
 * saying which subset it runs; the twin supports what mapping templates use:
 *
 *   $              the whole document
 *   .name  ['name']  ["name"]   a member
 *   [3]  [-1]      an array element (negative counts from the end)
 *   [*]  .*        every element or member
 *   ..name         a member at any depth
 *
 * A path ending in `*` or holding `..` is indefinite (Jayway's term) and yields the list of
 * matches; any other path yields its one value, or nothing when it is absent. Filters and
 * slices are refused with an error naming the expression, so a template using them fails
 * loudly instead of answering something AWS would not.
 */

type Step = { readonly kind: 'member'; readonly name: string } | { readonly kind: 'index'; readonly index: number } | { readonly kind: 'wildcard' } | { readonly kind: 'descendant'; readonly name: string };

export interface CompiledPath {
  readonly steps: readonly Step[];
  /** True when the path can match several values (wildcard or deep scan). */
  readonly indefinite: boolean;
}

export class JsonPathError extends Error {
  constructor(expression: string, reason: string) {
    super(`JSONPath ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'JsonPathError';
  }
}

const NAME = /^[A-Za-z_$][\w$-]*/;

/** Parses a path once; mapping templates build paths at run time, so callers cache by text. */
export function compileJsonPath(expression: string): CompiledPath {
  const text = expression.trim();
  if (!text.startsWith('$')) throw new JsonPathError(expression, 'must start with $');
  const steps: Step[] = [];
  let at = 1;
  while (at < text.length) {
    const rest = text.slice(at);
    if (rest.startsWith('..')) {
      const name = NAME.exec(rest.slice(2));
      if (name === null) throw new JsonPathError(expression, `expected a member name after .. at ${at}`);
      steps.push({ kind: 'descendant', name: name[0] });
      at += 2 + name[0].length;
    } else if (rest.startsWith('.*')) {
      steps.push({ kind: 'wildcard' });
      at += 2;
    } else if (rest.startsWith('.')) {
      const name = NAME.exec(rest.slice(1));
      if (name === null) throw new JsonPathError(expression, `expected a member name after . at ${at}`);
      steps.push({ kind: 'member', name: name[0] });
      at += 1 + name[0].length;
    } else if (rest.startsWith('[')) {
      const close = bracketEnd(rest, expression);
      const inner = rest.slice(1, close).trim();
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'[^']*'$|^"[^"]*"$/.test(inner)) steps.push({ kind: 'member', name: inner.slice(1, -1) });
      else throw new JsonPathError(expression, `the selector [${inner}] is not supported (filters and slices are not)`);
      at += close + 1;
    } else {
      throw new JsonPathError(expression, `unexpected ${JSON.stringify(rest[0])} at ${at}`);
    }
  }
  return { steps, indefinite: steps.some((step) => step.kind === 'wildcard' || step.kind === 'descendant') };
}

function bracketEnd(rest: string, expression: string): number {
  const quote = rest[1] === "'" || rest[1] === '"' ? rest[1] : undefined;
  const close = quote === undefined ? rest.indexOf(']') : rest.indexOf(`${quote}]`, 2) + 1;
  if (close <= 0) throw new JsonPathError(expression, 'unclosed [');
  return close;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const own = (value: Record<string, unknown>, name: string): boolean => Object.prototype.hasOwnProperty.call(value, name);

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return isObject(value) ? Object.values(value) : [];
}

function descendants(value: unknown, name: string, found: unknown[]): void {
  if (isObject(value) && own(value, name)) found.push(value[name]);
  for (const child of children(value)) descendants(child, name, found);
}

function apply(step: Step, value: unknown): unknown[] {
  switch (step.kind) {
    case 'member':
      return isObject(value) && own(value, step.name) ? [value[step.name]] : [];
    case 'index': {
      if (!Array.isArray(value)) return [];
      const index = step.index < 0 ? value.length + step.index : step.index;
      return index >= 0 && index < value.length ? [value[index]] : [];
    }
    case 'wildcard':
      return children(value);
    case 'descendant': {
      const found: unknown[] = [];
      descendants(value, step.name, found);
      return found;
    }
  }
}

/** The value at a definite path (undefined when absent), or the list of matches of an indefinite one. */
export function evaluateJsonPath(path: CompiledPath, document: unknown): unknown {
  if (!path.indefinite) {
    // One value at most: follow it without building lists (templates call this per reading).
    let value: unknown = document;
    for (const step of path.steps) {
      if (value === undefined) return undefined;
      value = apply(step, value)[0];
    }
    return value;
  }
  let current: unknown[] = [document];
  for (const step of path.steps) current = current.flatMap((value) => apply(step, value));
  return path.indefinite ? current : current[0];
}
