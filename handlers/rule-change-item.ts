/**
 * A change of a series' rule (who, when, why, the rule before and after), kept in one
 * partition of the alerts table so the console can show a rule's history.
 */
import type { AlertRule } from './alert-rules';
import { ATTRIBUTES } from './contract';
import { asString, type Item } from './item-codec';
import { readRule, ruleUpdate } from './rule-item';

/**
 * The alerts-table partition rule changes live in (no series is called this: a series id
 * has a "/"). Sort key `<series>` U+001F `<changed at>` U+001F `<id>`: a series' changes,
 * newest first, are one Query on the key's prefix. U+001F, a control character, is in no
 * series id, so one series' prefix never covers another's.
 */
export const RULE_CHANGES_PARTITION = '(rule-changes)';
const RULE_CHANGE_SEPARATOR = '\u001f';

export const RULE_CHANGE_ATTRIBUTES = {
  id: 'ChangeId',
  series: 'Series',
  changedBy: 'ChangedBy',
  changedAt: 'ChangedAt',
  reason: 'Reason',
  /** The rule's stored attributes before and after (a map, as on the thresholds item); absent before the first rule. */
  before: 'Before',
  after: 'After',
} as const;

export interface RuleChange {
  readonly id: string;
  readonly series: string;
  readonly changedBy: string;
  /** ISO 8601 wall clock. */
  readonly changedAt: string;
  readonly reason: string;
  /** Null when the series had no rule. */
  readonly before: AlertRule | null;
  readonly after: AlertRule;
}

/** The key prefix of every change of `series`. */
export const ruleChangesPrefix = (series: string): string => `${series}${RULE_CHANGE_SEPARATOR}`;

export function encodeRuleChange(change: RuleChange): Item {
  const R = RULE_CHANGE_ATTRIBUTES;
  const item: Item = {
    [ATTRIBUTES.series]: RULE_CHANGES_PARTITION,
    [ATTRIBUTES.timestamp]: `${ruleChangesPrefix(change.series)}${change.changedAt}${RULE_CHANGE_SEPARATOR}${change.id}`,
    [R.id]: change.id,
    [R.series]: change.series,
    [R.changedBy]: change.changedBy,
    [R.changedAt]: change.changedAt,
    [R.reason]: change.reason,
    [R.after]: ruleUpdate(change.after).set,
  };
  if (change.before !== null) item[R.before] = ruleUpdate(change.before).set;
  return item;
}

export function decodeRuleChange(item: Item): RuleChange | undefined {
  const R = RULE_CHANGE_ATTRIBUTES;
  const fields = [R.id, R.series, R.changedBy, R.changedAt].map((name) => asString(item[name]));
  const after = item[R.after];
  if (fields.some((field) => field === undefined) || typeof after !== 'object' || after === null) return undefined;
  const [id, series, changedBy, changedAt] = fields as string[];
  const before = item[R.before];
  return {
    id: id!,
    series: series!,
    changedBy: changedBy!,
    changedAt: changedAt!,
    reason: typeof item[R.reason] === 'string' ? (item[R.reason] as string) : '',
    before: typeof before === 'object' && before !== null ? readRule(before as Item).rule : null,
    after: readRule(after as Item).rule,
  };
}
