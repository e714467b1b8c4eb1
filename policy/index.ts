import { App, TerraformStack } from 'cdktf';
import { evaluateStack, STALE_SUPPRESSION, type StackReport, type SuppressedFinding, type Violation } from './engine';
import { PLATFORM_RULES, type Rule, type RuleDescription } from './rules';

export { suppressPolicy, suppressionsOf, MIN_REASON_LENGTH } from './suppressions';
export { evaluateStack, STALE_SUPPRESSION } from './engine';
export type { Location, StackReport, SuppressedFinding, Violation } from './engine';
export { PLATFORM_RULES } from './rules';
export { NO_EQUIVALENT } from './rules';
export type { CheckerRule, Equivalents, Finding, Rule, RuleCategory, RuleDescription, RuleId } from './rules';

export interface PolicyOptions {
  /**
   * Fail synth when a stack has violations.
   * @default true
   */
  readonly failOnViolation?: boolean;
  /**
   * Where the summary lines go (one call per line).
   * @default console.log
   */
  readonly log?: (line: string) => void;
  /**
   * The rules to check.
   * @default PLATFORM_RULES
   */
  readonly rules?: readonly Rule[];
}

/** The rules as a reader sees them: the given ones, then the meta rule POL-001 the engine always applies. */
function describeRules(rules: readonly Rule[]): RuleDescription[] {
  return [...rules, STALE_SUPPRESSION].map(({ id, category, title, fix, equivalents }) => ({ id, category, title, fix, equivalents }));
}

/** Every rule of the platform policy, POL-001 included, in report order (the README table lists these). */
export const RULE_CATALOGUE: readonly RuleDescription[] = describeRules(PLATFORM_RULES);

/** What the policy pack found; filled in as `app.synth()` validates each stack. */
export class PolicyFindings {
  readonly rules: readonly RuleDescription[];
  private readonly byStack: StackReport[] = [];

  constructor(rules: readonly Rule[]) {
    this.rules = describeRules(rules);
  }

  get stacks(): readonly StackReport[] {
    return this.byStack;
  }

  get violations(): readonly Violation[] {
    return this.byStack.flatMap((stack) => stack.violations);
  }

  get suppressed(): readonly SuppressedFinding[] {
    return this.byStack.flatMap((stack) => stack.suppressed);
  }

  /** @internal records a stack's result (a re-synth replaces the previous one). */
  record(report: StackReport): void {
    const index = this.byStack.findIndex((existing) => existing.stack === report.stack);
    if (index >= 0) this.byStack.splice(index, 1, report);
    else this.byStack.push(report);
  }
}

/**
 * Puts every stack of `app` under the platform policy: `app.synth()` then checks each stack's
 * synthesized configuration against every rule, prints a summary (with every suppression and
 * its reason) and fails, naming resource, rule and fix, when anything violates a rule.
 *
 * Call it after creating all stacks and before `app.synth()`. (cdktf 0.21 never invokes
 * aspects added to the App itself, so the check is a validation on each stack; a stack created
 * later fails synth instead of escaping the policy.)
 */
export function applyPlatformPolicy(app: App, options: PolicyOptions = {}): PolicyFindings {
  if (app.skipValidation) {
    throw new Error('applyPlatformPolicy: the app has skipValidation set, which would skip the policy check; remove it');
  }
  const rules = options.rules ?? PLATFORM_RULES;
  const failOnViolation = options.failOnViolation ?? true;
  const log = options.log ?? ((line: string) => console.log(line));
  const findings = new PolicyFindings(rules);
  const stacks = app.node.findAll().filter(TerraformStack.isStack);
  for (const stack of stacks) {
    stack.node.addValidation({
      validate: () => {
        const result = evaluateStack(stack, rules);
        findings.record(result);
        summarise(result, log);
        return failOnViolation ? result.violations.map((v) => v.message) : [];
      },
    });
  }
  app.node.addValidation({
    validate: () => {
      const uncovered = app.node.findAll().filter((c) => TerraformStack.isStack(c) && !stacks.includes(c));
      return uncovered.map(
        (stack) => `policy: stack "${stack.node.id}" was created after applyPlatformPolicy(app) and was not checked; call applyPlatformPolicy after creating every stack`,
      );
    },
  });
  return findings;
}

function summarise(result: StackReport, log: (line: string) => void): void {
  log(
    `policy: stack "${result.stack}": ${result.elementsChecked} resources and data sources, ${result.rulesChecked} rules: ` +
      `${result.violations.length} violation(s), ${result.suppressed.length} suppressed`,
  );
  for (const s of result.suppressed) {
    log(`policy:   suppressed ${s.ruleId} on ${s.path} (${s.address}): ${s.problem}. Reason: ${s.reason}`);
  }
  for (const v of result.violations) log(`policy:   ${v.message}`);
}
