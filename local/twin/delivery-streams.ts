/**
 * A Firehose delivery stream's local settings, read from its
 * `aws_kinesis_firehose_delivery_stream` resource (Kinesis source, extended S3
 * destination), with AWS's defaults for what it leaves out; what the local delivery
 * stream cannot do stops start-up naming the argument.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { CheckpointStore } from '../checkpoints';
import { readJsonFile, writeJsonFile } from '../json-file';
import { streamOf, type StreamsByArn } from './data-stores';
import type { LocalFunction } from '../lambda-runtime';
import { startDeliveryStream, type DeliveryStream, type DeliveryStreamOptions } from './firehose';
import { checkPrefixes, PrefixError, type CheckedPrefixes } from './firehose-prefix';
import { LAMBDA_PROCESSOR_DEFAULTS, LAMBDA_PROCESSOR_LIMITS, type LambdaProcessorSettings } from './firehose-processor';
import type { LoadedStack } from './load-stack';
import { TwinResolutionError, type StackResource } from './stack';
import type { UsageMeter } from '../usage-meter';

/**
 * Firehose's buffering defaults for S3: 5 MiB, 300 s.
 * https://docs.aws.amazon.com/firehose/latest/APIReference/API_BufferingHints.html
 */
export const FIREHOSE_BUFFER_DEFAULTS = { sizeMiB: 5, intervalSeconds: 300 } as const;

/** File extensions AWS gives objects when the destination sets none (chosen locally: AWS leaves it unclear for GZIP). */
const DEFAULT_EXTENSIONS: Readonly<Record<string, string>> = { GZIP: '.gz', UNCOMPRESSED: '' };

export type DeliverySettings = Pick<DeliveryStreamOptions, 'name' | 'bufferBytes' | 'bufferSeconds' | 'appendDelimiter' | 'compression' | 'extension' | 'prefixes' | 'timeZone'> & {
  readonly address: string;
  /** ARN of the source stream. */
  readonly sourceArn: string;
  /** ARN of the destination bucket. */
  readonly bucketArn: string;
  /** A digest of the resource's arguments: a change makes a new delivery stream version. */
  readonly configurationDigest: string;
  /** The Lambda data transformation, when the destination has one. */
  readonly lambdaProcessor?: LambdaProcessorSettings;
};

interface Processor {
  type: string;
  parameters?: readonly { parameter_name: string; parameter_value: string }[];
}

interface Destination {
  bucket_arn: string;
  buffering_size?: number;
  buffering_interval?: number;
  compression_format?: string;
  file_extension?: string;
  prefix?: string;
  error_output_prefix?: string;
  custom_time_zone?: string;
  processing_configuration?: { enabled?: boolean; processors?: readonly Processor[] };
  dynamic_partitioning_configuration?: { enabled?: boolean };
  data_format_conversion_configuration?: { enabled?: boolean };
  s3_backup_mode?: string;
}

