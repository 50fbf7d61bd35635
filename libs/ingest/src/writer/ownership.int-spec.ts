import { identifier, sql, type ClickHouse } from '@tally/clickhouse';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import { normalizeBatch } from '@tally/event-schema';
import { connectNats, deleteStreams, ensureStreams, natsNames, type NatsConnection, type NatsNames } from '@tally/nats';
import { createLogger } from '@tally/observability';
import { randomPrefix, testNatsAuth, testNatsUrl, testStreamLimits, waitFor } from '@tally/testing';
import { JetStreamDeadLetterSink } from '@tally/ingest-protocol';
import { JetStreamEventPublisher } from '../gateway/event-publisher';
import { PartitionedWriter } from './partitioned-writer';

/**
 * Two writers on one stream, an insert slower than ack_wait: the double count of issue 14 (on the
 * shared consumer of before, 400 rows were stored for 300 events). Each writer's ClickHouse handle
 * waits before every insert, as a stalled or overloaded server does.
 */
const ACK_WAIT_MS = 1_000;
const SLOW_INSERT_MS = 2_500;
const BATCHES = 6;
const PARTITIONS = 2;
const LEASE_MS = 2_000;
const EVENTS_PER_BATCH = 50;

describe('several writers on one events stream (issue 14)', () => {
  let nc: NatsConnection;
  let names: NatsNames;
  let db: TestDatabase;
  const logger = createLogger('ownership-test', 'warn');

  beforeEach(async () => {
    names = natsNames(randomPrefix('t'));
    nc = await connectNats(testNatsUrl(), 'ownership-test', testNatsAuth());
    await ensureStreams(nc, names, testStreamLimits);
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await deleteStreams(nc, names);
    await nc.close();
    await db.drop();
  });

  /** A writer as the writer app builds it: partition leases, fenced inserts, one loop per partition. */
  function startWriter(slowInsertMs = SLOW_INSERT_MS): PartitionedWriter {
    const slow = (ch: ClickHouse): ClickHouse =>
      new Proxy(ch, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop === 'insertRowBinary' && typeof value === 'function')
            return async (...args: unknown[]) => {
              await new Promise((r) => setTimeout(r, slowInsertMs));
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    return new PartitionedWriter(
      {
        nc,
        names,
        clickhouse: slow(db.client),
        deadLetters: new JetStreamDeadLetterSink(nc, names),
        admission: { check: () => undefined },
        logger,
      },
      {
        partitions: PARTITIONS,
        leaseMs: LEASE_MS,
        loop: { maxBatchBytes: 64 * 1024, flushIntervalMs: 100, ackWaitMs: ACK_WAIT_MS, retryMinMs: 100, retryMaxMs: 1_000 },
      },
    );
  }

  async function publish(batches: number, from = 0): Promise<void> {
    const publisher = new JetStreamEventPublisher(nc, names, 5_000, PARTITIONS);
    const now = Date.now();
    for (let b = from; b < from + batches; b++) {
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
  }

  const stored = async () => {
    const [row] = await db.client.query<{ n: string; distinct: string }>(
      sql`SELECT count() AS n, uniqExact(event_id) AS distinct FROM ${identifier(db.database, 'events')}`,
    );
    return { stored: Number(row.n), distinct: Number(row.distinct) };
  };

  it('stores every event once when an insert takes longer than ack_wait', async () => {
    await publish(BATCHES);
    const writers = [startWriter(), startWriter()];
    for (const w of writers) await w.start();
    try {
      const expected = BATCHES * EVENTS_PER_BATCH;
      await waitFor(async () => ((await stored()).stored >= expected ? true : undefined), { timeoutMs: 60_000 });
      // Let every redelivery that is coming arrive and be written: 3 ack_waits plus an insert.
      await new Promise((r) => setTimeout(r, 3 * ACK_WAIT_MS + SLOW_INSERT_MS + 1_000));
      expect(await stored()).toEqual({ stored: expected, distinct: expected });
    } finally {
      for (const w of writers) await w.stop();
    }
  }, 120_000);

  it('a superseded writer cannot store late: its insert is fenced, its batch goes to the new owner', async () => {
    // Writer A takes every partition, then stops renewing (a paused process) while its inserts hang.
    const a = startWriter(4 * LEASE_MS);
    await a.start();
    await waitFor(async () => (a.partitions().length === PARTITIONS ? true : undefined), { timeoutMs: 10_000 });
    await publish(BATCHES);
    // A's loops have pulled and hold the batches in a slow insert; its leases lapse.
    await new Promise((r) => setTimeout(r, 500));
    a.freezeLeases();
    const b = startWriter(0);
    await b.start();
    try {
      const expected = BATCHES * EVENTS_PER_BATCH;
      await waitFor(async () => (b.partitions().length === PARTITIONS ? true : undefined), { timeoutMs: 4 * LEASE_MS });
      await waitFor(async () => ((await stored()).stored >= expected ? true : undefined), { timeoutMs: 60_000 });
      // A's delayed inserts reach ClickHouse after B stored everything: fenced, they add nothing.
      await new Promise((r) => setTimeout(r, 4 * LEASE_MS + 2_000));
      expect(await stored()).toEqual({ stored: expected, distinct: expected });
      expect(a.partitions()).toEqual([]);
      // And B keeps storing new events.
      await publish(2, BATCHES);
      await waitFor(async () => ((await stored()).stored >= expected + 2 * EVENTS_PER_BATCH ? true : undefined), { timeoutMs: 30_000 });
      expect(await stored()).toEqual({ stored: expected + 2 * EVENTS_PER_BATCH, distinct: expected + 2 * EVENTS_PER_BATCH });
    } finally {
      await b.stop();
      await a.stop();
    }
  }, 180_000);
});
