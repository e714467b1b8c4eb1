import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogStream } from '@cdktf/provider-aws/lib/cloudwatch-log-stream';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KinesisFirehoseDeliveryStream } from '@cdktf/provider-aws/lib/kinesis-firehose-delivery-stream';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { ARCHIVE_PROCESSING, FIREHOSE_PREFIX } from '../handlers/archive-format';
import { ServiceRole, type Grant } from './service-role';

export interface ArchiveProps {
  /** Name of the Firehose stream; the bucket name starts with it (S3 adds a unique suffix). */
  readonly name: string;
  readonly streamArn: string;
  /** Key of the stream (Firehose decrypts records) and of the archive objects. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** Days before objects move to Glacier Flexible Retrieval. @default 30 */
  readonly glacierAfterDays?: number;
  /** Days before objects are deleted. @default kept for ever */
  readonly expireAfterDays?: number;
  /** @default 300 */
  readonly bufferSeconds?: number;
  /** @default 64 */
  readonly bufferMiB?: number;
  /**
   * Lambda function (ARN) that turns each record into archive lines (stacks/archive-processor.ts).
   * @default none: records are archived as they are, one per line
   */
  readonly processorArn?: string;
}

/** Objects land under `readings/year=YYYY/month=MM/day=DD/hour=HH/`, the layout the `readings` table projects (handlers/archive-format.ts). */
export const ARCHIVE_PREFIX = FIREHOSE_PREFIX;
const ERROR_PREFIX = 'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/';
/** Glacier bills every object for at least this long. */
const GLACIER_MINIMUM_DAYS = 90;

/**
 * Cold storage of every reading (NFR2): Firehose reads the stream and writes gzipped JSON
 * lines, date-partitioned, to a private, encrypted, TLS-only bucket whose objects move to
 * Glacier after the configured days.
 */
export class Archive extends Construct {
  public readonly bucketName: string;
  public readonly bucketArn: string;
  public readonly deliveryStreamName: string;

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    const glacierAfterDays = props.glacierAfterDays ?? 30;
    if (props.expireAfterDays !== undefined && props.expireAfterDays < glacierAfterDays + GLACIER_MINIMUM_DAYS) {
      throw new Error(`Archive: expireAfterDays (${props.expireAfterDays}) must be at least glacierAfterDays + ${GLACIER_MINIMUM_DAYS} (${glacierAfterDays + GLACIER_MINIMUM_DAYS})`);
    }

    const bucket = new S3Bucket(this, 'bucket', { bucketPrefix: `${props.name}-`, forceDestroy: false });
    new S3BucketPublicAccessBlock(this, 'public-access-block', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }],
    });
    const tlsOnly = new DataAwsIamPolicyDocument(this, 'tls-only', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [bucket.arn, `${bucket.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    new S3BucketPolicy(this, 'policy', { bucket: bucket.id, policy: tlsOnly.json });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket: bucket.id,
      rule: [
        {
          id: 'cold-storage',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          transition: [{ days: glacierAfterDays, storageClass: 'GLACIER' }],
          expiration: props.expireAfterDays === undefined ? undefined : [{ days: props.expireAfterDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });

    const logGroup = new CloudwatchLogGroup(this, 'logs', { name: `/aws/kinesisfirehose/${props.name}`, retentionInDays: props.logRetentionDays });
    const logStream = new CloudwatchLogStream(this, 'delivery-log-stream', { name: 'DestinationDelivery', logGroupName: logGroup.name });

    const role = new ServiceRole(this, 'role', {
      roleName: props.name,
      service: 'firehose.amazonaws.com',
      description: 'Lets the archive read the readings stream and write the archive bucket',
      grants: [
        {
          sid: 'ReadStream',
          actions: ['kinesis:DescribeStream', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
          resources: [props.streamArn],
        },
        {
          sid: 'WriteArchive',
          actions: ['s3:AbortMultipartUpload', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:PutObject'],
          resources: [bucket.arn, `${bucket.arn}/*`],
        },
        { sid: 'UseKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.kmsKeyArn] },
        { sid: 'WriteLogs', actions: ['logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] },
        ...processorGrants(props.processorArn),
      ],
    });

    const delivery = new KinesisFirehoseDeliveryStream(this, 'delivery', {
      name: props.name,
      destination: 'extended_s3',
      kinesisSourceConfiguration: { kinesisStreamArn: props.streamArn, roleArn: role.arn },
      extendedS3Configuration: {
        roleArn: role.arn,
        bucketArn: bucket.arn,
        prefix: ARCHIVE_PREFIX,
        errorOutputPrefix: ERROR_PREFIX,
        compressionFormat: 'GZIP',
        fileExtension: '.jsonl.gz',
        kmsKeyArn: props.kmsKeyArn,
        bufferingInterval: props.bufferSeconds ?? 300,
        bufferingSize: props.bufferMiB ?? 64,
        // One line per record (the delimiter processor's default is a newline), so the objects are JSON Lines.
        processingConfiguration: { enabled: true, processors: [...lambdaProcessor(props.processorArn), { type: 'AppendDelimiterToRecord' }] },
        cloudwatchLoggingOptions: { enabled: true, logGroupName: logGroup.name, logStreamName: logStream.name },
      },
      dependsOn: [role.policy],
    });

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.deliveryStreamName = delivery.name;
  }
}

/** Firehose invokes the processor with the delivery role (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-lambda). */
function processorGrants(processorArn: string | undefined): Grant[] {
  return processorArn === undefined ? [] : [{ sid: 'InvokeProcessor', actions: ['lambda:GetFunctionConfiguration', 'lambda:InvokeFunction'], resources: [processorArn, `${processorArn}:*`] }];
}

function lambdaProcessor(processorArn: string | undefined) {
  if (processorArn === undefined) return [];
  const parameters = {
    LambdaArn: processorArn,
    BufferSizeInMBs: String(ARCHIVE_PROCESSING.bufferSizeMiB),
    BufferIntervalInSeconds: String(ARCHIVE_PROCESSING.bufferIntervalSeconds),
    NumberOfRetries: String(ARCHIVE_PROCESSING.numberOfRetries),
  };
  return [{ type: 'Lambda', parameters: Object.entries(parameters).map(([parameterName, parameterValue]) => ({ parameterName, parameterValue })) }];
}
