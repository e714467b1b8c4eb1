/**
 * Names and settings shared by the stacks, the handlers, the web app and the tools. The
 * local platform takes them from the synthesized stack, so it follows a change here too.
 */

/** Default resource names; the stacks prefix them with the configured name prefix. */
export const DEFAULT_NAMES = {
  thingsTable: 'iot-things',
  thresholdsTable: 'iot-thresholds',
  alertsTable: 'iot-alerts',
  seriesTable: 'iot-series',
  rollupsTable: 'iot-rollups',
  stream: 'iot-readings',
  alertTopic: 'iot-alerts',
  failureQueue: 'iot-consumer-failures',
} as const;

/** Attribute names of the table items. */
export const ATTRIBUTES = {
  series: 'ThingID',
  timestamp: 'Timestamp',
  value: 'Value',
  expiresAt: 'ExpiresAt',
  minThreshold: 'MinThreshold',
  maxThreshold: 'MaxThreshold',
  latestTimestamp: 'LatestTimestamp',
  latestValue: 'LatestValue',
  /** Series catalogue: the series' open minute (that of `LatestTimestamp`) is written to its rollups; removed by each newer reading. */
  openMinuteClosed: 'OpenMinuteClosed',
  /** Range key of the rollups table: `<step>#<bucket start>`, e.g. `1h#2026-11-30T18:00:00Z` (hours and days; minutes are parts of their hour). */
  bucket: 'Bucket',
} as const;

/**
 * The alerts table's index of alerts across the fleet (alert-episode-item.ts writes its keys):
 * only the notice that opens an alert carries them, so the index is sparse. Its partitions
 * are `<state>#<kind>` (six of them), its sort key `<opened at>#<series>`, so "newest
 * alerts in these states" is one Query per partition asked for.
 */
export const FLEET_INDEX = { name: 'fleet', hashKey: 'FleetKey', rangeKey: 'FleetSort' } as const;

/** A global secondary index: its keys are string attributes, and it projects whole items. */
export interface IndexDefinition {
  readonly name: string;
  readonly hashKey: string;
  readonly rangeKey?: string;
}

export interface TableDefinition {
  readonly hashKey: string;
  readonly rangeKey?: string;
  /** Attribute DynamoDB deletes expired items by (epoch seconds). */
  readonly ttlAttribute?: string;
  readonly indexes?: readonly IndexDefinition[];
}

/** Key schema of each table; every key attribute is a string. */
export const TABLES = {
  things: { hashKey: ATTRIBUTES.series, rangeKey: ATTRIBUTES.timestamp, ttlAttribute: ATTRIBUTES.expiresAt },
  thresholds: { hashKey: ATTRIBUTES.series },
  alerts: { hashKey: ATTRIBUTES.series, rangeKey: ATTRIBUTES.timestamp, ttlAttribute: ATTRIBUTES.expiresAt, indexes: [FLEET_INDEX] },
  /**
   * The series catalogue: one item per `ThingID` with its latest reading, kept by the
   * store handler, so listing series costs as much as there are series, not readings.
   */
  series: { hashKey: ATTRIBUTES.series },
  /**
   * Per series and per minute, hour and day: count, min, max, sum, first and last time,
   * kept by the store handler as it stores readings (handlers/rollup.ts), so any range
   * is one Query at one step.
   */
  rollups: { hashKey: ATTRIBUTES.series, rangeKey: ATTRIBUTES.bucket, ttlAttribute: ATTRIBUTES.expiresAt },
} as const satisfies Record<string, TableDefinition>;

