/**
 * Reading values of the synthesized Terraform JSON (or of a plan): blocks that may be one
 * object or a list, literals that may be strings, expressions. Free of cdktf, so the plan
 * review can use them too.
 */

/** `value` as an object, or an empty object when it is anything else. */
export function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The blocks of a nested block attribute, whether synthesized as one object or a list. */
export function blocks(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.filter((item) => item !== null && typeof item === 'object') as Record<string, unknown>[];
  return value !== null && typeof value === 'object' ? [value as Record<string, unknown>] : [];
}

/** The first block of a nested block attribute (or an empty object). */
export function block(value: unknown): Record<string, unknown> {
  return blocks(value)[0] ?? {};
}

/** A literal `true` (Terraform accepts the string form for some attributes). */
export function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/** A literal number (or numeric string), or undefined for anything else, e.g. an expression. */
export function literalNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** A non-empty string (literal or expression). */
export function isSet(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** The strings of a list attribute (a single string counts as a one-item list). */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** True for an expression Terraform evaluates at plan time, e.g. `${var.x}`. */
export function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('${');
}
