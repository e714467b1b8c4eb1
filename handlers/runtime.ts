/**
 * What every Lambda handler shares: its settings (read from the environment the stack
 * sets), the structured logger, and the AWS clients, created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertNotifierOptions, RecipientTopics } from './alert-notifier';
import type { RetryDeadline } from './batching';
import { DEFAULT_ALERT_COOLDOWN_SECONDS, DEFAULT_FUTURE_TOLERANCE_SECONDS, HANDLER_ENV, RECIPIENT_GROUP_PATTERN } from './contract';
import { exactDocumentClient } from './stored-number';

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

export type SettingName = keyof typeof HANDLER_ENV;

/** Every handler setting, parsed; the ones a handler requires are narrowed by `Settings<...>`. */
export interface HandlerSettings {
  readonly thingsTable?: string;
  readonly thresholdsTable?: string;
  readonly alertsTable?: string;
  /** The series catalogue; when absent the store handler does not maintain it. */
  readonly seriesTable?: string;
  /** The rollups; when absent the store handler does not maintain them. */
  readonly rollupsTable?: string;
  readonly alertTopicArn?: string;
  readonly failureQueueUrl?: string;
  /** @default DEFAULT_ALERT_COOLDOWN_SECONDS */
  readonly alertCooldownSeconds: number;
  /** When absent, items get no `ExpiresAt` and are kept for ever. */
  readonly hotRetentionDays?: number;
  /** Days hour (with their minutes) and day rollups are kept after their bucket ends; absent: for ever. */
  readonly hourRollupRetentionDays?: number;
  readonly dayRollupRetentionDays?: number;
  /** How far a reading's time may be ahead of its arrival on the stream. @default DEFAULT_FUTURE_TOLERANCE_SECONDS */
  readonly futureToleranceSeconds: number;
  /** SNS topic of each recipient group besides the default one, by group name. @default none */
  readonly recipientTopicArns?: Readonly<Record<string, string>>;
}

/** The settings with the `Required` ones guaranteed present. */
export type Settings<Required extends SettingName> = HandlerSettings & {
  readonly [Name in Required]-?: NonNullable<HandlerSettings[Name]>;
};

export type Environment = Readonly<Record<string, string | undefined>>;

/** Thrown by `loadSettings`; names every missing or malformed variable at once. */
export class SettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid handler configuration: ${problems.join('; ')}`);
    this.name = 'SettingsError';
  }
}

type SettingParser = (text: string) => { value: unknown } | { problem: string };

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

const tableName: SettingParser = (text) =>
  TABLE_NAME.test(text) ? { value: text } : { problem: 'must be a DynamoDB table name (3-255 letters, digits, "_", "." or "-")' };

const TOPIC_ARN = /^arn:[^:\s]+:sns:[^\s]+$/;

/** `{"<group>": "<topic arn>", ...}`: every key a group name, every value a topic ARN. */
const topicArnsByGroup: SettingParser = (text) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'must be a JSON object of recipient group names to SNS topic ARNs' };
  }
  const group = new RegExp(RECIPIENT_GROUP_PATTERN);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.entries(parsed).every(([name, arn]) => group.test(name) && typeof arn === 'string' && TOPIC_ARN.test(arn))) {
    return { problem: 'must be a JSON object of recipient group names (lower-case letters, digits and "-") to SNS topic ARNs' };
  }
  return { value: parsed };
};

const wholeSeconds: SettingParser = (text) => {
  const seconds = Number(text);
  return Number.isSafeInteger(seconds) && seconds >= 0 ? { value: seconds } : { problem: 'must be a whole number of seconds, 0 or more' };
};

const positiveDays: SettingParser = (text) => {
  const days = Number(text);
  return Number.isFinite(days) && days > 0 ? { value: days } : { problem: 'must be a positive number of days' };
};

const PARSERS: Record<SettingName, SettingParser> = {
  thingsTable: tableName,
  thresholdsTable: tableName,
  alertsTable: tableName,
  seriesTable: tableName,
  rollupsTable: tableName,
  alertTopicArn: (text) => (TOPIC_ARN.test(text) ? { value: text } : { problem: 'must be an SNS topic ARN (arn:aws:sns:...)' }),
  recipientTopicArns: topicArnsByGroup,
  failureQueueUrl: (text) => (URL.canParse(text) && /^https?:/.test(text) ? { value: text } : { problem: 'must be an http(s) SQS queue URL' }),
  alertCooldownSeconds: wholeSeconds,
  futureToleranceSeconds: wholeSeconds,
  hotRetentionDays: positiveDays,
  hourRollupRetentionDays: positiveDays,
  dayRollupRetentionDays: positiveDays,
};

const DEFAULTS: Partial<Record<SettingName, number>> = {
  alertCooldownSeconds: DEFAULT_ALERT_COOLDOWN_SECONDS,
  futureToleranceSeconds: DEFAULT_FUTURE_TOLERANCE_SECONDS,
};

/**
 * Reads and validates every handler variable present in `env` (an empty value counts as
 * absent). Throws one `SettingsError` listing all problems, so a misconfigured stack is
 * fixed in one deployment rather than one variable at a time.
 */
export function loadSettings<const Required extends SettingName>(env: Environment, required: readonly Required[]): Settings<Required> {
  const problems: string[] = [];
  const settings: Record<string, unknown> = {};
  for (const name of Object.keys(HANDLER_ENV) as SettingName[]) {
    const variable = HANDLER_ENV[name];
    const text = env[variable]?.trim();
    if (text === undefined || text === '') {
      if ((required as readonly SettingName[]).includes(name)) problems.push(`${variable} is missing`);
      else if (DEFAULTS[name] !== undefined) settings[name] = DEFAULTS[name];
      continue;
    }
    const parsed = PARSERS[name](text);
    if ('problem' in parsed) problems.push(`${variable} ${parsed.problem}, got ${JSON.stringify(text)}`);
    else settings[name] = parsed.value;
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return settings as unknown as Settings<Required>;
}

// ---------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------

/**
 * Structured JSON logs (Powertools). The stack names each function's service with
 * POWERTOOLS_SERVICE_NAME and may set POWERTOOLS_LOG_LEVEL.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'iot-analytics' });

// ---------------------------------------------------------------------------
// AWS clients
// ---------------------------------------------------------------------------

export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
}

/**
 * A connection that cannot be opened in 2 s, or a request unanswered in `requestMs`, fails
 * (and is retried) instead of hanging until the function times out. `throwOnRequestTimeout`
 * because without it this handler version only logs a warning and keeps waiting.
 */
const boundedHandler = (requestMs: number) => new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: requestMs, throwOnRequestTimeout: true });

/**
 * Clients with the SDK's default configuration, so region, credentials and endpoints
 * (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SNS`, `AWS_ENDPOINT_URL_SQS`) come from
 * the standard variables: the same bundle runs in Lambda and against local emulators.
 * Each client is built on first use, so a handler only pays for the ones it touches.
 */
