import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { TallyConfigError, TallySdkError } from './errors';
import type { Transport, TransportRequest, TransportResponse } from './transport';

export interface NatsTransportOptions {
  /** A connected nats.js v3 connection. The transport uses it and never closes it. */
  connection: NatsConnection;
  /** The tenant the API key belongs to (the gateway answers 403 for another one). */
  tenant: string;
  /** An API key with the `ingest` role. */
  apiKey: string;
  /** The gateway's `TALLY_NATS_PREFIX`. Default `tally`. */
  subjectPrefix?: string;
  /** How long to wait for the reply; a timeout is retried. Default 10 000 ms. */
  timeoutMs?: number;
}

/** NATS counts headers against `max_payload`: keep room for ours. */
const HEADER_ALLOWANCE_BYTES = 4096;
const TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Request/reply with the gateway: events to `<prefix>.ingest.<tenant>`, data points to
 * `<prefix>.points.<tenant>.<dataset>`. The reply carries the HTTP response body and its status in
 * the `Tally-Status` header. No reply (timeout, no responders, a disconnect) rejects, and the client
 * retries; the request is safe to repeat because the events keep their ids.
 */
export function natsTransport(options: NatsTransportOptions): Transport {
  const { connection, tenant, apiKey } = options;
  const prefix = options.subjectPrefix ?? 'tally';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const issues: string[] = [];
  if (!connection || typeof connection.request !== 'function')
    issues.push('connection must be a nats.js NatsConnection');
  if (typeof tenant !== 'string' || !TOKEN.test(tenant))
    issues.push(`tenant '${String(tenant)}' must be one subject token ([A-Za-z0-9_-]+)`);
  if (typeof prefix !== 'string' || !prefix.split('.').every((t) => TOKEN.test(t))) {
    issues.push(`subjectPrefix '${String(prefix)}' must be dot-separated tokens without wildcards`);
  }
  if (typeof apiKey !== 'string' || apiKey.trim() === '') issues.push('apiKey is required');
  if (!(timeoutMs > 0)) issues.push('timeoutMs must be > 0');
  if (issues.length) throw new TallyConfigError(issues);

  const maxPayload = connection.info?.max_payload;
  return {
    maxBatchBytes: maxPayload ? maxPayload - HEADER_ALLOWANCE_BYTES : undefined,

    async send(req: TransportRequest, signal: AbortSignal): Promise<TransportResponse> {
      const subject =
        req.kind === 'events'
          ? `${prefix}.ingest.${tenant}`
          : `${prefix}.points.${tenant}.${req.dataset ?? ''}`;
      const h = natsHeaders();
      h.set('Authorization', `Bearer ${apiKey}`);
      h.set('Content-Type', 'application/json');
      signal.throwIfAborted();
      const reply = await connection.request(subject, req.body, { timeout: timeoutMs, headers: h });
      const status = Number(reply.headers?.get('Tally-Status', 'insensitive'));
      if (!Number.isInteger(status) || status < 100 || status > 599) {
        // Something answered that is not a Tally gateway (or an old one): no verdict, so retry.
        throw new TallySdkError('BAD_REPLY', `Reply on ${subject} has no valid Tally-Status header`);
      }
      const text = reply.data.length ? reply.string() : '';
      const retryAfter = reply.headers?.get('Retry-After', 'insensitive');
      return { status, body: parseBody(text), retryAfter: retryAfter || undefined };
    },
  };
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
