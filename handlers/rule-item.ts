/**
 * The rule of a series, on its thresholds item: range, waiting period, hysteresis, no-data
 * period and recipients. Checked when a tool or the web API is given one (checkRule),
 * read leniently when stored (readRule: a malformed field is ignored and reported), and
 * written as one update that leaves the alert state alone (ruleUpdate).
 */
import { NumberValue } from '@aws-sdk/lib-dynamodb';
import type { AlertRule, Thresholds } from './alert-rules';
import { ATTRIBUTES, RECIPIENT_GROUP_PATTERN } from './contract';
import { Decimal, describeDecimalProblem } from './decimal';
import type { Item } from './item-codec';
import { seriesIdProblem } from './reading';
import { decimalOf, numberOf, readThresholds, storedNumber } from './stored-number';

export const RULE_ATTRIBUTES = {
  min: ATTRIBUTES.minThreshold,
  max: ATTRIBUTES.maxThreshold,
  forSeconds: 'ForSeconds',
  hysteresis: 'Hysteresis',
  noDataAfterSeconds: 'NoDataAfterSeconds',
  recipients: 'Recipients',
} as const;

/** Whole seconds a rule's periods may take. */
export const RULE_LIMITS = {
  forSeconds: { min: 0, max: 86_400 },
  noDataAfterSeconds: { min: 1, max: 30 * 86_400 },
} as const;

const RECIPIENT_GROUP = new RegExp(RECIPIENT_GROUP_PATTERN);

/** The fields of a rule as a tool or the web API is given them; names say what a problem is about. */
export interface RuleInput {
  readonly min?: Decimal | number;
  readonly max?: Decimal | number;
  readonly forSeconds?: number;
  readonly hysteresis?: Decimal | number;
  readonly noDataAfterSeconds?: number;
  readonly recipients?: string;
}

/** How problems name each field: `--for` on the command line, `forSeconds` in JSON. */
export type FieldNames = Readonly<Record<keyof RuleInput, string>>;

export const CLI_FIELD_NAMES: FieldNames = {
  min: '--min',
  max: '--max',
  forSeconds: '--for',
  hysteresis: '--hysteresis',
  noDataAfterSeconds: '--no-data-after',
  recipients: '--recipients',
};

/** How the web API's JSON names each field of a rule (`{"min", "max", "for", ...}`). */
export const JSON_FIELD_NAMES: FieldNames = {
  min: '"min"',
  max: '"max"',
  forSeconds: '"for"',
  hysteresis: '"hysteresis"',
  noDataAfterSeconds: '"noDataAfterSeconds"',
  recipients: '"recipients"',
};

/** A rule as the web API reads and writes it: absent fields are null. */
export interface RuleJson {
  readonly min: Decimal | null;
  readonly max: Decimal | null;
  readonly for: number;
  readonly hysteresis: Decimal | null;
  readonly noDataAfterSeconds: number | null;
  readonly recipients: string | null;
}

export const ruleJson = (rule: AlertRule): RuleJson => ({
  min: rule.min ?? null,
  max: rule.max ?? null,
  for: rule.forSeconds ?? 0,
  hysteresis: rule.hysteresis ?? null,
  noDataAfterSeconds: rule.noDataAfterSeconds ?? null,
  recipients: rule.recipients ?? null,
});

/**
 * The RuleInput of a JSON rule object, or the problems with its shape (unknown fields,
 * wrong types); what the values must be is checkRule's business. Null or absent means
 * "not set"; numbers may also be given as decimal strings, for digits a double cannot hold.
 */
