/**
 * The platform's configuration: one typed module, read from a JSON file and/or
 * environment variables, validated in full at synth.
 *
 * Sources, later ones winning per field:
 *   1. the defaults, which each construct exports with its limits (the schema below is built from them);
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
import { DEFAULT_NAMES, RECIPIENT_GROUP_PATTERN } from '../handlers/contract';
import { crossFieldProblems } from './config-rules';
import {
  ARCHIVE_LIMITS,
  BATCH_BUCKET_LIMITS,
  ARCHIVE_QUERY_LIMITS,
  COLD_STORAGE_CLASSES,
  DEFAULT_COLD_STORAGE_CLASS,
  type ColdStorageClass,
  CAPACITY_LIMITS,
  CONSUMER_LIMITS,
  DEFAULT_INSTANCE_TYPE,
  DEFAULT_VPC_CIDR,
  GLACIER_MINIMUM_DAYS,
  IMAGE_REPOSITORY_LIMITS,
  INGEST_API_LIMITS,
  MAX_RECIPIENT_GROUPS,
  NO_DATA_CHECK_LIMITS,
  SMS_NUMBER_PATTERN,
  READING_STREAM_LIMITS,
  ROLLUP_LIMITS,
  SERVICE_SCALING_LIMITS,
  TABLE_LIMITS,
  VPC_PREFIX_LENGTH,
  WEB_SERVICE_LIMITS,
  knownInstanceTypes,
} from './construct-defaults';
import { InputError, type IntegerRange } from './input-error';
import { PROJECT_ROOT } from '../build/project-root';

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
export type SignInProvider = 'cognito' | 'oidc' | 'none';

/** The subscribers of one recipient group: an SNS topic of its own. */
interface RecipientGroupInput {
  emails: string[];
  sms: string[];
  webhooks: string[];
}

