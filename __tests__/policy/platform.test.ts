import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import { applyPlatformPolicy, type PolicyFindings } from '../../policy';
import { validateConfig, type PlatformConfig } from '../../stacks/config';
import type { PipelineStackOptions } from '../../stacks/pipeline-stack';
import { definePlatform } from '../../stacks/platform';
import { testHandlerPackages } from '../handler-bundles';

/**
 * The real stacks under the policy, defined as main.ts defines them, in the default
 * configuration and in one that turns on every optional path (SSH from one network, HTTPS
 * with sign-in and invited users, allowed networks, subscriptions, provisioned tables,
 * on-demand stream, s3 backend), and in one with an OpenID Connect provider.
 */
const FULL_CONFIG = {
  backend: { kind: 's3', s3: { bucket: 'iot-terraform-state', region: 'eu-west-2' } },
  stream: { mode: 'on-demand' },
  tables: { billingMode: 'provisioned', readCapacity: 5, writeCapacity: 5, hotRetentionDays: 30 },
  alerts: { emails: ['alerts@example.com'] },
  operations: { emails: ['ops@example.com'] },
  network: { sshKeyName: 'ops-key', sshCidr: '203.0.113.0/24', certificateArn: 'arn:aws:acm:eu-west-2:123456789012:certificate/abc' },
  web: { domainName: 'iot.example.com', allowedCidrs: ['198.51.100.0/24'], signIn: { users: ['ana@example.com'] } },
  api: { manageAccountLoggingRole: false },
  cluster: { minInstances: 0 },
};

const OIDC_CONFIG = {
  network: { certificateArn: 'arn:aws:acm:eu-west-2:123456789012:certificate/abc' },
  web: {
    domainName: 'iot.example.com',
    signIn: {
      provider: 'oidc',
      oidc: {
        issuer: 'https://login.example.com',
        authorizationEndpoint: 'https://login.example.com/authorize',
        tokenEndpoint: 'https://login.example.com/token',
        userInfoEndpoint: 'https://login.example.com/userinfo',
        clientId: 'iot-web',
        clientSecretParameter: '/iot/web/oidc-client-secret',
      },
    },
  },
};

let workDir: string;
let handlerPackages: PipelineStackOptions['handlerPackages'];

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'policy-platform-'));
  handlerPackages = testHandlerPackages();
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
  ['OpenID Connect sign-in', OIDC_CONFIG],
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
