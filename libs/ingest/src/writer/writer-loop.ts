import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { DurableConsumerLoop, type DurableConsumerConfig, type NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import { REQUEST_ID_MSG_HEADER } from '../jetstream-publish';
import { isTransient } from '@tally/clickhouse';
import type { InboundMessage, StoredEventObserver, WriteOptions, WriteOutcome } from './batch-writer';
import { OwnershipLostError } from './fenced-event-store';
import type { WriterMetrics } from './writer-metrics';

export interface WriterLoopOptions {
  /** Flush when the pending messages reach this many bytes... */
  maxBatchBytes: number;
  /** ...or when the oldest pending message has waited this long. */
  flushIntervalMs: number;
  /** Redelivery delay for messages a dead writer did not ack. */
  ackWaitMs: number;
  /** Backoff bounds while the event store is failing. */
  retryMinMs: number;
  retryMaxMs: number;
  /**
   * Bytes of pulled messages consume() keeps buffered while a batch fills or is stored (default:
   * `maxBatchBytes`, so the next batch is already here when the last one is acked). Pulls are
   * sized in bytes, so the buffer is bounded whatever the size of the messages.
   */
  consumeMaxBytes?: number;
  /**
   * Non-transient store failures of one batch (a refused insert) after which the batch is written in
   * isolation: bisected, the refused events dead-lettered, the rest stored (default 3). Transient
   * failures (ClickHouse down, overloaded) never count: they are retried with back-off for as long
   * as they last.
   */
  maxRefusals?: number;
  /**
   * Called once when a write failed because another writer took the partition over
   * (`OwnershipLostError`): the loop has nak'ed its batch and stopped.
   */
  onOwnershipLost?: () => void;
}

/** What a loop hands its batches to: the events' `BatchWriter`, or the data points' writer. */
export interface MessageBatchWriter {
  write(messages: InboundMessage[], options?: WriteOptions): Promise<WriteOutcome>;
}

/** The stream and durable consumer a loop pulls from; the events stream unless told otherwise. */
export interface WriterLoopSource {
  stream: string;
  consumer: string;
  filterSubject: string;
  /** Several subjects instead of `filterSubject` (a partition that also drains the unpartitioned subjects). */
  filterSubjects?: string[];
  /** The tenant a message's subject names; the writer refuses a payload that names another. */
  tenantOf(subject: string): string | undefined;
}

/**
 * When a batch whose first message JetStream stored at `storedAtMs` must be flushed. The interval
 * counts from when JetStream stored the message, not from when the loop took it: messages that
 * arrived while the previous batch was being stored have waited already. But a batch always gets
 * half an interval to fill, or a backlog (all of it old) would be stored one message per insert.
 */
export function flushDeadline(nowMs: number, storedAtMs: number, intervalMs: number): number {
  return Math.max(nowMs + intervalMs / 2, Math.min(nowMs, storedAtMs) + intervalMs);
}

/** When JetStream stored the message (its stream timestamp), epoch ms. */
function storedAtMs(m: JsMsg): number {
  return Math.floor(m.info.timestampNanos / 1e6);
}

/** How often an idle loop wakes up to notice stop(). */
const IDLE_POLL_MS = 250;
const TIMED_OUT: unique symbol = Symbol('timed out');

export const defaultWriterLoopOptions: WriterLoopOptions = {
  maxBatchBytes: 8 * 1024 * 1024,
  flushIntervalMs: 1_000,
  ackWaitMs: 30_000,
  retryMinMs: 200,
  retryMaxMs: 10_000,
};

/**
 * Pulls from the durable consumer that every writer process shares, and hands batches to the
 * BatchWriter. It acks only after the batch was stored (and its dead letters and late-event notices
 * published and acknowledged by JetStream). While
 * the store fails it stops pulling and retries the batch it holds, so memory stays bounded by one
 * batch and JetStream keeps the backlog. `stop()` finishes the batch in hand (stored and acked, or left
 * unacked for redelivery), then returns.
 */
export class WriterLoop extends DurableConsumerLoop {
  constructor(
    nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly writer: MessageBatchWriter,
    private readonly logger: Logger,
    private readonly metrics?: WriterMetrics,
    private readonly observer?: StoredEventObserver,
    private readonly options: WriterLoopOptions = defaultWriterLoopOptions,
    private readonly source: WriterLoopSource = {
      stream: names.eventsStream,
      consumer: names.writerConsumer,
      filterSubject: names.eventsSubjectAll,
      tenantOf: names.tenantOfEventsSubject,
    },
  ) {
    super(nc);
  }

  protected override runFailed(error: unknown): void {
    this.logger.warn({ err: error, consumer: this.source.consumer }, 'writer: pulling failed; pulling again');
  }

  protected consumerConfig(): DurableConsumerConfig {
    return {
      stream: this.source.stream,
      durable: this.source.consumer,
      filterSubject: this.source.filterSubject,
      filterSubjects: this.source.filterSubjects,
      ackWaitMs: this.options.ackWaitMs,
      maxAckPending: 20_000,
      maxWaiting: 512,
    };
  }

  protected async run(): Promise<void> {
    const consumer = await jetstream(this.nc).consumers.get(this.source.stream, this.source.consumer);
    // consume() keeps a buffer of pulled messages bounded in bytes; while a flush is in progress (or
    // retrying) the buffer fills and pulling stops, so memory stays bounded.
    const messages = await consumer.consume({ max_bytes: this.options.consumeMaxBytes ?? this.options.maxBatchBytes });
    const iterator = messages[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<JsMsg>> | undefined;
    let batch: JsMsg[] = [];
    let bytes = 0;
    let deadline = 0;
    try {
      while (this.running) {
        pending ??= iterator.next();
        const waitMs = batch.length ? Math.max(0, deadline - Date.now()) : IDLE_POLL_MS;
        const timer = this.timer(waitMs);
        const next = await Promise.race([pending, timer.elapsed.then((): typeof TIMED_OUT => TIMED_OUT)]);
        timer.cancel();
        if (next !== TIMED_OUT) {
          pending = undefined;
          if (next.done) break;
          if (!batch.length) deadline = flushDeadline(Date.now(), storedAtMs(next.value), this.options.flushIntervalMs);
          batch.push(next.value);
          bytes += next.value.data.byteLength;
        }
        const due = batch.length > 0 && (bytes >= this.options.maxBatchBytes || Date.now() >= deadline);
        if (due || (!this.running && batch.length)) {
          await this.flush(batch);
          batch = [];
          bytes = 0;
        }
      }
    } finally {
      // close() only takes effect once the iterator has handed out the messages it already holds,
      // which nobody will take any more: with a backlog it would never resolve and SIGTERM would
      // hang. Ending the iterator resolves it; the unacked messages are redelivered.
      const closed = messages.close().catch(() => undefined);
      void iterator.return?.(undefined);
      await closed;
    }
  }

  private async flush(batch: JsMsg[]): Promise<void> {
    const inbound: InboundMessage[] = batch.map((m) => ({
      data: m.data,
      streamSeq: m.seq,
      deliveryCount: m.info.deliveryCount,
      publishedAt: storedAtMs(m),
      subjectTenant: this.source.tenantOf(m.subject),
    }));
    let delay = this.options.retryMinMs;
    // A poison batch (an event ClickHouse refuses) must not stop the stream: after a few refusals the
    // batch is written in isolation, which dead-letters exactly the refused events and stores the rest.
    let refusals = 0;
    const maxRefusals = this.options.maxRefusals ?? 3;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      let outcome: WriteOutcome;
      // The batch stays ours while it is written, however long ClickHouse takes: without this, an
      // insert slower than ack_wait has JetStream hand the batch to the next puller.
      const inProgress = setInterval(() => {
        for (const m of batch) m.working();
      }, Math.max(100, Math.floor(this.options.ackWaitMs / 3)));
      try {
        outcome = await this.writer.write(inbound, { isolateRefusals: refusals >= maxRefusals });
        // Before the ack: what follows the insert (late-event notices) must be durable first, or a
        // crash between the ack and it would lose it. Events found already stored are included: their
        // first writer may have died between its insert and this point.
        if (this.observer && (outcome.stored.length || outcome.existing.length)) {
          await this.observer.stored(outcome.existing.length ? [...outcome.stored, ...outcome.existing] : outcome.stored);
        }
      } catch (error) {
        clearInterval(inProgress);
        if (error instanceof OwnershipLostError) {
          // Another writer owns the partition now: hand the batch over at once, store nothing more.
          this.logger.warn(
            { partition: error.fence.partition, token: error.fence.token, messages: batch.length },
            'partition taken over; batch left to its new owner',
          );
          for (const m of batch) m.nak();
          await this.nc.flush().catch(() => undefined);
          this.running = false;
          this.options.onOwnershipLost?.();
          return;
        }
        this.metrics?.storeFailures.inc();
        const transient = isTransient(error);
        if (!transient) refusals++;
        this.logger.warn(
          { err: error, attempt, transient, refusals, messages: batch.length, requestIds: requestIdsOf(batch) },
          transient || refusals < maxRefusals
            ? 'storing a batch failed; holding it and retrying'
            : 'storing a batch was refused again; retrying it in isolation (refused events are dead-lettered)',
        );
        // Keep the messages ours while we retry, so JetStream does not hand them to another writer.
        for (const m of batch) m.working();
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.options.retryMaxMs);
        // Even when stopping, the batch stays unacked and JetStream redelivers it later.
        if (!this.running && attempt >= 3) return;
        continue;
      }
      clearInterval(inProgress);
      const seconds = (performance.now() - started) / 1000;
      // Plain acks and one flush rather than an acknowledged ack per message: the flush's round trip
      // returns once the server has processed every ack sent before it. An ack lost on the way only
      // means a redelivery, which the dedup lookup turns into nothing.
      for (const m of batch) m.ack();
      await this.nc.flush().catch(() => undefined);
      this.metrics?.recordBatch(outcome, seconds, batch);
      if (outcome.deadLettered) {
        this.logger.warn(
          { deadLettered: outcome.deadLettered, messages: batch.length, requestIds: requestIdsOf(batch) },
          'batch stored with dead letters',
        );
      } else if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug(
          { inserted: outcome.inserted, duplicates: outcome.duplicates, messages: batch.length, requestIds: requestIdsOf(batch) },
          'batch stored',
        );
      }
      return;
    }
  }
}

/** Most request ids one log line names: a batch can hold thousands of requests. */
const LOGGED_REQUEST_IDS = 50;

/** The gateway request ids of a batch's messages (the `Tally-Request-Id` header), for log lines. */
export function requestIdsOf(batch: readonly Pick<JsMsg, 'headers'>[], max = LOGGED_REQUEST_IDS): string[] {
  const ids: string[] = [];
  for (const m of batch) {
    const id = m.headers?.get(REQUEST_ID_MSG_HEADER);
    if (id) ids.push(id);
    if (ids.length >= max) break;
  }
  return ids;
}
