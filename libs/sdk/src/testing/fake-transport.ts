import type { Transport, TransportRequest, TransportResponse } from '../transport';

/** What the fake saw: the request plus its body parsed, in send order (retries included). */
export interface SentRequest extends TransportRequest {
  json: { events?: Record<string, unknown>[]; points?: Record<string, unknown>[] };
}

export type FakeHandler = (request: SentRequest, signal: AbortSignal) => Promise<TransportResponse>;

/** The gateway's 202 for a batch of `count` items, `duplicates` of them already known. */
export function accepted(count: number, duplicates = 0): TransportResponse {
  return { status: 202, body: { accepted: count - duplicates, duplicates, events: [] } };
}

export function failure(
  status: number,
  code: string,
  retryAfter?: string,
  details?: unknown[],
): TransportResponse {
  return {
    status,
    body: { error: { code, message: `${code} (test)`, ...(details ? { details } : {}) } },
    retryAfter,
  };
}

/** In-memory transport for unit tests: records every request and answers with `handler` (default: 202). */
export class FakeTransport implements Transport {
  readonly requests: SentRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  closeCalls = 0;
  handler: FakeHandler = async (request) => accepted(request.count);

  constructor(readonly maxBatchBytes?: number) {}

  /** Answers the next requests with these responses (an Error rejects, like a network failure), then 202. */
  script(...replies: (TransportResponse | Error)[]): this {
    this.handler = async (request) => {
      const reply = replies.shift();
      if (reply === undefined) return accepted(request.count);
      if (reply instanceof Error) throw reply;
      return reply;
    };
    return this;
  }

  async send(request: TransportRequest, signal: AbortSignal): Promise<TransportResponse> {
    const sent: SentRequest = { ...request, json: JSON.parse(request.body) as SentRequest['json'] };
    this.requests.push(sent);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.handler(sent, signal);
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closeCalls++;
  }

  eventIds(i: number): unknown[] {
    return (this.requests[i].json.events ?? []).map((e) => e.eventId);
  }
}

/** A promise resolved from outside, to hold a request in flight. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A request that never answers on its own but rejects when the client aborts it. */
export function hangUntilAborted(signal: AbortSignal): Promise<TransportResponse> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
}
