import { v7 as uuidv7 } from 'uuid';
import { DEFAULT_RETRY, retryDelayMs, type RetryPolicy } from './backoff';
import { TallyConfigError, TallyDeliveryError, TallyRejectedError, TallyValidationError } from './errors';
import { classify, type Outcome } from './outcome';
import type { Transport, TransportRequest } from './transport';
import type {
  DataPointInput,
  DropInfo,
  DropReason,
  IngestKind,
  TallyDataPoint,
  TallyEvent,
  TallyStats,
  UsageEventInput,
} from './types';
import { assertDatasetName, toTallyDataPoint, toTallyEvent } from './validate';

export interface TallyClientOptions {
  /** `httpTransport(...)` or `natsTransport(...)`. */
  transport: Transport;
  /** Most events per request (the gateway's limit). Default 1000. */
  maxBatch?: number;
  /** Largest request body, in bytes. Default 1 000 000 (the gateway and NATS accept 1 MiB). */
  maxBatchBytes?: number;
  /** Longest time an event waits in the buffer before it is sent. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Most events and data points held (waiting or in flight); beyond it the NEW one is dropped. Default 100 000. */
  maxBufferedEvents?: number;
  /** Requests in flight at once. Default 1: batches leave in record order and memory stays predictable. */
  concurrency?: number;
  /** How long `close()` keeps trying before it drops what is left. Default 10 000 ms. */
  closeTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Items given up without the gateway refusing them (see {@link DropReason}). They were never
   * stored, or not known to be: write them somewhere and record them again later (their ids make
   * that safe). Default: a process warning. Must not throw.
   */
  onDrop?: (items: ReadonlyArray<TallyEvent | TallyDataPoint>, reason: DropReason, info: DropInfo) => void;
  /** A batch the gateway refused for good (it is not retried). Default: a process warning. Must not throw. */
  onError?: (error: TallyRejectedError) => void;
  /** Clock for default timestamps and `Retry-After` dates. Default `Date.now`. */
  now?: () => number;
  /** Jitter source in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Waits between retries. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** Gateway limit for data points in one request (Analytics Engine's own per-invocation limit). */
export const MAX_POINTS_PER_BATCH = 250;

/** One event or data point, serialised once when recorded: that JSON is what every attempt sends. */
interface Item {
  seq: number;
  json: string;
  bytes: number;
}

/** A FIFO of items bound for one endpoint (events, or one data set's points). */
interface Lane {
  kind: IngestKind;
  dataset?: string;
  maxBatch: number;
  queue: Item[];
  queuedBytes: number;
}

interface Batch {
  lane: Lane;
  items: Item[];
  request: TransportRequest;
  settled: boolean;
}

const ABORTED = Symbol('aborted');
const ENVELOPE_BYTES = '{"points":[]}'.length;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Buffers usage events and Analytics Engine data points, sends them in batches, and retries what
 * the gateway could not take, until each one has an outcome: accepted (or recognised as a
 * duplicate), refused for good (`onError`), or given up (`onDrop`). Nothing is lost without one of
 * those; `stats()` adds them up.
 *
 * Retrying is safe because the idempotency key and timestamp are fixed in `record()`, and a batch
 * is built once and re-sent byte for byte: the gateway recognises the repeat and does not count it
 * twice.
 */
export class TallyClient {
  private readonly transport: Transport;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;
  private readonly concurrency: number;
  private readonly closeTimeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly onDrop: NonNullable<TallyClientOptions['onDrop']>;
  private readonly onError: NonNullable<TallyClientOptions['onError']>;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  private readonly eventsLane: Lane;
  private readonly lanes: Lane[];
  private readonly datasets = new Map<string, TallyDataset>();
  private readonly inFlight = new Set<Batch>();
  private readonly flushWaiters: { target: number; resolve: () => void }[] = [];
  private readonly abortController = new AbortController();
  private readonly lastWarning = new Map<string, number>();

