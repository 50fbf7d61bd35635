/** What `record()` takes. Only `customerId` and `metricName` are required. */
export interface UsageEventInput {
  customerId: string;
  metricName: string;
  /** A JSON number or a decimal string such as `"12.5"` (exact); the gateway defaults it to 1. */
  quantity?: number | string;
  /** Dimensions the meters group and filter by; numbers and booleans are stored as strings. */
  dimensions?: Record<string, string | number | boolean>;
  /** Epoch milliseconds, an RFC 3339 string with an offset, or a Date. Defaults to the time of `record()`. */
  timestamp?: number | string | Date;
  /** Idempotency key (1–128 printable ASCII characters). Defaults to a UUIDv7 chosen by `record()`. */
  eventId?: string;
  metadata?: { source?: string; version?: string; requestId?: string };
}

/** The native event exactly as it is sent (and as `onDrop` / `onError` hand it back). */
export interface TallyEvent {
  eventId: string;
  timestamp: number | string;
  customerId: string;
  metricName: string;
  quantity?: number | string;
  dimensions?: Record<string, string | number | boolean>;
  metadata?: { source?: string; version?: string; requestId?: string };
}

/** A Cloudflare Analytics Engine data point, as `writeDataPoint()` takes it. */
export interface DataPointInput {
  /** At most one index (the sampling key, e.g. the customer id), at most 96 bytes. */
  indexes?: string[];
  /**
   * At most 20 strings (or nulls), 16 KiB in total. ArrayBuffers are not supported (JSON transport).
   * An object's values are taken in written order (`{ customer_id, request_endpoint }`: blob1, blob2).
   */
  blobs?: (string | null)[] | Record<string, string | null>;
  /** At most 20 finite numbers. */
  doubles?: number[];
}

/**
 * A data point as it is sent: the Analytics Engine fields plus an idempotency key and the time of
 * `writeDataPoint()`, both fixed before the first attempt so a retried batch is recognised.
 */
export interface TallyDataPoint {
  id: string;
  timestamp: number;
  indexes: string[];
  blobs: (string | null)[];
  doubles: number[];
}

/** Which gateway endpoint a batch goes to. */
export type IngestKind = 'events' | 'points';

/**
 * Why events were given up without the gateway rejecting them:
 * - `buffer_full`: `maxBufferedEvents` were already waiting; the NEW event was dropped.
 * - `retries_exhausted`: `retry.maxAttempts` attempts all failed with retryable errors.
 * - `close_timeout`: `close()` ran out of time before they were accepted.
 * - `closed`: recorded after `close()` was called.
 * - `internal_error`: a bug in the SDK (please report it); `info.error` has the details.
 */
export type DropReason = 'buffer_full' | 'retries_exhausted' | 'close_timeout' | 'closed' | 'internal_error';

/** Context handed to `onDrop` with the dropped items. */
export interface DropInfo {
  kind: IngestKind;
  /** The data set, for data points. */
  dataset?: string;
  /** For `retries_exhausted`: a TallyDeliveryError whose `cause` is the last failure. */
  error?: unknown;
}

/**
 * Counters since the client was created. Events and data points both count. Every recorded item
 * ends in exactly one of the outcome counters, so at any time:
 * `recorded === accepted + duplicates + failed + dropped + buffered`.
 */
export interface TallyStats {
  recorded: number;
  /** Stored by the gateway as new. */
  accepted: number;
  /** The gateway already had them (a retry of a batch it had stored): safe, not counted twice. */
  duplicates: number;
  /** Handed to `onDrop`. */
  dropped: number;
  /** Rejected for good and handed to `onError`. */
  failed: number;
  /** Requests re-sent after a retryable failure. */
  retries: number;
  /** Waiting or in flight. */
  buffered: number;
}
