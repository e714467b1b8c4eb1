import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { applyPlatformPolicy, PLATFORM_RULES, suppressPolicy, type RuleId } from '../../policy';
import { check, expectViolations, RULE_IDS, STACK, testApp, violationsOf } from './harness';
import { document, serviceRole } from './fixtures';

const REASON = 'the queue only ever holds test messages in this fixture';
/** Queues that other rules judge: protected from destruction, so DATA-001 stays quiet. */
const KEPT = { preventDestroy: true };

function stackIn(app: App, id: string): TerraformStack {
  const stack = new TerraformStack(app, id);
  new AwsProvider(stack, 'aws', { region: 'eu-west-2' });
  return stack;
}

describe('applyPlatformPolicy at synth', () => {
  it('fails app.synth() with one line per violation naming stack, construct path, address, rule and fix', () => {
    const app = testApp();
    const stack = stackIn(app, 'pipeline');
    new SqsQueue(stack, 'failures', { name: 'failures', lifecycle: KEPT });
    const lines: string[] = [];
    applyPlatformPolicy(app, { log: (line) => lines.push(line) });
    expect(() => app.synth()).toThrow(
      '[ENC-004] stack "pipeline", pipeline/failures (aws_sqs_queue.failures): neither kms_master_key_id nor sqs_managed_sse_enabled is set. Fix: Set `kmsMasterKeyId`, or `sqsManagedSseEnabled: true`.',
    );
    expect(lines[0]).toMatch(/^policy: stack "pipeline": \d+ resources and data sources, \d+ rules: 1 violation\(s\), 0 suppressed$/);
  });

  it('lets a compliant app synthesize and reports every stack it checked', () => {
    const app = testApp();
    new SqsQueue(stackIn(app, 'one'), 'queue', { name: 'q', sqsManagedSseEnabled: true, lifecycle: KEPT });
    stackIn(app, 'two');
    const report = applyPlatformPolicy(app, { log: () => undefined });
    app.synth();
    expect(report.stacks.map((s) => s.stack)).toEqual(['one', 'two']);
    expect(report.stacks[0]).toMatchObject({ elementsChecked: 1, rulesChecked: PLATFORM_RULES.length, violations: [], suppressed: [] });
    expect(report.rules.map((r) => r.id)).toEqual([...RULE_IDS, 'POL-001']);
  });

  it('checks references across stacks after cdktf wires them through remote state', () => {
    const app = testApp();
    const table = new DynamodbTable(stackIn(app, 'data'), 'things', { name: 'iot-things', hashKey: 'ThingID', attribute: [{ name: 'ThingID', type: 'S' }] });
    const consumer = stackIn(app, 'consumer');
    new IamRolePolicy(consumer, 'read', {
      role: serviceRole(consumer, 'reader').name,
      policy: document(consumer, 'read-doc', [{ actions: ['dynamodb:GetItem'], resources: [table.arn] }]).json,
    });
    const report = applyPlatformPolicy(app, { failOnViolation: false, log: () => undefined });
    app.synth();
    expect(report.stacks.find((s) => s.stack === 'consumer')?.violations).toEqual([]);
  });

  it('fails synth when a stack is created after the policy was applied', () => {
    const app = testApp();
    stackIn(app, 'early');
    applyPlatformPolicy(app, { log: () => undefined });
    stackIn(app, 'late');
    expect(() => app.synth()).toThrow(/stack "late" was created after applyPlatformPolicy\(app\) and was not checked/);
  });

  it('refuses an app that skips validation, which would skip the policy', () => {
    const app = new App({ outdir: testApp().outdir, skipValidation: true });
    expect(() => applyPlatformPolicy(app)).toThrow(/skipValidation/);
  });

  it('reports without failing when failOnViolation is false', () => {
    const report = check((stack) => new SqsQueue(stack, 'q', { name: 'q' }));
    expectViolations(report, 'ENC-004', ['aws_sqs_queue.q']);
  });
});

