/**
 * Batched AWS writes with bounded retries: DynamoDB `BatchWriteItem` (25 puts per call,
 * `UnprocessedItems` retried) and SQS `SendMessageBatch` (10 messages per call, failed
 * entries retried). Both report what they could not write instead of throwing, so the
 * caller decides which records to hand back to Lambda.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageBatchCommand, type SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunk, DEFAULT_RETRY_POLICY, describeError, isRetryableError, mapWithConcurrency, packBySize, retryWait, type RetryTiming } from './batching';

/** BatchWriteItem takes at most 25 requests. */
export const DYNAMODB_BATCH_SIZE = 25;
/** BatchGetItem takes at most 100 keys. */
export const DYNAMODB_BATCH_GET_SIZE = 100;
/** SendMessageBatch takes at most 10 entries. */
export const SQS_BATCH_SIZE = 10;
/** SQS's classic limit for one message and for one batch; newer queues allow more, emulators may not. */
export const SQS_MAX_BATCH_BYTES = 256 * 1024;

export interface RetryContext extends RetryTiming {
  readonly sleep: (ms: number) => Promise<void>;
}

/** For tools and the local platform, which run outside an invocation: the default policy, real sleeps. */
export const TOOL_RETRY: RetryContext = {
  policy: DEFAULT_RETRY_POLICY,
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

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

/** An entry DynamoDB refused to store: no retry can write it, it is about the item itself. */
export interface RefusedEntry<T> {
  readonly entry: T;
  /** DynamoDB's reason, e.g. "ValidationException: Number overflow ...". */
  readonly reason: string;
}

export interface BatchWriteResult<T> extends WriteCounts {
  /** Entries not written for now: gave up after retries, failed, or not attempted. */
  readonly unstored: T[];
  /** How many of `unstored` were never attempted because `proceed` said no. */
  abandoned: number;
  /** Entries DynamoDB refused for their content; never in `unstored`. */
  readonly refused: RefusedEntry<T>[];
}

/**
 * A refusal of the request's content: DynamoDB validates each item of a BatchWriteItem and
 * refuses the whole call for one bad item (a number it cannot hold, an item too large).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html (Errors: ValidationException)
 */
const isValidationError = (error: unknown): boolean => (error as { name?: unknown } | null)?.name === 'ValidationException';

/**
 * Puts every entry, 25 per call, with at most `concurrency` calls in flight, retrying
 * throttling, transient errors and `UnprocessedItems` with jittered exponential backoff.
 * A call DynamoDB refuses as invalid is split in two and each half written, down to the
 * single entries it refuses, so one bad item costs log(25) extra calls, not the other 24.
 * Entries must have distinct keys (DynamoDB rejects a call that names a key twice).
 */
export async function batchWriteAll<T>(dynamo: DynamoDBDocumentClient, entries: readonly T[], options: BatchWriteOptions<T>): Promise<BatchWriteResult<T>> {
  const result: BatchWriteResult<T> = { unstored: [], abandoned: 0, refused: [], requests: 0, retries: 0, errors: [] };
  const giveUp = (left: T[]): void => {
    result.unstored.push(...left);
    options.onUnstored?.(left);
  };

  const writeCall = async (entriesOfCall: T[]): Promise<void> => {
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
        if (isValidationError(error)) {
          if (pending.length === 1) {
            result.refused.push({ entry: pending[0] as T, reason: failure });
            return;
          }
          const half = Math.ceil(pending.length / 2);
          await writeCall(pending.slice(0, half));
          return writeCall(pending.slice(half));
        }
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
  };

  await mapWithConcurrency(chunk(entries, DYNAMODB_BATCH_SIZE), options.concurrency, writeCall);
  return result;
}

/**
 * Deletes every key, 25 per BatchWriteItem call, one call at a time, retrying throttling,
 * transient errors and `UnprocessedItems` with jittered backoff; rejects with what was
 * left when the retries run out. For the tools and the local platform, which delete in
 * bulk and have nobody to hand the leftovers to.
 */
export async function batchDeleteAll(dynamo: DynamoDBDocumentClient, tableName: string, keys: readonly Record<string, unknown>[], retry: RetryContext): Promise<void> {
  for (const keysOfCall of chunk(keys, DYNAMODB_BATCH_SIZE)) {
    let pending = keysOfCall.map((key) => ({ DeleteRequest: { Key: key } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const call = await callWithRetries(() => dynamo.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } })), retry);
      if (!call.ok) throw call.error;
      pending = (call.value.UnprocessedItems?.[tableName] ?? []) as typeof pending;
      if (pending.length === 0) break;
      const wait = retryWait(attempt, retry);
      if (wait === undefined) throw new Error(`${tableName}: ${pending.length} deletes still unprocessed after ${attempt} attempts`);
      await retry.sleep(wait);
    }
  }
}

