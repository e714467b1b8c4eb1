/**
 * The platform's configuration: one typed module, read from a JSON file and/or
 * environment variables, validated in full at synth.
 *
 * Sources, later ones winning per field:
 *   1. the defaults below (the seed's parameters where it had them);
 *   2. a JSON file: `$PLATFORM_CONFIG` if set, else `platform.config.json` in the project root if present;
 *   3. environment variables `PLATFORM_<PATH>`, one per field, named after its path in the
 *      file (`stream.shardCount` → `PLATFORM_STREAM_SHARD_COUNT`); lists are comma-separated
 *      (`PLATFORM_ALERTS_EMAILS=a@example.com,b@example.com`), tags are `key=value` pairs.
 *
 * Anything wrong, in any field, ends in one `ConfigError` that lists every problem with
 * its source and how to fix it. `configReference()` lists every field for the docs.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type JSONSchemaType } from 'ajv';
import { DEFAULT_ALERT_COOLDOWN_SECONDS, DEFAULT_FUTURE_TOLERANCE_SECONDS, DEFAULT_NAMES, EVENT_SOURCE } from '../handlers/contract';

export const CONFIG_ENV_PREFIX = 'PLATFORM_';
/** Environment variable that names the JSON file, relative to the current directory. */
export const CONFIG_FILE_ENV = 'PLATFORM_CONFIG';
/** File read from the project root when `PLATFORM_CONFIG` is not set (optional). */
export const DEFAULT_CONFIG_FILE = 'platform.config.json';

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export type BackendKind = 'local' | 's3' | 'cloud';
export type StreamMode = 'provisioned' | 'on-demand';
export type BillingMode = 'on-demand' | 'provisioned';
export type ServiceCpuMetric = 'service' | 'instances';

/** The file's shape, every field optional; `resolveConfig` turns it into `PlatformConfig`. */
interface ConfigInput {
  namePrefix: string;
  region: string;
  tags: Record<string, string>;
  logRetentionDays: number;
  backend: {
    kind: BackendKind;
    local: { stateDir: string };
    s3: { bucket?: string; keyPrefix?: string; region?: string };
    cloud: { organization?: string; hostname: string; workspacePrefix?: string };
  };
  repository: { keepLastImages: number; untaggedExpiryDays: number; immutableTags: boolean };
  stream: { mode: StreamMode; shardCount: number; retentionHours: number };
  consumers: { batchSize: number; batchWindowSeconds: number; memoryMiB: number; timeoutSeconds: number; futureToleranceSeconds: number };
  api: { rateLimit: number; burstLimit: number; quotaPerDay: number };
  tables: { billingMode: BillingMode; readCapacity: number; writeCapacity: number; deletionProtection: boolean; hotRetentionDays?: number };
  alerts: { emails: string[]; cooldownSeconds: number };
  operations: { emails: string[] };
  archive: { glacierAfterDays: number; expireAfterDays?: number; bufferSeconds: number; bufferMiB: number };
  network: { vpcCidr: string; vpcId?: string; subnetIds: string[]; sshKeyName?: string; sshCidr?: string; certificateArn?: string };
  cluster: {
    instanceType: string;
    minInstances: number;
    maxInstances: number;
    memoryHighPercent: number;
    memoryLowPercent: number;
    cooldownSeconds: number;
  };
  web: { imageTag: string; containerPort: number; memoryMiB: number; healthCheckPath: string; desiredTasks: number; domainName?: string };
  scaling: {
    minTasks: number;
    maxTasks: number;
    cpuHighPercent: number;
    cpuLowPercent: number;
    cooldownSeconds: number;
    cpuMetric: ServiceCpuMetric;
  };
}

export type BackendConfig =
  | { readonly kind: 'local'; /** Relative to the project root. */ readonly stateDir: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly keyPrefix: string; readonly region: string }
  | { readonly kind: 'cloud'; readonly organization: string; readonly hostname: string; readonly workspacePrefix: string };

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The validated configuration, defaults applied. */
export type PlatformConfig = DeepReadonly<Omit<ConfigInput, 'backend'>> & { readonly backend: BackendConfig };

const string = (description: string, extra: Partial<{ pattern: string; minLength: number; maxLength: number; default: string }> = {}) =>
  ({ type: 'string', description, ...extra }) as const;
const optionalString = (description: string, extra: Partial<{ pattern: string; minLength: number; maxLength: number }> = {}) =>
  ({ type: 'string', nullable: true, description, ...extra }) as const;