export function deliverySettings(resource: StackResource, bufferSecondsOverride?: number): DeliverySettings {
  const refuse = (attribute: string, why: string): never => {
    throw new TwinResolutionError(`${resource.address}: ${why}`, resource.address, attribute);
  };
  const config = resource.config as { name: string; destination: string; kinesis_source_configuration?: { kinesis_stream_arn: string }; extended_s3_configuration?: Destination };
  if (config.destination !== 'extended_s3' || config.extended_s3_configuration === undefined) refuse('destination', `only the extended_s3 destination is emulated locally, not ${config.destination}`);
  if (config.kinesis_source_configuration === undefined) refuse('kinesis_source_configuration', 'only delivery streams reading a Kinesis stream are emulated locally');
  const destination = config.extended_s3_configuration as Destination;
  if (destination.dynamic_partitioning_configuration?.enabled === true) refuse('extended_s3_configuration.dynamic_partitioning_configuration', 'dynamic partitioning is not emulated locally');
  if (destination.data_format_conversion_configuration?.enabled === true) refuse('extended_s3_configuration.data_format_conversion_configuration', 'record format conversion is not emulated locally');
  if (destination.s3_backup_mode === 'Enabled') refuse('extended_s3_configuration.s3_backup_mode', 'source record backup is not emulated locally');
  const format = destination.compression_format ?? 'UNCOMPRESSED';
  const compression = format === 'GZIP' || format === 'UNCOMPRESSED' ? format : refuse('extended_s3_configuration.compression_format', `${format} compression is not emulated locally (GZIP and UNCOMPRESSED are)`);
  const processors = destination.processing_configuration?.enabled === false ? [] : (destination.processing_configuration?.processors ?? []);
  for (const processor of processors) {
    if (processor.type !== 'AppendDelimiterToRecord' && processor.type !== 'Lambda') refuse('extended_s3_configuration.processing_configuration', `the ${processor.type} processor is not emulated locally (Lambda and AppendDelimiterToRecord are)`);
  }
  const lambdaProcessors = processors.filter((processor) => processor.type === 'Lambda');
  if (lambdaProcessors.length > 1) refuse('extended_s3_configuration.processing_configuration', 'a delivery stream has at most one Lambda processor');
  const processor = lambdaProcessors[0] === undefined ? undefined : lambdaProcessorSettings(lambdaProcessors[0], bufferSecondsOverride, refuse);
  let prefixes: CheckedPrefixes;
  try {
    prefixes = checkPrefixes(destination.prefix, destination.error_output_prefix);
  } catch (error) {
    if (!(error instanceof PrefixError)) throw error;
    return refuse('extended_s3_configuration.prefix', error.message);
  }
  return {
    address: resource.address,
    name: config.name,
    sourceArn: (config.kinesis_source_configuration as { kinesis_stream_arn: string }).kinesis_stream_arn,
    bucketArn: destination.bucket_arn,
    bufferBytes: (destination.buffering_size ?? FIREHOSE_BUFFER_DEFAULTS.sizeMiB) * 1024 * 1024,
    bufferSeconds: bufferSecondsOverride ?? destination.buffering_interval ?? FIREHOSE_BUFFER_DEFAULTS.intervalSeconds,
    appendDelimiter: processors.some((processor) => processor.type === 'AppendDelimiterToRecord'),
    compression,
    extension: destination.file_extension ?? DEFAULT_EXTENSIONS[compression] ?? '',
    prefixes,
    timeZone: destination.custom_time_zone ?? 'UTC',
    configurationDigest: createHash('sha256').update(JSON.stringify(resource.config)).digest('hex'),
    ...(processor === undefined ? {} : { lambdaProcessor: processor }),
  };
}

/** Parameters of the Lambda processor that change nothing locally: the role Firehose invokes it with. */
const IGNORED_PROCESSOR_PARAMETERS = ['RoleArn'];

/**
 * A Lambda processor's settings from its parameters, with Firehose's defaults
 * (https://docs.aws.amazon.com/firehose/latest/APIReference/API_ProcessorParameter.html);
 * `--archive-buffer-seconds` overrides its interval as it does the destination's.
 */
function lambdaProcessorSettings(processor: Processor, bufferSecondsOverride: number | undefined, refuse: (attribute: string, why: string) => never): LambdaProcessorSettings {
  const attribute = 'extended_s3_configuration.processing_configuration.processors.parameters';
  const parameters = new Map((processor.parameters ?? []).map((parameter) => [parameter.parameter_name, parameter.parameter_value]));
  for (const name of parameters.keys()) {
    if (!['LambdaArn', 'NumberOfRetries', 'BufferSizeInMBs', 'BufferIntervalInSeconds', ...IGNORED_PROCESSOR_PARAMETERS].includes(name)) refuse(attribute, `the Lambda processor parameter ${name} is not emulated locally`);
  }
  const number = (name: string, fallback: number, valid: (value: number) => boolean, what: string): number => {
    const text = parameters.get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    return text.trim() !== '' && valid(value) ? value : refuse(attribute, `${name} must be ${what}, not ${JSON.stringify(text)}`);
  };
  const functionArn = parameters.get('LambdaArn') ?? refuse(attribute, 'the Lambda processor needs a LambdaArn parameter');
  const { bufferSizeMiB: size, bufferIntervalSeconds: interval } = LAMBDA_PROCESSOR_LIMITS;
  const bufferMiB = number('BufferSizeInMBs', LAMBDA_PROCESSOR_DEFAULTS.bufferSizeMiB, (value) => value >= size.min && value <= size.max, `${size.min} to ${size.max}`);
  const bufferSeconds = number('BufferIntervalInSeconds', LAMBDA_PROCESSOR_DEFAULTS.bufferIntervalSeconds, (value) => Number.isInteger(value) && value >= interval.min && value <= interval.max, `a whole number from ${interval.min} to ${interval.max}`);
  return {
    functionArn,
    numberOfRetries: number('NumberOfRetries', LAMBDA_PROCESSOR_DEFAULTS.numberOfRetries, (value) => Number.isInteger(value) && value >= 0, 'a whole number of 0 or more'),
    bufferBytes: Math.round(bufferMiB * 1024 * 1024),
    bufferSeconds: bufferSecondsOverride ?? bufferSeconds,
  };
}

