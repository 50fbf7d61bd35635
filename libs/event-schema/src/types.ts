/** The one internal shape every accepted usage event is normalised to, whatever format it arrived in. */
export interface UsageEvent {
  /** Idempotency key: client-supplied, or a generated UUIDv7 when the client sent none. */
  id: string;
  idGenerated: boolean;
  /** Event time, epoch milliseconds (integer). */
  ts: number;
  /**
   * True when the event carried no timestamp and `ts` is the receipt time. Such a `ts` differs between
   * a request and its retry, so {@link eventFingerprint} leaves it out. Optional so that events built
   * by hand (tests, replays) need not set it; absent means false.
   */
  tsGenerated?: boolean;
  /** Customer external id. */
  customer: string;
  /** Event type / metric name. */
  type: string;
  /** Canonical decimal string ("1" when the event had no quantity). */
  quantity: string;
  /** Dimensions and properties; numbers as canonical decimal strings, booleans as "true"/"false". */
  properties: Record<string, string>;
  /** metadata.source / CloudEvents `source` / "billingrails"; "" when a native event names none. */
  source: string;
  /** metadata.version / CloudEvents `specversion` / "1". */
  schemaVersion: string;
  /** metadata.requestId or "". */
  requestId: string;
}

export type EventFormat = 'native' | 'billingrails' | 'cloudevents';

export interface NormalizeOptions {
  /** Receipt time, epoch ms. Injected: the library never reads the clock. */
  nowMs: number;
  /** How far in the future an event may be. Default 5 minutes. */
  maxFutureMs?: number;
  /** How old an event may be (the tenant's lateness limit). Default 35 days. */
  latenessLimitMs?: number;
  /** Billingrails property that names the customer. Default "billingrails_account_id". */
  billingrailsCustomerProperty?: string;
  /** Most events per request. Default 1000. */
  maxBatch?: number;
  /** Id generator for events without an idempotency key. Default: a UUIDv7 stamped with `nowMs`. */
  generateId?: () => string;
}

export interface NormalizedBatch {
  events: UsageEvent[];
}
