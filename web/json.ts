/**
 * JSON with exact numbers, both ways, shared by the server and the dashboard: the API
 * writes each metric value and threshold with every digit DynamoDB holds (JSON numbers
 * carry any number of digits), and the dashboard reads them back with those digits where
 * the browser can (JSON.parse source text access), so a 38-digit value is shown and
 * exported as stored, not as the nearest double.
 */
import { Decimal } from '../handlers/decimal';

/** Key characters JSON must escape. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/**
 * JSON.stringify's output for `value`, with each Decimal written as its exact digits.
 * Written out by hand because JSON.stringify cannot emit a number from text; string
 * concatenation in plain loops keeps it as fast as JSON.stringify on the API's pages.
 */
export function exactJson(value: unknown): string {
  if (value instanceof Decimal) return value.text;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return exactJson((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      text += `${index === 0 ? '' : ','}${item === undefined || typeof item === 'function' ? 'null' : exactJson(item)}`;
    }
    return `${text}]`;
  }
  let text = '{';
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function') continue;
    text += `${text.length === 1 ? '' : ','}${NEEDS_ESCAPE.test(key) ? JSON.stringify(key) : `"${key}"`}:${exactJson(member)}`;
  }
  return `${text}}`;
}

/** The source-text argument browsers (and Node 21+) pass a JSON.parse reviver. */
type Reviver = (this: unknown, key: string, value: unknown, context?: { readonly source?: string }) => unknown;

/**
 * Parses an API answer, every number as a Decimal: from its digits in the text where the
 * runtime passes them to the reviver, else from the double JSON.parse read.
 */
export function parseExactJson(text: string): unknown {
  const reviver: Reviver = (_key, value, context) => {
    if (typeof value !== 'number') return value;
    return (context?.source === undefined ? undefined : Decimal.parse(context.source)) ?? Decimal.fromNumber(value);
  };
  return JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown);
}
