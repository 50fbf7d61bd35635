export interface RetryPolicy {
  /** Ceiling of the first retry's delay. Default 100 ms. */
  initialDelayMs: number;
  /** Largest ceiling the exponential growth reaches. Default 30 000 ms. */
  maxDelayMs: number;
  /** Attempts in total, the first one included (10 = 1 try + 9 retries). `Infinity` never gives up. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialDelayMs: 100, maxDelayMs: 30_000, maxAttempts: 10 };

/**
 * Delay before retry number `retryIndex` (0 for the first retry): "full jitter", a uniform draw in
 * [0, min(maxDelayMs, initialDelayMs * 2^retryIndex)), so that many clients failing at once spread
 * their retries instead of hammering a recovering gateway in lockstep. A server's `Retry-After`
 * is a floor: it wins whenever it is longer than the drawn delay, even beyond `maxDelayMs`.
 */
export function retryDelayMs(
  retryIndex: number,
  policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retryIndex);
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs !== undefined && retryAfterMs > jittered ? retryAfterMs : jittered;
}

/**
 * `Retry-After` as milliseconds from now: delta-seconds (`"1"`, `"2.5"`) or an HTTP date. Undefined
 * when absent or unreadable, in which case only the backoff applies.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  // An HTTP date always names a day or month; without a letter, Date.parse would take "-1" for a year.
  const at = /[a-z]/i.test(v) ? Date.parse(v) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
