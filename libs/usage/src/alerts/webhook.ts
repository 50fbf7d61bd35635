import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'tally-signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>` (Stripe's scheme): the
 * timestamp inside the signed text lets receivers refuse replays of old deliveries.
 */
export function signWebhook(body: string, secret: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/**
 * What a receiver does (and what the docs show): checks the signature and that the timestamp is
 * recent. Exported for receivers written in TypeScript and for tests.
 */
export function verifyWebhook(
  body: string,
  header: string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isSafeInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !parts.v1) return false;
  const expected = Buffer.from(signWebhook(body, secret, t).split('v1=')[1], 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WebhookDelivery {
  url: string;
  body: string;
  /** Signs when present. */
  secret?: string;
  /** Sent as `Tally-Alert-Id`, so that a receiver can drop a repeated delivery. */
  id: string;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** First pause; doubled after each failure, with ±20 % jitter. */
  backoffMs: number;
  timeoutMs: number;
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

/**
 * POSTs the body until a 2xx answer, at most `maxAttempts` times with exponential back-off. Every
 * attempt is signed afresh (a new timestamp), so a receiver's replay window never rejects a retry.
 * Any non-2xx answer or network failure is retried: a receiver that is down or redeploying is the
 * common case, and duplicate deliveries carry the same `Tally-Alert-Id`.
 */
export async function deliverWebhook(
  delivery: WebhookDelivery,
  policy: RetryPolicy,
  options: { signal?: AbortSignal; now?: () => number } = {},
): Promise<DeliveryResult> {
  const now = options.now ?? Date.now;
  let last: DeliveryResult = { delivered: false, attempts: 0 };
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    if (options.signal?.aborted) break;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'tally-alerts/1',
      'tally-alert-id': delivery.id,
    };
    if (delivery.secret)
      headers[SIGNATURE_HEADER] = signWebhook(delivery.body, delivery.secret, Math.floor(now() / 1000));
    try {
      const signals = [AbortSignal.timeout(policy.timeoutMs), ...(options.signal ? [options.signal] : [])];
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        signal: AbortSignal.any(signals),
        redirect: 'manual',
      });
      await response.arrayBuffer().catch(() => undefined);
      last = { delivered: response.ok, attempts: attempt, status: response.status };
      if (response.ok) return last;
    } catch (error) {
      last = { delivered: false, attempts: attempt, error: (error as Error).message };
    }
    if (attempt < policy.maxAttempts) await sleep(backoff(policy.backoffMs, attempt), options.signal);
  }
  return last;
}

function backoff(base: number, attempt: number): number {
  const exact = base * 2 ** (attempt - 1);
  return Math.round(exact * (0.8 + Math.random() * 0.4));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
