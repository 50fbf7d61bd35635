import { Pool } from 'undici';
import type { BatchFactory, GeneratedBatch } from './event-batches';
import { LatencyRecorder, round, type LatencySummary } from './latency';
import type { ProbeTracker } from './probes';

export interface HttpLoadOptions {
  /**
   * Gateway base URL, e.g. `http://127.0.0.1:3000`, or several gateways' URLs: requests then go to
   * them in turn, each gateway with its share of the connections.
   */
  url: string | readonly string[];
  /** An ingest (or admin) key of the tenant. */
  apiKey: string;
  /** Keep-alive connections in the pool (default 8). */
  connections?: number;
  /** Requests in flight per connection (default 1: no pipelining). */
  pipelining?: number;
  /** Answer timeout per request (default 30 s). */
  timeoutMs?: number;
}

export interface ProbeOptions {
  tracker: ProbeTracker;
  /** One probe event every this many ms (default 100). */
  intervalMs?: number;
}

export interface ClosedLoopOptions {
  durationMs: number;
  /** Requests in flight at all times (default connections × pipelining). */
  concurrency?: number;
  probes?: ProbeOptions;
  /**
   * Awaited before each request: resolves when the next one may go. Lets a caller hold the load
   * back while a downstream stage catches up, so "as fast as possible" means as fast as the whole
   * pipeline, not just the first stage. Waiting here does not count as request latency.
   */
  gate?: () => Promise<void>;
}

export interface OpenLoopOptions {
  durationMs: number;
  /** Target rate; requests start every batchSize / eventsPerSecond seconds whatever the answers. */
  eventsPerSecond: number;
  /** Safety valve: a request due while this many are in flight is not sent and counted as `skipped`. */
  maxInFlight?: number;
  probes?: ProbeOptions;
}

export interface LoadResult {
  mode: 'closed-loop' | 'open-loop';
  durationMs: number;
  requests: number;
  /** Requests answered 202. */
  acceptedRequests: number;
  /** Events the gateway accepted as new (202 `accepted`). */
  eventsAccepted: number;
  eventsDuplicate: number;
  /** Exact sum of the quantities of accepted batches, in thousandths. */
  quantityMilliAccepted: number;
  /** Non-202 answers by status, and `network` for requests without an answer. */
  failures: Record<string, number>;
  /** Requests without an answer (timeout, reset): the gateway may or may not have stored them. */
  ambiguous: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  /**
   * Per request. Open loop: from the time the request was due (so a stalled server cannot hide its
   * queue, the "coordinated omission" correction); closed loop: from when it was sent.
   */
  latency: LatencySummary;
  /** Open loop only: from when the request was actually handed to the connection pool. */
  serviceTime?: LatencySummary;
  targetEventsPerSecond?: number;
  /** Open loop only: requests not sent because `maxInFlight` were already in flight. */
  skipped?: number;
  /** Closed loop with a gate: share of the workers' time spent waiting at the gate. */
  gatedShare?: number;
}