const integer = (description: string, minimum: number, maximum: number, defaultValue: number) =>
  ({ type: 'integer', description, minimum, maximum, default: defaultValue }) as const;
const percent = (description: string, defaultValue: number) => integer(`${description}, 1 to 100`, 1, 100, defaultValue);
const emails = (description: string) =>
  ({
    type: 'array',
    description,
    items: { type: 'string', pattern: EMAIL_PATTERN, maxLength: 254, description: 'an email address such as ops@example.com' },
    uniqueItems: true,
    default: [] as string[],
  }) as const;

const EMAIL_PATTERN = '^[^\\s@]+@[^\\s@.]+(\\.[^\\s@.]+)+$';
const IPV4_CIDR_PATTERN = '^((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)/(3[0-2]|[12]?\\d)$';
const REGION_PATTERN = '^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d$';

/**
 * Every section defaults to `{}` so that ajv fills in its fields' defaults; the typed
 * schema wants a complete section there, which `{}` becomes only after that filling.
 */
const EMPTY_SECTION = {} as never;

const schema: JSONSchemaType<ConfigInput> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'namePrefix', 'region', 'tags', 'logRetentionDays', 'backend', 'repository', 'stream', 'consumers', 'api',
    'tables', 'alerts', 'operations', 'archive', 'network', 'cluster', 'web', 'scaling',
  ],
  properties: {
    namePrefix: string('prefix for every resource name ("" keeps the names of SPEC §4, e.g. "acme" gives "acme-iot-things"): lower-case letters, digits and "-", at most 16 characters, starting with a letter', {
      pattern: '^([a-z][a-z0-9-]{0,15})?$',
      default: '',
    }),
    region: string('AWS region of every stack, e.g. eu-west-2', { pattern: REGION_PATTERN, default: 'eu-west-2' }),
    tags: {
      type: 'object',
      description: 'extra tags for every resource (file: an object; env: key=value,key=value); keys and values up to 128/256 characters',
      required: [],
      additionalProperties: { type: 'string', maxLength: 256 },
      propertyNames: { pattern: '^[\\w .:/=+@-]{1,128}$' },
      default: {},
    },
    logRetentionDays: {
      type: 'integer',
      description: `days every log group keeps its events, one of ${LOG_RETENTION_DAYS.join(', ')}`,
      enum: [...LOG_RETENTION_DAYS],
      default: 30,
    },
    backend: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['kind', 'local', 's3', 'cloud'],
      properties: {
        kind: { type: 'string', enum: ['local', 's3', 'cloud'], default: 'local', description: 'Terraform state backend: local, s3 or cloud' },
        local: {
          type: 'object',
          additionalProperties: false,
          default: EMPTY_SECTION,
          required: ['stateDir'],
          properties: {
            stateDir: string('folder of the local state files, relative to the project root (no absolute path, so synthesized JSON holds no path of the machine)', {
              pattern: '^(?![/\\\\])(?![A-Za-z]:)[^\\0]+$',
              default: 'terraform-state',
            }),
          },
        },
        s3: {
          type: 'object',
          additionalProperties: false,
          default: EMPTY_SECTION,
          required: [],
          properties: {
            bucket: optionalString('S3 bucket holding the state (required for the s3 backend; create it with versioning first)', {
              pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
            }),
            keyPrefix: optionalString('key prefix of the state objects, each stack at <prefix>/<stack>.tfstate (default: the name prefix, or "iot-platform")', {
              pattern: '^[A-Za-z0-9!_.*\'()/-]{1,512}$',
            }),
            region: optionalString('region of the state bucket (default: the platform region)', { pattern: REGION_PATTERN }),
          },
        },
        cloud: {
          type: 'object',
          additionalProperties: false,
          default: EMPTY_SECTION,
          required: ['hostname'],
          properties: {
            organization: optionalString('Terraform Cloud organisation (required for the cloud backend)', { pattern: '^[A-Za-z0-9_-]{1,40}$' }),
            hostname: string('Terraform Cloud / Enterprise host', { pattern: '^[a-z0-9.-]+$', default: 'app.terraform.io' }),
            workspacePrefix: optionalString('prefix of the workspace names, one workspace <prefix><stack> per stack (default: "<name prefix>-" or "iot-")', {
              pattern: '^[A-Za-z0-9_-]{0,80}$',
            }),
          },
        },
      },
    },
    repository: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['keepLastImages', 'untaggedExpiryDays', 'immutableTags'],
      properties: {
        keepLastImages: integer('tagged images the lifecycle policy keeps, 1 to 1000', 1, 1000, 10),
        untaggedExpiryDays: integer('days after which untagged images expire, 1 to 3650', 1, 3650, 7),
        immutableTags: { type: 'boolean', default: false, description: 'make image tags immutable (true/false); then deploy a new tag per release' },
      },
    },
    stream: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['mode', 'shardCount', 'retentionHours'],
      properties: {
        mode: { type: 'string', enum: ['provisioned', 'on-demand'], default: 'provisioned', description: 'Kinesis capacity mode: provisioned or on-demand' },
        shardCount: integer('shards of the provisioned stream, 1 to 500 (each takes 1 MB/s or 1,000 records/s in)', 1, 500, 2),
        retentionHours: integer('hours the stream keeps records, 24 to 8760', 24, 8760, 24),
      },
    },
    consumers: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['batchSize', 'batchWindowSeconds', 'memoryMiB', 'timeoutSeconds', 'futureToleranceSeconds'],
      properties: {
        batchSize: integer('records per Lambda batch, 1 to 10000', 1, 10_000, EVENT_SOURCE.batchSize),
        batchWindowSeconds: integer('seconds a mapping may wait to fill a batch, 0 to 300', 0, 300, EVENT_SOURCE.maximumBatchingWindowSeconds),
        memoryMiB: integer('memory of each consumer function in MiB, 128 to 10240', 128, 10_240, 512),
        timeoutSeconds: integer('timeout of each consumer function in seconds, 3 to 900', 3, 900, 60),
        futureToleranceSeconds: integer(
          'seconds a reading may be dated ahead of its arrival on the stream; later ones go to the failure queue, 0 to 86400',
          0,
          86_400,
          DEFAULT_FUTURE_TOLERANCE_SECONDS,
        ),
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['rateLimit', 'burstLimit', 'quotaPerDay'],
      properties: {
        rateLimit: integer('steady requests per second allowed per API key and on the stage, 1 to 10000', 1, 10_000, 1_000),
        burstLimit: integer('burst of requests allowed above the rate, 1 to 5000', 1, 5_000, 2_000),
        quotaPerDay: integer('requests per day allowed per API key, 1 to 1000000000', 1, 1_000_000_000, 100_000_000),
      },
    },
    tables: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['billingMode', 'readCapacity', 'writeCapacity', 'deletionProtection'],
      properties: {
        billingMode: { type: 'string', enum: ['on-demand', 'provisioned'], default: 'on-demand', description: 'DynamoDB capacity: on-demand or provisioned' },
        readCapacity: integer('read capacity units per table in provisioned mode, 1 to 40000', 1, 40_000, 5),
        writeCapacity: integer('write capacity units per table in provisioned mode, 1 to 40000', 1, 40_000, 5),
        deletionProtection: { type: 'boolean', default: true, description: 'DynamoDB deletion protection on every table (true/false)' },
        hotRetentionDays: {
          type: 'integer',
          nullable: true,
          minimum: 1,
          maximum: 36_500,
          description: 'days readings stay in DynamoDB before TTL deletes them (unset: kept for ever), 1 to 36500',
        },
      },
    },
    alerts: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['emails', 'cooldownSeconds'],
      properties: {
        emails: emails('addresses that receive threshold alerts (env: comma-separated)'),
        cooldownSeconds: integer('seconds between reminders while a metric stays out of range, 0 to 86400', 0, 86_400, DEFAULT_ALERT_COOLDOWN_SECONDS),
      },
    },
    operations: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['emails'],
      properties: {
        emails: emails('addresses that receive operational alarms (env: comma-separated)'),
      },
    },
    archive: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['glacierAfterDays', 'bufferSeconds', 'bufferMiB'],
      properties: {
        glacierAfterDays: integer('days before archived objects move to Glacier, 0 to 3650', 0, 3_650, 30),
        expireAfterDays: {
          type: 'integer',
          nullable: true,
          minimum: 1,
          maximum: 36_500,
          description: 'days before archived objects are deleted (unset: kept for ever); at least glacierAfterDays + 90',
        },
        bufferSeconds: integer('seconds Firehose buffers before writing an object, 0 to 900', 0, 900, 300),
        bufferMiB: integer('MiB Firehose buffers before writing an object, 1 to 128', 1, 128, 64),
      },
    },
    network: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['vpcCidr', 'subnetIds'],
      properties: {
        vpcCidr: string('CIDR of the VPC the stack creates, e.g. 10.0.0.0/16 (prefix /16 to /26, room for two load balancer subnets)', { pattern: IPV4_CIDR_PATTERN, default: '10.0.0.0/16' }),
        vpcId: optionalString('existing VPC to use instead of creating one, e.g. vpc-0abc1234 (needs network.subnetIds)', { pattern: '^vpc-[0-9a-f]{8,17}$' }),
        subnetIds: {
          type: 'array',
          description: 'existing public subnets in at least two zones, e.g. subnet-0abc1234 (needs network.vpcId; env: comma-separated)',
          items: { type: 'string', pattern: '^subnet-[0-9a-f]{8,17}$', description: 'a subnet id such as subnet-0abc1234' },
          uniqueItems: true,
          default: [],
        },
        sshKeyName: optionalString('EC2 key pair allowed to SSH to the instances (needs network.sshCidr); unset: no SSH, use SSM Session Manager', {
          minLength: 1,
          maxLength: 255,
        }),
        sshCidr: optionalString('source CIDR allowed to SSH, e.g. 203.0.113.0/24; never 0.0.0.0/0 (needs network.sshKeyName)', { pattern: IPV4_CIDR_PATTERN }),
        certificateArn: optionalString('ACM certificate for HTTPS on the load balancer (then HTTP redirects), e.g. arn:aws:acm:eu-west-2:123456789012:certificate/...', {
          pattern: '^arn:aws[a-z-]*:acm:[a-z0-9-]+:\\d{12}:certificate/[A-Za-z0-9-]+$',
        }),
      },
    },
    cluster: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['instanceType', 'minInstances', 'maxInstances', 'memoryHighPercent', 'memoryLowPercent', 'cooldownSeconds'],
      properties: {
        instanceType: string('EC2 instance type of the cluster, e.g. t3.small (Graviton types such as t4g.small need an arm64 image)', { pattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$', default: 't3.small' }),
        minInstances: integer('fewest cluster instances, 0 to 100', 0, 100, 1),
        maxInstances: integer('most cluster instances, 1 to 100', 1, 100, 5),
        memoryHighPercent: percent('cluster memory reservation that adds an instance', 80),
        memoryLowPercent: percent('cluster memory reservation that removes an instance', 40),
        cooldownSeconds: integer('seconds between instance scaling actions, 0 to 3600', 0, 3_600, 300),
      },
    },
    web: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['imageTag', 'containerPort', 'memoryMiB', 'healthCheckPath', 'desiredTasks'],
      properties: {
        imageTag: string('tag of the web image in the repository, e.g. latest or 2024-06-01', { pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$', default: 'latest' }),
        containerPort: integer('port the web container listens on, 1 to 65535', 1, 65_535, 5_000),
        memoryMiB: integer('memory reserved per web task in MiB, 64 to 30720', 64, 30_720, 900),
        // Liveness, not readiness: a DynamoDB outage must not get every web task replaced (docs/web.md).
        healthCheckPath: string('path the load balancer checks (liveness: never touches DynamoDB), starting with /', { pattern: '^/[A-Za-z0-9/_.-]*$', default: '/livez' }),
        desiredTasks: integer('web tasks started at first deploy, 1 to 100 (then the scaling stack decides)', 1, 100, 1),
        domainName: optionalString('host name the certificate covers, used in the web URL (needs network.certificateArn), e.g. iot.example.com', {
          pattern: '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$',
        }),
      },
    },
    scaling: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['minTasks', 'maxTasks', 'cpuHighPercent', 'cpuLowPercent', 'cooldownSeconds', 'cpuMetric'],
      properties: {
        minTasks: integer('fewest web tasks, 1 to 100', 1, 100, 1),
        maxTasks: integer('most web tasks, 1 to 100', 1, 100, 5),
        cpuHighPercent: percent('average CPU that adds a task', 40),
        cpuLowPercent: percent('average CPU that removes a task', 10),
        cooldownSeconds: integer('seconds between task scaling actions, 0 to 3600', 0, 3_600, 300),
        cpuMetric: {
          type: 'string',
          enum: ['service', 'instances'],
          default: 'service',
          description: 'CPU the task alarms watch: service (the web service\'s own CPU) or instances (the cluster instances, as the seed did)',
        },
      },
    },
  },
};

