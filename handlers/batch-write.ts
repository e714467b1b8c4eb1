/**
 * Batched AWS writes with bounded retries: DynamoDB `BatchWriteItem` (25 puts per call,
 * `UnprocessedItems` retried) and SQS `SendMessageBatch` (10 messages per call, failed
 * entries retried). Both report what they could not write instead of throwing, so the
 * caller decides which records to hand back to Lambda.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageBatchCommand, type SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunk, describeError, isRetryableError, mapWithConcurrency, packBySize, retryWait, type RetryTiming } from './batching';

/** BatchWriteItem takes at most 25 requests. */
export const DYNAMODB_BATCH_SIZE = 25;
/** SendMessageBatch takes at most 10 entries. */
export const SQS_BATCH_SIZE = 10;
/** SQS's classic limit for one message and for one batch; newer queues allow more, emulators may not. */
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

export interface RetryContext extends RetryTiming {
  readonly sleep: (ms: number) => Promise<void>;
}

export interface WriteCounts {
  /** Calls made, retries included. */
  requests: number;
  /** Calls that were retries. */
  retries: number;
  /** Errors that ended a retry loop, for the logs. */
  errors: string[];
}

export interface BatchWriteOptions<T> extends RetryContext {
  readonly tableName: string;
  /** At most this many BatchWriteItem calls in flight. */
  readonly concurrency: number;
  readonly itemOf: (entry: T) => object;
  /** A string identifying an item by its key attributes, to match `UnprocessedItems` to entries. */
  readonly keyOf: (item: object) => string;
  /**
   * Asked before every call; returning false leaves the chunk unwritten (used to stop
   * spending capacity on records Lambda will deliver again anyway).
   */
  readonly proceed?: (entries: readonly T[]) => boolean;
  /** Told as soon as a chunk gives up, so `proceed` can take it into account. */
  readonly onUnstored?: (entries: readonly T[]) => void;
}

export interface BatchWriteResult<T> extends WriteCounts {
  /** Entries not written: gave up after retries, rejected, or not attempted. */
  readonly unstored: T[];
  /** How many of `unstored` were never attempted because `proceed` said no. */
  abandoned: number;
}

/**
 * Puts every entry, 25 per call, with at most `concurrency` calls in flight, retrying
 * throttling, transient errors and `UnprocessedItems` with jittered exponential backoff.
 * Entries must have distinct keys (DynamoDB rejects a call that names a key twice).
 */
export async function batchWriteAll<T>(dynamo: DynamoDBDocumentClient, entries: readonly T[], options: BatchWriteOptions<T>): Promise<BatchWriteResult<T>> {
  const result: BatchWriteResult<T> = { unstored: [], abandoned: 0, requests: 0, retries: 0, errors: [] };
  const giveUp = (left: T[]): void => {
    result.unstored.push(...left);
    options.onUnstored?.(left);
  };

  await mapWithConcurrency(chunk(entries, DYNAMODB_BATCH_SIZE), options.concurrency, async (entriesOfCall) => {
    let pending = entriesOfCall;
    for (let attempt = 1; ; attempt++) {
      if (options.proceed !== undefined && !options.proceed(pending)) {
        result.abandoned += pending.length;
        return giveUp(pending);
      }
      result.requests++;
      let failure: string;
      try {
        const output = await dynamo.send(
          new BatchWriteCommand({ RequestItems: { [options.tableName]: pending.map((entry) => ({ PutRequest: { Item: options.itemOf(entry) as Record<string, unknown> } })) } }),
        );
        const unprocessed = output.UnprocessedItems?.[options.tableName] ?? [];
        if (unprocessed.length === 0) return;
        const left = new Set(unprocessed.map((request) => options.keyOf(request.PutRequest?.Item ?? {})));
        pending = pending.filter((entry) => left.has(options.keyOf(options.itemOf(entry))));
        failure = `${pending.length} items still unprocessed after ${attempt} attempts`;
      } catch (error) {
        failure = describeError(error);
        if (!isRetryableError(error)) {
          result.errors.push(failure);
          return giveUp(pending);
        }
      }
      const wait = retryWait(attempt, options);
      if (wait === undefined) {
        result.errors.push(failure);
        return giveUp(pending);
      }
      result.retries++;
      await options.sleep(wait);
    }
  });
  return result;
}

export interface QueueMessage {
  /** Unique within one call: letters, digits, `-` and `_`, at most 80 characters. */
  readonly id: string;
  readonly body: string;
}

export interface SendMessagesResult extends WriteCounts {
  /** Ids of the messages SQS did not accept. */
  readonly failed: string[];
}

/**
 * Sends every message, at most 10 and 256 KiB per call, one call at a time (failure
 * messages are few), retrying throttling, transient errors and entries SQS failed on
 * its side; entries failed through the sender's fault are not retried.
 */
export async function sendMessages(sqs: SQSClient, queueUrl: string, messages: readonly QueueMessage[], retry: RetryContext): Promise<SendMessagesResult> {
  const result: SendMessagesResult = { failed: [], requests: 0, retries: 0, errors: [] };
  for (const pack of packBySize(messages, (message) => Buffer.byteLength(message.body), SQS_BATCH_SIZE, SQS_MAX_BATCH_BYTES)) {
    let pending = pack;
    for (let attempt = 1; pending.length > 0; attempt++) {
      result.requests++;
      let output: SendMessageBatchCommandOutput | undefined;
      let error: unknown;
      try {
        output = await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending.map((message) => ({ Id: message.id, MessageBody: message.body })) }),
        );
      } catch (caught) {
        error = caught;
      }
      // All taken: nothing to decide, no wait to draw.
      if (output !== undefined && (output.Failed ?? []).length === 0) break;
      const wait = retryWait(attempt, retry);
      if (output !== undefined) {
        const retryable = new Set<string>();
        for (const failure of output.Failed ?? []) {
          if (failure.SenderFault === true || wait === undefined) {
            result.failed.push(failure.Id ?? '');
            result.errors.push(`${failure.Code ?? 'unknown'}: ${failure.Message ?? 'no message'}`);
          } else {
            retryable.add(failure.Id ?? '');
          }
        }
        pending = pending.filter((message) => retryable.has(message.id));
      } else if (!isRetryableError(error) || wait === undefined) {
        result.failed.push(...pending.map((message) => message.id));
        result.errors.push(describeError(error));
        pending = [];
      }
      if (pending.length > 0 && wait !== undefined) {
        result.retries++;
        await retry.sleep(wait);
      }
    }
  }
  return result;
}

/**
 * Makes one call, retrying throttling and transient errors. Resolves with the error
 * that ended the attempts instead of rejecting, so a caller can decide what it costs.
 */
export async function callWithRetries<R>(
  call: () => Promise<R>,
  retry: RetryContext,
): Promise<{ readonly ok: true; readonly value: R; readonly attempts: number } | { readonly ok: false; readonly error: unknown; readonly attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await call(), attempts: attempt };
    } catch (error) {
      const wait = isRetryableError(error) ? retryWait(attempt, retry) : undefined;
      if (wait === undefined) return { ok: false, error, attempts: attempt };
      await retry.sleep(wait);
    }
  }
}
