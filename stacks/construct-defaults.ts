/**
 * The defaults and limits of every construct, in one module free of cdktf: each construct
 * builds from its part (and re-exports it), and the configuration schema is built from them,
 * so every limit is written once. Keeping cdktf and the provider out of this module keeps
 * loading the configuration fast for the tools and the local platform.
 */
import { ARCHIVE_QUERY_DEFAULTS } from '../handlers/archive-format';
import { DEFAULT_ALERT_COOLDOWN_SECONDS, DEFAULT_FUTURE_TOLERANCE_SECONDS, DEFAULT_HOT_RETENTION_DAYS, DEFAULT_ROLLUP_RETENTION_DAYS, EVENT_SOURCE } from '../handlers/contract';
import type { IntegerRange } from './input-error';

// Image repository
export const IMAGE_REPOSITORY_LIMITS = {
  keepLastImages: { min: 1, max: 1000, default: 10 },
  untaggedExpiryDays: { min: 1, max: 3650, default: 7 },
} as const satisfies Record<string, IntegerRange>;

// Reading stream
export const READING_STREAM_LIMITS = {
  shardCount: { min: 1, max: 500, default: 2 },
  // Kinesis keeps records 24 hours to 365 days.
  retentionHours: { min: 24, max: 8760, default: 24 },
} as const satisfies Record<string, IntegerRange>;

/**
 * Buckets the ingest API packs a batch's readings into (by thing id), each put on one
 * hash key: at most one record per reading, as PutRecords takes at most 500. A bucket
 * lands on one shard, so the stream carries at most this many shards' worth (1 MB/s each).
 * Provisioned streams default to their shard count; on-demand ones to `onDemandDefault`.
 */
export const BATCH_BUCKET_LIMITS = { min: 1, max: 500, onDemandDefault: 16 } as const satisfies IntegerRange & { onDemandDefault: number };

/** The batch buckets of a stream configuration: as set, else the provisioned shard count or the on-demand default. */
export const batchBuckets = (stream: { readonly mode: 'provisioned' | 'on-demand'; readonly shardCount: number; readonly batchBuckets?: number | null }): number =>
  stream.batchBuckets ?? (stream.mode === 'on-demand' ? BATCH_BUCKET_LIMITS.onDemandDefault : stream.shardCount);

/** Age of the oldest unread record (stream-wide and per consumer) that raises the iterator-age alarms, ms. */
export const ITERATOR_AGE_ALARM_MS = 60_000;

// Stream consumers
export const CONSUMER_LIMITS = {
  // The event source mapping's limits for a Kinesis source.
  batchSize: { min: 1, max: 10_000, default: EVENT_SOURCE.batchSize },
  batchWindowSeconds: { min: 0, max: 300, default: EVENT_SOURCE.maximumBatchingWindowSeconds },
  memoryMiB: { min: 128, max: 10_240, default: 512 },
  timeoutSeconds: { min: 3, max: 900, default: 60 },
  alertCooldownSeconds: { min: 0, max: 86_400, default: DEFAULT_ALERT_COOLDOWN_SECONDS },
  hotRetentionDays: { min: 1, max: 36_500, default: DEFAULT_HOT_RETENTION_DAYS },
  futureToleranceSeconds: { min: 0, max: 86_400, default: DEFAULT_FUTURE_TOLERANCE_SECONDS },
} as const satisfies Record<string, IntegerRange>;

// Rollups (handlers/rollup.ts): days each step is kept after its bucket ends
export const ROLLUP_LIMITS = {
  hourRetentionDays: { min: 1, max: 36_500, default: DEFAULT_ROLLUP_RETENTION_DAYS['1h'] },
  dayRetentionDays: { min: 1, max: 36_500 },
} as const satisfies Record<string, IntegerRange>;

// No-data check (stacks/no-data-check.ts)
export const NO_DATA_CHECK_LIMITS = {
  // EventBridge Scheduler's finest rate is one minute.
  intervalMinutes: { min: 1, max: 60, default: 1 },
  memoryMiB: { min: 128, max: 10_240, default: 512 },
  timeoutSeconds: { min: 10, max: 900, default: 60 },
} as const satisfies Record<string, IntegerRange>;