  private seq = 0;
  /** Items with `seq <= dueSeq` are sent even when their batch is not full. */
  private dueSeq = 0;
  /** Items waiting or in flight: what `maxBufferedEvents` bounds. */
  private unsettled = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  /** Set when `close()` ran out of time: nothing new may start. */
  private expired = false;
  private readonly counters = { recorded: 0, accepted: 0, duplicates: 0, dropped: 0, failed: 0, retries: 0 };

  constructor(options: TallyClientOptions) {
    const o = validateOptions(options);
    this.transport = options.transport;
    this.maxBatch = o.maxBatch;
    this.maxBatchBytes = Math.min(o.maxBatchBytes, options.transport.maxBatchBytes ?? Infinity);
    this.flushIntervalMs = o.flushIntervalMs;
    this.maxBuffered = o.maxBufferedEvents;
    this.concurrency = o.concurrency;
    this.closeTimeoutMs = o.closeTimeoutMs;
    this.retry = o.retry;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
    this.onDrop =
      options.onDrop ??
      ((items, reason, info) =>
        this.warn(
          `TALLY_DROPPED_${reason.toUpperCase()}`,
          `Tally: ${items.length} ${info.kind} dropped (${reason})`,
        ));
    this.onError =
      options.onError ??
      ((error) =>
        this.warn(
          `TALLY_REJECTED_${error.status}`,
          `Tally: ${error.items.length} ${error.kind} rejected: ${error.message}`,
        ));
    this.eventsLane = { kind: 'events', maxBatch: this.maxBatch, queue: [], queuedBytes: 0 };
    this.lanes = [this.eventsLane];
  }

  /**
   * Buffers one usage event and returns its id. The id (a UUIDv7 unless `eventId` is given) and the
   * timestamp (now, unless given) are fixed here, before any attempt to send it. Throws a
   * TallyValidationError for an event the gateway would certainly refuse; never throws for I/O.
   */
  record(event: UsageEventInput): string {
    const wire = toTallyEvent(event, this.now(), uuidv7);
    this.enqueue(this.eventsLane, wire);
    return wire.eventId;
  }

  /**
   * A handle that writes Analytics Engine data points (`{ indexes, blobs, doubles }`) to the data set
   * `name`; they share the buffer, retries and counters with events.
   */
  dataset(name: string): TallyDataset {
    let dataset = this.datasets.get(name);
    if (!dataset) {
      assertDatasetName(name);
      const lane: Lane = {
        kind: 'points',
        dataset: name,
        maxBatch: Math.min(this.maxBatch, MAX_POINTS_PER_BATCH),
        queue: [],
        queuedBytes: 0,
      };
      this.lanes.push(lane);
      dataset = new TallyDataset(name, (point) => {
        const wire = toTallyDataPoint(point, this.now(), uuidv7);
        this.enqueue(lane, wire);
        return wire.id;
      });
      this.datasets.set(name, dataset);
    }
    return dataset;
  }

  /**
   * Sends everything recorded so far, in batches, and resolves once each of those items has an
   * outcome (accepted, `onError` or `onDrop`). Never rejects. Items recorded meanwhile are not waited for.
   */
  flush(): Promise<void> {
    const target = this.seq;
    if (this.oldestUnsettledSeq() > target) return Promise.resolve();
    this.dueSeq = Math.max(this.dueSeq, target);
    const done = new Promise<void>((resolve) => this.flushWaiters.push({ target, resolve }));
    this.pump();
    return done;
  }

