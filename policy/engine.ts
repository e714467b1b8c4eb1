import type { TerraformStack } from 'cdktf';
import { StackModel, type Element } from './model';
import { NO_EQUIVALENT, PLATFORM_RULES, type Rule, type RuleDescription } from './rules';
import { suppressionsOf } from './suppressions';

/** The meta rule that fails synth on a suppression with nothing left to suppress. */
export const STALE_SUPPRESSION = {
  id: 'POL-001',
  category: 'policy',
  title: 'Every suppression matches a violation (stale suppressions are removed)',
  fix: 'Remove the suppressPolicy(...) call: the resource now complies, or the rule id is wrong.',
  equivalents: NO_EQUIVALENT,
} as const satisfies RuleDescription;

/** Where a finding is, in every form a reader may search for. */
export interface Location {
  readonly stack: string;
  /** Construct path, e.g. `pipeline/consumers/store/role`. */
  readonly path: string;
  /** Terraform address, e.g. `aws_iam_role.consumers_store_role_1A2B3C`. */
  readonly address: string;
}

export interface Violation extends Location {
  readonly ruleId: string;
  readonly problem: string;
  readonly fix: string;
  /** One line naming the rule, the resource and the fix. */
  readonly message: string;
}

export interface SuppressedFinding extends Location {
  readonly ruleId: string;
  readonly problem: string;
  readonly reason: string;
}

export interface StackReport {
  readonly stack: string;
  /** Resources and data sources inspected. */
  readonly elementsChecked: number;
  readonly rulesChecked: number;
  readonly violations: readonly Violation[];
  readonly suppressed: readonly SuppressedFinding[];
}

function locate(stack: string, element: Pick<Element, 'path' | 'address'>): Location {
  return { stack, path: element.path, address: element.address };
}

function violation(location: Location, ruleId: string, problem: string, fix: string): Violation {
  const message = `[${ruleId}] stack "${location.stack}", ${location.path} (${location.address}): ${problem}. Fix: ${fix}`;
  return { ...location, ruleId, problem, fix, message };
}

/** Runs every rule against one stack and applies the suppressions declared on its resources. */
export function evaluateStack(stack: TerraformStack, rules: readonly Rule[] = PLATFORM_RULES): StackReport {
  const model = StackModel.of(stack);
  const violations: Violation[] = [];
  const suppressed: SuppressedFinding[] = [];
  const used = new Set<string>();
  for (const rule of rules) {
    for (const found of rule.check(model)) {
      const location = locate(model.stackName, found.element);
      const construct = found.element.construct;
      const suppression = construct === undefined ? undefined : suppressionsOf(construct).find((s) => s.ruleId === rule.id);
      if (suppression !== undefined && construct !== undefined) {
        used.add(`${construct.node.path}#${rule.id}`);
        suppressed.push({ ...location, ruleId: rule.id, problem: found.problem, reason: suppression.reason });
      } else {
        violations.push(violation(location, rule.id, found.problem, found.fix ?? rule.fix));
      }
    }
  }
  const ruleIds = new Set(rules.map((r) => r.id));
  for (const element of model.elements) {
    if (element.construct === undefined) continue;
    for (const suppression of suppressionsOf(element.construct)) {
      if (!ruleIds.has(suppression.ruleId) || used.has(`${element.construct.node.path}#${suppression.ruleId}`)) continue;
      violations.push(
        violation(locate(model.stackName, element), STALE_SUPPRESSION.id, `the suppression of ${suppression.ruleId} ("${suppression.reason}") matches no violation`, STALE_SUPPRESSION.fix),
      );
    }
  }
  return { stack: model.stackName, elementsChecked: model.elements.length, rulesChecked: rules.length, violations, suppressed };
}