// Recipient groups (stacks/recipient-topics.ts)
/**
 * At most this many groups: the consumers get every group's topic ARN in one environment
 * variable, and a function's variables share 4 KB (one ARN is about 80 characters).
 */
export const MAX_RECIPIENT_GROUPS = 20;
/** SMS numbers in E.164, as SNS takes them: +, country code, number, at most 15 digits. */
export const SMS_NUMBER_PATTERN = '^\\+[1-9][0-9]{6,14}$';

// Ingest API
export const INGEST_API_LIMITS = {
  rateLimit: { min: 1, max: 10_000, default: 1_000 },
  burstLimit: { min: 1, max: 5_000, default: 2_000 },
  quotaPerDay: { min: 1, max: 1_000_000_000, default: 100_000_000 },
} as const satisfies Record<string, IntegerRange>;

// Tables
export const TABLE_LIMITS = {
  readCapacity: { min: 1, max: 40_000, default: 5 },
  writeCapacity: { min: 1, max: 40_000, default: 5 },
} as const satisfies Record<string, IntegerRange>;

// Archive
/** Glacier Flexible Retrieval bills every object for at least this many days. */
export const GLACIER_MINIMUM_DAYS = 90;

/**
 * Where archived objects go after `glacierAfterDays`. Athena reads Glacier Instant Retrieval
 * objects like any other, but skips Glacier Flexible Retrieval ones until they are restored
 * (https://docs.aws.amazon.com/athena/latest/ug/querying-glacier.html), so the default keeps
 * the whole history queryable.
 */
export const COLD_STORAGE_CLASSES = ['GLACIER_IR', 'GLACIER'] as const;
export type ColdStorageClass = (typeof COLD_STORAGE_CLASSES)[number];
export const DEFAULT_COLD_STORAGE_CLASS: ColdStorageClass = 'GLACIER_IR';

export const ARCHIVE_LIMITS = {
  glacierAfterDays: { min: 0, max: 3_650, default: 30 },
  // Deleting earlier than Glacier's minimum only costs the rest of the 90 days.
  expireAfterDays: { min: GLACIER_MINIMUM_DAYS, max: 36_500 },
  // Firehose buffering hints for an S3 destination.
  bufferSeconds: { min: 0, max: 900, default: 300 },
  bufferMiB: { min: 1, max: 128, default: 64 },
} as const satisfies Record<string, IntegerRange>;

// SQL over the archive (stacks/archive-query.ts)
/** Years of partitions Athena may project at most: each projected hour is listed by an unfiltered query. */
export const MAX_PROJECTED_YEARS = 100;
export const ARCHIVE_QUERY_LIMITS = {
  // Athena's smallest per-query cutoff is 10 MB; a whole GB is the smallest this offers.
  maxScanGigabytes: { min: 1, max: 1_000_000, default: ARCHIVE_QUERY_DEFAULTS.maxScanGigabytes },
  resultsExpireDays: { min: 1, max: 3_650, default: ARCHIVE_QUERY_DEFAULTS.resultsExpireDays },
  firstYear: { min: 2_000, max: 2_999, default: ARCHIVE_QUERY_DEFAULTS.firstYear },
  lastYear: { min: 2_000, max: 2_999, default: ARCHIVE_QUERY_DEFAULTS.lastYear },
} as const satisfies Record<string, IntegerRange>;

// Network
export const DEFAULT_VPC_CIDR = '10.0.0.0/16';
/** The load balancer needs two zones; the Auto Scaling group spreads over the same two. */
export const ZONE_COUNT = 2;
/** A VPC may be /16 to /28; two subnets big enough for a load balancer (/27 each) need /26 or larger. */
export const VPC_PREFIX_LENGTH = { min: 16, max: 26 } as const;

// Web capacity
export const DEFAULT_INSTANCE_TYPE = 't3.small';

export const CAPACITY_LIMITS = {
  // Managed scaling starts the first instance when a task waits for one, so the group may be empty.
  minInstances: { min: 0, max: 100, default: 1 },
  maxInstances: { min: 1, max: 100, default: 5 },
  // ECS accepts a target above 0 and at most 100 (ManagedScaling.targetCapacity).
  targetCapacityPercent: { min: 1, max: 100, default: 100 },
  instanceWarmupSeconds: { min: 0, max: 10_000, default: 300 },
} as const satisfies Record<string, IntegerRange>;

