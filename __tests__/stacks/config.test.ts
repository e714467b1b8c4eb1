import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_HOT_RETENTION_DAYS, DEFAULT_ROLLUP_RETENTION_DAYS, EVENT_SOURCE } from '../../handlers/contract';
import { ConfigError, configReference, loadConfig, resourceName, sharedNames, validateConfig, type ConfigProblem } from '../../stacks/config';
import { PROJECT_ROOT } from '../../build/project-root';

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(path.join(tmpdir(), 'platform-config-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Loads with only the given environment and no config file (the scratch folder has none). */
const load = (env: Record<string, string> = {}) => loadConfig({ env, projectRoot: folder, cwd: folder });

function problemsOf(action: () => unknown): ConfigProblem[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('are the constructs\' defaults, with no file and no variable', () => {
    const config = load();
    expect(config.region).toBe('eu-west-2');
    expect(config.backend).toEqual({ kind: 'local', stateDir: 'terraform-state' });
    expect(config.stream).toEqual({ mode: 'provisioned', shardCount: 2, retentionHours: 24 });
    expect(config.cluster).toEqual({ instanceType: 't3.small', minInstances: 1, maxInstances: 5, targetCapacityPercent: 100, instanceWarmupSeconds: 300 });
    expect(config.scaling).toEqual({ minTasks: 1, maxTasks: 5, cpuHighPercent: 40, cpuLowPercent: 10, cooldownSeconds: 300, cpuMetric: 'service' });
    expect(config.web).toMatchObject({ containerPort: 5000, memoryMiB: 900, imageTag: 'latest', healthCheckPath: '/livez', allowedCidrs: [], signIn: { provider: 'cognito', users: [] } });
    expect(config.web.cpuUnits).toBeUndefined();
    expect(config.api.manageAccountLoggingRole).toBe(true);
    expect(config.consumers).toMatchObject({ batchSize: EVENT_SOURCE.batchSize, batchWindowSeconds: EVENT_SOURCE.maximumBatchingWindowSeconds });
    expect(config.tables).toMatchObject({ billingMode: 'on-demand', deletionProtection: true });
    expect(config.tables.hotRetentionDays).toBe(DEFAULT_HOT_RETENTION_DAYS);
    expect(config.rollups).toEqual({ hourRetentionDays: DEFAULT_ROLLUP_RETENTION_DAYS['1h'] });
    expect(config.alerts.emails).toEqual([]);
  });

  it('are frozen, so no stack can change what another one sees', () => {
    const config = load();
    expect(Object.isFrozen(config.stream)).toBe(true);
    expect(() => (config.alerts.emails as string[]).push('x@example.com')).toThrow(TypeError);
  });

  it('resolve the s3 and cloud backends\' defaults from the other fields', () => {
    expect(load({ PLATFORM_BACKEND_KIND: 's3', PLATFORM_BACKEND_S3_BUCKET: 'acme-state', PLATFORM_REGION: 'us-east-1' }).backend).toEqual({
      kind: 's3',
      bucket: 'acme-state',
      keyPrefix: 'iot-platform',
      region: 'us-east-1',
    });
    expect(load({ PLATFORM_BACKEND_KIND: 'cloud', PLATFORM_BACKEND_CLOUD_ORGANIZATION: 'acme', PLATFORM_NAME_PREFIX: 'lab' }).backend).toEqual({
      kind: 'cloud',
      organization: 'acme',
      hostname: 'app.terraform.io',
      workspacePrefix: 'lab-',
    });
  });

  it('keep the shared names without a prefix and prefix them with one', () => {
    expect(sharedNames(load())).toMatchObject({ thingsTable: 'iot-things', stream: 'iot-readings', seriesTable: 'iot-series' });
    const prefixed = load({ PLATFORM_NAME_PREFIX: 'acme' });
    expect(sharedNames(prefixed).thingsTable).toBe('acme-iot-things');
    expect(resourceName(prefixed, 'iot')).toBe('acme-iot');
  });
});

describe('sources', () => {
  it('reads the file named by PLATFORM_CONFIG, relative to the current folder, and lets variables win', () => {
    writeFileSync(path.join(folder, 'custom.json'), JSON.stringify({ stream: { shardCount: 4 }, alerts: { emails: ['a@example.com'] }, region: 'eu-west-1' }));
    const config = load({ PLATFORM_CONFIG: 'custom.json', PLATFORM_STREAM_SHARD_COUNT: '6' });
    expect(config.stream.shardCount).toBe(6);
    expect(config.alerts.emails).toEqual(['a@example.com']);
    expect(config.region).toBe('eu-west-1');
  });

  it('reads platform.config.json from the project root when PLATFORM_CONFIG is unset', () => {
    const root = mkdtempSync(path.join(folder, 'root-'));
    writeFileSync(path.join(root, 'platform.config.json'), JSON.stringify({ web: { imageTag: 'v42' } }));
    expect(loadConfig({ env: {}, projectRoot: root, cwd: folder }).web.imageTag).toBe('v42');
  });

  it('splits lists on commas, reads tags as key=value pairs, and unsets an optional field with an empty variable', () => {
    writeFileSync(path.join(folder, 'retention.json'), JSON.stringify({ tables: { hotRetentionDays: 30 } }));
    const config = load({
      PLATFORM_CONFIG: 'retention.json',
      PLATFORM_ALERTS_EMAILS: 'a@example.com, b@example.org',
      PLATFORM_TAGS: 'Team=data,CostCentre=42',
      PLATFORM_TABLES_HOT_RETENTION_DAYS: '',
      PLATFORM_TABLES_DELETION_PROTECTION: 'false',
    });
    expect(config.alerts.emails).toEqual(['a@example.com', 'b@example.org']);
    expect(config.tags).toEqual({ Team: 'data', CostCentre: '42' });
    // Kept for ever: the empty variable unsets the file's 30, and the default does not come back.
    expect(config.tables.hotRetentionDays).toBeUndefined();
    expect(config.tables.deletionProtection).toBe(false);
  });

  it('keeps rollups for ever when the file says null, and a finer rollup never longer than a coarser one', () => {
    writeFileSync(path.join(folder, 'forever.json'), JSON.stringify({ tables: { hotRetentionDays: null }, rollups: { hourRetentionDays: null } }));
    const config = load({ PLATFORM_CONFIG: 'forever.json' });
    expect(config.tables.hotRetentionDays).toBeUndefined();
    expect(config.rollups).toEqual({});
  });

  it('lists every field with its variable in docs/deploy.md', () => {
    const docs = readFileSync(path.join(PROJECT_ROOT, 'docs', 'deploy.md'), 'utf8');
    for (const field of configReference()) expect(docs).toContain(`| \`${field.field}\` | \`${field.env}\` |`);
  });

  it('documents one environment variable per field, named after its path', () => {
    const reference = configReference();
    expect(reference).toContainEqual(expect.objectContaining({ field: 'stream.shardCount', env: 'PLATFORM_STREAM_SHARD_COUNT', default: '2' }));
    expect(reference).toContainEqual(expect.objectContaining({ field: 'backend.s3.bucket', env: 'PLATFORM_BACKEND_S3_BUCKET', default: '(unset)' }));
    expect(new Set(reference.map((field) => field.env)).size).toBe(reference.length);
    for (const field of reference) expect(field.description.length).toBeGreaterThan(10);
  });
});

/** [what is wrong, the variables, the field blamed, words of the message]. */
const INVALID_ENV: [string, Record<string, string>, string, RegExp][] = [
  ['a malformed email', { PLATFORM_ALERTS_EMAILS: 'ops@example.com,not-an-address' }, 'alerts.emails', /"not-an-address" is malformed; expected an email address/],
  ['a malformed operations email', { PLATFORM_OPERATIONS_EMAILS: 'ops@localhost' }, 'operations.emails', /"ops@localhost" is malformed/],
  ['SSH open to the world', { PLATFORM_NETWORK_SSH_KEY_NAME: 'admin', PLATFORM_NETWORK_SSH_CIDR: '0.0.0.0/0' }, 'network.sshCidr', /never be open to the whole internet/],
  ['an SSH key without a CIDR', { PLATFORM_NETWORK_SSH_KEY_NAME: 'admin' }, 'network.sshCidr', /SSH key pair is set without a source CIDR: set network.sshCidr/],
  ['an SSH CIDR without a key', { PLATFORM_NETWORK_SSH_CIDR: '203.0.113.0/24' }, 'network.sshKeyName', /source CIDR is set without a key pair/],
  ['a CIDR with host bits', { PLATFORM_NETWORK_SSH_KEY_NAME: 'admin', PLATFORM_NETWORK_SSH_CIDR: '203.0.113.7/24' }, 'network.sshCidr', /host bits set: write the network address, 203\.0\.113\.0\/24/],
  ['a malformed CIDR', { PLATFORM_NETWORK_VPC_CIDR: '10.0.0.0/33' }, 'network.vpcCidr', /"10\.0\.0\.0\/33" is malformed/],
  ['a VPC too small for two subnets', { PLATFORM_NETWORK_VPC_CIDR: '10.0.0.0/27' }, 'network.vpcCidr', /prefix must be \/16 to \/26/],
  ['an unknown backend', { PLATFORM_BACKEND_KIND: 'consul' }, 'backend.kind', /"consul" is not allowed: use one of local, s3, cloud/],
  ['no bucket for the s3 backend', { PLATFORM_BACKEND_KIND: 's3' }, 'backend.s3.bucket', /the s3 backend needs a state bucket: set backend.s3.bucket \(PLATFORM_BACKEND_S3_BUCKET\)/],
  ['no organisation for the cloud backend', { PLATFORM_BACKEND_KIND: 'cloud' }, 'backend.cloud.organization', /needs an organisation: set backend.cloud.organization/],
  ['an absolute local state folder', { PLATFORM_BACKEND_LOCAL_STATE_DIR: '/var/state' }, 'backend.local.stateDir', /is malformed; expected folder of the local state files, relative to the project root/],
  ['a local state folder outside the project', { PLATFORM_BACKEND_LOCAL_STATE_DIR: '../state' }, 'backend.local.stateDir', /must stay inside the project/],
  ['too many shards', { PLATFORM_STREAM_SHARD_COUNT: '501' }, 'stream.shardCount', /must be <= 500 \(got 501\); expected shards of the provisioned stream \(each takes 1 MB\/s or 1,000 records\/s in\), 1 to 500/],
  ['no shard', { PLATFORM_STREAM_SHARD_COUNT: '0' }, 'stream.shardCount', /must be >= 1/],
  ['a shard count that is no number', { PLATFORM_STREAM_SHARD_COUNT: 'two' }, 'stream.shardCount', /must be integer \(got "two"\)/],
  ['an unknown stream mode', { PLATFORM_STREAM_MODE: 'serverless' }, 'stream.mode', /use one of provisioned, on-demand/],
  ['a log retention CloudWatch refuses', { PLATFORM_LOG_RETENTION_DAYS: '31' }, 'logRetentionDays', /31 is not allowed: use one of 1, 3, 5, 7, 14, 30/],
  ['a malformed region', { PLATFORM_REGION: 'London' }, 'region', /"London" is malformed; expected AWS region/],
  ['a batch too big for Lambda', { PLATFORM_CONSUMERS_BATCH_SIZE: '20000' }, 'consumers.batchSize', /must be <= 10000/],
  ['more minimum than maximum instances', { PLATFORM_CLUSTER_MIN_INSTANCES: '6' }, 'cluster.minInstances', /must not exceed cluster.maxInstances \(6 > 5\)/],
  ['a retired memory threshold', { PLATFORM_CLUSTER_MEMORY_LOW_PERCENT: '85' }, 'cluster.memoryLowPercent', /no longer a setting: ECS managed scaling now removes idle instances/],
  ['a retired cooldown', { PLATFORM_CLUSTER_COOLDOWN_SECONDS: '60' }, 'cluster.cooldownSeconds', /no longer a setting: .*cluster.instanceWarmupSeconds/],
  ['a target capacity ECS refuses', { PLATFORM_CLUSTER_TARGET_CAPACITY_PERCENT: '0' }, 'cluster.targetCapacityPercent', /must be >= 1/],
  ['an instance type without a known size and no CPU units', { PLATFORM_CLUSTER_INSTANCE_TYPE: 'x2iedn.large' }, 'cluster.instanceType', /x2iedn.large is not in the table of instance sizes, so the web task's CPU cannot be derived: set web.cpuUnits/],
  ['a task bigger than its instance', { PLATFORM_WEB_MEMORY_MI_B: '4096' }, 'web.memoryMiB', /a t3.small has 2048 MiB, so a task of 4096 MiB never fits and deploys would wait for ever/],
  ['more CPU than the instance has', { PLATFORM_WEB_CPU_UNITS: '4096' }, 'web.cpuUnits', /a t3.small has 2048 CPU units \(2 vCPUs\)/],
  ['a name prefix ECS refuses for a capacity provider', { PLATFORM_NAME_PREFIX: 'ecs-lab' }, 'namePrefix', /may not start with "aws", "ecs" or "fargate"/],
  ['a certificate without the name it covers', { PLATFORM_NETWORK_CERTIFICATE_ARN: 'arn:aws:acm:eu-west-2:123456789012:certificate/abc' }, 'web.domainName', /HTTPS needs the name the certificate covers/],
  ['the whole internet without sign-in', { PLATFORM_WEB_ALLOWED_CIDRS: '0.0.0.0/0' }, 'web.allowedCidrs', /whole internet without sign-in/],
  ['an allowed network with host bits', { PLATFORM_WEB_ALLOWED_CIDRS: '203.0.113.9/24' }, 'web.allowedCidrs', /write the network address, 203\.0\.113\.0\/24/],
  [
    'HTTPS without sign-in or allowed networks',
    { PLATFORM_NETWORK_CERTIFICATE_ARN: 'arn:aws:acm:eu-west-2:123456789012:certificate/abc', PLATFORM_WEB_DOMAIN_NAME: 'iot.example.com', PLATFORM_WEB_SIGN_IN_PROVIDER: 'none' },
    'web.signIn.provider',
    /open to the whole internet: choose cognito or oidc, or list web.allowedCidrs/,
  ],
  [
    'an OpenID Connect provider without its endpoints',
    { PLATFORM_NETWORK_CERTIFICATE_ARN: 'arn:aws:acm:eu-west-2:123456789012:certificate/abc', PLATFORM_WEB_DOMAIN_NAME: 'iot.example.com', PLATFORM_WEB_SIGN_IN_PROVIDER: 'oidc', PLATFORM_WEB_SIGN_IN_OIDC_ISSUER: 'https://login.example.com' },
    'web.signIn.oidc',
    /needs web.signIn.oidc.authorizationEndpoint, web.signIn.oidc.tokenEndpoint, web.signIn.oidc.userInfoEndpoint, web.signIn.oidc.clientId, web.signIn.oidc.clientSecretParameter/,
  ],
  ['users to invite without HTTPS', { PLATFORM_WEB_SIGN_IN_USERS: 'ana@example.com' }, 'web.signIn.users', /sign-in needs HTTPS: set network.certificateArn and web.domainName/],
  ['the same address twice in another spelling', { PLATFORM_OPERATIONS_EMAILS: 'ops@example.com,OPS@example.com' }, 'operations.emails', /ops@example.com and OPS@example.com are the same address/],
  ['CPU alarms that would fight', { PLATFORM_SCALING_CPU_LOW_PERCENT: '40' }, 'scaling.cpuLowPercent', /must be below scaling.cpuHighPercent/],
  ['more minimum than maximum tasks', { PLATFORM_SCALING_MIN_TASKS: '3', PLATFORM_SCALING_MAX_TASKS: '2', PLATFORM_WEB_DESIRED_TASKS: '2' }, 'scaling.minTasks', /must not exceed scaling.maxTasks/],
  ['a desired count outside the task range', { PLATFORM_WEB_DESIRED_TASKS: '9' }, 'web.desiredTasks', /must lie within scaling.minTasks..scaling.maxTasks \(1..5\)/],
  ['a VPC without subnets', { PLATFORM_NETWORK_VPC_ID: 'vpc-0abc1234' }, 'network.subnetIds', /needs both network.vpcId and network.subnetIds/],
  ['subnets without a VPC', { PLATFORM_NETWORK_SUBNET_IDS: 'subnet-0abc1234,subnet-0abc5678' }, 'network.vpcId', /needs both network.vpcId and network.subnetIds/],
  ['one subnet only', { PLATFORM_NETWORK_VPC_ID: 'vpc-0abc1234', PLATFORM_NETWORK_SUBNET_IDS: 'subnet-0abc1234' }, 'network.subnetIds', /at least two subnets/],
  ['a malformed subnet id', { PLATFORM_NETWORK_VPC_ID: 'vpc-0abc1234', PLATFORM_NETWORK_SUBNET_IDS: 'subnet-0abc1234,sub-2' }, 'network.subnetIds', /"sub-2" is malformed; expected a subnet id/],
  ['an archive expiring before Glacier\'s minimum', { PLATFORM_ARCHIVE_GLACIER_AFTER_DAYS: '30', PLATFORM_ARCHIVE_EXPIRE_AFTER_DAYS: '100' }, 'archive.expireAfterDays', /at least glacierAfterDays \+ 90 = 120/],
  ['an archive expiring within 90 days', { PLATFORM_ARCHIVE_GLACIER_AFTER_DAYS: '0', PLATFORM_ARCHIVE_EXPIRE_AFTER_DAYS: '60' }, 'archive.expireAfterDays', /must be >= 90 \(got 60\)/],
  ['a domain without a certificate', { PLATFORM_WEB_DOMAIN_NAME: 'iot.example.com' }, 'web.domainName', /needs an HTTPS certificate: set network.certificateArn/],
  ['a malformed certificate ARN', { PLATFORM_NETWORK_CERTIFICATE_ARN: 'my-cert' }, 'network.certificateArn', /"my-cert" is malformed; expected ACM certificate/],
  ['a tag that is not key=value', { PLATFORM_TAGS: 'Team' }, 'tags', /"Team" is not key=value/],
  ['recipient groups that are not JSON', { PLATFORM_ALERTS_RECIPIENT_GROUPS: 'plant-7=ops@example.com' }, 'alerts.recipientGroups', /is not JSON .*: write the object as the configuration file would hold it/],
  ['a recipient group name SNS topics cannot carry', { PLATFORM_ALERTS_RECIPIENT_GROUPS: '{"Plant 7": {"emails": ["p7@example.com"]}}' }, 'alerts.recipientGroups', /the key "Plant 7" is malformed; expected recipient groups that rules can name/],
  ['a recipient group called default', { PLATFORM_ALERTS_RECIPIENT_GROUPS: '{"default": {"emails": ["p7@example.com"]}}' }, 'alerts.recipientGroups', /"default" is the group of alerts.emails/],
  ['a recipient group without subscribers', { PLATFORM_ALERTS_RECIPIENT_GROUPS: '{"plant-7": {}}' }, 'alerts.recipientGroups', /group "plant-7" has no subscriber/],
  ['an SMS number not in E.164', { PLATFORM_ALERTS_RECIPIENT_GROUPS: '{"plant-7": {"sms": ["01632 960000"]}}' }, 'alerts.recipientGroups', /"01632 960000" is malformed; expected a phone number in E.164 form/],
  ['a webhook over plain HTTP', { PLATFORM_ALERTS_RECIPIENT_GROUPS: '{"plant-7": {"webhooks": ["http://hooks.example.com"]}}' }, 'alerts.recipientGroups', /"http:\/\/hooks.example.com" is malformed; expected an https:\/\/ URL/],
  ['a no-data check more often than Scheduler runs', { PLATFORM_ALERTS_NO_DATA_CHECK_MINUTES: '0' }, 'alerts.noDataCheckMinutes', /must be >= 1/],
  ['a misspelt variable', { PLATFORM_STREAM_SHARDCOUNT: '3' }, '(environment)', /PLATFORM_STREAM_SHARDCOUNT is not a setting: check its spelling \(did you mean PLATFORM_STREAM_SHARD_COUNT\?\)/],
  ['the retired minute retention', { PLATFORM_ROLLUPS_MINUTE_RETENTION_DAYS: '400' }, 'rollups.minuteRetentionDays', /no longer a setting: minute rollups are parts of their hour's item/],
  ['hours kept for ever but not days', { PLATFORM_ROLLUPS_HOUR_RETENTION_DAYS: '', PLATFORM_ROLLUPS_DAY_RETENTION_DAYS: '3650' }, 'rollups.hourRetentionDays', /\(for ever > 3650 days\)/],
  ['a prefix with capitals', { PLATFORM_NAME_PREFIX: 'Acme' }, 'namePrefix', /"Acme" is malformed; expected prefix for every resource name/],
];

describe('invalid input', () => {
  it.each(INVALID_ENV)('rejects %s', (_what, env, field, message) => {
    const problems = problemsOf(() => load(env));
    const problem = problems.find((candidate) => candidate.field === field);
    expect(problem).toBeDefined();
    expect(problem!.message).toMatch(message);
    expect(problems).toHaveLength(1);
  });

  it('names the variable a bad value came from', () => {
    const [problem] = problemsOf(() => load({ PLATFORM_STREAM_SHARD_COUNT: '900' }));
    expect(problem).toMatchObject({ field: 'stream.shardCount', env: 'PLATFORM_STREAM_SHARD_COUNT', source: 'from PLATFORM_STREAM_SHARD_COUNT' });
  });

  it('names the file a bad value came from, and rejects unknown settings in it with the known ones', () => {
    writeFileSync(path.join(folder, 'typo.json'), JSON.stringify({ stream: { shards: 3 }, alerts: { emails: ['nope'] } }));
    const problems = problemsOf(() => load({ PLATFORM_CONFIG: 'typo.json' }));
    expect(problems).toEqual([
      expect.objectContaining({ field: 'stream.shards', source: 'from typo.json', message: 'unknown setting: remove it or use one of mode, shardCount, retentionHours, batchBuckets' }),
      expect.objectContaining({ field: 'alerts.emails', source: 'from typo.json', message: expect.stringMatching(/"nope" is malformed/) }),
    ]);
  });

  it.each([
    ['missing', null, /the file missing.json does not exist: fix PLATFORM_CONFIG or create the file/],
    ['broken', '{"region": ', /the file is not valid JSON \(.+\): fix its syntax/],
    ['not an object', '[1, 2]', /the file must hold one JSON object/],
  ])('rejects a config file that is %s', (name, content, message) => {
    const file = `${name.replace(/ /g, '-')}.json`;
    if (content !== null) writeFileSync(path.join(folder, file), content);
    const [problem] = problemsOf(() => load({ PLATFORM_CONFIG: name === 'missing' ? 'missing.json' : file }));
    expect(problem).toMatchObject({ field: '(file)', env: 'PLATFORM_CONFIG' });
    expect(problem!.message).toMatch(message);
  });

  it('lists every problem in one error, each with its fix, even when some fields fail the schema', () => {
    let message = '';
    try {
      load({
        PLATFORM_ALERTS_EMAILS: 'bad',
        PLATFORM_STREAM_SHARD_COUNT: '0',
        PLATFORM_BACKEND_KIND: 's3',
        PLATFORM_NETWORK_SSH_KEY_NAME: 'admin',
        PLATFORM_NETWORK_SSH_CIDR: '0.0.0.0/0',
        PLATFORM_CLUSTER_MIN_INSTANCES: 'many',
        PLATFORM_UNKNOWN: 'x',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid platform configuration \(6 problems\):/);
    for (const field of ['alerts.emails', 'stream.shardCount', 'backend.s3.bucket', 'network.sshCidr', 'cluster.minInstances', '(environment)']) {
      expect(message).toContain(`  - ${field} (`);
    }
    expect(message).toMatch(/Set fields in platform.config.json \(or the file named by PLATFORM_CONFIG\) or as PLATFORM_<FIELD> environment variables\.$/);
  });

  it('validates objects given directly, as the tests of the stacks do', () => {
    expect(() => validateConfig({ stream: { mode: 'on-demand' } })).not.toThrow();
    expect(problemsOf(() => validateConfig({ stream: 'fast' }))).toEqual([expect.objectContaining({ field: 'stream', message: expect.stringMatching(/must be object/) })]);
  });
});