export interface QueueMessage {
  /** Unique within one call: letters, digits, `-` and `_`, at most 80 characters. */
  readonly id: string;
  readonly body: string;
}

export interface SendMessagesResult extends WriteCounts {
  /** Ids of the messages SQS did not accept, and of those not sent after a call that failed. */
  readonly failed: string[];
  /** Ids of the messages SQS accepted. */
  readonly sent: string[];
}

/**
 * Sends the messages in order, at most 10 and 256 KiB per call, one call at a time
 * (failure messages are few), retrying throttling, transient errors and entries SQS
 * failed on its side; entries failed through the sender's fault are not retried. After
 * a call that leaves a message unsent, the later messages are not sent either: the caller
 * hands them back with it, and a message sent ahead of an unsent one would be sent again.
 */
export async function sendMessages(sqs: SQSClient, queueUrl: string, messages: readonly QueueMessage[], retry: RetryContext): Promise<SendMessagesResult> {
  const result: SendMessagesResult = { failed: [], sent: [], requests: 0, retries: 0, errors: [] };
  const packs = packBySize(messages, (message) => Buffer.byteLength(message.body), SQS_BATCH_SIZE, SQS_MAX_BATCH_BYTES);
  for (const [index, pack] of packs.entries()) {
    if (result.failed.length > 0) {
      result.failed.push(...packs.slice(index).flatMap((later) => later.map((message) => message.id)));
      break;
    }
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
    const failed = new Set(result.failed);
    for (const message of pack) if (!failed.has(message.id)) result.sent.push(message.id);
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

export interface BatchGetResult extends WriteCounts {
  readonly items: Record<string, unknown>[];
  /** Keys still unread after the retries, or of a call that failed for good. */
  readonly unread: Record<string, unknown>[];
}

/**
 * Reads every key, consistently, 100 per BatchGetItem call with at most `concurrency`
 * calls in flight, retrying throttling, transient errors and `UnprocessedKeys` with
 * jittered backoff. Reports the keys it could not read instead of throwing.
 */
export async function batchGetAll(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  options: RetryContext & { readonly concurrency: number },
): Promise<BatchGetResult> {
  const result: BatchGetResult = { items: [], unread: [], requests: 0, retries: 0, errors: [] };
  await mapWithConcurrency(chunk(keys, DYNAMODB_BATCH_GET_SIZE), options.concurrency, async (chunkKeys) => {
    let pending = chunkKeys;
    for (let attempt = 1; ; attempt++) {
      result.requests++;
      let failure: string;
      try {
        const output = await dynamo.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
        result.items.push(...(output.Responses?.[tableName] ?? []));
        pending = (output.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
        if (pending.length === 0) return;
        failure = `${pending.length} keys still unprocessed after ${attempt} attempts`;
      } catch (error) {
        failure = describeError(error);
        if (!isRetryableError(error)) {
          result.errors.push(failure);
          result.unread.push(...pending);
          return;
        }
      }
      const wait = retryWait(attempt, options);
      if (wait === undefined) {
        result.errors.push(failure);
        result.unread.push(...pending);
        return;
      }
      result.retries++;
      await options.sleep(wait);
    }
  });
  return result;
}