/** One bad field: where, what is wrong, how to fix it. */
export interface ConfigProblem {
  /** Dotted path in the file, e.g. `stream.shardCount`. */
  readonly field: string;
  /** The environment variable for the same field. */
  readonly env: string;
  /** Where the bad value came from: an environment variable, the file, or the combination of fields. */
  readonly source: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid platform configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  - ${problem.field} (${problem.source}): ${problem.message}`).join('\n') +
        `\nSet fields in ${DEFAULT_CONFIG_FILE} (or the file named by ${CONFIG_FILE_ENV}) or as ${CONFIG_ENV_PREFIX}<FIELD> environment variables.`,
    );
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Environment to read; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder `platform.config.json` is looked for in; defaults to the project root. */
  readonly projectRoot?: string;
  /** Folder a relative `PLATFORM_CONFIG` is resolved against; defaults to the current directory. */
  readonly cwd?: string;
}

export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Reads, validates and resolves the configuration; throws `ConfigError` listing every problem. */
export function loadConfig(options: LoadConfigOptions = {}): PlatformConfig {
  const env = options.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const file = readConfigFile(env, options.projectRoot ?? PROJECT_ROOT, options.cwd ?? process.cwd(), problems);
  const fromEnv = applyEnvironment(file.data, env, problems);
  return validateConfig(file.data, { file: file.name, fromEnv }, problems);
}

interface Sources {
  /** Display name of the file the values came from, if any. */
  readonly file?: string;
  /** Field path → environment variable that set it. */
  readonly fromEnv?: ReadonlyMap<string, string>;
}

/**
 * Validates one configuration object (the file's shape); throws `ConfigError` listing every
 * problem, `earlier` ones (from reading the sources) first. Fields that fail the schema are
 * reset to their defaults so that the rules across fields can still check everything else.
 */
export function validateConfig(input: unknown, sources: Sources = {}, earlier: readonly ConfigProblem[] = []): PlatformConfig {
  const original: unknown = structuredClone(input ?? {});
  let data: unknown = structuredClone(original);
  const problems: ConfigProblem[] = [...earlier];
  const sourceOf = (field: string): string => {
    const variable = sources.fromEnv?.get(field);
    if (variable !== undefined) return `from ${variable}`;
    if (valueAt(original, field.split('.')) === undefined) return 'not set';
    return `from ${sources.file ?? 'the configuration'}`;
  };
  if (!validate(data)) {
    const errors = validate.errors ?? [];
    for (const error of errors) problems.push(describeSchemaError(error, data, sourceOf));
    data = repaired(data, errors);
    if (!validate(data)) throw new ConfigError(problems);
  }
  const config = resolve(data);
  const reported = new Set(problems.map((problem) => problem.field));
  for (const problem of crossFieldProblems(config)) {
    if (!reported.has(problem.field)) problems.push({ ...problem, env: envName(problem.field), source: sourceOf(problem.field) });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

// ---------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------

function readConfigFile(
  env: Readonly<Record<string, string | undefined>>,
  projectRoot: string,
  cwd: string,
  problems: ConfigProblem[],
): { data: Record<string, unknown>; name?: string } {
  const named = env[CONFIG_FILE_ENV];
  const location = named !== undefined && named !== '' ? path.resolve(cwd, named) : path.join(projectRoot, DEFAULT_CONFIG_FILE);
  const name = named !== undefined && named !== '' ? named : DEFAULT_CONFIG_FILE;
  const fileProblem = (message: string) => problems.push({ field: '(file)', env: CONFIG_FILE_ENV, source: `from ${name}`, message });
  if (!existsSync(location)) {
    if (named !== undefined && named !== '') fileProblem(`the file ${named} does not exist: fix ${CONFIG_FILE_ENV} or create the file`);
    return { data: {} };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(location, 'utf8'));
  } catch (error) {
    fileProblem(`the file is not valid JSON (${(error as Error).message}): fix its syntax`);
    return { data: {}, name };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fileProblem('the file must hold one JSON object such as {"region": "eu-west-2"}');
    return { data: {}, name };
  }
  return { data: parsed as Record<string, unknown>, name };
}

interface Leaf {
  readonly path: readonly string[];
  readonly env: string;
  readonly kind: 'scalar' | 'list' | 'map';
  readonly description: string;
  /** What one element of a list or map must be. */
  readonly itemDescription?: string;
  readonly default?: unknown;
}

const envName = (field: string): string =>
  CONFIG_ENV_PREFIX + field.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');

type SchemaNode = { type?: string; properties?: Record<string, SchemaNode>; items?: SchemaNode; description?: string; default?: unknown };

function leavesOf(node: SchemaNode, at: string[] = []): Leaf[] {
  if (node.type === 'object' && node.properties !== undefined) {
    return Object.entries(node.properties).flatMap(([key, child]) => leavesOf(child, [...at, key]));
  }
  const kind = node.type === 'array' ? 'list' : node.type === 'object' ? 'map' : 'scalar';
  return [{ path: at, env: envName(at.join('.')), kind, description: node.description ?? '', itemDescription: node.items?.description, default: node.default }];
}

const LEAVES = leavesOf(schema as unknown as SchemaNode);

/** Puts every `PLATFORM_*` variable into the data; returns field path → variable. */
function applyEnvironment(data: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>, problems: ConfigProblem[]): Map<string, string> {
  const applied = new Map<string, string>();
  const byEnv = new Map(LEAVES.map((leaf) => [leaf.env, leaf]));
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(CONFIG_ENV_PREFIX) || variable === CONFIG_FILE_ENV || raw === undefined) continue;
    const leaf = byEnv.get(variable);
    if (leaf === undefined) {
      problems.push({ field: '(environment)', env: variable, source: `from ${variable}`, message: `${variable} is not a setting: check its spelling (${suggest(variable)})` });
      continue;
    }
    const field = leaf.path.join('.');
    const value = parseEnvValue(leaf, raw);
    if (typeof value === 'string' && leaf.kind === 'map') {
      problems.push({ field, env: variable, source: `from ${variable}`, message: value });
      continue;
    }
    setPath(data, leaf.path, value);
    applied.set(field, variable);
  }
  return applied;
}

function parseEnvValue(leaf: Leaf, raw: string): unknown {
  const text = raw.trim();
  if (leaf.kind === 'list') return text === '' ? [] : text.split(',').map((item) => item.trim());
  if (leaf.kind === 'map') {
    const entries: [string, string][] = [];
    for (const pair of text.split(',').filter((item) => item.trim() !== '')) {
      const at = pair.indexOf('=');
      if (at <= 0) return `"${pair.trim()}" is not key=value: write tags as Team=data,CostCentre=42`;
      entries.push([pair.slice(0, at).trim(), pair.slice(at + 1).trim()]);
    }
    return Object.fromEntries(entries);
  }
  // An empty variable unsets an optional field; ajv coerces numbers and booleans from text.
  return text === '' ? null : text;
}

function suggest(variable: string): string {
  const wanted = variable.replace(/_/g, '');
  const close = LEAVES.find((leaf) => leaf.env.replace(/_/g, '') === wanted);
  return close !== undefined ? `did you mean ${close.env}?` : `see docs/deploy.md for the list`;
}

function setPath(target: Record<string, unknown>, at: readonly string[], value: unknown): void {
  let node = target;
  for (const key of at.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[at[at.length - 1]!] = value;
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

function describeSchemaError(error: ErrorObject, data: unknown, sourceOf: (field: string) => string): ConfigProblem {
  const at = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'additionalProperties') {
    const unknownKey = (error.params as { additionalProperty: string }).additionalProperty;
    const field = [...at, unknownKey].join('.');
    const known = LEAVES.filter((leaf) => leaf.path.slice(0, at.length).join('.') === at.join('.')).map((leaf) => leaf.path[at.length]);
    return {
      field,
      env: envName(field),
      source: sourceOf(field),
      message: `unknown setting: remove it or use one of ${[...new Set(known)].join(', ')}`,
    };
  }
  // Array items report their index and map entries their key; the field is the list or map.
  const leaf = LEAVES.find((candidate) => candidate.path.join('.') === at.slice(0, candidate.path.length).join('.'));
  const field = leaf?.path.join('.') ?? at.join('.');
  const value = valueAt(data, at);
  const shown = JSON.stringify(value);
  const item = leaf !== undefined && at.length > leaf.path.length;
  const expected = (item ? leaf?.itemDescription : undefined) ?? leaf?.description;
  const fix = expected === undefined || expected === '' ? '' : `; expected ${expected}`;
  let message: string;
  if (error.keyword === 'enum') message = `${shown} is not allowed: use one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  else if (error.keyword === 'pattern') message = `${shown} is malformed${fix}`;
  else if (error.keyword === 'propertyNames') message = `the key is malformed${fix}`;
  else message = `${error.message ?? 'is invalid'}${value === undefined ? '' : ` (got ${shown})`}${fix}`;
  return { field: field || '(file)', env: envName(field), source: sourceOf(field), message };
}

