import { request, type Dispatcher } from 'undici';
import { TallyConfigError } from './errors';
import type { Transport, TransportRequest, TransportResponse } from './transport';

export interface HttpTransportOptions {
  /** The gateway, e.g. `https://tally.example.com` (a path prefix such as `/metering` is kept). */
  baseUrl: string;
  /** An API key with the `ingest` role. */
  apiKey: string;
  /** Per-request limit on waiting for the answer; a timeout is retried. Default 10 000 ms. */
  timeoutMs?: number;
  /** An undici dispatcher (proxy, custom TLS, connection limits). Default: undici's global dispatcher. */
  dispatcher?: Dispatcher;
}

/**
 * Sends batches to `POST <baseUrl>/v1/events` and `POST <baseUrl>/v1/datasets/<name>/points`. It
 * creates no connection pool of its own (undici's global one, or the dispatcher passed in), so it
 * has nothing to close.
 */
export function httpTransport(options: HttpTransportOptions): Transport {
  const issues: string[] = [];
  let base = '';
  try {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') issues.push('baseUrl must be an http(s) URL');
    base = url.href.replace(/\/+$/, '');
  } catch {
    issues.push(`baseUrl '${String(options.baseUrl)}' is not a URL`);
  }
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') issues.push('apiKey is required');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!(timeoutMs > 0)) issues.push('timeoutMs must be > 0');
  if (issues.length) throw new TallyConfigError(issues);

  const headers = {
    authorization: `Bearer ${options.apiKey}`,
    'content-type': 'application/json',
    'user-agent': 'tally-sdk-node',
  };

  return {
    async send(req: TransportRequest, signal: AbortSignal): Promise<TransportResponse> {
      const path =
        req.kind === 'events' ? '/v1/events' : `/v1/datasets/${encodeURIComponent(req.dataset ?? '')}/points`;
      const res = await request(base + path, {
        method: 'POST',
        headers,
        body: req.body,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      // Always read the body: undici keeps the connection busy until it is consumed.
      const text = await res.body.text();
      const retryAfter = res.headers['retry-after'];
      return {
        status: res.statusCode,
        body: parseBody(text),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
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