/** The file's shape, every field optional; `resolveConfig` turns it into `PlatformConfig`. */
interface ConfigInput {
  namePrefix: string;
  region: string;
  tags: Record<string, string>;
  logRetentionDays: number;
  allowDestroy?: boolean;
  backend: {
    kind: BackendKind;
    local: { stateDir: string };
    s3: { bucket?: string; keyPrefix?: string; region?: string };
    cloud: { organization?: string; hostname: string; workspacePrefix?: string };
  };
  repository: { keepLastImages: number; untaggedExpiryDays: number; immutableTags: boolean };
  stream: { mode: StreamMode; shardCount: number; retentionHours: number; batchBuckets?: number };
  consumers: { batchSize: number; batchWindowSeconds: number; memoryMiB: number; timeoutSeconds: number; futureToleranceSeconds: number };
  api: { rateLimit: number; burstLimit: number; quotaPerDay: number; manageAccountLoggingRole: boolean };
  tables: { billingMode: BillingMode; readCapacity: number; writeCapacity: number; deletionProtection: boolean; hotRetentionDays?: number };
  rollups: { hourRetentionDays?: number; dayRetentionDays?: number };
  alerts: { emails: string[]; cooldownSeconds: number; noDataCheckMinutes: number; recipientGroups: Record<string, RecipientGroupInput> };
  operations: { emails: string[] };
  archive: { coldStorageClass: ColdStorageClass; glacierAfterDays: number; expireAfterDays?: number; bufferSeconds: number; bufferMiB: number };
  query: { maxScanGigabytes: number; resultsExpireDays: number; firstYear: number; lastYear: number };
  network: { vpcCidr: string; vpcId?: string; subnetIds: string[]; sshKeyName?: string; sshCidr?: string; certificateArn?: string };
  cluster: { instanceType: string; minInstances: number; maxInstances: number; targetCapacityPercent: number; instanceWarmupSeconds: number };
  web: {
    imageTag: string;
    containerPort: number;
    memoryMiB: number;
    cpuUnits?: number;
    healthCheckPath: string;
    desiredTasks: number;
    domainName?: string;
    allowedCidrs: string[];
    signIn: {
      provider: SignInProvider;
      users: string[];
      domainPrefix?: string;
      oidc: { issuer?: string; authorizationEndpoint?: string; tokenEndpoint?: string; userInfoEndpoint?: string; clientId?: string; clientSecretParameter?: string };
    };
  };
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
/** An integer field whose range and default come from the construct that uses it. */
const integer = (description: string, range: IntegerRange & { default: number }) =>
  ({ type: 'integer', description: `${description}, ${range.min} to ${range.max}`, minimum: range.min, maximum: range.max, default: range.default }) as const;
const optionalInteger = (description: string, range: IntegerRange) =>
  ({ type: 'integer', nullable: true, description: `${description}, ${range.min} to ${range.max}`, minimum: range.min, maximum: range.max }) as const;
/** Days something is kept: a number with a default, or null in the file (empty in the environment) for ever. */
const retentionDays = (description: string, range: IntegerRange & { default: number }) =>
  ({
    type: 'integer',
    nullable: true,
    description: `${description}, ${range.min} to ${range.max}; null in the file (empty in the environment) keeps them for ever`,
    minimum: range.min,
    maximum: range.max,
    default: range.default,
  }) as const;
const httpsUrl = (description: string) => optionalString(description, { pattern: '^https://[^\\s/]+(/\\S*)?$', maxLength: 2048 });
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
    'tables', 'rollups', 'alerts', 'operations', 'archive', 'query', 'network', 'cluster', 'web', 'scaling',
  ],
  properties: {
    namePrefix: string('prefix for every resource name ("" keeps the plain names such as "iot-things"; "acme" gives "acme-iot-things"): lower-case letters, digits and "-", at most 16 characters, starting with a letter other than "aws", "ecs" or "fargate"', {
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
    allowDestroy: {
      type: 'boolean',
      nullable: true,
      default: false,
      description: 'lift prevent_destroy from the tables, stream, bucket, keys, queue and repository for a deliberate teardown (true/false); synth warns for each while it is on',
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
        keepLastImages: integer('images the lifecycle policy keeps', IMAGE_REPOSITORY_LIMITS.keepLastImages),
        untaggedExpiryDays: integer('days after which untagged images expire', IMAGE_REPOSITORY_LIMITS.untaggedExpiryDays),
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
        shardCount: integer('shards of the provisioned stream (each takes 1 MB/s or 1,000 records/s in)', READING_STREAM_LIMITS.shardCount),
        retentionHours: integer('hours the stream keeps records', READING_STREAM_LIMITS.retentionHours),
        batchBuckets: optionalInteger(
          `buckets the batch endpoint packs readings into by thing id, each on one hash key and so one shard (the stream carries at most this many MB/s); unset: the shard count when provisioned, ${BATCH_BUCKET_LIMITS.onDemandDefault} on demand`,
          BATCH_BUCKET_LIMITS,
        ),
      },
    },
    consumers: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['batchSize', 'batchWindowSeconds', 'memoryMiB', 'timeoutSeconds', 'futureToleranceSeconds'],
      properties: {
        batchSize: integer('records per Lambda batch', CONSUMER_LIMITS.batchSize),
        batchWindowSeconds: integer('seconds a mapping may wait to fill a batch', CONSUMER_LIMITS.batchWindowSeconds),
        memoryMiB: integer('memory of each consumer function in MiB', CONSUMER_LIMITS.memoryMiB),
        timeoutSeconds: integer('timeout of each consumer function in seconds', CONSUMER_LIMITS.timeoutSeconds),
        futureToleranceSeconds: integer('seconds a reading may be dated ahead of its arrival on the stream; later ones go to the failure queue', CONSUMER_LIMITS.futureToleranceSeconds),
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['rateLimit', 'burstLimit', 'quotaPerDay', 'manageAccountLoggingRole'],
      properties: {
        rateLimit: integer('steady requests per second allowed per API key and on the stage', INGEST_API_LIMITS.rateLimit),
        burstLimit: integer('burst of requests allowed above the rate', INGEST_API_LIMITS.burstLimit),
        quotaPerDay: integer('requests per day allowed per API key', INGEST_API_LIMITS.quotaPerDay),
        manageAccountLoggingRole: {
          type: 'boolean',
          default: true,
          description:
            "set the region's API Gateway CloudWatch logging role (true/false). It is one setting for every REST API of the account in the region: set false when the account already has one, or this stack replaces it",
        },
      },
    },
    tables: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['billingMode', 'readCapacity', 'writeCapacity', 'deletionProtection'],
      properties: {
        billingMode: { type: 'string', enum: ['on-demand', 'provisioned'], default: 'on-demand', description: 'DynamoDB capacity: on-demand or provisioned' },
        readCapacity: integer('read capacity units per table in provisioned mode', TABLE_LIMITS.readCapacity),
        writeCapacity: integer('write capacity units per table in provisioned mode', TABLE_LIMITS.writeCapacity),
        deletionProtection: { type: 'boolean', default: true, description: 'DynamoDB deletion protection on every table (true/false)' },
        hotRetentionDays: retentionDays('days raw readings stay in DynamoDB, from their own time, before TTL deletes them (older ones live on as rollups and in the archive)', CONSUMER_LIMITS.hotRetentionDays),
      },
    },
    rollups: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: [],
      properties: {
        hourRetentionDays: retentionDays('days hourly rollups, with the minutes they hold, stay after their hour ends', ROLLUP_LIMITS.hourRetentionDays),
        dayRetentionDays: optionalInteger('days daily rollups stay after their day ends, at least rollups.hourRetentionDays (unset: kept for ever)', ROLLUP_LIMITS.dayRetentionDays),
      },
    },
    alerts: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['emails', 'cooldownSeconds', 'noDataCheckMinutes', 'recipientGroups'],
      properties: {
        emails: emails('addresses of the default recipient group: they receive the alerts of every rule that names no group (env: comma-separated)'),
        cooldownSeconds: integer('seconds between reminders while a metric stays out of range', CONSUMER_LIMITS.alertCooldownSeconds),
        noDataCheckMinutes: integer('minutes between checks for series that stopped reporting (no-data rules)', NO_DATA_CHECK_LIMITS.intervalMinutes),
        recipientGroups: {
          type: 'object',
          description: `recipient groups that rules can name (thresholds --recipients), each an SNS topic of its own: {"plant-7": {"emails": [...], "sms": ["+441632960000"], "webhooks": ["https://..."]}} (env: the same JSON); at most ${MAX_RECIPIENT_GROUPS}`,
          required: [],
          maxProperties: MAX_RECIPIENT_GROUPS,
          propertyNames: { pattern: RECIPIENT_GROUP_PATTERN },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            description: 'a group: {"emails": [...], "sms": [...], "webhooks": [...]}, each list optional, at least one subscriber',
            required: ['emails', 'sms', 'webhooks'],
            properties: {
              emails: emails('addresses that receive the group\'s alerts'),
              sms: {
                type: 'array',
                description: 'phone numbers that receive the alert\'s one-line subject by SMS',
                items: { type: 'string', pattern: SMS_NUMBER_PATTERN, description: 'a phone number in E.164 form such as +441632960000' },
                uniqueItems: true,
                default: [] as string[],
              },
              webhooks: {
                type: 'array',
                description: 'HTTPS endpoints that receive each alert as JSON (an SNS notification; the endpoint confirms the subscription first)',
                items: { type: 'string', pattern: '^https://[^\\s/]+(/\\S*)?$', maxLength: 2048, description: 'an https:// URL' },
                uniqueItems: true,
                default: [] as string[],
              },
            },
          },
          default: {},
        },
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
      required: ['coldStorageClass', 'glacierAfterDays', 'bufferSeconds', 'bufferMiB'],
      properties: {
        coldStorageClass: {
          type: 'string',
          enum: [...COLD_STORAGE_CLASSES],
          default: DEFAULT_COLD_STORAGE_CLASS,
          description: 'S3 storage class archived objects move to: GLACIER_IR (Instant Retrieval: SQL keeps reading them) or GLACIER (Flexible Retrieval: 10 % cheaper to keep, but SQL skips them until restored)',
        },
        glacierAfterDays: integer('days before archived objects move to the cold storage class', ARCHIVE_LIMITS.glacierAfterDays),
        expireAfterDays: optionalInteger(`days before archived objects are deleted (unset: kept for ever); at least glacierAfterDays + ${GLACIER_MINIMUM_DAYS}`, ARCHIVE_LIMITS.expireAfterDays),
        bufferSeconds: integer('seconds Firehose buffers before writing an object', ARCHIVE_LIMITS.bufferSeconds),
        bufferMiB: integer('MiB Firehose buffers before writing an object', ARCHIVE_LIMITS.bufferMiB),
      },
    },
    query: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['maxScanGigabytes', 'resultsExpireDays', 'firstYear', 'lastYear'],
      properties: {
        maxScanGigabytes: integer('GB (10^9 bytes) one Athena query may scan before Athena cancels it', ARCHIVE_QUERY_LIMITS.maxScanGigabytes),
        resultsExpireDays: integer('days Athena query results stay in their bucket', ARCHIVE_QUERY_LIMITS.resultsExpireDays),
        firstYear: integer('first year of archived readings SQL can see (arrival time, UTC)', ARCHIVE_QUERY_LIMITS.firstYear),
        lastYear: integer('last year of archived readings SQL can see; every year projected adds to unfiltered queries', ARCHIVE_QUERY_LIMITS.lastYear),
      },
    },
    network: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['vpcCidr', 'subnetIds'],
      properties: {
        vpcCidr: string(`CIDR of the VPC the stack creates, e.g. 10.0.0.0/16 (prefix /${VPC_PREFIX_LENGTH.min} to /${VPC_PREFIX_LENGTH.max}, room for two load balancer subnets)`, {
          pattern: IPV4_CIDR_PATTERN,
          default: DEFAULT_VPC_CIDR,
        }),
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
        certificateArn: optionalString('ACM certificate for web.domainName: the load balancer serves HTTPS with sign-in (HTTP redirects), e.g. arn:aws:acm:eu-west-2:123456789012:certificate/...', {
          pattern: '^arn:aws[a-z-]*:acm:[a-z0-9-]+:\\d{12}:certificate/[A-Za-z0-9-]+$',
        }),
      },
    },
    cluster: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['instanceType', 'minInstances', 'maxInstances', 'targetCapacityPercent', 'instanceWarmupSeconds'],
      properties: {
        instanceType: string(
          `EC2 instance type of the cluster, e.g. t3.small; Graviton types such as t4g.small need an arm64 image. Types outside the built-in table (${[...new Set(knownInstanceTypes().map((type) => type.split('.')[0]))].join(', ')}) need web.cpuUnits`,
          { pattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$', default: DEFAULT_INSTANCE_TYPE },
        ),
        minInstances: integer('fewest cluster instances (0: none while no task runs)', CAPACITY_LIMITS.minInstances),
        maxInstances: integer('most cluster instances', CAPACITY_LIMITS.maxInstances),
        targetCapacityPercent: integer('share of the instances the tasks should reserve before ECS adds one; below 100 keeps room so a new task starts at once', CAPACITY_LIMITS.targetCapacityPercent),
        instanceWarmupSeconds: integer('seconds a new instance runs before its figures count for scaling', CAPACITY_LIMITS.instanceWarmupSeconds),
      },
    },
    web: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['imageTag', 'containerPort', 'memoryMiB', 'healthCheckPath', 'desiredTasks', 'allowedCidrs', 'signIn'],
      properties: {
        imageTag: string('tag of the web image in the repository, e.g. latest or 2024-06-01; each deploy runs the image the tag names then (by digest)', {
          pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$',
          default: 'latest',
        }),
        containerPort: integer('port the web container listens on', WEB_SERVICE_LIMITS.containerPort),
        memoryMiB: integer('memory reserved per web task in MiB (it must fit on one instance)', WEB_SERVICE_LIMITS.memoryMiB),
        cpuUnits: optionalInteger('CPU units reserved per web task, 1024 = one vCPU (unset: the share of the instance\'s CPU that matches the task\'s share of its memory)', WEB_SERVICE_LIMITS.cpuUnits),
        // Liveness, not readiness: a DynamoDB outage must not get every web task replaced (docs/web.md).
        healthCheckPath: string('path the load balancer checks (liveness: never touches DynamoDB), starting with /', { pattern: '^/[A-Za-z0-9/_.-]*$', default: '/livez' }),
        desiredTasks: integer('web tasks started at first deploy (then the scaling stack decides)', WEB_SERVICE_LIMITS.desiredTasks),
        domainName: optionalString('host name users open, covered by network.certificateArn (both or neither), e.g. iot.example.com; point it at the load balancer', {
          pattern: '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$',
        }),
        allowedCidrs: {
          type: 'array',
          description: 'IPv4 networks that may reach the web app, e.g. 203.0.113.0/24 (env: comma-separated); empty: the internet with sign-in (certificate set), nobody without',
          items: { type: 'string', pattern: IPV4_CIDR_PATTERN, description: 'an IPv4 CIDR such as 203.0.113.0/24' },
          uniqueItems: true,
          default: [],
        },
        signIn: {
          type: 'object',
          additionalProperties: false,
          default: EMPTY_SECTION,
          required: ['provider', 'users', 'oidc'],
          properties: {
            provider: {
              type: 'string',
              enum: ['cognito', 'oidc', 'none'],
              default: 'cognito',
              description: 'who signs users in at the load balancer (with a certificate): cognito (a user pool the stack creates), oidc (your OpenID Connect provider) or none (only web.allowedCidrs protects the app)',
            },
            users: emails('addresses the Cognito user pool invites by email, each with a temporary password (env: comma-separated)'),
            domainPrefix: optionalString('prefix of the Cognito sign-in domain <prefix>.auth.<region>.amazoncognito.com, unique in the region (default: <name prefix>-iot-web-<account id>)', {
              pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
            }),
            oidc: {
              type: 'object',
              additionalProperties: false,
              default: EMPTY_SECTION,
              required: [],
              properties: {
                issuer: httpsUrl('OpenID Connect issuer, e.g. https://login.example.com'),
                authorizationEndpoint: httpsUrl('the provider\'s authorization endpoint'),
                tokenEndpoint: httpsUrl('the provider\'s token endpoint'),
                userInfoEndpoint: httpsUrl('the provider\'s user info endpoint'),
                clientId: optionalString('client id registered at the provider, with the redirect URL https://<web.domainName>/oauth2/idpresponse', { minLength: 1, maxLength: 256 }),
                clientSecretParameter: optionalString('name of the SSM SecureString parameter holding the client secret, e.g. /iot/web/oidc-client-secret', {
                  pattern: '^[A-Za-z0-9_./-]{1,2048}$',
                }),
              },
            },
          },
        },
      },
    },
    scaling: {
      type: 'object',
      additionalProperties: false,
      default: EMPTY_SECTION,
      required: ['minTasks', 'maxTasks', 'cpuHighPercent', 'cpuLowPercent', 'cooldownSeconds', 'cpuMetric'],
      properties: {
        minTasks: integer('fewest web tasks', SERVICE_SCALING_LIMITS.minTasks),
        maxTasks: integer('most web tasks', SERVICE_SCALING_LIMITS.maxTasks),
        cpuHighPercent: integer('average CPU (% of what the tasks reserve) that adds a task', SERVICE_SCALING_LIMITS.cpuHighPercent),
        cpuLowPercent: integer('average CPU (% of what the tasks reserve) that removes a task', SERVICE_SCALING_LIMITS.cpuLowPercent),
        cooldownSeconds: integer('seconds between task scaling actions', SERVICE_SCALING_LIMITS.cooldownSeconds),
        cpuMetric: {
          type: 'string',
          enum: ['service', 'instances'],
          default: 'service',
          description: 'CPU the task alarms watch: service (the web service\'s CPU against what its tasks reserve) or instances (the cluster instances\' CPU)',
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

export class ConfigError extends InputError {
  constructor(override readonly problems: readonly ConfigProblem[]) {
    super(
      'Invalid platform configuration',
      problems,
      problems.map((problem) => `  - ${problem.field} (${problem.source}): ${problem.message}`),
      `Set fields in ${DEFAULT_CONFIG_FILE} (or the file named by ${CONFIG_FILE_ENV}) or as ${CONFIG_ENV_PREFIX}<FIELD> environment variables.`,
    );
    this.name = 'ConfigError';
  }
}

/** Fields that existed once, with what replaced them (a file written for an older version gets this instead of "unknown setting"). */
const RETIRED_FIELDS: Readonly<Record<string, string>> = {
  'cluster.memoryHighPercent': 'ECS managed scaling now adds instances (it also counts tasks waiting for room, which memory reservation never did): remove it and set cluster.targetCapacityPercent if you want spare room (docs/deploy.md, "Instance scaling")',
  'cluster.memoryLowPercent': 'ECS managed scaling now removes idle instances, draining them first: remove it (docs/deploy.md, "Instance scaling")',
  'cluster.cooldownSeconds': 'ECS managed scaling has no cooldown: remove it, and use cluster.instanceWarmupSeconds for how long a new instance runs before it counts',
  'rollups.minuteRetentionDays': "minute rollups are parts of their hour's item and stay as long as it: remove it (rollups.hourRetentionDays sets both)",
};

export interface LoadConfigOptions {
  /** Environment to read; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Folder `platform.config.json` is looked for in; defaults to the project root. */
  readonly projectRoot?: string;
  /** Folder a relative `PLATFORM_CONFIG` is resolved against; defaults to the current directory. */
  readonly cwd?: string;
}


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
    // A key failing `propertyNames` is reported twice by ajv (its pattern, then the key): once is enough.
    for (const error of errors.filter((candidate) => candidate.propertyName === undefined || candidate.keyword === 'propertyNames')) problems.push(describeSchemaError(error, data, sourceOf));
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
  /** `json`: a map of objects, given in its variable as the JSON the file would hold. */
  readonly kind: 'scalar' | 'list' | 'map' | 'json';
  readonly description: string;
  /** What one element of a list or map must be. */
  readonly itemDescription?: string;
  readonly default?: unknown;
  /** The lowest and highest value of a numeric field. */
  readonly range?: { readonly min: number; readonly max: number };
}

const envName = (field: string): string =>
  CONFIG_ENV_PREFIX + field.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');

type SchemaNode = {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
};

/** The schema of the value at `at` (object keys, map entries and array items followed). */
function schemaAt(at: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema as unknown as SchemaNode;
  for (const key of at) {
    if (node === undefined) return undefined;
    node = node.properties?.[key] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined) ?? (/^\d+$/.test(key) ? node.items : undefined);
  }
  return node;
}

function rangeOf(node: SchemaNode): Leaf['range'] {
  if (node.minimum !== undefined && node.maximum !== undefined) return { min: node.minimum, max: node.maximum };
  const values = node.type === 'integer' ? (node.enum ?? []).filter((value): value is number => typeof value === 'number') : [];
  return values.length > 0 ? { min: Math.min(...values), max: Math.max(...values) } : undefined;
}

function leavesOf(node: SchemaNode, at: string[] = []): Leaf[] {
  if (node.type === 'object' && node.properties !== undefined) {
    return Object.entries(node.properties).flatMap(([key, child]) => leavesOf(child, [...at, key]));
  }
  const objects = typeof node.additionalProperties === 'object' && node.additionalProperties.type === 'object';
  const kind = node.type === 'array' ? 'list' : node.type === 'object' ? (objects ? 'json' : 'map') : 'scalar';
  return [{ path: at, env: envName(at.join('.')), kind, description: node.description ?? '', itemDescription: node.items?.description, default: node.default, range: rangeOf(node) }];
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
      const retired = Object.entries(RETIRED_FIELDS).find(([field]) => envName(field) === variable);
      problems.push(
        retired === undefined
          ? { field: '(environment)', env: variable, source: `from ${variable}`, message: `${variable} is not a setting: check its spelling (${suggest(variable)})` }
          : { field: retired[0], env: variable, source: `from ${variable}`, message: `no longer a setting: ${retired[1]}` },
      );
      continue;
    }
    const field = leaf.path.join('.');
    const value = parseEnvValue(leaf, raw);
    if (typeof value === 'string' && (leaf.kind === 'map' || leaf.kind === 'json')) {
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
  if (leaf.kind === 'json') {
    if (text === '') return {};
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      return `is not JSON (${(error as Error).message}): write the object as the configuration file would hold it`;
    }
  }
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
    const retired = RETIRED_FIELDS[field];
    if (retired !== undefined) return { field, env: envName(field), source: sourceOf(field), message: `no longer a setting: ${retired}` };
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
  // Inside a map of objects, the description of the exact part at fault (a group's SMS number).
  const inside = leaf?.kind === 'json' && at.length > leaf.path.length + 1 ? schemaAt(at)?.description : undefined;
  const expected = inside ?? (item ? leaf?.itemDescription : undefined) ?? leaf?.description;
  const fix = expected === undefined || expected === '' ? '' : `; expected ${expected}`;
  let message: string;
  if (error.keyword === 'enum') message = `${shown} is not allowed: use one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  else if (error.keyword === 'pattern') message = `${shown} is malformed${fix}`;
  else if (error.keyword === 'propertyNames') message = `the key ${JSON.stringify((error.params as { propertyName?: string }).propertyName ?? '')} is malformed${fix}`;
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
  /** The lowest and highest value, for numeric fields. */
  readonly range?: { readonly min: number; readonly max: number };
}

/** Every field with its environment variable, default and meaning (for the docs and the tests). */
export function configReference(): ConfigField[] {
  return LEAVES.map((leaf) => ({
    field: leaf.path.join('.'),
    env: leaf.env,
    default: leaf.default === undefined ? '(unset)' : JSON.stringify(leaf.default),
    description: leaf.description,
    ...(leaf.range === undefined ? {} : { range: leaf.range }),
  }));
}
