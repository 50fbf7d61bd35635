import type { JsMsg } from '@nats-io/jetstream';
import { BoundedLabel } from '@tally/observability';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WriteOutcome } from './batch-writer';

export class WriterMetrics {
  readonly inserted: Counter<'tenant'>;
  readonly duplicates: Counter;
  readonly deadLetters: Counter;
  readonly storeFailures: Counter;
  readonly redeliveries: Counter;
  readonly batchSize: Histogram;
  readonly batchSeconds: Histogram;
  readonly receiptToStoredSeconds: Histogram;
  /** The tenant label, capped (see docs/operations.md). */
  readonly tenant = new BoundedLabel();

  constructor(registry: Registry) {
    this.inserted = new Counter({ name: 'tally_writer_events_inserted_total', help: 'Events stored', labelNames: ['tenant'], registers: [registry] });
    this.duplicates = new Counter({ name: 'tally_writer_duplicates_total', help: 'Events dropped as already stored', registers: [registry] });
    this.deadLetters = new Counter({ name: 'tally_writer_dead_letters_total', help: 'Events dead-lettered', registers: [registry] });
    this.storeFailures = new Counter({ name: 'tally_writer_store_failures_total', help: 'Failed store attempts (retried)', registers: [registry] });
    this.redeliveries = new Counter({ name: 'tally_writer_redeliveries_total', help: 'Messages delivered more than once', registers: [registry] });
    this.batchSize = new Histogram({
      name: 'tally_writer_batch_events',
      help: 'Events per insert',
      buckets: [10, 100, 1_000, 5_000, 10_000, 50_000, 100_000],
      registers: [registry],
    });
    this.batchSeconds = new Histogram({
      name: 'tally_writer_batch_seconds',
      help: 'Time to deduplicate and insert one batch',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    });
    this.receiptToStoredSeconds = new Histogram({
      name: 'tally_writer_receipt_to_stored_seconds',
      help: 'From gateway receipt to ClickHouse insert',
      buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 5, 10, 30],
      registers: [registry],
    });
  }

  /** Consumer lag, read from JetStream at scrape time (the stream is the source of truth). */
  watchConsumer(read: () => Promise<{ pending: number; ackPending: number; redelivered: number }>, registry: Registry): void {
    const pending = new Gauge({ name: 'tally_writer_consumer_pending', help: 'Messages not yet delivered to any writer', registers: [registry] });
    const ackPending = new Gauge({ name: 'tally_writer_consumer_ack_pending', help: 'Messages delivered, not yet acked', registers: [registry] });
    const redelivered = new Gauge({ name: 'tally_writer_consumer_redelivered', help: 'Messages being redelivered', registers: [registry] });
    new Gauge({
      name: 'tally_writer_consumer_scrape_ok',
      help: '1 when the consumer state could be read at the last scrape',
      registers: [registry],
      async collect() {
        try {
          const state = await read();
          pending.set(state.pending);
          ackPending.set(state.ackPending);
          redelivered.set(state.redelivered);
          this.set(1);
        } catch {
          this.set(0);
        }
      },
    });
  }

  /**
   * Partitions whose loop runs in this writer now: summed over the writers it is the stream's
   * partition count once they have settled (a partition being handed over counts nowhere).
   */
  watchPartitions(read: () => number, registry: Registry): void {
    new Gauge({
      name: 'tally_writer_partitions_owned',
      help: 'Events-stream partitions this writer stores now',
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }

  recordBatch(outcome: WriteOutcome, seconds: number, batch: JsMsg[]): void {
    this.batchSize.observe(outcome.inserted);
    this.batchSeconds.observe(seconds);
    this.duplicates.inc(outcome.duplicates);
    this.deadLetters.inc(outcome.deadLettered);
    const now = Date.now();
    const perTenant = new Map<string, number>();
    const receipts = new Set<number>();
    for (const s of outcome.stored) {
      perTenant.set(s.tenant, (perTenant.get(s.tenant) ?? 0) + 1);
      receipts.add(s.receivedAt);
    }
    for (const [tenant, n] of perTenant) this.inserted.inc({ tenant: this.tenant.value(tenant) }, n);
    for (const r of receipts) this.receiptToStoredSeconds.observe((now - r) / 1000);
    this.redeliveries.inc(batch.filter((m) => m.info.deliveryCount > 1).length);
  }
}