/** A copy with unknown keys removed and every failing field reset to its default (or unset). */
function repaired(data: unknown, errors: readonly ErrorObject[]): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return {};
  const copy = structuredClone(data) as Record<string, unknown>;
  for (const error of errors) {
    const at = error.instancePath.split('/').filter(Boolean);
    if (error.keyword === 'additionalProperties') {
      removePath(copy, [...at, (error.params as { additionalProperty: string }).additionalProperty]);
      continue;
    }
    // Array items report their index; the field is the array.
    const field = at.slice(0, at.findIndex((part) => /^\d+$/.test(part)) >>> 0);
    removePath(copy, field);
  }
  return copy;
}

function removePath(target: Record<string, unknown>, at: readonly string[]): void {
  const parent = valueAt(target, at.slice(0, -1));
  if (typeof parent === 'object' && parent !== null && at.length > 0) delete (parent as Record<string, unknown>)[at[at.length - 1]!];
}

function valueAt(data: unknown, at: readonly string[]): unknown {
  return at.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), data);
}

/** Rules that involve more than one field, or more than a pattern can say. */
function crossFieldProblems(config: PlatformConfig): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const { backend, network, cluster, scaling, web, archive } = config;
  // The schema leaves these optional because they only matter for one backend.
  if (backend.kind === 's3' && backend.bucket === '') {
    problems.push({ field: 'backend.s3.bucket', message: 'the s3 backend needs a state bucket: set backend.s3.bucket (PLATFORM_BACKEND_S3_BUCKET)' });
  }
  if (backend.kind === 'cloud' && backend.organization === '') {
    problems.push({ field: 'backend.cloud.organization', message: 'the cloud backend needs an organisation: set backend.cloud.organization (PLATFORM_BACKEND_CLOUD_ORGANIZATION)' });
  }
  if (backend.kind === 'local' && backend.stateDir.split(/[\\/]/).includes('..')) {
    problems.push({ field: 'backend.local.stateDir', message: 'the state folder must stay inside the project: remove ".." from the path' });
  }
  if (network.sshKeyName !== undefined && network.sshCidr === undefined) {
    problems.push({ field: 'network.sshCidr', message: 'an SSH key pair is set without a source CIDR: set network.sshCidr to your network, e.g. 203.0.113.0/24, or unset network.sshKeyName' });
  }
  if (network.sshCidr !== undefined && network.sshKeyName === undefined) {
    problems.push({ field: 'network.sshKeyName', message: 'an SSH source CIDR is set without a key pair: set network.sshKeyName, or unset network.sshCidr' });
  }
  if (network.sshCidr !== undefined) {
    const cidr = cidrProblem(network.sshCidr);
    if (cidr !== undefined) problems.push({ field: 'network.sshCidr', message: cidr });
    else if (network.sshCidr.endsWith('/0')) {
      problems.push({ field: 'network.sshCidr', message: 'SSH must never be open to the whole internet (/0): use your own network, e.g. 203.0.113.0/24, or Session Manager' });
    }
  }
  const vpcCidr = cidrProblem(network.vpcCidr);
  if (vpcCidr !== undefined) problems.push({ field: 'network.vpcCidr', message: vpcCidr });
  else {
    const prefix = Number(network.vpcCidr.split('/')[1]);
    if (prefix < 16 || prefix > 26) problems.push({ field: 'network.vpcCidr', message: `a VPC prefix must be /16 to /26 (got /${prefix}) to hold two load balancer subnets, e.g. 10.0.0.0/16` });
  }
  if ((network.vpcId === undefined) !== (network.subnetIds.length === 0)) {
    problems.push({
      field: network.vpcId === undefined ? 'network.vpcId' : 'network.subnetIds',
      message: 'an existing VPC needs both network.vpcId and network.subnetIds (at least two subnets in two zones); set both or neither',
    });
  } else if (network.vpcId !== undefined && network.subnetIds.length < 2) {
    problems.push({ field: 'network.subnetIds', message: 'the load balancer needs at least two subnets in two zones: list two or more subnet ids' });
  }
  if (web.domainName !== undefined && network.certificateArn === undefined) {
    problems.push({ field: 'web.domainName', message: 'a domain name needs an HTTPS certificate: set network.certificateArn for it, or unset web.domainName' });
  }
  if (cluster.minInstances > cluster.maxInstances) {
    problems.push({ field: 'cluster.minInstances', message: `must not exceed cluster.maxInstances (${cluster.minInstances} > ${cluster.maxInstances})` });
  }
  if (cluster.memoryLowPercent >= cluster.memoryHighPercent) {
    problems.push({ field: 'cluster.memoryLowPercent', message: `must be below cluster.memoryHighPercent (${cluster.memoryLowPercent} >= ${cluster.memoryHighPercent}), or the alarms fight` });
  }
  if (scaling.cpuLowPercent >= scaling.cpuHighPercent) {
    problems.push({ field: 'scaling.cpuLowPercent', message: `must be below scaling.cpuHighPercent (${scaling.cpuLowPercent} >= ${scaling.cpuHighPercent}), or the alarms fight` });
  }
  if (scaling.minTasks > scaling.maxTasks) {
    problems.push({ field: 'scaling.minTasks', message: `must not exceed scaling.maxTasks (${scaling.minTasks} > ${scaling.maxTasks})` });
  } else if (web.desiredTasks < scaling.minTasks || web.desiredTasks > scaling.maxTasks) {
    problems.push({ field: 'web.desiredTasks', message: `must lie within scaling.minTasks..scaling.maxTasks (${scaling.minTasks}..${scaling.maxTasks}), got ${web.desiredTasks}` });
  }
  if (archive.expireAfterDays !== undefined && archive.expireAfterDays < archive.glacierAfterDays + 90) {
    problems.push({
      field: 'archive.expireAfterDays',
      message: `Glacier keeps (and bills) objects at least 90 days: set it to at least glacierAfterDays + 90 = ${archive.glacierAfterDays + 90}, or unset it`,
    });
  }
  return problems;
}