describe('suppressPolicy', () => {
  it('silences the rule on that resource only, and lists the suppression with its reason in the report and the output', () => {
    const app = testApp();
    const stack = stackIn(app, STACK);
    const quiet = new SqsQueue(stack, 'quiet', { name: 'quiet' });
    suppressPolicy(quiet, 'ENC-004', REASON);
    new SqsQueue(stack, 'loud', { name: 'loud' });
    const lines: string[] = [];
    const report = applyPlatformPolicy(app, { failOnViolation: false, log: (line) => lines.push(line) });
    app.synth();
    expect(violationsOf(report, 'ENC-004').map((v) => v.address)).toEqual(['aws_sqs_queue.loud']);
    expect(report.suppressed).toEqual([
      {
        stack: STACK,
        path: `${STACK}/quiet`,
        address: 'aws_sqs_queue.quiet',
        ruleId: 'ENC-004',
        problem: 'neither kms_master_key_id nor sqs_managed_sse_enabled is set',
        reason: REASON,
      },
    ]);
    expect(lines).toContain(`policy:   suppressed ENC-004 on ${STACK}/quiet (aws_sqs_queue.quiet): neither kms_master_key_id nor sqs_managed_sse_enabled is set. Reason: ${REASON}`);
  });

  it('lets a fully suppressed stack synthesize', () => {
    const app = testApp();
    const queue = new SqsQueue(stackIn(app, STACK), 'quiet', { name: 'quiet', lifecycle: KEPT });
    suppressPolicy(queue, 'ENC-004', REASON);
    const report = applyPlatformPolicy(app, { log: () => undefined });
    expect(() => app.synth()).not.toThrow();
    expect(report.suppressed).toHaveLength(1);
  });

  it('turns a suppression that matches no violation into a POL-001 violation', () => {
    const report = check((stack) => {
      const queue = new SqsQueue(stack, 'compliant', { name: 'q', sqsManagedSseEnabled: true });
      suppressPolicy(queue, 'ENC-004', REASON);
    });
    expectViolations(report, 'POL-001', ['aws_sqs_queue.compliant'], /suppression of ENC-004 .* matches no violation/);
  });

  it.each([
    ['no reason', ''],
    ['a blank reason', '    '],
    ['a reason too short to explain anything', 'legacy'],
  ])('throws on %s', (_, reason) => {
    const queue = new SqsQueue(stackIn(testApp(), STACK), 'q', { name: 'q' });
    expect(() => suppressPolicy(queue, 'ENC-004', reason)).toThrow(/needs a written reason of at least 20 characters/);
  });

  it('throws on an unknown rule, a wrapper construct and a duplicate', () => {
    const stack = stackIn(testApp(), STACK);
    const queue = new SqsQueue(stack, 'q', { name: 'q' });
    expect(() => suppressPolicy(queue, 'ENC-999' as RuleId, REASON)).toThrow(/unknown rule id/);
    const wrapper = new Construct(stack, 'wrapper');
    expect(() => suppressPolicy(wrapper as unknown as SqsQueue, 'ENC-004', REASON)).toThrow(/goes on the Terraform resource or data source it exempts/);
    suppressPolicy(queue, 'ENC-004', REASON);
    expect(() => suppressPolicy(queue, 'ENC-004', REASON)).toThrow(/already suppressed/);
  });
});

describe('rule coverage', () => {
  const rulesDir = join(__dirname, 'rules');
  const tests = readdirSync(rulesDir).map((file) => readFileSync(join(rulesDir, file), 'utf8')).join('\n');

  it.each(RULE_IDS)('%s has its own describe block of rule tests', (id) => {
    expect(tests).toMatch(new RegExp(`describe\\('[^']*\\b${id}\\b`));
  });

  it('every rule has a unique id, a title and a fix', () => {
    expect(new Set(RULE_IDS).size).toBe(RULE_IDS.length);
    for (const rule of PLATFORM_RULES) {
      expect(rule.title.length).toBeGreaterThan(10);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
  });
});
