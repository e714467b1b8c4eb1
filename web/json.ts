/**
 * JSON with exact numbers, both ways, shared by the server and the dashboard: the API
 * writes each metric value and threshold with every digit DynamoDB holds (JSON numbers
 * carry any number of digits), and the dashboard reads them back with those digits where
 * the browser can (JSON.parse source text access), so a 38-digit value is shown and
 * exported as stored, not as the nearest double.
 */
import { Decimal } from '../handlers/decimal';

/** JSON.stringify's output for `value`, with each Decimal written as its exact digits. */
export function exactJson(value: unknown): string {
  if (value instanceof Decimal) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined || typeof item === 'function' ? 'null' : exactJson(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
    const members: string[] = [];
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined && typeof member !== 'function') members.push(`${JSON.stringify(key)}:${exactJson(member)}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
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
