/**
 * The settings of a local event source mapping, read from the stack's
 * `aws_lambda_event_source_mapping`, with Lambda's defaults for what it leaves out.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html
 */
import type { EventSourceSettings } from '../event-source-mapping';
import type { StackResource } from './stack';
import { TwinResolutionError } from './stack';

/** Lambda's defaults for a Kinesis mapping. */
export const KINESIS_MAPPING_DEFAULTS = {
  batchSize: 100,
  maximumBatchingWindowSeconds: 0,
  /** -1: retry until the records expire. */
  maximumRetryAttempts: -1,
  /** -1: records never expire (the stream's retention still applies). */
  maximumRecordAgeSeconds: -1,
  parallelizationFactor: 1,
} as const;

export interface MappingSpec {
  readonly address: string;
  /** The stream's ARN (`event_source_arn`). */
  readonly sourceArn: string;
  /** The function's name or ARN (`function_name`). */
  readonly functionName: string;
  readonly enabled: boolean;
  readonly settings: EventSourceSettings;
  /** ARN of the on-failure destination: an SQS queue or an SNS topic. */
  readonly onFailureArn?: string;
  readonly parallelizationFactor: number;
}

/** Arguments that change what a Kinesis mapping does and that the local mapping does not do. */
const NOT_EMULATED = ['tumbling_window_in_seconds', 'filter_criteria', 'scaling_config', 'metrics_config', 'provisioned_poller_config'] as const;

export function mappingSpec(resource: StackResource): MappingSpec {
  const config = resource.config as {
    event_source_arn?: string;
    function_name: string;
    enabled?: boolean;
    batch_size?: number;
    maximum_batching_window_in_seconds?: number;
    maximum_retry_attempts?: number;
    maximum_record_age_in_seconds?: number;
    bisect_batch_on_function_error?: boolean;
    function_response_types?: readonly string[];
    starting_position?: string;
    starting_position_timestamp?: string;
    parallelization_factor?: number;
    destination_config?: { on_failure?: { destination_arn?: string } };
  };
  const refuse = (attribute: string, why: string): never => {
    throw new TwinResolutionError(`${resource.address}: ${why}`, resource.address, attribute);
  };
  for (const argument of NOT_EMULATED) if ((config as Record<string, unknown>)[argument] !== undefined) refuse(argument, `${argument} is not emulated by the local event source mapping`);
  if (config.event_source_arn === undefined || !config.event_source_arn.includes(':kinesis:')) refuse('event_source_arn', 'only Kinesis stream sources are emulated locally');
  const position = config.starting_position;
  if (position !== 'TRIM_HORIZON' && position !== 'LATEST' && position !== 'AT_TIMESTAMP') refuse('starting_position', 'a Kinesis mapping needs starting_position TRIM_HORIZON, LATEST or AT_TIMESTAMP');
  const age = config.maximum_record_age_in_seconds ?? KINESIS_MAPPING_DEFAULTS.maximumRecordAgeSeconds;
  // https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html: -1, or 60 to 604,800.
  if (age !== -1 && (age < 60 || age > 604_800)) refuse('maximum_record_age_in_seconds', `maximum_record_age_in_seconds must be -1 or 60 to 604800, not ${age}`);
  const onFailureArn = config.destination_config?.on_failure?.destination_arn;
  return {
    address: resource.address,
    sourceArn: config.event_source_arn as string,
    functionName: config.function_name,
    enabled: config.enabled !== false,
    settings: {
      batchSize: config.batch_size ?? KINESIS_MAPPING_DEFAULTS.batchSize,
      maximumBatchingWindowSeconds: config.maximum_batching_window_in_seconds ?? KINESIS_MAPPING_DEFAULTS.maximumBatchingWindowSeconds,
      maximumRetryAttempts: config.maximum_retry_attempts ?? KINESIS_MAPPING_DEFAULTS.maximumRetryAttempts,
      maximumRecordAgeSeconds: age,
      bisectBatchOnFunctionError: config.bisect_batch_on_function_error === true,
      reportBatchItemFailures: (config.function_response_types ?? []).includes('ReportBatchItemFailures'),
      startingPosition: position as EventSourceSettings['startingPosition'],
      ...(position === 'AT_TIMESTAMP' ? { startingPositionTimestamp: new Date(config.starting_position_timestamp ?? refuse('starting_position_timestamp', 'AT_TIMESTAMP needs starting_position_timestamp')) } : {}),
    },
    ...(onFailureArn === undefined ? {} : { onFailureArn }),
    parallelizationFactor: config.parallelization_factor ?? KINESIS_MAPPING_DEFAULTS.parallelizationFactor,
  };
}
