/**
 * The policy pack's figures for `npm run verify`: the three stacks synthesized as
 * `npm run synth` synthesizes them, checked through the same `applyPlatformPolicy` (so the
 * same `evaluateStack`), but reporting every violation instead of failing on them. Needs
 * neither terraform nor AWS credentials: synth writes to a temporary folder, removed after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'cdktf';
import { applyPlatformPolicy, type PolicyFindings } from '../policy';
import { loadConfig } from '../stacks/config';
import { definePlatform } from '../stacks/platform';

/** One finding the pack would fail synth on. */
export interface PolicyViolation {
  readonly stack: string;
  /** Construct path, e.g. `pipeline/consumers/failure-queue`. */
  readonly resource: string;
  /** Terraform address, e.g. `aws_sqs_queue.consumers_failure-queue`. */
  readonly address: string;
  readonly ruleId: string;
  /** One line naming the rule, the resource and the fix, as synth prints it. */
  readonly message: string;
}

/** One rule waived for one resource in code (`suppressPolicy`), as synth lists it. */
export interface PolicySuppression {
  readonly stack: string;
  readonly resource: string;
  readonly address: string;
  readonly ruleId: string;
  /** What the rule found and the suppression waives. */
  readonly problem: string;
  /** Why the rule does not apply, as written next to the resource. */
  readonly reason: string;
}

/** The figures of one table row. */
export interface PolicyCounts {
  readonly rulesChecked: number;
  /** Resources and data sources the rules read. */
  readonly resourcesInspected: number;
  readonly violations: number;
  readonly suppressions: number;
}

export interface StackPolicyCounts extends PolicyCounts {
  readonly stack: string;
}

export interface PolicyReport {
  /** One row per stack, in deploy order. */
  readonly stacks: readonly StackPolicyCounts[];
  /**
   * All stacks: resources, violations and suppressions summed; `rulesChecked` is the number
   * of rules every stack was checked against (the same rules each time, so not a sum).
   */
  readonly total: PolicyCounts;
  readonly violations: readonly PolicyViolation[];
  readonly suppressions: readonly PolicySuppression[];
  readonly durationMs: number;
}

export interface PolicyReportOptions {
  /**
   * Creates the stacks to check on the app.
   * @default the platform as `npm run synth` defines it: `definePlatform(app, loadConfig())`
   */
  readonly define?: (app: App) => void;
}

/**
 * Synthesizes the stacks under the platform policy and reports what it found.
 * @throws `ConfigError` when the platform configuration is invalid (as `npm run synth` would).
 */
export function policyReport(options: PolicyReportOptions = {}): PolicyReport {
  const define = options.define ?? ((app: App) => definePlatform(app, loadConfig()));
  const started = performance.now();
  const outdir = mkdtempSync(path.join(tmpdir(), 'policy-report-'));
  try {
    const app = new App({ outdir });
    define(app);
    const findings = applyPlatformPolicy(app, { failOnViolation: false, log: () => undefined });
    app.synth();
    return { ...summarise(findings), durationMs: performance.now() - started };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The report's figures and lists from what the policy found at synth. */
function summarise(findings: PolicyFindings): Omit<PolicyReport, 'durationMs'> {
  const stacks = findings.stacks.map(
    (stack): StackPolicyCounts => ({
      stack: stack.stack,
      rulesChecked: stack.rulesChecked,
      resourcesInspected: stack.elementsChecked,
      violations: stack.violations.length,
      suppressions: stack.suppressed.length,
    }),
  );
  const sum = (figure: keyof PolicyCounts): number => stacks.reduce((total, row) => total + row[figure], 0);
  return {
    stacks,
    total: {
      rulesChecked: Math.max(0, ...stacks.map((row) => row.rulesChecked)),
      resourcesInspected: sum('resourcesInspected'),
      violations: sum('violations'),
      suppressions: sum('suppressions'),
    },
    violations: findings.violations.map(({ stack, path: resource, address, ruleId, message }) => ({ stack, resource, address, ruleId, message })),
    suppressions: findings.suppressed.map(({ stack, path: resource, address, ruleId, problem, reason }) => ({ stack, resource, address, ruleId, problem, reason })),
  };
}
