import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogStream } from '@cdktf/provider-aws/lib/cloudwatch-log-stream';
import { KinesisFirehoseDeliveryStream } from '@cdktf/provider-aws/lib/kinesis-firehose-delivery-stream';
import { ARCHIVE_PROCESSING, FIREHOSE_PREFIX } from '../handlers/archive-format';
import { privateBucket } from './private-bucket';
import { ServiceRole, type Grant } from './service-role';
import { ARCHIVE_LIMITS, DEFAULT_COLD_STORAGE_CLASS, type ColdStorageClass } from './construct-defaults';
export { ARCHIVE_LIMITS, GLACIER_MINIMUM_DAYS } from './construct-defaults';

export interface ArchiveProps {
  /** Name of the Firehose stream; the bucket name starts with it (S3 adds a unique suffix). */
  readonly name: string;
  readonly streamArn: string;
  /** Key of the stream (Firehose decrypts records) and of the archive objects. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  /** The account Firehose may act for when it assumes the role. */
  readonly accountId: string;
  /** Storage class objects move to after `glacierAfterDays`. @default DEFAULT_COLD_STORAGE_CLASS */
  readonly coldStorageClass?: ColdStorageClass;
  /** Days before objects move to the cold storage class. @default ARCHIVE_LIMITS.glacierAfterDays.default */
  readonly glacierAfterDays?: number;
  /** Days before objects are deleted; Glacier bills GLACIER_MINIMUM_DAYS at least. @default kept for ever */
  readonly expireAfterDays?: number;
  /** @default ARCHIVE_LIMITS.bufferSeconds.default */
  readonly bufferSeconds?: number;
  /** @default ARCHIVE_LIMITS.bufferMiB.default */
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

/**
 * Cold storage of every reading: Firehose reads the stream and writes gzipped JSON lines,
 * date-partitioned, to a private, encrypted, TLS-only bucket whose objects, small ones
 * included, move to Glacier after the configured days.
 */
export class Archive extends Construct {
  public readonly bucketName: string;
  public readonly bucketArn: string;
  public readonly deliveryStreamName: string;

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    const { bucket } = privateBucket(this, {
      namePrefix: props.name,
      encryption: { kmsKeyArn: props.kmsKeyArn },
      // Provider 6 defaults to all_storage_classes_128K, which keeps objects under 128 KB (a quiet
      // hour's archive) out of Glacier for ever; this lets them go too.
      transitionDefaultMinimumObjectSize: 'varies_by_storage_class',
      lifecycle: [
        {
          id: 'cold-storage',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          transition: [{ days: props.glacierAfterDays ?? ARCHIVE_LIMITS.glacierAfterDays.default, storageClass: props.coldStorageClass ?? DEFAULT_COLD_STORAGE_CLASS }],
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
      // Only Firehose acting for this account may assume the role (the confused-deputy guard AWS documents for Firehose roles).
      trustConditions: [{ test: 'StringEquals', variable: 'sts:ExternalId', values: [props.accountId] }],
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
        bufferingInterval: props.bufferSeconds ?? ARCHIVE_LIMITS.bufferSeconds.default,
        bufferingSize: props.bufferMiB ?? ARCHIVE_LIMITS.bufferMiB.default,
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
