import { backoffDelay, chunk, DEFAULT_RETRY_POLICY, isRetryableError, mapWithConcurrency, mayRetry, packBySize } from '../../handlers/batching';

describe('chunk', () => {
  it('splits into consecutive runs of at most the size, keeping order', () => {
    const items = Array.from({ length: 53 }, (_, index) => index);
    const chunks = chunk(items, 25);
    expect(chunks.map((run) => run.length)).toEqual([25, 25, 3]);
    expect(chunks.flat()).toEqual(items);
  });

  it('gives no chunk for no items', () => {
    expect(chunk([], 25)).toEqual([]);
  });

  it('refuses a size that would never end', () => {
    expect(() => chunk([1], 0)).toThrow('chunk size must be a positive integer, got 0');
  });
});

describe('packBySize', () => {
  it('closes a pack at the count limit or before the byte limit would be passed', () => {
    const sizes = [40, 40, 40, 10, 10, 10, 10, 90];
    const packs = packBySize(sizes, (size) => size, 3, 100);
    expect(packs).toEqual([[40, 40], [40, 10, 10], [10, 10], [90]]);
  });

  it('sends an item larger than the byte limit alone', () => {
    expect(packBySize([10, 500, 10], (size) => size, 10, 100)).toEqual([[10], [500], [10]]);
  });
});

describe('backoffDelay', () => {
  const policy = { maxAttempts: 6, baseDelayMs: 50, maxDelayMs: 300 };

  it('doubles the ceiling per retry up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelay(retry, policy, 0.999999))).toEqual([49, 99, 199, 299, 299]);
  });

  it('draws the delay uniformly below the ceiling (full jitter)', () => {
    expect(backoffDelay(3, policy, 0)).toBe(0);
    expect(backoffDelay(3, policy, 0.5)).toBe(100);
  });

  it('waits about 1.5 s at most in all with the default policy', () => {
    let total = 0;
    for (let retry = 1; retry < DEFAULT_RETRY_POLICY.maxAttempts; retry++) total += backoffDelay(retry, DEFAULT_RETRY_POLICY, 0.999999);
    expect(total).toBeLessThanOrEqual(1_550);
  });
});

describe('mayRetry', () => {
  const policy = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 300 };

  it('counts attempts when there is no deadline', () => {
    expect([1, 2, 3].map((attempt) => mayRetry(attempt, 100, policy))).toEqual([true, true, false]);
  });

  it('goes past the attempts while the wait ends before the deadline, and stops when it would not', () => {
    const deadline = { at: 10_000, now: () => 9_000 };
    expect(mayRetry(50, 999, policy, deadline)).toBe(true);
    expect(mayRetry(1, 1_000, policy, deadline)).toBe(false);
  });
});

describe('isRetryableError', () => {
  const serviceError = (name: string, httpStatusCode: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });

  it.each([
    ['DynamoDB throttling', serviceError('ProvisionedThroughputExceededException', 400)],
    ['request limit', serviceError('RequestLimitExceeded', 400)],
    ['generic throttling', serviceError('ThrottlingException', 400)],
    ['a server fault', serviceError('InternalServerError', 500)],
    ['too many requests', serviceError('Whatever', 429)],
    ['a network reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('retries %s', (_, error) => {
    expect(isRetryableError(error)).toBe(true);
  });

  it.each([
    ['a missing table', serviceError('ResourceNotFoundException', 400)],
    ['denied access', serviceError('AccessDeniedException', 400)],
    ['a failed condition', serviceError('ConditionalCheckFailedException', 400)],
    ['a bug in the caller', new TypeError('cannot read properties of undefined')],
    ['something not an error', 'boom'],
  ])('does not retry %s', (_, error) => {
    expect(isRetryableError(error)).toBe(false);
  });
});

describe('mapWithConcurrency', () => {
  it('keeps at most the given number of tasks in flight and returns results in input order', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const started: number[] = [];
    const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0, 6], 3, async (value, index) => {
      started.push(index);
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      for (let turn = 0; turn < value; turn++) await Promise.resolve();
      inFlight--;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(mostInFlight).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('refuses a concurrency that would run nothing', async () => {
    await expect(mapWithConcurrency([1], 0, async () => 1)).rejects.toThrow('concurrency must be a positive integer, got 0');
  });

  it('resolves at once for no items', async () => {
    await expect(mapWithConcurrency([], 4, async () => 1)).resolves.toEqual([]);
  });
});
