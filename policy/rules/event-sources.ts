import { block, isSet, isTrue, literalNumber, strings, type Element, type StackModel } from '../model';
import { finding, NO_EQUIVALENT, rule } from './rule';

type SourceKind = 'stream' | 'queue' | 'other';

/** Whether a mapping reads a Kinesis/DynamoDB stream, an SQS queue, or something else. */
export function sourceKind(model: StackModel, mapping: Element): SourceKind {
  const arn = mapping.config['event_source_arn'];
  const types = model.referencedElements(arn).map((element) => element.type);
  if (types.includes('aws_kinesis_stream') || types.includes('aws_dynamodb_table') || types.includes('aws_kinesis_stream_consumer')) return 'stream';
  if (types.includes('aws_sqs_queue')) return 'queue';
  if (typeof arn === 'string' && /^arn:[^:]+:(kinesis|dynamodb):/.test(arn)) return 'stream';
  if (typeof arn === 'string' && /^arn:[^:]+:sqs:/.test(arn)) return 'queue';
  // A stream from another stack arrives through remote state; only streams take a starting position.
  return isSet(mapping.config['starting_position']) && isSet(arn) ? 'stream' : 'other';
}

const streamMappings = (model: StackModel): Element[] =>
  model.resources('aws_lambda_event_source_mapping').filter((mapping) => sourceKind(model, mapping) === 'stream');

export const partialBatchResponses = rule({
  id: 'ESM-001',
  category: 'event-sources',
  title: 'Stream and queue event source mappings report partial batch failures (`ReportBatchItemFailures`)',
  fix: 'Set `functionResponseTypes: ["ReportBatchItemFailures"]` and return `batchItemFailures` from the handler.',
  equivalents: NO_EQUIVALENT,
  check: (model) =>
    model.resources('aws_lambda_event_source_mapping')
      .filter((mapping) => sourceKind(model, mapping) !== 'other')
      .filter((mapping) => !strings(mapping.config['function_response_types']).includes('ReportBatchItemFailures'))
      .map((mapping) => finding(mapping, 'function_response_types does not include ReportBatchItemFailures, so one bad record fails the whole batch')),
});

export const bisectOnError = rule({
  id: 'ESM-002',
  category: 'event-sources',
  title: 'Stream event source mappings bisect a batch on function error',
  fix: 'Set `bisectBatchOnFunctionError: true`.',
  equivalents: NO_EQUIVALENT,
  check: (model) =>
    streamMappings(model)
      .filter((mapping) => !isTrue(mapping.config['bisect_batch_on_function_error']))
      .map((mapping) => finding(mapping, 'bisect_batch_on_function_error is not true')),
});

/** AWS limits: retries 0..10000, record age 60..604800 s; -1 (the default) means forever. */
export const finiteRetries = rule({
  id: 'ESM-003',
  category: 'event-sources',
  title: 'Stream event source mappings bound retries (0..10000) and record age (60..604800 s), so a poison record cannot stall the shard',
  fix: 'Set `maximumRetryAttempts` and `maximumRecordAgeInSeconds` (e.g. from EVENT_SOURCE in handlers/contract.ts).',
  equivalents: NO_EQUIVALENT,
  check: (model) =>
    streamMappings(model).flatMap((mapping) => {
      const retries = literalNumber(mapping.config['maximum_retry_attempts']);
      const age = literalNumber(mapping.config['maximum_record_age_in_seconds']);
      const findings = [];
      if (retries === undefined || retries < 0 || retries > 10_000) {
        findings.push(finding(mapping, `maximum_retry_attempts is ${JSON.stringify(mapping.config['maximum_retry_attempts'] ?? null)} (unset or -1 retries until the record expires)`));
      }
      if (age === undefined || age < 60 || age > 604_800) {
        findings.push(finding(mapping, `maximum_record_age_in_seconds is ${JSON.stringify(mapping.config['maximum_record_age_in_seconds'] ?? null)} (unset or -1 keeps records until the stream drops them)`));
      }
      return findings;
    }),
});

export const onFailureDestination = rule({
  id: 'ESM-004',
  category: 'event-sources',
  title: 'Stream event source mappings send discarded batches to an on-failure destination',
  fix: 'Set `destinationConfig: { onFailure: { destinationArn: failureQueue.arn } }`.',
  equivalents: {
    checkov: [],
    trivy: [],
    note: 'Closest: CKV_AWS_116 (a dead-letter queue for asynchronous invocation), which does not cover event source mappings.',
  },
  check: (model) =>
    streamMappings(model)
      .filter((mapping) => !isSet(block(block(mapping.config['destination_config'])['on_failure'])['destination_arn']))
      .map((mapping) => finding(mapping, 'destination_config.on_failure.destination_arn is not set, so discarded records vanish')),
});

export const EVENT_SOURCE_RULES = [partialBatchResponses, bisectOnError, finiteRetries, onFailureDestination] as const;
