import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { WebhookDestinationError, WebhookDestinationPolicy, checkWebhookDestination } from '@tally/catalog';
import { Agent, fetch } from 'undici';

/**
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` (unix
 * seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with
 * the secret's bytes (`whsec_<base64>`, the prefix optional). Receivers verify with any Standard
 * Webhooks library (`new Webhook(secret).verify(body, headers)`); the timestamp inside the signed text
 * lets them refuse replays of old deliveries.
 */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

export function signWebhook(id: string, timestampSeconds: number, body: string, secret: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`;
}

/** The most of a receiver's answer Tally reads: the status is what counts, the body is only drained. */
export const MAX_WEBHOOK_RESPONSE_BYTES = 64 * 1024;

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
  /** The destination is not one Tally may send to (SSRF rules): not retried. */
  refused?: boolean;
}

/**
 * An HTTP client that connects only to addresses the policy allows: its DNS lookup refuses a name
 * that resolves (now, at connect time) to a refused address, so a name that resolved to a public
 * address when the rule was saved cannot be re-pointed at an internal one (DNS rebinding).
 */
export function guardedAgent(policy: WebhookDestinationPolicy): Agent {
  return new Agent({
    connect: {
      lookup: (hostname, options, callback) => {
        dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
          if (err) return callback(err, '', 4);
          try {
            policy.assertAllowed(
              hostname,
              addresses.map((a) => a.address),
            );
          } catch (error) {
            return callback(error as Error, '', 4);
          }
          if ((options as { all?: boolean }).all)
            return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
          return callback(null, addresses[0].address, addresses[0].family);
        });
      },
    },
  });
}

/** Reads at most `max` bytes of a body and drops the rest (a receiver cannot make Tally buffer gigabytes). */
async function drainCapped(body: AsyncIterable<Uint8Array> | null, max: number): Promise<void> {
  if (!body) return;
  let read = 0;
  for await (const chunk of body) {
    read += chunk.byteLength;
    if (read >= max) break; // leaving the loop cancels the stream
  }
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
  options: {
    signal?: AbortSignal;
    now?: () => number;
    /** Where Tally may send (docs/security.md#webhooks); public addresses only by default. */
    destinations?: WebhookDestinationPolicy;
    maxResponseBytes?: number;
  } = {},
): Promise<DeliveryResult> {
  const now = options.now ?? Date.now;
  const destinations = options.destinations ?? new WebhookDestinationPolicy();
  const agent = guardedAgent(destinations);
  let last: DeliveryResult = { delivered: false, attempts: 0 };
  try {
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      if (options.signal?.aborted) break;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'tally-alerts/1',
        'tally-alert-id': delivery.id,
        [WEBHOOK_HEADERS.id]: delivery.id,
      };
      const timestamp = Math.floor(now() / 1000);
      headers[WEBHOOK_HEADERS.timestamp] = String(timestamp);
      if (delivery.secret)
        headers[WEBHOOK_HEADERS.signature] = signWebhook(
          delivery.id,
          timestamp,
          delivery.body,
          delivery.secret,
        );
      try {
        // Checked at every attempt, on what the name resolves to now; an address literal never goes
        // through the agent's lookup, so this check is the one that covers it.
        await checkWebhookDestination(delivery.url, destinations);
        const host = new URL(delivery.url).hostname.replace(/^\[(.*)\]$/, '$1');
        if (isIP(host)) destinations.assertAllowed(host, [host]);
        const signals = [AbortSignal.timeout(policy.timeoutMs), ...(options.signal ? [options.signal] : [])];
        const response = await fetch(delivery.url, {
          method: 'POST',
          headers,
          body: delivery.body,
          signal: AbortSignal.any(signals),
          redirect: 'manual',
          dispatcher: agent,
        });
        await drainCapped(response.body, options.maxResponseBytes ?? MAX_WEBHOOK_RESPONSE_BYTES).catch(
          () => undefined,
        );
        last = { delivered: response.ok, attempts: attempt, status: response.status };
        if (response.ok) return last;
      } catch (error) {
        const refused =
          error instanceof WebhookDestinationError ||
          (error as { cause?: unknown }).cause instanceof WebhookDestinationError;
        const message =
          refused && !(error instanceof WebhookDestinationError)
            ? (error as { cause: Error }).cause.message
            : (error as Error).message;
        last = { delivered: false, attempts: attempt, error: message, ...(refused ? { refused: true } : {}) };
        if (refused) return last; // the same answer next time: not retried
      }
      if (attempt < policy.maxAttempts) await sleep(backoff(policy.backoffMs, attempt), options.signal);
    }
    return last;
  } finally {
    await agent.close().catch(() => undefined);
  }
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
