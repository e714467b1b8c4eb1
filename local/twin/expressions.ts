/**
 * Terraform string templates as cdk.tf.json holds them: literal text with `${...}`
 * interpolations (`$${` and `%%{` are escaped literals). The twin evaluates plain
 * references only (`aws_sqs_queue.q.url`, `data.aws_partition.p.partition`,
 * `data.terraform_remote_state.s.outputs.name`, with `.attr` and `[0]` steps); a
 * function call or a `%{...}` directive is reported as such when something reads it.
 *
 * https://developer.hashicorp.com/terraform/language/expressions/strings#string-templates
 */

export type TemplatePart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'interpolation'; readonly expression: string }
  | { readonly kind: 'directive'; readonly expression: string };

/** A reference to an attribute of a resource or data source, with the steps below it. */
export interface Reference {
  /** `aws_sqs_queue.q` or `data.aws_partition.p`. */
  readonly address: string;
  readonly attribute: string;
  /** Steps below the attribute: names and list indexes. */
  readonly path: readonly (string | number)[];
}

/** Index just past the `}` closing the expression that starts at `start` (after `${` or `%{`). */
function expressionEnd(text: string, start: number): number {
  let depth = 0;
  for (let at = start; at < text.length; at += 1) {
    const char = text[at];
    if (char === '"') at = stringEnd(text, at + 1) - 1;
    else if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth === 0) return at + 1;
      depth -= 1;
    }
  }
  throw new SyntaxError(`unterminated interpolation in ${JSON.stringify(text)}`);
}

/** Index just past the `"` closing a quoted string inside an expression (which may hold templates itself). */
function stringEnd(text: string, start: number): number {
  for (let at = start; at < text.length; at += 1) {
    const char = text[at];
    if (char === '\\') at += 1;
    else if (char === '"') return at + 1;
    else if ((char === '$' || char === '%') && text[at + 1] === '{') at = expressionEnd(text, at + 2) - 1;
  }
  throw new SyntaxError(`unterminated string in ${JSON.stringify(text)}`);
}

export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let at = 0;
  while (at < text.length) {
    if ((text.startsWith('$${', at) || text.startsWith('%%{', at))) {
      literal += `${text[at]}{`;
      at += 3;
    } else if (text.startsWith('${', at) || text.startsWith('%{', at)) {
      const end = expressionEnd(text, at + 2);
      if (literal !== '') parts.push({ kind: 'literal', text: literal });
      literal = '';
      parts.push({ kind: text[at] === '$' ? 'interpolation' : 'directive', expression: text.slice(at + 2, end - 1).trim() });
      at = end;
    } else {
      literal += text[at];
      at += 1;
    }
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal });
  return parts;
}

const NAME = '[A-Za-z0-9_-]+';
const REFERENCE = new RegExp(`^(data\\.)?([A-Za-z][A-Za-z0-9_]*)\\.(${NAME})\\.(${NAME})((?:\\.${NAME}|\\[\\d+\\]|\\["[^"]*"\\])*)$`);
const STEP = new RegExp(`\\.(${NAME})|\\[(\\d+)\\]|\\["([^"]*)"\\]`, 'g');

/** The reference an interpolation holds, or undefined when it is anything else (a function call, an operator...). */
export function parseReference(expression: string): Reference | undefined {
  const match = REFERENCE.exec(expression);
  if (match === null) return undefined;
  const [, data, type, name, attribute, rest] = match as unknown as [string, string | undefined, string, string, string, string];
  const path: (string | number)[] = [];
  for (const step of rest.matchAll(STEP)) path.push(step[2] !== undefined ? Number(step[2]) : (step[1] ?? step[3] ?? ''));
  return { address: `${data ?? ''}${type}.${name}`, attribute, path };
}
