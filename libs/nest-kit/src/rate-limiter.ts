/**
 * Token bucket per tenant, in process memory: each gateway enforces its share of the limit. Cheap on
 * the hot path (no I/O); a tenant that exceeds it learns how long to wait.
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  /** Returns 0 when `cost` tokens were taken, else the seconds until they will be available. */
  take(tenant: string, cost: number, ratePerSecond: number, nowMs: number): number {
    const capacity = Math.max(ratePerSecond, cost);
    let bucket = this.buckets.get(tenant);
    if (!bucket) {
      bucket = { tokens: capacity, updatedAt: nowMs };
      this.buckets.set(tenant, bucket);
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + ((nowMs - bucket.updatedAt) / 1000) * ratePerSecond);
    bucket.updatedAt = nowMs;
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((cost - bucket.tokens) / ratePerSecond));
  }
}
