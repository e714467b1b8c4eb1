/**
 * Pure helpers for batched AWS calls: chunking, jittered backoff, error classification
 * and a bounded-concurrency runner. No AWS client here, so every rule is testable as is.
 */

/** How often and how patiently a throttled or partly processed call is retried. */
export interface RetryPolicy {
  /** Calls in all, the first included. */
  readonly maxAttempts: number;
  /** Ceiling of the first retry's delay; it doubles per retry up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** About 1.5 s of waiting at most: well inside a Lambda timeout, enough to ride out a throttling burst. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 50, maxDelayMs: 2_000 };

/**
 * "Full jitter" exponential backoff: a uniform delay below `base * 2^(retry-1)` (capped),
 * so retries of many concurrent callers spread out instead of colliding again.
 * @param retry 1 for the first retry.
 * @param random a number in [0, 1).
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random * ceiling);
}

/** When retrying must stop whatever the attempt count: the invocation's time is running out. */
export interface RetryDeadline {
  /** Epoch ms by which the last wait must have ended. */
  readonly at: number;
  readonly now: () => number;
}

/** How a caller retries: its policy, its jitter source, and, inside an invocation, its deadline. */
export interface RetryTiming {
  readonly policy: RetryPolicy;
  /** A number in [0, 1), for jitter. */
  readonly random: () => number;
  /** Set inside an invocation: retries then last until it, not `policy.maxAttempts`. */
  readonly deadline?: RetryDeadline;
}

/**
 * Whether to try again after `attempt` failed calls, waiting `delayMs` first. Without a
 * deadline the policy's attempts bound the retries; with one, time does, so a dependency
 * that is down for a while (a DynamoDB outage, a throttling storm) is waited out inside
 * the invocation instead of spending the event source's few retries on it.
 */
export function mayRetry(attempt: number, delayMs: number, policy: RetryPolicy, deadline?: RetryDeadline): boolean {
  return deadline === undefined ? attempt < policy.maxAttempts : deadline.now() + delayMs < deadline.at;
}

/** Decided when attempt `attempt` has failed: the wait before the next one, or undefined when none is left. */
export function retryWait(attempt: number, timing: RetryTiming): number | undefined {
  const delay = backoffDelay(attempt, timing.policy, timing.random());
  return mayRetry(attempt, delay, timing.policy, timing.deadline) ? delay : undefined;
}

/** Splits `items` into consecutive runs of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/**
 * Splits `items` into consecutive runs of at most `maxCount` items whose sizes add up to at
 * most `maxBytes` (an item larger than `maxBytes` travels alone; the caller keeps items below it).
 */
export function packBySize<T>(items: readonly T[], sizeOf: (item: T) => number, maxCount: number, maxBytes: number): T[][] {
  const packs: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length === maxCount || bytes + size > maxBytes)) {
      packs.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) packs.push(current);
  return packs;
}

const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'TransactionConflictException',
]);

/** Failures before any answer arrived: the request may not even have reached the service. */
const TRANSIENT_ERRORS = new Set(['TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether the service said "too many requests": wait and retry, nothing is broken. */
export function isThrottlingError(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && THROTTLING_ERRORS.has(name);
}

/**
 * Whether trying the same call again may succeed: throttling, a server-side (5xx) fault,
 * or a network failure or timeout before any answer arrived. Client errors (a missing
 * table, denied access, a malformed request) are not retried: they need a person, not a loop.
 */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata, $retryable } = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if ($retryable !== undefined) return true;
  if (isThrottlingError(error)) return true;
  const status = $metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  const { code } = error as { code?: string };
  return (name !== undefined && TRANSIENT_ERRORS.has(name)) || (code !== undefined && TRANSIENT_ERRORS.has(code));
}

/** Short text for logs: the error's name and message. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Runs `task` over `items` with at most `concurrency` tasks in flight, starting them in
 * order (earlier items are never kept waiting behind later ones). Resolves when all end;
 * the tasks must not reject (they report failures in their results).
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
