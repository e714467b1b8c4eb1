import type { Element, StackModel } from '../model';

/** One problem a rule found on one element. */
export interface Finding {
  readonly element: Element;
  /** What is wrong, naming the offending attribute or value. */
  readonly problem: string;
  /** How to fix it, when more specific than the rule's fix. */
  readonly fix?: string;
}

export type RuleCategory =
  | 'iam'
  | 'encryption'
  | 'logging'
  | 'api'
  | 'event-sources'
  | 'network'
  | 'data'
  | 'containers'
  | 'alarms'
  | 'policy';

export type CheckovId = `CKV_AWS_${number}` | `CKV2_AWS_${number}`;
export type TrivyId = `AVD-AWS-${number}`;

/** A public scanner's rule that checks the same thing as ours, or part of it. */
export interface CheckerRule<Id extends string> {
  readonly id: Id;
  /** The part it covers or how it differs, when that is not the whole rule, e.g. "SQS policies". */
  readonly scope?: string;
  /** Named only by secondary sources; not found in the scanner's own sources. */
  readonly unconfirmed?: true;
}

/** How a rule maps onto the public scanners, so reviewers can compare (README table). */
export interface Equivalents {
  readonly checkov: readonly CheckerRule<CheckovId>[];
  readonly trivy: readonly CheckerRule<TrivyId>[];
  /** How the rule differs from them, or the closest check elsewhere when neither has one. */
  readonly note?: string;
}

/** For a rule specific to this platform: neither scanner has an equivalent. */
export const NO_EQUIVALENT: Equivalents = { checkov: [], trivy: [] };

/** What a reader needs to know about a rule, without its check. */
export interface RuleDescription<Id extends string = string> {
  readonly id: Id;
  readonly category: RuleCategory;
  /** The requirement, stated positively. */
  readonly title: string;
  /** The usual fix, shown with every violation. */
  readonly fix: string;
  readonly equivalents: Equivalents;
}

export interface Rule<Id extends string = string> extends RuleDescription<Id> {
  /** Evaluates the rule against the whole stack (so cross-resource rules see everything). */
  check(model: StackModel): Finding[];
}

/** Declares a rule, keeping its id as a literal type so suppressions are checked by the compiler. */
export function rule<const Id extends string>(definition: Rule<Id>): Rule<Id> {
  return definition;
}

/** Shorthand for a finding. */
export function finding(element: Element, problem: string, fix?: string): Finding {
  return fix === undefined ? { element, problem } : { element, problem, fix };
}