/**
 * The delivery stream's version: 1 at first, one more for every change of its
 * configuration since, as AWS counts updates (kept in `versionsFile`).
 * https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html
 */
export function deliveryStreamVersion(versionsFile: string, name: string, configurationDigest: string): number {
  const versions = readJsonFile<Record<string, { digest: string; version: number }>>(versionsFile, {});
  const known = versions[name];
  if (known?.digest === configurationDigest) return known.version;
  const version = (known?.version ?? 0) + 1;
  writeJsonFile(versionsFile, { ...versions, [name]: { digest: configurationDigest, version } });
  return version;
}

export interface DeliveriesOptions {
  readonly stack: LoadedStack;
  /** Buckets are folders below it. */
  readonly archiveDir: string;
  readonly kinesis: KinesisClient;
  readonly streams: StreamsByArn;
  readonly checkpoints: CheckpointStore;
  /** The stack's functions, by ARN: Lambda processors are found here. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /** Overrides every delivery stream's buffering interval, its processor's included. */
  readonly bufferSeconds?: number;
  readonly log: (line: string) => void;
  /** Receives what stops each delivery stream started. */
  readonly started: (stop: () => Promise<void>) => void;
  /** Counts the records taken and the objects written. @default none */
  readonly meter?: Pick<UsageMeter, 'firehoseRecord' | 's3Put'> | undefined;
}

/** Starts every delivery stream of the stack; returns them by name, for their progress and to flush them. */
export function startDeliveries(options: DeliveriesOptions): Record<string, Pick<DeliveryStream, 'stats' | 'flush'>> {
  const { stack } = options;
  const deliveries: Record<string, Pick<DeliveryStream, 'stats' | 'flush'>> = {};
  for (const resource of stack.resources('aws_kinesis_firehose_delivery_stream')) {
    const settings = deliverySettings(resource, options.bufferSeconds);
    const bucket = stack.resources('aws_s3_bucket').find((candidate) => stack.attribute(candidate.address, 'arn') === settings.bucketArn);
    if (bucket === undefined) throw new TwinResolutionError(`${resource.address} writes to ${settings.bucketArn}, which is not a bucket of the stack`, resource.address, 'extended_s3_configuration.bucket_arn');
    const stream = streamOf(options.streams, settings.sourceArn, resource.address);
    const processor = settings.lambdaProcessor === undefined ? undefined : processorOf(options, settings.lambdaProcessor, resource.address, settings.sourceArn);
    const delivery = startDeliveryStream({
      ...settings,
      ...(processor === undefined ? {} : { processor }),
      version: deliveryStreamVersion(path.join(options.archiveDir, 'delivery-stream-versions.json'), settings.name, settings.configurationDigest),
      kinesis: options.kinesis,
      streamName: stream.name,
      shardIds: stream.info.shardIds,
      bucketDir: path.join(options.archiveDir, String(stack.attribute(bucket.address, 'bucket'))),
      checkpoints: options.checkpoints,
      log: options.log,
      ...(options.meter && { meter: options.meter }),
    });
    options.started(() => delivery.stop());
    deliveries[settings.name] = delivery;
  }
  return deliveries;
}

/** What the delivery stream needs to call its processor: the running function the ARN names (`:$LATEST` or not). */
function processorOf(options: DeliveriesOptions, settings: LambdaProcessorSettings, address: string, sourceArn: string): DeliveryStreamOptions['processor'] {
  const fn = options.functions.get(settings.functionArn.replace(/:\$LATEST$/, ''));
  if (fn === undefined) throw new TwinResolutionError(`${address}: the Lambda processor calls ${settings.functionArn}, which is not a function of the stack`, address, 'extended_s3_configuration.processing_configuration');
  return { fn, settings, deliveryStreamArn: String(options.stack.attribute(address, 'arn')), sourceKinesisStreamArn: sourceArn, region: options.stack.region };
}
