/**
 * API Gateway's request throttling and usage-plan quotas.
 *
 * Throttling is a token bucket per limit: `burst` tokens, refilled at `rate` per second, one
 * per request. A request passes the limits in AWS's order (usage plan per key and method,
 * usage plan per key, stage per method, account) and takes a token from each only when all
 * have one. Quotas count requests per key per period (UTC day, week from Monday, month).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html
 */

export interface ThrottleLimit {
  /** Steady requests per second. */
  readonly rate: number;
  /** Bucket size: requests that may arrive at once. */
  readonly burst: number;
}

export interface QuotaLimit {
  readonly limit: number;
  readonly period: 'DAY' | 'WEEK' | 'MONTH';
  /** Requests already counted in the first period. @default 0 */
  readonly offset?: number;
}

/** AWS's default account-level limit per Region. */
export const ACCOUNT_THROTTLE: ThrottleLimit = { rate: 10_000, burst: 5_000 };

/** A limit is off when absent or negative (Terraform's -1); a rate of 0 refuses everything. */
export const isActive = (limit: ThrottleLimit | undefined): limit is ThrottleLimit => limit !== undefined && limit.rate >= 0 && limit.burst >= 0;

class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    private readonly limit: ThrottleLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.updated = now;
  }

  hasToken(now: number): boolean {
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.updated) / 1000) * this.limit.rate);
    this.updated = now;
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }
}

/** The start of the quota period holding `now`, in epoch milliseconds (UTC). */
export function periodStart(period: QuotaLimit['period'], now: number): number {
  const date = new Date(now);
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (period === 'DAY') return day;
  if (period === 'WEEK') return day - ((date.getUTCDay() + 6) % 7) * 86_400_000;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

export type ThrottleOutcome = 'ok' | 'THROTTLED' | 'QUOTA_EXCEEDED';

/** One named limit a request must pass; the key names its bucket (per API key, per method, ...). */
export interface LimitCheck {
  readonly bucket: string;
  readonly limit: ThrottleLimit;
}

export class Throttling {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly quotas = new Map<string, { start: number; used: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Takes one token from every limit, or none and answers THROTTLED; then counts the quota. */
  admit(limits: readonly LimitCheck[], quota?: { readonly bucket: string; readonly limit: QuotaLimit }): ThrottleOutcome {
    const now = this.clock();
    const buckets = limits.map(({ bucket, limit }) => {
      let found = this.buckets.get(bucket);
      if (found === undefined) this.buckets.set(bucket, (found = new TokenBucket(limit, now)));
      return found;
    });
    if (!buckets.every((bucket) => bucket.hasToken(now))) return 'THROTTLED';
    if (quota !== undefined) {
      const start = periodStart(quota.limit.period, now);
      let count = this.quotas.get(quota.bucket);
      if (count === undefined || count.start !== start) this.quotas.set(quota.bucket, (count = { start, used: count === undefined ? (quota.limit.offset ?? 0) : 0 }));
      if (count.used >= quota.limit.limit) return 'QUOTA_EXCEEDED';
      count.used += 1;
    }
    for (const bucket of buckets) bucket.take();
    return 'ok';
  }
}