/** Instance sizes by family and size (https://aws.amazon.com/ec2/instance-types/): vCPUs and memory, for the task's CPU share and a fit check. */
const BURSTABLE = { micro: [2, 1024], small: [2, 2048], medium: [2, 4096], large: [2, 8192], xlarge: [4, 16_384], '2xlarge': [8, 32_768] } as const;
const MIB_PER_VCPU = { general: 4096, compute: 2048, memory: 8192 } as const;
const FAMILIES: Record<string, keyof typeof MIB_PER_VCPU | 'burstable'> = {
  t3: 'burstable', t3a: 'burstable', t4g: 'burstable',
  m5: 'general', m6i: 'general', m6g: 'general', m7i: 'general', m7g: 'general',
  c5: 'compute', c6i: 'compute', c6g: 'compute', c7i: 'compute', c7g: 'compute',
  r5: 'memory', r6i: 'memory', r6g: 'memory', r7i: 'memory', r7g: 'memory',
};
const VCPUS_BY_SIZE = { large: 2, xlarge: 4, '2xlarge': 8, '4xlarge': 16 } as const;

export interface InstanceSize {
  readonly vcpus: number;
  readonly memoryMiB: number;
}

/** The vCPUs and memory of an instance type, or undefined for a type not in the table. */
export function instanceSize(instanceType: string): InstanceSize | undefined {
  const [family = '', size = ''] = instanceType.split('.');
  const kind = FAMILIES[family];
  if (kind === 'burstable') {
    const entry = (BURSTABLE as Record<string, readonly [number, number]>)[size];
    return entry === undefined ? undefined : { vcpus: entry[0], memoryMiB: entry[1] };
  }
  const vcpus = (VCPUS_BY_SIZE as Record<string, number>)[size];
  return kind === undefined || vcpus === undefined ? undefined : { vcpus, memoryMiB: vcpus * MIB_PER_VCPU[kind] };
}

/** Instance types the table knows, for error messages. */
export function knownInstanceTypes(): string[] {
  return Object.entries(FAMILIES).flatMap(([family, kind]) => Object.keys(kind === 'burstable' ? BURSTABLE : VCPUS_BY_SIZE).map((size) => `${family}.${size}`));
}

/** CPU units a task reserves by default: the same share of the instance's CPU as of its memory, so CPU and memory fill an instance together. */
export function defaultCpuUnits(instance: InstanceSize, taskMemoryMiB: number): number {
  const total = instance.vcpus * 1024;
  return Math.min(total, Math.max(128, Math.floor((total * taskMemoryMiB) / instance.memoryMiB)));
}

/** Graviton families carry a `g` among the letters after the generation digit (t4g, m7gd, c6gn); a1 is the first. */
export function instanceArchitecture(instanceType: string): 'x86_64' | 'arm64' {
  const family = instanceType.split('.')[0] ?? '';
  return family === 'a1' || /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) ? 'arm64' : 'x86_64';
}

// Web service
export const WEB_SERVICE_LIMITS = {
  containerPort: { min: 1, max: 65_535, default: 5_000 },
  memoryMiB: { min: 128, max: 30_720, default: 900 },
  // At most what the largest instance in the table offers (8 vCPUs); the configuration checks the chosen one.
  cpuUnits: { min: 128, max: 8 * 1024 },
  desiredTasks: { min: 1, max: 100, default: 1 },
} as const satisfies Record<string, IntegerRange>;

// Service scaling
export const SERVICE_SCALING_LIMITS = {
  minTasks: { min: 1, max: 100, default: 1 },
  maxTasks: { min: 1, max: 100, default: 5 },
  // The low threshold must stay below the high one, so each leaves the other room.
  cpuHighPercent: { min: 2, max: 100, default: 40 },
  cpuLowPercent: { min: 1, max: 99, default: 10 },
  cooldownSeconds: { min: 0, max: 3_600, default: 300 },
} as const satisfies Record<string, IntegerRange>;

// Email subscriptions
/** The construct id of an address's email subscription: named after the address, so removing one address leaves the others alone. */
export function emailSubscriptionId(email: string): string {
  return `email-${email.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}
