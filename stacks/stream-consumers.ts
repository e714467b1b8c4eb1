import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KinesisStream } from '@cdktf/provider-aws/lib/kinesis-stream';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { DEFAULT_ALERT_COOLDOWN_SECONDS, DEFAULT_FUTURE_TOLERANCE_SECONDS, EVENT_SOURCE, HANDLER_ENV } from '../handlers/contract';
import { LAMBDA_HANDLER, type HandlerName, type PackagedHandler } from '../build/handler-bundle';
import type { TableKey, TableRef } from './data-tables';
import { ServiceRole, type Grant } from './service-role';

// ---------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------

export interface ReadingStreamProps {
  readonly name: string;
  /** KMS key the stream encrypts records with. */
  readonly kmsKeyArn: string;
  /** @default 'provisioned' */
  readonly mode?: 'provisioned' | 'on-demand';
  /** Shards in provisioned mode (1 MB/s or 1,000 records/s in each). @default 2 */
  readonly shardCount?: number;
  /** @default 24 */
  readonly retentionHours?: number;
}

/** The Kinesis stream readings flow through (partition key = thing id), encrypted with KMS. */
export class ReadingStream extends Construct {
  public readonly name: string;
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: ReadingStreamProps) {
    super(scope, id);
    const mode = props.mode ?? 'provisioned';
    if (mode === 'on-demand' && props.shardCount !== undefined) {
      throw new Error('ReadingStream: shardCount only applies to the provisioned mode; remove it or use mode "provisioned"');
    }
    const stream = new KinesisStream(this, 'stream', {
      name: props.name,
      streamModeDetails: { streamMode: mode === 'on-demand' ? 'ON_DEMAND' : 'PROVISIONED' },
      shardCount: mode === 'on-demand' ? undefined : (props.shardCount ?? 2),
      retentionPeriod: props.retentionHours ?? 24,
      encryptionType: 'KMS',
      kmsKeyId: props.kmsKeyArn,
    });
    this.name = stream.name;
    this.arn = stream.arn;
  }
}

// ---------------------------------------------------------------------------
// Consumers
// ---------------------------------------------------------------------------

export interface StreamConsumersProps {
  /** Prefix of function and role names. */
  readonly namePrefix: string;
  /** Name of the failure queue (the local platform uses the same default, from handlers/contract.ts). */
  readonly failureQueueName: string;
  readonly stream: { readonly name: string; readonly arn: string };
  /** Key of the stream, the failure queue and the alert topic. */
  readonly kmsKeyArn: string;
  readonly tables: Readonly<Record<TableKey, TableRef>>;
  readonly alertTopicArn: string;
  /** The handler bundles (build/handler-bundle.ts `packageHandler`). */
  readonly packages: Readonly<Record<HandlerName, PackagedHandler>>;
  readonly logRetentionDays: number;
  /** @default EVENT_SOURCE.batchSize */
  readonly batchSize?: number;
  /** @default EVENT_SOURCE.maximumBatchingWindowSeconds */
  readonly batchWindowSeconds?: number;
  /** @default 512 */
  readonly memoryMiB?: number;
  /** @default 60 */
  readonly timeoutSeconds?: number;
  /** @default DEFAULT_ALERT_COOLDOWN_SECONDS */
  readonly alertCooldownSeconds?: number;
  /** Days readings stay in DynamoDB (TTL). @default kept for ever */
  readonly hotRetentionDays?: number;
  /** Seconds a reading may be dated ahead of its arrival on the stream. @default DEFAULT_FUTURE_TOLERANCE_SECONDS */
  readonly futureToleranceSeconds?: number;
}

/** What one consumer is allowed, and told, beyond reading the stream and writing its logs. */
interface ConsumerSpec {
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly grants: Grant[];
}

/** The failure queue keeps messages for the longest time SQS allows, so nothing is lost before someone looks. */
const FAILURE_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * The two stream consumers (store readings, threshold alerts): Lambda functions from the
 * esbuild bundles, each with its own role, log group and event source mapping, and the
 * encrypted failure queue that both the mappings (on-failure destination) and the
 * handlers (records that can never be stored) send to.
 */
export class StreamConsumers extends Construct {
  public readonly functionNames: Readonly<Record<HandlerName, string>>;
  public readonly failureQueueUrl: string;
  public readonly failureQueueArn: string;
  public readonly failureQueueName: string;