  /**
   * Stops the timer, sends what is buffered, and waits for it (at most `timeoutMs`, default
   * `closeTimeoutMs`); whatever is still unsent then goes to `onDrop` as `close_timeout`. Later
   * `record()` calls drop their event as `closed`. Closes only what the SDK created: a NATS
   * connection you passed in stays open. Idempotent; never rejects.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closed = true;
    this.closing ??= this.shutdown(options.timeoutMs ?? this.closeTimeoutMs);
    return this.closing;
  }

  stats(): TallyStats {
    return { ...this.counters, buffered: this.unsettled };
  }

  // ---------------------------------------------------------------------------------------------

  private async shutdown(timeoutMs: number): Promise<void> {
    this.clearLinger();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const expired = await Promise.race([this.flush().then(() => false), timedOut]);
    clearTimeout(timer);
    if (expired) {
      this.expired = true;
      // Settle everything first, so that the delivery loops the abort wakes find nothing left to do.
      for (const lane of this.lanes) {
        const items = lane.queue.splice(0);
        lane.queuedBytes = 0;
        this.unsettled -= items.length;
        if (items.length) this.drop(lane, items, 'close_timeout');
      }
      for (const batch of [...this.inFlight]) this.settleDropped(batch, 'close_timeout');
      this.resolveFlushWaiters();
      this.abortController.abort();
    }
    try {
      await this.transport.close?.();
    } catch {
      // Nothing left to deliver; a failing close of our own resources must not fail the caller's shutdown.
    }
  }

  private enqueue(lane: Lane, wire: TallyEvent | TallyDataPoint): void {
    const json = JSON.stringify(wire);
    const bytes = Buffer.byteLength(json);
    if (bytes + ENVELOPE_BYTES > this.maxBatchBytes) {
      throw new TallyValidationError(
        lane.kind === 'events' ? 'EVENT_TOO_LARGE' : 'POINT_TOO_LARGE',
        lane.kind === 'events' ? 'event' : 'point',
        `${lane.kind === 'events' ? 'event' : 'point'} is ${bytes} bytes serialised; at most ${this.maxBatchBytes - ENVELOPE_BYTES} fit in a request`,
      );
    }
    this.counters.recorded++;
    const item: Item = { seq: ++this.seq, json, bytes };
    if (this.closed) return this.drop(lane, [item], 'closed', wire);
    if (this.unsettled >= this.maxBuffered) return this.drop(lane, [item], 'buffer_full', wire);
    lane.queue.push(item);
    lane.queuedBytes += bytes + 1;
    this.unsettled++;
    if (this.isFull(lane)) this.pump();
    else this.armLinger();
  }

  private isFull(lane: Lane): boolean {
    return lane.queue.length >= lane.maxBatch || lane.queuedBytes + ENVELOPE_BYTES > this.maxBatchBytes;
  }

  /**
   * The linger timer: the first event into an idle buffer starts it, and when it fires everything
   * recorded so far is due. It is not unref'd, so a process that simply runs out of work still sends
   * what it recorded before it exits; an idle client holds no timer at all.
   */
  private armLinger(): void {
    if (this.lingerTimer || this.closed) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.dueSeq = this.seq;
      this.pump();
    }, this.flushIntervalMs);
  }

  private clearLinger(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  /** Starts batches while a request slot is free, oldest ready lane first (record order across lanes). */
  private pump(): void {
    if (this.expired) return;
    while (this.inFlight.size < this.concurrency) {
      let next: Lane | undefined;
      for (const lane of this.lanes) {
        const head = lane.queue[0];
        if (!head || !(head.seq <= this.dueSeq || this.isFull(lane))) continue;
        if (!next || head.seq < next.queue[0].seq) next = lane;
      }
      if (!next) break;
      this.start(next, this.takeBatch(next));
    }
    if (
      this.lanes.some((lane) => lane.queue.length > 0 && lane.queue[lane.queue.length - 1].seq > this.dueSeq)
    ) {
      this.armLinger();
    }
  }

  private takeBatch(lane: Lane): Item[] {
    let n = 0;
    let bytes = ENVELOPE_BYTES;
    while (n < lane.queue.length && n < lane.maxBatch) {
      const add = lane.queue[n].bytes + (n > 0 ? 1 : 0);
      if (n > 0 && bytes + add > this.maxBatchBytes) break;
      bytes += add;
      n++;
    }
    const items = lane.queue.splice(0, n);
    for (const item of items) lane.queuedBytes -= item.bytes + 1;
    return items;
  }

  private start(lane: Lane, items: Item[]): void {
    const field = lane.kind === 'events' ? 'events' : 'points';
    const body = `{"${field}":[${items.map((i) => i.json).join(',')}]}`;
    const batch: Batch = {
      lane,
      items,
      request: { kind: lane.kind, dataset: lane.dataset, body, count: items.length },
      settled: false,
    };
    this.inFlight.add(batch);
    this.deliver(batch).catch((error: unknown) => this.settleDropped(batch, 'internal_error', error));
  }

  /** Sends one batch until it has an outcome. The same `request` (same bytes) goes out on every attempt. */
  private async deliver(batch: Batch): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let outcome: Outcome;
      try {
        const response = await this.unlessAborted(
          this.transport.send(batch.request, this.abortController.signal),
        );
        if (response === ABORTED || batch.settled) return;
        outcome = classify(response, batch.items.length, this.now());
      } catch (error) {
        if (batch.settled) return;
        outcome = { type: 'retry', error };
      }

      if (outcome.type === 'accepted') return this.settleAccepted(batch, outcome.duplicates);
      if (outcome.type === 'rejected') {
        const { status, code, message, details } = outcome;
        return this.settleRejected(batch, status, code, message, details);
      }
      if (attempt >= this.retry.maxAttempts) {
        return this.settleDropped(batch, 'retries_exhausted', new TallyDeliveryError(attempt, outcome.error));
      }
      this.counters.retries++;
      const delay = retryDelayMs(attempt - 1, this.retry, this.random, outcome.retryAfterMs);
      if ((await this.unlessAborted(this.sleep(delay))) === ABORTED || batch.settled) return;
    }
  }

  /**
   * Races `promise` against a close timeout. Not `Promise.race` with one shared abort promise: that
   * would leave a reaction on it for every request and sleep, a leak in a long-lived client.
   */
  private unlessAborted<T>(promise: Promise<T>): Promise<T | typeof ABORTED> {
    const signal = this.abortController.signal;
    return new Promise((resolve, reject) => {
      const onAbort = () => resolve(ABORTED);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private settleAccepted(batch: Batch, duplicates: number): void {
    if (!this.finish(batch)) return;
    this.counters.accepted += batch.items.length - duplicates;
    this.counters.duplicates += duplicates;
    this.afterSettle();
  }

  private settleRejected(
    batch: Batch,
    status: number,
    code: string,
    message: string,
    details: TallyRejectedError['details'],
  ): void {
    if (!this.finish(batch)) return;
    const { lane, items } = batch;
    this.counters.failed += items.length;
    const error = new TallyRejectedError(
      status,
      code,
      message,
      details,
      lane.kind,
      parseItems(items),
      lane.dataset,
    );
    this.safely(() => this.onError(error));
    this.afterSettle();
  }

  private settleDropped(batch: Batch, reason: DropReason, error?: unknown): void {
    if (!this.finish(batch)) return;
    this.drop(batch.lane, batch.items, reason, undefined, error);
    this.afterSettle();
  }

  private finish(batch: Batch): boolean {
    if (batch.settled) return false;
    batch.settled = true;
    this.inFlight.delete(batch);
    this.unsettled -= batch.items.length;
    return true;
  }

  /** Hands items to `onDrop` (the caller has already taken them out of `unsettled`, if they were in it). */
  private drop(
    lane: Lane,
    items: Item[],
    reason: DropReason,
    wire?: TallyEvent | TallyDataPoint,
    error?: unknown,
  ): void {
    this.counters.dropped += items.length;
    const info: DropInfo = { kind: lane.kind };
    if (lane.dataset !== undefined) info.dataset = lane.dataset;
    if (error !== undefined) info.error = error;
    this.safely(() => this.onDrop(wire ? [wire] : parseItems(items), reason, info));
  }

  private afterSettle(): void {
    this.resolveFlushWaiters();
    this.pump();
  }

  private resolveFlushWaiters(): void {
    if (!this.flushWaiters.length) return;
    const oldest = this.oldestUnsettledSeq();
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.flushWaiters[i];
      if (waiter.target < oldest) {
        this.flushWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private oldestUnsettledSeq(): number {
    let oldest = Infinity;
    for (const lane of this.lanes) if (lane.queue.length) oldest = Math.min(oldest, lane.queue[0].seq);
    for (const batch of this.inFlight) oldest = Math.min(oldest, batch.items[0].seq);
    return oldest;
  }

  /** Callbacks are the application's; one that throws must not break delivery of everything else. */
  private safely(callback: () => void): void {
    try {
      callback();
    } catch {
      // Documented: onDrop/onError must not throw. Swallowed so the client's state stays consistent.
    }
  }

  /** Default reporting: a process warning, at most one per code every 10 s so a full buffer cannot flood stderr. */
  private warn(code: string, message: string): void {
    const t = this.now();
    const last = this.lastWarning.get(code);
    if (last !== undefined && t - last < 10_000) return;
    this.lastWarning.set(code, t);
    process.emitWarning(message, { type: 'TallyWarning', code });
  }
}

/** Writes Analytics Engine data points to one data set (from `tally.dataset(name)`). */
export class TallyDataset {
  constructor(
    readonly name: string,
    private readonly write: (point: DataPointInput | undefined) => string,
  ) {}

  /** Buffers one data point and returns its idempotency key. Throws TallyValidationError for an invalid point. */
  writeDataPoint(point?: DataPointInput): string {
    return this.write(point);
  }
}

function parseItems(items: Item[]): (TallyEvent | TallyDataPoint)[] {
  return items.map((i) => JSON.parse(i.json) as TallyEvent | TallyDataPoint);
}

interface ResolvedOptions {
  maxBatch: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
  maxBufferedEvents: number;
  concurrency: number;
  closeTimeoutMs: number;
  retry: RetryPolicy;
}

/** Defaults applied and every bad option reported at once. */
function validateOptions(options: TallyClientOptions): ResolvedOptions {
  const issues: string[] = [];
  const positiveInt = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < 1)
      issues.push(`${name} must be a positive integer, got ${String(value)}`);
    return v;
  };
  const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      issues.push(`${name} must be a finite number ≥ 0, got ${String(value)}`);
    return v;
  };
  if (!options || typeof options.transport?.send !== 'function')
    issues.push('transport must be httpTransport(...) or natsTransport(...)');
  const maxBatch = positiveInt('maxBatch', options?.maxBatch, 1000);
  const maxBatchBytes = positiveInt('maxBatchBytes', options?.maxBatchBytes, 1_000_000);
  const flushIntervalMs = nonNegative('flushIntervalMs', options?.flushIntervalMs, 1000);
  const maxBufferedEvents = positiveInt('maxBufferedEvents', options?.maxBufferedEvents, 100_000);
  const concurrency = positiveInt('concurrency', options?.concurrency, 1);
  const closeTimeoutMs = nonNegative('closeTimeoutMs', options?.closeTimeoutMs, 10_000);
  const r = options?.retry ?? {};
  const retry: RetryPolicy = {
    initialDelayMs: nonNegative('retry.initialDelayMs', r.initialDelayMs, DEFAULT_RETRY.initialDelayMs),
    maxDelayMs: nonNegative('retry.maxDelayMs', r.maxDelayMs, DEFAULT_RETRY.maxDelayMs),
    maxAttempts: r.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
  };
  if (!(
    retry.maxAttempts === Infinity ||
    (Number.isSafeInteger(retry.maxAttempts) && retry.maxAttempts >= 1)
  )) {
    issues.push(`retry.maxAttempts must be a positive integer or Infinity, got ${String(r.maxAttempts)}`);
  }
  if (retry.maxDelayMs < retry.initialDelayMs) issues.push('retry.maxDelayMs must be ≥ retry.initialDelayMs');
  if (issues.length) throw new TallyConfigError(issues);
  return { maxBatch, maxBatchBytes, flushIntervalMs, maxBufferedEvents, concurrency, closeTimeoutMs, retry };
}
