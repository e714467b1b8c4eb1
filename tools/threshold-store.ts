/**
 * Thresholds in the thresholds table: `MinThreshold` and `MaxThreshold` as numbers on the
 * series' item, exact to the digit (a bound is compared with exact values). Setting bounds
 * keeps the alert state the consumer keeps on the same item, so changing a range never
 * re-sends or forgets an alert.
 */
import { DeleteCommand, GetCommand, NumberValue, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ATTRIBUTES } from '../handlers/contract';
import { Decimal, describeDecimalProblem } from '../handlers/decimal';
import { seriesIdProblem } from '../handlers/reading';
import { decimalOf, storedNumber } from '../handlers/stored-number';

/** Bounds as given: exact decimals, or doubles (taken as they print). */
export interface Bounds {
  readonly min?: Decimal | number;
  readonly max?: Decimal | number;
}

export interface ThresholdEntry {
  readonly series: string;
  readonly min?: Decimal;
  readonly max?: Decimal;
  /** Every other attribute of the item (alert state), as stored; numbers as Decimals. */
  readonly state: Readonly<Record<string, unknown>>;
}

/** The bounds as exact decimals, and every problem with them and the series id, for one clear message. */
function checkBounds(series: string, bounds: Bounds): { readonly min?: Decimal; readonly max?: Decimal; readonly problems: string[] } {
  const problems: string[] = [];
  const seriesProblem = seriesIdProblem(series);
  if (seriesProblem !== undefined) problems.push(seriesProblem);
  if (bounds.min === undefined && bounds.max === undefined) problems.push('give --min, --max or both');
  const exact = (name: string, given: Decimal | number | undefined): Decimal | undefined => {
    if (given === undefined) return undefined;
    const value = Decimal.of(given);
    const problem = value?.storageProblem;
    if (value === undefined) problems.push(`--${name} must be a finite number, got ${given}`);
    else if (problem !== undefined) problems.push(`--${name} ${value.text} cannot be stored: ${describeDecimalProblem(problem)}`);
    return problem === undefined ? value : undefined;
  };
  const min = exact('min', bounds.min);
  const max = exact('max', bounds.max);
  if (min !== undefined && max !== undefined && min.compare(max) > 0) problems.push(`--min ${min.text} is above --max ${max.text}`);
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }), problems };
}

/** Checks a series id and bounds; returns every problem, for one clear message. */
export const thresholdProblems = (series: string, bounds: Bounds): string[] => checkBounds(series, bounds).problems;

/** Sets the series' range exactly to `bounds`: a bound not given is removed. */
export async function setThresholds(dynamo: DynamoDBDocumentClient, table: string, series: string, given: Bounds): Promise<void> {
  const { problems, ...bounds } = checkBounds(series, given);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const set: string[] = [];
  const remove: string[] = [];
  const values: Record<string, NumberValue> = {};
  for (const [name, attribute, value] of [
    ['min', '#min', bounds.min],
    ['max', '#max', bounds.max],
  ] as const) {
    if (value === undefined) remove.push(attribute);
    else {
      set.push(`${attribute} = :${name}`);
      values[`:${name}`] = storedNumber(value);
    }
  }
  await dynamo.send(
    new UpdateCommand({
      TableName: table,
      Key: { [ATTRIBUTES.series]: series },
      UpdateExpression: [set.length > 0 ? `SET ${set.join(', ')}` : '', remove.length > 0 ? `REMOVE ${remove.join(', ')}` : ''].join(' ').trim(),
      ExpressionAttributeNames: { '#min': ATTRIBUTES.minThreshold, '#max': ATTRIBUTES.maxThreshold },
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    }),
  );
}

/** Stored numbers as Decimals, everywhere in a value (the alert claim is a map holding some). */
function withDecimals(value: unknown): unknown {
  if (value instanceof NumberValue) return decimalOf(value);
  if (Array.isArray(value)) return value.map(withDecimals);
  if (typeof value === 'object' && value !== null && !(value instanceof Set) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withDecimals(inner)]));
  }
  return value;
}

/**
 * An item as read. A client that reads numbers exactly (exactDocumentClient, or
 * targetDynamo with exactNumbers) gives bounds of any size and precision as stored.
 */
function entryOf(item: Record<string, unknown>): ThresholdEntry {
  const { [ATTRIBUTES.series]: series, [ATTRIBUTES.minThreshold]: min, [ATTRIBUTES.maxThreshold]: max, ...state } = item;
  const minValue = decimalOf(min);
  const maxValue = decimalOf(max);
  return {
    series: String(series),
    ...(minValue === undefined ? {} : { min: minValue }),
    ...(maxValue === undefined ? {} : { max: maxValue }),
    state: withDecimals(state) as Record<string, unknown>,
  };
}

export async function getThresholds(dynamo: DynamoDBDocumentClient, table: string, series: string): Promise<ThresholdEntry | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: table, Key: { [ATTRIBUTES.series]: series }, ConsistentRead: true }));
  return Item === undefined ? undefined : entryOf(Item);
}

/** Every series with thresholds; the table holds one small item per series. */
export async function listThresholds(dynamo: DynamoDBDocumentClient, table: string): Promise<ThresholdEntry[]> {
  const entries: ThresholdEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) entries.push(entryOf(item));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return entries.sort((a, b) => a.series.localeCompare(b.series));
}

/** Deletes the series' thresholds and alert state; resolves to whether there was anything to delete. */
export async function deleteThresholds(dynamo: DynamoDBDocumentClient, table: string, series: string): Promise<boolean> {
  const { Attributes } = await dynamo.send(new DeleteCommand({ TableName: table, Key: { [ATTRIBUTES.series]: series }, ReturnValues: 'ALL_OLD' }));
  return Attributes !== undefined;
}