/** Why a CIDR with a valid shape is still wrong: host bits set. */
function cidrProblem(cidr: string): string | undefined {
  const [address = '', prefixText = ''] = cidr.split('/');
  const prefix = Number(prefixText);
  const value = address.split('.').reduce((total, octet) => total * 256 + Number(octet), 0);
  const hostBits = 2 ** (32 - prefix);
  if (value % hostBits !== 0) {
    const network = value - (value % hostBits);
    const text = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
    return `${cidr} has host bits set: write the network address, ${text}/${prefix}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------

/** Fills defaults that depend on other fields and narrows the backend. */
function resolve(input: ConfigInput): PlatformConfig {
  const { backend, ...rest } = dropNulls(input);
  const base = rest.namePrefix === '' ? 'iot' : rest.namePrefix;
  const resolvedBackend: BackendConfig =
    backend.kind === 's3'
      ? { kind: 's3', bucket: backend.s3.bucket ?? '', keyPrefix: backend.s3.keyPrefix ?? `${base}-platform`, region: backend.s3.region ?? rest.region }
      : backend.kind === 'cloud'
        ? { kind: 'cloud', organization: backend.cloud.organization ?? '', hostname: backend.cloud.hostname, workspacePrefix: backend.cloud.workspacePrefix ?? `${base}-` }
        : { kind: 'local', stateDir: path.posix.normalize(backend.local.stateDir.replace(/\\/g, '/')) };
  return { ...rest, backend: resolvedBackend };
}

/** `null` (an emptied environment variable) means unset. */
function dropNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(dropNulls) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, child]) => child !== null).map(([key, child]) => [key, dropNulls(child)])) as T;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------
// Names and documentation
// ---------------------------------------------------------------------------

/** A resource name with the configured prefix: `acme-iot-things`, or `iot-things` with none. */
export function resourceName(config: Pick<PlatformConfig, 'namePrefix'>, base: string): string {
  return config.namePrefix === '' ? base : `${config.namePrefix}-${base}`;
}

/** Default names of the shared resources, prefixed. */
export function sharedNames(config: Pick<PlatformConfig, 'namePrefix'>): { readonly [K in keyof typeof DEFAULT_NAMES]: string } {
  return Object.fromEntries(Object.entries(DEFAULT_NAMES).map(([key, name]) => [key, resourceName(config, name)])) as {
    [K in keyof typeof DEFAULT_NAMES]: string;
  };
}

export interface ConfigField {
  readonly field: string;
  readonly env: string;
  readonly default: string;
  readonly description: string;
}

/** Every field with its environment variable, default and meaning (for the docs and the tests). */
export function configReference(): ConfigField[] {
  return LEAVES.map((leaf) => ({
    field: leaf.path.join('.'),
    env: leaf.env,
    default: leaf.default === undefined ? '(unset)' : JSON.stringify(leaf.default),
    description: leaf.description,
  }));
}
