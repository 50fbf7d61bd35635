import { identifier, sql } from '@tally/clickhouse';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import { normalizeBatch } from '@tally/event-schema';
import { connectNats, deleteStreams, ensureStreams, natsNames, type NatsConnection, type NatsNames } from '@tally/nats';
import { createLogger } from '@tally/observability';
import { randomPrefix, testNatsUrl, testStreamLimits, waitFor } from '@tally/testing';
import { JetStreamDeadLetterSink } from '../dead-letters/jetstream-dead-letters';
import { JetStreamEventPublisher } from '../gateway/event-publisher';
import { BatchWriter, type EventStore, type StoredEvent } from './batch-writer';
import { ClickHouseEventStore } from './clickhouse-event-store';
import { WriterLoop } from './writer-loop';

/**
 * Two writers on one stream, an insert slower than ack_wait: the double count of issue 14. Each
 * writer's store waits `slowInsertMs` before inserting, as a stalled or overloaded ClickHouse does.
 */
const ACK_WAIT_MS = 1_000;
const SLOW_INSERT_MS = 2_500;
const BATCHES = 6;
const EVENTS_PER_BATCH = 50;

class SlowStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly delayMs: number,
  ) {}
  findExisting(ids: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>> {
    return this.inner.findExisting(ids);
  }
  async insert(events: StoredEvent[]): Promise<void> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    await this.inner.insert(events);
  }
}

describe('several writers on one events stream (issue 14)', () => {
  let nc: NatsConnection;
  let names: NatsNames;
  let db: TestDatabase;
  const logger = createLogger('ownership-test', 'warn');

  beforeEach(async () => {
    names = natsNames(randomPrefix('t'));
    nc = await connectNats(testNatsUrl(), 'ownership-test');
    await ensureStreams(nc, names, testStreamLimits);
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await deleteStreams(nc, names);
    await nc.close();
    await db.drop();
  });

  function startWriter(): { stop(): Promise<void>; start(): Promise<void> } {
    const store = new SlowStore(new ClickHouseEventStore(db.client), SLOW_INSERT_MS);
    const writer = new BatchWriter(store, new JetStreamDeadLetterSink(nc, names), { check: () => undefined });
    return new WriterLoop(nc, names, writer, logger, undefined, undefined, {
      maxBatchBytes: 64 * 1024,
      flushIntervalMs: 100,
      ackWaitMs: ACK_WAIT_MS,
      retryMinMs: 100,
      retryMaxMs: 1_000,
    });
  }

  it('stores every event once when an insert takes longer than ack_wait', async () => {
    const publisher = new JetStreamEventPublisher(nc, names);
    const now = Date.now();
    for (let b = 0; b < BATCHES; b++) {
      const body = Array.from({ length: EVENTS_PER_BATCH }, (_, i) => ({
        eventId: `e-${b}-${i}`,
        customerId: `c${i % 7}`,
        metricName: 'api_call',
        quantity: 1,
        timestamp: new Date(now - 1_000).toISOString(),
      }));
      const { events } = normalizeBatch(body, 'auto', {
        nowMs: now,
        maxFutureMs: 300_000,
        latenessLimitMs: 35 * 86_400_000,
        billingrailsCustomerProperty: 'billingrails_customer_id',
        maxBatch: 1000,
      });
      await publisher.publish({ v: 3, tenant: 'acme', receivedAt: now, events });
    }
    const writers = [startWriter(), startWriter()];
    for (const w of writers) await w.start();
    try {
      const expected = BATCHES * EVENTS_PER_BATCH;
      const count = async () =>
        Number((await db.client.query<{ n: string }>(sql`SELECT count() AS n FROM ${identifier(db.database, 'events')}`))[0].n);
      await waitFor(async () => ((await count()) >= expected ? true : undefined), { timeoutMs: 30_000 });
      // Let every redelivery that is coming arrive and be written: 3 ack_waits plus an insert.
      await new Promise((r) => setTimeout(r, 3 * ACK_WAIT_MS + SLOW_INSERT_MS + 1_000));
      const [row] = await db.client.query<{ n: string; distinct: string }>(
        sql`SELECT count() AS n, uniqExact(event_id) AS distinct FROM ${identifier(db.database, 'events')}`,
      );
      expect({ stored: Number(row.n), distinct: Number(row.distinct) }).toEqual({ stored: expected, distinct: expected });
    } finally {
      for (const w of writers) await w.stop();
    }
  }, 90_000);
});
