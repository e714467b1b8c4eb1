/**
 * What every table-item codec shares: the item as the document client gives it, lenient
 * field readers (a malformed attribute reads as absent, never throws), and an update as
 * the attributes to SET and REMOVE, turned into UpdateItem parameters or applied to a
 * cached copy of the item.
 */
import type { Bound } from './alert-rules';
import type { Decimal } from './decimal';
import { decimalOf } from './stored-number';

export type Item = Record<string, unknown>;

export const asString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
export const asBound = (value: unknown): Bound | undefined => (value === 'min' || value === 'max' ? value : undefined);
export const asDecimal = (value: unknown): Decimal | null => decimalOf(value) ?? null;

/** SET and REMOVE of an UpdateItem, by attribute name. */
export interface AttributeUpdate {
  readonly set: Item;
  readonly remove: readonly string[];
}

/** The UpdateItem parameters that make `update`: SET and REMOVE with placeholder names and values. */
export function updateExpression(update: AttributeUpdate): { UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(update.set).map(([attribute, value], index) => {
    names[`#s${index}`] = attribute;
    values[`:s${index}`] = value;
    return `#s${index} = :s${index}`;
  });
  const removes = update.remove.map((attribute, index) => {
    names[`#r${index}`] = attribute;
    return `#r${index}`;
  });
  return {
    UpdateExpression: [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
    ExpressionAttributeNames: names,
    ...(sets.length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** Applies an update to an item as DynamoDB would (top-level attributes only), for the cache. */
export function applyUpdate(item: Item, update: AttributeUpdate): Item {
  const next: Item = { ...item, ...update.set };
  for (const attribute of update.remove) delete next[attribute];
  return next;
}
