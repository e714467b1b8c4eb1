/**
 * Thresholds in the thresholds table (SPEC §2): `MinThreshold` and `MaxThreshold` as
 * numbers on the series' item. Setting bounds keeps the alert state the consumer keeps
 * on the same item, so changing a range never re-sends or forgets an alert.
 */
import { DeleteCommand, GetCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ATTRIBUTES } from '../handlers/contract';
import { READING_LIMITS, splitSeriesId } from '../handlers/reading';

export interface Bounds {
  readonly min?: number;
  readonly max?: number;
}

export interface ThresholdEntry extends Bounds {
  readonly series: string;
  /** Every other attribute of the item (alert state), as stored. */
  readonly state: Readonly<Record<string, unknown>>;
}

/** Checks a series id and bounds; returns every problem, for one clear message. */
export function thresholdProblems(series: string, bounds: Bounds): string[] {
  const problems: string[] = [];
  const { thingId, metric } = splitSeriesId(series);
  if (thingId.trim() === '' || metric === '') problems.push(`series ${JSON.stringify(series)} must be "<thing id>/<metric>", e.g. things/harrow/001/temperature`);
  if (bounds.min === undefined && bounds.max === undefined) problems.push('give --min, --max or both');
  for (const [name, value] of Object.entries(bounds)) {
    if (value !== undefined && !(Number.isFinite(value) && Math.abs(value) <= READING_LIMITS.maxMagnitude)) {
      problems.push(`--${name} must be a number from ${-READING_LIMITS.maxMagnitude} to ${READING_LIMITS.maxMagnitude}, got ${value}`);
    }
  }
  if (bounds.min !== undefined && bounds.max !== undefined && bounds.min > bounds.max) problems.push(`--min ${bounds.min} is above --max ${bounds.max}`);
  return problems;
}

/** Sets the series' range exactly to `bounds`: a bound not given is removed. */
export async function setThresholds(dynamo: DynamoDBDocumentClient, table: string, series: string, bounds: Bounds): Promise<void> {
  const problems = thresholdProblems(series, bounds);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const set: string[] = [];
  const remove: string[] = [];
  const values: Record<string, number> = {};
  for (const [name, attribute, value] of [
    ['min', '#min', bounds.min],
    ['max', '#max', bounds.max],
  ] as const) {
    if (value === undefined) remove.push(attribute);
    else {
      set.push(`${attribute} = :${name}`);
      values[`:${name}`] = value;
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

function entryOf(item: Record<string, unknown>): ThresholdEntry {
  const { [ATTRIBUTES.series]: series, [ATTRIBUTES.minThreshold]: min, [ATTRIBUTES.maxThreshold]: max, ...state } = item;
  const bound = (value: unknown) => (typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : undefined);
  const minValue = bound(min);
  const maxValue = bound(max);
  return { series: String(series), ...(minValue === undefined ? {} : { min: minValue }), ...(maxValue === undefined ? {} : { max: maxValue }), state };
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
