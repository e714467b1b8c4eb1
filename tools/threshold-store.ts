/**
 * Alert rules in the thresholds table: the range (`MinThreshold`, `MaxThreshold`, exact to
 * the digit), the waiting period, hysteresis, no-data period and recipient group of each
 * series, encoded and checked by the rule's one codec (handlers/rule-item.ts). Setting a
 * rule keeps the alert state the consumer keeps on the same item, so changing a rule never
 * re-sends or forgets an alert.
 */
import { DeleteCommand, GetCommand, NumberValue, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resolveEpisodeUpdate } from '../handlers/alert-episode-item';
import { seriesRecordOf } from '../handlers/alert-state-item';
import { updateExpression } from '../handlers/item-codec';
import { RULE_ATTRIBUTES, checkRule, readRule, ruleUpdate, type RuleInput } from '../handlers/rule-item';
import { ATTRIBUTES } from '../handlers/contract';
import type { Decimal } from '../handlers/decimal';
import { timestampOfMillis } from '../handlers/reading-timestamp';
import { decimalOf } from '../handlers/stored-number';

/** A rule as given: bounds and margin as exact decimals or doubles (taken as they print). */
export type Bounds = RuleInput;

export interface ThresholdEntry {
  readonly series: string;
  readonly min?: Decimal;
  readonly max?: Decimal;
  /** Only when set: a rule without them fires at once, has no margin, no no-data alert and the default recipients. */
  readonly forSeconds?: number;
  readonly hysteresis?: Decimal;
  readonly noDataAfterSeconds?: number;
  readonly recipients?: string;
  /** Every other attribute of the item (alert state), as stored; numbers as Decimals. */
  readonly state: Readonly<Record<string, unknown>>;
}

/** Checks a series id and rule; returns every problem, for one clear message. */
export const thresholdProblems = (series: string, rule: Bounds): string[] => checkRule(series, rule).problems;

/** Sets the series' rule exactly to `given`: a field not given is removed. */
export async function setThresholds(dynamo: DynamoDBDocumentClient, table: string, series: string, given: Bounds): Promise<void> {
  const { rule, problems } = checkRule(series, given);
  if (problems.length > 0) throw new Error(problems.join('; '));
  await dynamo.send(new UpdateCommand({ TableName: table, Key: { [ATTRIBUTES.series]: series }, ...updateExpression(ruleUpdate(rule)) }));
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

const RULE_NAMES = new Set<string>([ATTRIBUTES.series, ...Object.values(RULE_ATTRIBUTES)]);

/**
 * An item as read. A client that reads numbers exactly (exactDocumentClient, or
 * targetDynamo with exactNumbers) gives bounds of any size and precision as stored.
 */
function entryOf(item: Record<string, unknown>): ThresholdEntry {
  const { rule } = readRule(item);
  const state = Object.fromEntries(Object.entries(item).filter(([name]) => !RULE_NAMES.has(name)));
  return {
    series: String(item[ATTRIBUTES.series]),
    ...(rule.min === undefined ? {} : { min: rule.min }),
    ...(rule.max === undefined ? {} : { max: rule.max }),
    ...(rule.forSeconds === undefined || rule.forSeconds === 0 ? {} : { forSeconds: rule.forSeconds }),
    ...(rule.hysteresis === undefined ? {} : { hysteresis: rule.hysteresis }),
    ...(rule.noDataAfterSeconds === undefined ? {} : { noDataAfterSeconds: rule.noDataAfterSeconds }),
    ...(rule.recipients === undefined ? {} : { recipients: rule.recipients }),
    state: withDecimals(state) as Record<string, unknown>,
  };
}

export async function getThresholds(dynamo: DynamoDBDocumentClient, table: string, series: string): Promise<ThresholdEntry | undefined> {
  const { Item } = await dynamo.send(new GetCommand({ TableName: table, Key: { [ATTRIBUTES.series]: series }, ConsistentRead: true }));
  return Item === undefined ? undefined : entryOf(Item);
}

/** Every series with a rule; the table holds one small item per series. */
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

/**
 * Deletes the series' rule and alert state; resolves to whether there was anything to
 * delete. Alerts it had open are marked resolved in the history (given the alerts table),
 * so the fleet list does not show them firing for ever.
 */
export async function deleteThresholds(dynamo: DynamoDBDocumentClient, table: string, series: string, alertsTable?: string): Promise<boolean> {
  const { Attributes } = await dynamo.send(new DeleteCommand({ TableName: table, Key: { [ATTRIBUTES.series]: series }, ReturnValues: 'ALL_OLD' }));
  if (Attributes === undefined) return false;
  if (alertsTable !== undefined) {
    const { status, noData } = seriesRecordOf(Attributes);
    const open = [
      { kind: 'breach' as const, key: status.openedAt },
      { kind: 'no-data' as const, key: noData.openedAt },
    ].filter((alert): alert is { kind: 'breach' | 'no-data'; key: string } => alert.key !== undefined);
    for (const alert of open) {
      const update = updateExpression(resolveEpisodeUpdate(alert.kind, timestampOfMillis(Date.now()), 'rule deleted'));
      try {
        await dynamo.send(
          new UpdateCommand({
            TableName: alertsTable,
            Key: { [ATTRIBUTES.series]: series, [ATTRIBUTES.timestamp]: alert.key },
            ...update,
            ConditionExpression: 'attribute_exists(#series)',
            ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#series': ATTRIBUTES.series },
          }),
        );
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
    }
  }
  return true;
}