  constructor(scope: Construct, id: string, props: StreamConsumersProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? EVENT_SOURCE.batchSize;
    const batchWindowSeconds = props.batchWindowSeconds ?? EVENT_SOURCE.maximumBatchingWindowSeconds;
    const timeoutSeconds = props.timeoutSeconds ?? 60;
    if (batchSize > 10_000 || batchSize < 1) throw new Error(`StreamConsumers: batchSize must be 1 to 10000, got ${batchSize}`);
    if (batchWindowSeconds < 0 || batchWindowSeconds > 300) throw new Error(`StreamConsumers: batchWindowSeconds must be 0 to 300, got ${batchWindowSeconds}`);

    const queue = new SqsQueue(this, 'failure-queue', {
      name: props.failureQueueName,
      kmsMasterKeyId: props.kmsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: FAILURE_RETENTION_SECONDS,
    });
    const tlsOnly = new DataAwsIamPolicyDocument(this, 'failure-queue-tls-only', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['sqs:*'],
          resources: [queue.arn],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    new SqsQueuePolicy(this, 'failure-queue-policy', { queueUrl: queue.url, policy: tlsOnly.json });

    const sendFailures: Grant[] = [
      // SendMessage also covers SendMessageBatch.
      { sid: 'SendFailures', actions: ['sqs:SendMessage'], resources: [queue.arn] },
      // SQS and SNS encrypt with the key: senders need a data key and to decrypt it.
      { sid: 'UseDataKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
    ];
    const failureQueueEnv = { [HANDLER_ENV.failureQueueUrl]: queue.url };
    const retentionEnv: Record<string, string> = props.hotRetentionDays === undefined ? {} : { [HANDLER_ENV.hotRetentionDays]: String(props.hotRetentionDays) };
    // Both consumers refuse the same readings as dated too far ahead.
    const toleranceEnv = { [HANDLER_ENV.futureToleranceSeconds]: String(props.futureToleranceSeconds ?? DEFAULT_FUTURE_TOLERANCE_SECONDS) };
    const { things, series, thresholds, alerts } = props.tables;

    const specs: Record<HandlerName, ConsumerSpec> = {
      'store-readings': {
        description: 'Stores every reading of the stream in the things table and keeps the series catalogue current',
        environment: { [HANDLER_ENV.thingsTable]: things.name, [HANDLER_ENV.seriesTable]: series.name, ...failureQueueEnv, ...retentionEnv, ...toleranceEnv },
        grants: [
          { sid: 'WriteReadings', actions: ['dynamodb:BatchWriteItem'], resources: [things.arn] },
          { sid: 'UpdateSeries', actions: ['dynamodb:UpdateItem'], resources: [series.arn] },
          ...sendFailures,
        ],
      },
      'threshold-alerts': {
        description: 'Emails an alert when a metric leaves its thresholds, and when it returns',
        environment: {
          [HANDLER_ENV.thresholdsTable]: thresholds.name,
          [HANDLER_ENV.alertsTable]: alerts.name,
          [HANDLER_ENV.alertTopicArn]: props.alertTopicArn,
          [HANDLER_ENV.alertCooldownSeconds]: String(props.alertCooldownSeconds ?? DEFAULT_ALERT_COOLDOWN_SECONDS),
          ...failureQueueEnv,
          ...retentionEnv,
          ...toleranceEnv,
        },
        grants: [
          { sid: 'ReadThresholdsKeepAlertState', actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [thresholds.arn] },
          // GetItem: after a crash, whether the notice was already sent is read back from the history.
          { sid: 'RecordAlerts', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [alerts.arn] },
          { sid: 'PublishAlerts', actions: ['sns:Publish'], resources: [props.alertTopicArn] },
          ...sendFailures,
        ],
      },
    };

    const functionNames = {} as Record<HandlerName, string>;
    for (const [name, spec] of Object.entries(specs) as [HandlerName, ConsumerSpec][]) {
      const functionName = `${props.namePrefix}-${name}`;
      const logGroup = new CloudwatchLogGroup(this, `${name}-logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: props.logRetentionDays });
      const role = new ServiceRole(this, `${name}-role`, {
        roleName: functionName,
        service: 'lambda.amazonaws.com',
        description: `Runs ${functionName}`,
        grants: [
          {
            sid: 'ReadStream',
            actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
            resources: [props.stream.arn],
          },
          { sid: 'DecryptStream', actions: ['kms:Decrypt'], resources: [props.kmsKeyArn] },
          { sid: 'WriteLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] },
          ...spec.grants,
        ],
      });
      const pkg = props.packages[name];
      const code = new TerraformAsset(this, `${name}-code`, { path: pkg.archive, type: AssetType.FILE, assetHash: pkg.sourceHash });
      const fn = new LambdaFunction(this, name, {
        functionName,
        description: spec.description,
        role: role.arn,
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        handler: LAMBDA_HANDLER,
        filename: code.path,
        sourceCodeHash: pkg.archiveSha256,
        memorySize: props.memoryMiB ?? 512,
        timeout: timeoutSeconds,
        environment: { variables: { POWERTOOLS_SERVICE_NAME: name, ...spec.environment } },
        loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
        dependsOn: [logGroup, role.policy],
      });
      new LambdaEventSourceMapping(this, `${name}-mapping`, {
        eventSourceArn: props.stream.arn,
        functionName: fn.arn,
        startingPosition: EVENT_SOURCE.startingPosition,
        batchSize,
        maximumBatchingWindowInSeconds: batchWindowSeconds,
        parallelizationFactor: EVENT_SOURCE.parallelizationFactor,
        maximumRetryAttempts: EVENT_SOURCE.maximumRetryAttempts,
        maximumRecordAgeInSeconds: EVENT_SOURCE.maximumRecordAgeSeconds,
        bisectBatchOnFunctionError: EVENT_SOURCE.bisectBatchOnFunctionError,
        functionResponseTypes: [...EVENT_SOURCE.functionResponseTypes],
        destinationConfig: { onFailure: { destinationArn: queue.arn } },
        // The mapping checks the role's permissions when it is created.
        dependsOn: [role.policy],
      });
      functionNames[name] = fn.functionName;
    }

    this.functionNames = functionNames;
    this.failureQueueUrl = queue.url;
    this.failureQueueArn = queue.arn;
    this.failureQueueName = queue.name;
  }
}
