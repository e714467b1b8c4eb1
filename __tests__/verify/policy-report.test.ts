import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { applyPlatformPolicy, MIN_REASON_LENGTH, PLATFORM_RULES, suppressPolicy, suppressionsOf } from '../../policy';
import { loadConfig } from '../../stacks/config';
import { definePlatform } from '../../stacks/platform';
import { protectStatefulResources } from '../../stacks/prevent-destroy';
import { policyReport, type PolicyReport } from '../../verify/policy-report';
import { lambdaFunction } from '../policy/fixtures';

const REASON = 'the queue only ever holds test messages in this fixture';

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'policy-report-test-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** An app of the test's own, writing only into the test's folder. */
const testApp = (name: string) => new App({ outdir: join(workDir, name) });

/** The suppressions declared in code on an app's resources, found without the policy engine. */
function declaredSuppressions(app: App): { resource: string; ruleId: string; reason: string }[] {
  return app.node
    .findAll()
    .flatMap((construct) => suppressionsOf(construct).map(({ ruleId, reason }) => ({ resource: construct.node.path, ruleId, reason })));
}

const byResourceAndRule = (a: { resource: string; ruleId: string }, b: { resource: string; ruleId: string }) =>
  `${a.resource}#${a.ruleId}`.localeCompare(`${b.resource}#${b.ruleId}`);

describe('policyReport on the real stacks', () => {
  let report: PolicyReport;
  let declared: ReturnType<typeof declaredSuppressions>;

  beforeAll(() => {
    report = policyReport();
    // The same platform, defined but not synthesized, to list its suppressions independently.
    const app = testApp('declared');
    definePlatform(app, loadConfig());
    declared = declaredSuppressions(app);
  });

  it('checks the three stacks, in deploy order, against every rule of the pack', () => {
    expect(report.stacks.map((row) => row.stack)).toEqual(['repository', 'pipeline', 'scaling']);
    for (const row of report.stacks) expect(row.rulesChecked).toBe(PLATFORM_RULES.length);
    expect(report.total.rulesChecked).toBe(PLATFORM_RULES.length);
  });

  it('inspects the resources of every stack and totals them', () => {
    for (const row of report.stacks) expect(row.resourcesInspected).toBeGreaterThan(0);
    expect(report.stacks.find((row) => row.stack === 'pipeline')?.resourcesInspected).toBeGreaterThan(100);
    expect(report.total.resourcesInspected).toBe(report.stacks.reduce((sum, row) => sum + row.resourcesInspected, 0));
  });

  it('finds no violation', () => {
    expect(report.violations.map((v) => v.message)).toEqual([]);
    expect(report.total.violations).toBe(0);
    for (const row of report.stacks) expect(row.violations).toBe(0);
  });

  it('lists exactly the suppressions declared in code, each with its reason', () => {
    const listed = report.suppressions.map(({ resource, ruleId, reason }) => ({ resource, ruleId, reason }));
    expect([...listed].sort(byResourceAndRule)).toEqual([...declared].sort(byResourceAndRule));
    for (const s of report.suppressions) expect(s.reason.length).toBeGreaterThanOrEqual(MIN_REASON_LENGTH);
    expect(report.total.suppressions).toBe(report.suppressions.length);
  });
});

describe('policyReport on a deliberately bad stack', () => {
  /** An unencrypted queue, a suppressed one, a stale suppression and a function without alarms. */
  function badPlatform(app: App): void {
    const stack = new TerraformStack(app, 'fixture');
    new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
    protectStatefulResources(stack); // as every PlatformStack does
    new SqsQueue(stack, 'loud', { name: 'loud' });
    suppressPolicy(new SqsQueue(stack, 'quiet', { name: 'quiet' }), 'ENC-004', REASON);
    suppressPolicy(new SqsQueue(stack, 'compliant', { name: 'compliant', sqsManagedSseEnabled: true }), 'ENC-004', REASON);
    lambdaFunction(stack, 'unwatched');
  }

  let report: PolicyReport;
  beforeAll(() => {
    report = policyReport({ define: badPlatform });
  });

  it('lists every violation with stack, resource, rule and message instead of throwing', () => {
    const found = report.violations.map(({ stack, resource, address, ruleId }) => ({ stack, resource, address, ruleId }));
    expect(found.sort(byResourceAndRule)).toEqual([
      { stack: 'fixture', resource: 'fixture/compliant', address: 'aws_sqs_queue.compliant', ruleId: 'POL-001' },
      { stack: 'fixture', resource: 'fixture/loud', address: 'aws_sqs_queue.loud', ruleId: 'ENC-004' },
      { stack: 'fixture', resource: 'fixture/unwatched', address: 'aws_lambda_function.unwatched', ruleId: 'OPS-002' },
      { stack: 'fixture', resource: 'fixture/unwatched', address: 'aws_lambda_function.unwatched', ruleId: 'OPS-003' },
    ]);
    for (const v of report.violations) {
      expect(v.message).toContain(`[${v.ruleId}] stack "fixture", ${v.resource} (${v.address})`);
      expect(v.message).toContain('Fix: ');
    }
  });

  it('lists the suppression with its reason', () => {
    expect(report.suppressions).toEqual([
      {
        stack: 'fixture',
        resource: 'fixture/quiet',
        address: 'aws_sqs_queue.quiet',
        ruleId: 'ENC-004',
        problem: 'neither kms_master_key_id nor sqs_managed_sse_enabled is set',
        reason: REASON,
      },
    ]);
  });

  it('counts them per stack and in total', () => {
    const row = { rulesChecked: PLATFORM_RULES.length, violations: 4, suppressions: 1 };
    expect(report.stacks).toEqual([expect.objectContaining({ stack: 'fixture', ...row })]);
    expect(report.total).toMatchObject(row);
    // Three queues, the function, its role, its trust policy document and its log group.
    expect(report.total.resourcesInspected).toBe(7);
  });

  it('reports what synth fails on, since both go through applyPlatformPolicy', () => {
    const app = testApp('synth');
    badPlatform(app);
    applyPlatformPolicy(app, { log: () => undefined });
    let failure = '';
    try {
      app.synth();
    } catch (error) {
      failure = String(error);
    }
    expect(report.violations.length).toBeGreaterThan(0);
    for (const v of report.violations) expect(failure).toContain(v.message);
  });
});