export function ruleInputOfJson(given: unknown): { input: RuleInput; problems: string[] } {
  const names = JSON_FIELD_NAMES;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return { input: {}, problems: ['"rule" must be an object with "min", "max", "for", "hysteresis", "noDataAfterSeconds" and "recipients" (each optional)'] };
  const fields = given as Record<string, unknown>;
  const problems: string[] = [];
  const known = ['min', 'max', 'for', 'hysteresis', 'noDataAfterSeconds', 'recipients'];
  for (const key of Object.keys(fields)) if (!known.includes(key)) problems.push(`unknown rule field ${JSON.stringify(key)}: a rule takes ${known.map((name) => `"${name}"`).join(', ')}`);
  const decimal = (field: 'min' | 'max' | 'hysteresis'): Decimal | number | undefined => {
    const value = fields[field];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'number') return value;
    const parsed = typeof value === 'string' ? Decimal.parse(value.trim()) : undefined;
    if (parsed === undefined) problems.push(`${names[field]} must be a number, got ${JSON.stringify(value)}`);
    return parsed;
  };
  const seconds = (json: string, field: 'forSeconds' | 'noDataAfterSeconds'): number | undefined => {
    const value = fields[json];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') problems.push(`${names[field]} must be a number of seconds, got ${JSON.stringify(value)}`);
    return typeof value === 'number' ? value : undefined;
  };
  const recipients = (): string | undefined => {
    const value = fields.recipients;
    if (value !== undefined && value !== null && typeof value !== 'string') problems.push(`${names.recipients} must be the name of a recipient group, got ${JSON.stringify(value)}`);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  // In the rule's field order, so problems are listed as the fields are.
  const entries: [keyof RuleInput, unknown][] = [
    ['min', decimal('min')],
    ['max', decimal('max')],
    ['forSeconds', seconds('for', 'forSeconds')],
    ['hysteresis', decimal('hysteresis')],
    ['noDataAfterSeconds', seconds('noDataAfterSeconds', 'noDataAfterSeconds')],
    ['recipients', recipients()],
  ];
  return { input: Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as RuleInput, problems };
}

function wholeSecondsProblem(name: string, value: number, range: { min: number; max: number }): string | undefined {
  return Number.isSafeInteger(value) && value >= range.min && value <= range.max ? undefined : `${name} must be a whole number of seconds from ${range.min} to ${range.max}, got ${value}`;
}

/**
 * The rule `input` makes, and every problem with it and the series id, for one clear
 * message. A rule needs a bound or a no-data period; hysteresis needs a bound and must
 * leave room inside the range.
 */
export function checkRule(series: string, input: RuleInput, names: FieldNames = CLI_FIELD_NAMES): { rule: AlertRule; problems: string[] } {
  const problems: string[] = [];
  const seriesProblem = seriesIdProblem(series);
  if (seriesProblem !== undefined) problems.push(seriesProblem);
  const exact = (field: 'min' | 'max' | 'hysteresis', given: Decimal | number | undefined): Decimal | undefined => {
    if (given === undefined) return undefined;
    const value = Decimal.of(given);
    const problem = value?.storageProblem;
    if (value === undefined) problems.push(`${names[field]} must be a finite number, got ${given}`);
    else if (problem !== undefined) problems.push(`${names[field]} ${value.text} cannot be stored: ${describeDecimalProblem(problem)}`);
    return problem === undefined ? value : undefined;
  };
  const min = exact('min', input.min);
  const max = exact('max', input.max);
  const hysteresis = exact('hysteresis', input.hysteresis);
  if (input.min === undefined && input.max === undefined && input.noDataAfterSeconds === undefined) {
    problems.push(`give ${names.min}, ${names.max} or both, or ${names.noDataAfterSeconds}`);
  }
  if (min !== undefined && max !== undefined && min.compare(max) > 0) problems.push(`${names.min} ${min.text} is above ${names.max} ${max.text}`);
  if (hysteresis !== undefined) {
    if (hysteresis.sign < 0) problems.push(`${names.hysteresis} must be 0 or more, got ${hysteresis.text}`);
    else if (min === undefined && max === undefined) problems.push(`${names.hysteresis} needs ${names.min} or ${names.max}: it is a margin inside the range`);
    else if (min !== undefined && max !== undefined && hysteresis.plus(hysteresis).compare(max.minus(min)) >= 0) {
      problems.push(`${names.hysteresis} ${hysteresis.text} leaves no room to recover: twice it must be less than ${names.max} - ${names.min} (${max.minus(min).text})`);
    }
  }
  if (input.forSeconds !== undefined) {
    const problem = wholeSecondsProblem(names.forSeconds, input.forSeconds, RULE_LIMITS.forSeconds);
    if (problem !== undefined) problems.push(problem);
    else if (min === undefined && max === undefined && input.forSeconds > 0) problems.push(`${names.forSeconds} needs ${names.min} or ${names.max}: it is how long a breach must last`);
  }
  if (input.noDataAfterSeconds !== undefined) {
    const problem = wholeSecondsProblem(names.noDataAfterSeconds, input.noDataAfterSeconds, RULE_LIMITS.noDataAfterSeconds);
    if (problem !== undefined) problems.push(problem);
  }
  if (input.recipients !== undefined && !RECIPIENT_GROUP.test(input.recipients)) {
    problems.push(`${names.recipients} must name a recipient group of the configuration (lower-case letters, digits and "-", starting with a letter, at most 32), got ${JSON.stringify(input.recipients)}`);
  }
  const rule: AlertRule = {
    min,
    max,
    forSeconds: input.forSeconds ?? 0,
    hysteresis,
    noDataAfterSeconds: input.noDataAfterSeconds,
    recipients: input.recipients,
  };
  return { rule, problems };
}

