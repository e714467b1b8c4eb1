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
  | 'alarms'
  | 'policy';

export interface Rule<Id extends string = string> {
  readonly id: Id;
  readonly category: RuleCategory;
  /** The requirement, stated positively. */
  readonly title: string;
  /** The usual fix, shown with every violation. */
  readonly fix: string;
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