export function createAwsClients(): AwsClients {
  let dynamo: DynamoDBDocumentClient | undefined;
  let sns: SNSClient | undefined;
  let sqs: SQSClient | undefined;
  return {
    get dynamo() {
      return (dynamo ??= exactDocumentClient(new DynamoDBClient({ requestHandler: boundedHandler(5_000) })));
    },
    get sns() {
      // A publish must give up well inside the alert claim's 30 s lease, or a slow send could be sent twice.
      return (sns ??= new SNSClient({ requestHandler: boundedHandler(5_000) }));
    },
    get sqs() {
      return (sqs ??= new SQSClient({ requestHandler: boundedHandler(5_000) }));
    },
  };
}

let containerClients: AwsClients | undefined;

/** The clients of this container, shared by every warm invocation. */
export function awsClients(): AwsClients {
  return (containerClients ??= createAwsClients());
}

// ---------------------------------------------------------------------------
// Time and handler wiring
// ---------------------------------------------------------------------------

/** Time as handlers see it; tests pass their own to control waits and "now". */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Time an invocation keeps for itself after retrying a dependency that is down: a quarter
 * of what it had, at least 5 s, to report what it stored and what Lambda must deliver again.
 */
const MIN_REPORTING_MS = 5_000;

/**
 * Until when an invocation may keep retrying a dependency that does not answer, so an
 * outage is waited out inside the invocation rather than by the event source's few
 * retries. Without a Lambda context (unit tests) retries are bounded by count instead.
 */
export function retryDeadline(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, clock: Clock): RetryDeadline | undefined {
  if (context === undefined) return undefined;
  const remaining = context.getRemainingTimeInMillis();
  return { at: clock.now() + remaining - Math.max(MIN_REPORTING_MS, remaining / 4), now: () => clock.now() };
}

/**
 * Builds the real handler on its first invocation and keeps it for the container's life,
 * so importing a handler module (as tests do) reads no settings and creates no client,
 * while a misconfigured function fails its first invocation with the `SettingsError`.
 * Each invocation's logs carry the Lambda context (request id, cold start), and the
 * handler gets the context for its time budget.
 */
export function lazyHandler<Event, Result>(
  build: () => (event: Event, context?: Context) => Promise<Result>,
): (event: Event, context?: Context) => Promise<Result> {
  let built: ((event: Event, context?: Context) => Promise<Result>) | undefined;
  return async (event, context) => {
    if (context !== undefined) logger.addContext(context);
    built ??= build();
    return built(event, context);
  };
}

/** The topics alerts go to: the default group's (`ALERT_TOPIC_ARN`) and the configured groups'. */
function recipientTopics(settings: Pick<HandlerSettings, 'recipientTopicArns'> & { readonly alertTopicArn: string }): RecipientTopics {
  return { defaultTopicArn: settings.alertTopicArn, groups: settings.recipientTopicArns ?? {} };
}

/** What every alert handler's notifier takes from the function's settings: the tables, the topics, how long history is kept. */
export function notifierSettings(
  settings: Pick<HandlerSettings, 'recipientTopicArns' | 'hotRetentionDays'> & { readonly alertTopicArn: string; readonly thresholdsTable: string; readonly alertsTable: string },
): Pick<AlertNotifierOptions, 'thresholdsTable' | 'alertsTable' | 'topics' | 'hotRetentionDays'> {
  return {
    thresholdsTable: settings.thresholdsTable,
    alertsTable: settings.alertsTable,
    topics: recipientTopics(settings),
    ...(settings.hotRetentionDays === undefined ? {} : { hotRetentionDays: settings.hotRetentionDays }),
  };
}