/**
 * The rule as stored. A malformed field is ignored and reported; bounds that contradict
 * each other disable both (readThresholds), a hysteresis without room disables itself.
 */
export function readRule(item: Item): { rule: AlertRule; problems: string[] } {
  const read = readThresholds(item[RULE_ATTRIBUTES.min], item[RULE_ATTRIBUTES.max]);
  const { thresholds } = read;
  const problems = [...read.problems];
  const whole = (name: string, stored: unknown, range: { min: number; max: number }): number | undefined => {
    if (stored === undefined || stored === null) return undefined;
    const value = numberOf(stored);
    if (value !== undefined && wholeSecondsProblem(name, value, range) === undefined) return value;
    problems.push(`${name} ${JSON.stringify(stored instanceof NumberValue ? stored.value : stored)} is not a whole number of seconds from ${range.min} to ${range.max}, so it is ignored`);
    return undefined;
  };
  const forSeconds = whole(RULE_ATTRIBUTES.forSeconds, item[RULE_ATTRIBUTES.forSeconds], RULE_LIMITS.forSeconds);
  const noDataAfterSeconds = whole(RULE_ATTRIBUTES.noDataAfterSeconds, item[RULE_ATTRIBUTES.noDataAfterSeconds], RULE_LIMITS.noDataAfterSeconds);
  let hysteresis = decimalOf(item[RULE_ATTRIBUTES.hysteresis]);
  if (hysteresis !== undefined && (hysteresis.sign < 0 || leavesNoRoom(thresholds, hysteresis))) {
    problems.push(`${RULE_ATTRIBUTES.hysteresis} ${hysteresis.text} is negative or leaves no room inside the range, so it is ignored`);
    hysteresis = undefined;
  }
  const storedGroup = item[RULE_ATTRIBUTES.recipients];
  const recipients = typeof storedGroup === 'string' && RECIPIENT_GROUP.test(storedGroup) ? storedGroup : undefined;
  if (storedGroup !== undefined && recipients === undefined) problems.push(`${RULE_ATTRIBUTES.recipients} ${JSON.stringify(storedGroup)} is not a recipient group name, so the default group gets its alerts`);
  // Every key present (possibly undefined): one shape for every rule, as for statuses.
  return { rule: { min: thresholds.min, max: thresholds.max, forSeconds: forSeconds ?? 0, hysteresis, noDataAfterSeconds, recipients }, problems };
}

const leavesNoRoom = (thresholds: Thresholds, hysteresis: Decimal): boolean =>
  thresholds.min !== undefined && thresholds.max !== undefined && hysteresis.plus(hysteresis).compare(thresholds.max.minus(thresholds.min)) >= 0;

/** The attributes to set and remove on the thresholds item for `rule`; the alert state is left alone. */
export function ruleUpdate(rule: AlertRule): { set: Item; remove: string[] } {
  const set: Item = {};
  const remove: string[] = [];
  const put = (attribute: string, value: unknown) => (value === undefined ? remove.push(attribute) : (set[attribute] = value));
  put(RULE_ATTRIBUTES.min, rule.min === undefined ? undefined : storedNumber(rule.min));
  put(RULE_ATTRIBUTES.max, rule.max === undefined ? undefined : storedNumber(rule.max));
  put(RULE_ATTRIBUTES.forSeconds, rule.forSeconds === undefined || rule.forSeconds === 0 ? undefined : rule.forSeconds);
  put(RULE_ATTRIBUTES.hysteresis, rule.hysteresis === undefined || rule.hysteresis.sign === 0 ? undefined : storedNumber(rule.hysteresis));
  put(RULE_ATTRIBUTES.noDataAfterSeconds, rule.noDataAfterSeconds);
  put(RULE_ATTRIBUTES.recipients, rule.recipients);
  return { set, remove };
}


/** Whether the thresholds item holds a rule at all (a bound or a no-data period). */
export const hasRule = (item: Item | undefined): item is Item =>
  item !== undefined && [RULE_ATTRIBUTES.min, RULE_ATTRIBUTES.max, RULE_ATTRIBUTES.noDataAfterSeconds].some((name) => item[name] !== undefined);