const ACCEPTED = /^\{"accepted":(\d+),"duplicates":(\d+)/;

/**
 * Drives `POST /v1/events` with batches from a `BatchFactory` over one undici `Pool` (keep-alive,
 * optional pipelining). Closed loop measures the most the gateway sustains; open loop sends at a
 * fixed rate and measures latency the way a client population that does not wait would see it.
 */
export class HttpLoad {
  private readonly pools: Pool[];
  private nextPool = 0;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  readonly connections: number;
  readonly pipelining: number;
  private acceptedTotal = 0;
  private quantityMilliTotal = 0;

  constructor(
    private readonly options: HttpLoadOptions,
    private readonly factory: BatchFactory,
  ) {
    this.connections = options.connections ?? 8;
    this.pipelining = options.pipelining ?? 1;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const urls = typeof options.url === 'string' ? [options.url] : options.url;
    if (urls.length === 0) throw new RangeError('HttpLoad needs at least one gateway URL');
    this.pools = urls.map(
      (url) =>
        new Pool(url, {
          connections: Math.max(1, Math.ceil(this.connections / urls.length)),
          pipelining: this.pipelining,
          keepAliveTimeout: 60_000,
        }),
    );
    this.headers = { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' };
  }

  async closedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
    const concurrency = options.concurrency ?? this.connections * this.pipelining;
    const tally = new Tally('closed-loop', concurrency);
    const started = performance.now();
    const end = started + options.durationMs;
    const probe = probeScheduler(options.probes, started);
    const worker = async () => {
      while (performance.now() < end) {
        if (options.gate) {
          const gated = performance.now();
          await options.gate();
          tally.gatedMs += performance.now() - gated;
          if (performance.now() >= end) break;
        }
        const probeId = probe.due();
        const batch = this.factory.next(probeId);
        const sentAt = performance.now();
        const status = await this.send(batch, tally);
        const done = performance.now();
        tally.latency.record(done - sentAt);
        if (status === 202 && probeId) options.probes?.tracker.accepted(probeId, sentAt);
        // A refusing or unreachable server must not turn the loop into a busy spin.
        if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return tally.result(performance.now() - started);
  }

  async openLoop(options: OpenLoopOptions): Promise<LoadResult> {
    const tally = new Tally('open-loop');
    const service = new LatencyRecorder();
    const intervalMs = (this.factory.batchSize / options.eventsPerSecond) * 1000;
    const maxInFlight = options.maxInFlight ?? 1_000;
    const started = performance.now();
    const end = started + options.durationMs;
    const probe = probeScheduler(options.probes, started);
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    let skipped = 0;

    const fire = (dueAt: number) => {
      const probeId = probe.due();
      const batch = this.factory.next(probeId);
      const sentAt = performance.now();
      const request = this.send(batch, tally).then((status) => {
        const done = performance.now();
        tally.latency.record(done - dueAt);
        service.record(done - sentAt);
        if (status === 202 && probeId) options.probes?.tracker.accepted(probeId, sentAt);
        inFlight.delete(request);
      });
      inFlight.add(request);
    };

    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        // Everything due by now goes out, so a late timer catches up instead of lowering the rate.
        for (
          let dueAt = started + sent * intervalMs;
          dueAt <= now && dueAt < end;
          dueAt = started + sent * intervalMs
        ) {
          sent++;
          if (inFlight.size >= maxInFlight) skipped++;
          else fire(dueAt);
        }
        const next = started + sent * intervalMs;
        if (next >= end) return resolve();
        setTimeout(tick, Math.max(0, next - performance.now()));
      };
      tick();
    });
    while (inFlight.size) await Promise.all(inFlight);
    return {
      ...tally.result(performance.now() - started),
      serviceTime: service.summary(),
      targetEventsPerSecond: options.eventsPerSecond,
      skipped,
    };
  }

  /** Events accepted since this load was created, across phases; readable while a phase runs. */
  get eventsAccepted(): number {
    return this.acceptedTotal;
  }

  /** Exact sum of the quantities of every accepted event since this load was created, in thousandths. */
  get quantityMilliAccepted(): number {
    return this.quantityMilliTotal;
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.close()));
  }

  /** Sends one batch; returns the status, or 0 when no answer came. */
  private async send(batch: GeneratedBatch, tally: Tally): Promise<number> {
    tally.requests++;
    try {
      const pool = this.pools[this.nextPool];
      this.nextPool = (this.nextPool + 1) % this.pools.length;
      const response = await pool.request({
        path: '/v1/events',
        method: 'POST',
        headers: this.headers,
        body: batch.body,
        // A batch carries its own idempotency keys, so a replayed request is harmless: this lets
        // undici pipeline POSTs, which it otherwise never does.
        idempotent: true,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const text = await response.body.text();
      const accepted = tally.answer(response.statusCode, text, batch);
      this.acceptedTotal += accepted;
      if (accepted === batch.events) this.quantityMilliTotal += batch.quantityMilli;
      return response.statusCode;
    } catch {
      tally.ambiguous++;
      tally.failures.network = (tally.failures.network ?? 0) + 1;
      return 0;
    }
  }
}

/** Counters of one phase. */
class Tally {
  requests = 0;
  acceptedRequests = 0;
  eventsAccepted = 0;
  eventsDuplicate = 0;
  quantityMilliAccepted = 0;
  ambiguous = 0;
  /** Closed loop: time the workers spent held back by the gate, summed over workers. */
  gatedMs = 0;
  readonly failures: Record<string, number> = {};
  readonly latency = new LatencyRecorder();

  constructor(
    private readonly mode: LoadResult['mode'],
    private readonly workers = 1,
  ) {}

  /** Counts one answer; returns the events it accepted. */
  answer(status: number, text: string, batch: GeneratedBatch): number {
    if (status !== 202) {
      this.failures[status] = (this.failures[status] ?? 0) + 1;
      return 0;
    }
    this.acceptedRequests++;
    const m = ACCEPTED.exec(text);
    const accepted = m ? Number(m[1]) : batch.events;
    const duplicates = m ? Number(m[2]) : 0;
    this.eventsAccepted += accepted;
    this.eventsDuplicate += duplicates;
    // Fresh keys never collide, so a duplicate means a replayed request; its quantity is already counted.
    if (duplicates === 0) this.quantityMilliAccepted += batch.quantityMilli;
    return accepted;
  }

  result(durationMs: number): LoadResult {
    return {
      mode: this.mode,
      durationMs: round(durationMs, 0),
      requests: this.requests,
      acceptedRequests: this.acceptedRequests,
      eventsAccepted: this.eventsAccepted,
      eventsDuplicate: this.eventsDuplicate,
      quantityMilliAccepted: this.quantityMilliAccepted,
      failures: this.failures,
      ambiguous: this.ambiguous,
      requestsPerSecond: round((this.acceptedRequests / durationMs) * 1000, 1),
      eventsPerSecond: round((this.eventsAccepted / durationMs) * 1000, 0),
      latency: this.latency.summary(),
      ...(this.gatedMs > 0 ? { gatedShare: round(this.gatedMs / (durationMs * this.workers), 3) } : {}),
    };
  }
}

function probeScheduler(probes: ProbeOptions | undefined, started: number): { due(): string | undefined } {
  if (!probes) return { due: () => undefined };
  const every = probes.intervalMs ?? 100;
  let next = started;
  return {
    due() {
      const now = performance.now();
      if (now < next) return undefined;
      next = now + every;
      return probes.tracker.newId();
    },
  };
}
