import type { IngestKind } from './types';

/** One batch on its way to the gateway. */
export interface TransportRequest {
  kind: IngestKind;
  /** The data set, for `kind: 'points'`. */
  dataset?: string;
  /** The JSON body; the client builds it once per batch and re-sends the very same bytes on retry. */
  body: string;
  /** Number of events or data points in `body`. */
  count: number;
}

/** What the gateway answered. Deciding what it means (accepted, retry, reject) is the client's job. */
export interface TransportResponse {
  /** HTTP status code (over NATS: the `Tally-Status` header). */
  status: number;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** Raw `Retry-After` header (seconds or an HTTP date), when present. */
  retryAfter?: string;
}

/**
 * Port between the client and the wire. `send` resolves with whatever status the gateway answered
 * and rejects only when there was no answer (network error, timeout, no responders): the client
 * retries those. It must honour `signal` (the client aborts in-flight requests on a close timeout).
 */
export interface Transport {
  send(request: TransportRequest, signal: AbortSignal): Promise<TransportResponse>;
  /** Largest body this transport can carry (e.g. NATS `max_payload`); the client never builds a larger one. */
  readonly maxBatchBytes?: number;
  /** Releases what the transport itself created. Never closes a connection the caller passed in. */
  close?(): Promise<void>;
}