/** Environment variables the handlers read, set by the stack (the local platform runs each function with exactly its stack variables). */
export const HANDLER_ENV = {
  thingsTable: 'THINGS_TABLE',
  thresholdsTable: 'THRESHOLDS_TABLE',
  alertsTable: 'ALERTS_TABLE',
  seriesTable: 'SERIES_TABLE',
  rollupsTable: 'ROLLUPS_TABLE',
  alertTopicArn: 'ALERT_TOPIC_ARN',
  failureQueueUrl: 'FAILURE_QUEUE_URL',
  alertCooldownSeconds: 'ALERT_COOLDOWN_SECONDS',
  hotRetentionDays: 'HOT_RETENTION_DAYS',
  hourRollupRetentionDays: 'HOUR_ROLLUP_RETENTION_DAYS',
  dayRollupRetentionDays: 'DAY_ROLLUP_RETENTION_DAYS',
  futureToleranceSeconds: 'FUTURE_TOLERANCE_SECONDS',
  /** JSON object: recipient group name → SNS topic ARN, for groups other than the default one. */
  recipientTopicArns: 'ALERT_RECIPIENT_TOPIC_ARNS',
} as const;

/** Days raw readings and each step of rollups are kept; undefined: for ever. */
export interface RetentionDays {
  readonly raw?: number;
  readonly hour?: number;
  readonly day?: number;
}

/** The handler variables of the retentions that are set (the store consumer's, and the web app's for `step=auto`). */
export function retentionEnvironment(days: RetentionDays): Record<string, string> {
  const variables = {
    [HANDLER_ENV.hotRetentionDays]: days.raw,
    [HANDLER_ENV.hourRollupRetentionDays]: days.hour,
    [HANDLER_ENV.dayRollupRetentionDays]: days.day,
  };
  return Object.fromEntries(Object.entries(variables).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])));
}
/** Environment variables of the web app that say who may change things (web/identity.ts). */
export const IDENTITY_ENV = { mode: 'WEB_USER_IDENTITY', loadBalancerArn: 'WEB_LOAD_BALANCER_ARN' } as const;

export const DEFAULT_ALERT_COOLDOWN_SECONDS = 900;

/** The recipient group a rule without one names: the alert topic every deployment has. */
export const DEFAULT_RECIPIENT_GROUP = 'default';
/** Recipient group names: they name SNS topics, and the configuration and rules must agree on them. */
export const RECIPIENT_GROUP_PATTERN = '^[a-z][a-z0-9-]{0,31}$';

/**
 * Days raw readings stay in the things table (TTL from each reading's own time). Older
 * readings live on as rollups (below) and in the S3 archive, which SQL reads.
 */
export const DEFAULT_HOT_RETENTION_DAYS = 30;

/**
 * Days the rollups of each step stay, counted from the end of their bucket; undefined
 * keeps them for ever. Minutes are parts of their hour's item, so they stay as long as it;
 * hours never outlive their day (the configuration checks it).
 */
const DEFAULT_HOUR_ROLLUP_RETENTION_DAYS = 1_095;
export const DEFAULT_ROLLUP_RETENTION_DAYS = { '1m': DEFAULT_HOUR_ROLLUP_RETENTION_DAYS, '1h': DEFAULT_HOUR_ROLLUP_RETENTION_DAYS, '1d': undefined } as const;

/**
 * How far ahead of its arrival on the stream a reading may be dated: room for sensor
 * clocks that run a little fast, far too little for a wrong clock (or a year-9999 time)
 * to become a series' latest value or alert state.
 */
export const DEFAULT_FUTURE_TOLERANCE_SECONDS = 300;

/**
 * Kinesis event source mapping settings of the stack's mappings (the local platform reads
 * them from the synthesized mappings). Batch size and window are defaults the
 * configuration may override; the failure rules are fixed.
 */
export const EVENT_SOURCE = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 500,
  maximumBatchingWindowSeconds: 5,
  /** Retries after the first attempt before a batch goes to the on-failure destination. */
  maximumRetryAttempts: 5,
  maximumRecordAgeSeconds: 86_400,
  bisectBatchOnFunctionError: true,
  parallelizationFactor: 1,
  functionResponseTypes: ['ReportBatchItemFailures'],
} as const;

/** Upper bound of one invocation's payload, as Lambda's (6 MB): a batch stops growing before it. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** What a record of `dataBytes` bytes adds to an invocation's payload: its data in base64 and its other fields. */
export const recordPayloadBytes = (dataBytes: number): number => dataBytes * 1.34 + 512;

