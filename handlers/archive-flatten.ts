/**
 * Firehose data-transformation processor for the archive: each stream record (one reading,
 * or an array of readings) becomes the archive lines of handlers/archive-format.ts, one
 * per metric, so Athena and DuckDB read the objects as the `readings` table.
 *
 * Firehose's contract (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html):
 * every input record comes back with its `recordId`, a `result` and base64 `data`. A
 * record that is not a valid reading (or array of them) is `ProcessingFailed`: Firehose
 * keeps it, unchanged (base64 in an error document), under the error prefix's `processing-failed/` folder
 * (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html),
 * so nothing is lost and nothing malformed reaches the table. A record with one bad
 * reading fails whole, since a record cannot be split into kept and failed parts.
 * The lines of a record are joined by newlines; Firehose's AppendDelimiterToRecord adds
 * the last one.
 */
import type { Context, FirehoseTransformationEvent, FirehoseTransformationEventRecord, FirehoseTransformationResult, FirehoseTransformationResultRecord } from 'aws-lambda';
import { ARCHIVE_PROCESSING, archiveLines } from './archive-format';
import { encodingProblem, packedElements } from './kinesis-record';
import { parseReadingJson, type Reading } from './reading';
import { Logger } from '@aws-lambda-powertools/logger';

export interface FailedRecord {
  readonly recordId: string;
  readonly reason: string;
}

export interface FlattenOutcome {
  readonly response: FirehoseTransformationResult;
  readonly failed: readonly FailedRecord[];
  /** Archive lines written, over all records. */
  readonly lines: number;
}

/** The readings a record carries, or why it carries none that can be archived. */
export function recordReadings(data: string): { ok: true; readings: Reading[] } | { ok: false; reason: string } {
  const encoding = encodingProblem(data);
  if (encoding !== undefined) return { ok: false, reason: encoding.message };
  const text = Buffer.from(data, 'base64').toString('utf8');
  // Read as the consumers read it (kinesis-record.ts), every digit of its numbers kept.
  const elements = packedElements(text);
  if (elements === undefined) {
    const parsed = parseReadingJson(text);
    return parsed.ok ? { ok: true, readings: [parsed.value] } : { ok: false, reason: parsed.error.message };
  }
  if (!elements.ok) return elements;
  const { texts: items, values } = elements;
  const readings: Reading[] = [];
  for (const [index, item] of items.entries()) {
    const parsed = parseReadingJson(item, { value: values[index] });
    if (!parsed.ok) return { ok: false, reason: `reading [${index}]: ${parsed.error.message}` };
    readings.push(parsed.value);
  }
  return { ok: true, readings };
}

/** Bytes one result record adds to the response besides its data (keys, quotes, the longest result). */
const RECORD_OVERHEAD_BYTES = 64;

/**
 * Flattens a Firehose event. The response stays within `budgetBytes`: room is reserved
 * for returning every record unchanged (as a failure must), and a record is flattened
 * only while what it adds fits.
 */
export function flattenRecords(event: FirehoseTransformationEvent, budgetBytes: number = ARCHIVE_PROCESSING.responseBudgetBytes): FlattenOutcome {
  let room = budgetBytes - event.records.reduce((total, record) => total + record.data.length + record.recordId.length + RECORD_OVERHEAD_BYTES, 0);
  const failed: FailedRecord[] = [];
  let lines = 0;
  const fail = (record: FirehoseTransformationEventRecord, reason: string): FirehoseTransformationResultRecord => {
    failed.push({ recordId: record.recordId, reason });
    return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
  };
  const records = event.records.map((record): FirehoseTransformationResultRecord => {
    const parsed = recordReadings(record.data);
    if (!parsed.ok) return fail(record, parsed.reason);
    const recordLines = parsed.readings.flatMap(archiveLines);
    const data = Buffer.from(recordLines.join('\n'), 'utf8').toString('base64');
    const added = data.length - record.data.length;
    if (added > room) {
      return fail(record, `its ${recordLines.length} lines would take the response past ${budgetBytes} bytes (Lambda answers at most 6 MB): lower the processor's buffer size`);
    }
    room -= added;
    lines += recordLines.length;
    return { recordId: record.recordId, result: 'Ok', data };
  });
  return { response: { records }, failed, lines };
}

/**
 * Its own Powertools logger rather than runtime.ts's, which would bundle the DynamoDB, SNS
 * and SQS clients this function never calls (a 90 KB bundle instead of 950 KB).
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'archive-flatten' });

/** Enough examples in a log line to find the producer without flooding the logs. */
const LOGGED_EXAMPLES = 5;

export const handler = async (event: FirehoseTransformationEvent, context?: Context): Promise<FirehoseTransformationResult> => {
  if (context !== undefined) logger.addContext(context);
  const outcome = flattenRecords(event);
  if (outcome.failed.length > 0) {
    // `failedRecords` feeds the processor's metric filter and alarm (stacks/archive-processor.ts).
    logger.error('archive records failed processing; Firehose keeps them under processing-failed/', {
      failedRecords: outcome.failed.length,
      records: event.records.length,
      examples: outcome.failed.slice(0, LOGGED_EXAMPLES),
    });
  }
  logger.debug('archive batch flattened', { records: event.records.length, lines: outcome.lines });
  return outcome.response;
};
