import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { applyPlatformPolicy, PLATFORM_RULES, type PolicyFindings, type Violation } from '../../policy';

/** Name of the stack every fixture is built in. */
export const STACK = 'fixture';

let outdir: string | undefined;
afterAll(() => {
  if (outdir !== undefined) rmSync(outdir, { recursive: true, force: true });
});

/** A test app whose stacks write nowhere but one temporary folder per test file. */
export function testApp() {
  outdir ??= mkdtempSync(join(tmpdir(), 'policy-test-'));
  return Testing.app({ outdir });
}

/**
 * Builds a one-stack app, puts it under the policy (reporting, not failing) and runs the
 * stack's validations the way `app.synth()` does; returns what the policy found.
 */
export function check(build: (stack: TerraformStack) => void): PolicyFindings {
  const app = testApp();
  const stack = new TerraformStack(app, STACK);
  new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
  build(stack);
  const report = applyPlatformPolicy(app, { failOnViolation: false, log: () => undefined });
  Testing.synth(stack, true);
  return report;
}

/** The violations of one rule. */
export function violationsOf(report: PolicyFindings, ruleId: string): Violation[] {
  return report.violations.filter((v) => v.ruleId === ruleId);
}

/**
 * Asserts that `ruleId` fired exactly on `addresses` (in any order), and that each message
 * names the stack, the construct path, the Terraform address, the rule and its fix.
 */
export function expectViolations(report: PolicyFindings, ruleId: string, addresses: readonly string[], problem?: RegExp): Violation[] {
  const found = violationsOf(report, ruleId);
  expect(found.map((v) => v.address).sort()).toEqual([...addresses].sort());
  for (const v of found) {
    const [type, name] = v.address.replace(/^data\./, '').split('.');
    expect(v.stack).toBe(STACK);
    expect(v.path.startsWith(`${STACK}/`)).toBe(true);
    expect(v.message).toContain(`[${ruleId}]`);
    expect(v.message).toContain(`stack "${STACK}"`);
    expect(v.message).toContain(v.path);
    expect(v.message).toContain(`${type}.${name}`);
    expect(v.message).toContain(`Fix: ${v.fix}`);
    expect(v.fix.length).toBeGreaterThan(10);
    if (problem !== undefined) expect(v.problem).toMatch(problem);
  }
  return found;
}

/** Asserts that `ruleId` found nothing. */
export function expectClean(report: PolicyFindings, ruleId: string): void {
  expect(violationsOf(report, ruleId).map((v) => v.message)).toEqual([]);
}

/** Every rule id, for tests that must cover them all. */
export const RULE_IDS = PLATFORM_RULES.map((r) => r.id);
