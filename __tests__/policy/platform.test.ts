import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { packageHandlers } from '../../build/handler-bundle';
import { applyPlatformPolicy, type PolicyFindings } from '../../policy';
import { validateConfig, type PlatformConfig } from '../../stacks/config';
import type { PipelineStackOptions } from '../../stacks/pipeline-stack';
import { definePlatform } from '../../stacks/platform';

/**
 * The real stacks under the policy, defined as main.ts defines them, in the default
 * configuration and in one that turns on every optional path (SSH per SR1, HTTPS,
 * subscriptions, provisioned tables, on-demand stream, s3 backend).
 */
const FULL_CONFIG = {
  backend: { kind: 's3', s3: { bucket: 'iot-terraform-state', region: 'eu-west-2' } },
  stream: { mode: 'on-demand' },
  tables: { billingMode: 'provisioned', readCapacity: 5, writeCapacity: 5, hotRetentionDays: 30 },
  alerts: { emails: ['alerts@example.com'] },
  operations: { emails: ['ops@example.com'] },
  network: { sshKeyName: 'ops-key', sshCidr: '203.0.113.0/24', certificateArn: 'arn:aws:acm:eu-west-2:123456789012:certificate/abc' },
};

let workDir: string;
let handlerPackages: PipelineStackOptions['handlerPackages'];

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'policy-platform-'));
  handlerPackages = packageHandlers(join(workDir, 'handlers'));
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function synthesize(config: PlatformConfig, outdir: string): PolicyFindings {
  const app = new App({ outdir });
  definePlatform(app, config, { handlerPackages });
  const report = applyPlatformPolicy(app, { failOnViolation: false, log: () => undefined });
  app.synth();
  return report;
}

describe.each([
  ['default', {}],
  ['every option on', FULL_CONFIG],
])('the real stacks (%s configuration)', (name, input) => {
  let report: PolicyFindings;
  beforeAll(() => {
    report = synthesize(validateConfig(input), join(workDir, name.replace(/\W/g, '-')));
  });

  it('are all checked', () => {
    expect(report.stacks.map((s) => s.stack)).toEqual(['repository', 'pipeline', 'scaling']);
    expect(report.stacks.find((s) => s.stack === 'pipeline')?.elementsChecked).toBeGreaterThan(100);
  });

  it('have zero policy violations', () => {
    expect(report.violations.map((v) => v.message)).toEqual([]);
  });

  it('list every suppression with a reason', () => {
    for (const s of report.suppressed) expect(s.reason.length).toBeGreaterThanOrEqual(20);
  });
});
