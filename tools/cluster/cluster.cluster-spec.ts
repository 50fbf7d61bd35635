import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  createClickHouse,
  customerPeriodUsage,
  identifier,
  migrate,
  sql,
  type ClickHouse,
  type SqlFragment,
} from '@tally/clickhouse';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import { normalizeBatch } from '@tally/event-schema';
import { JetStreamEventPublisher, PartitionedWriter, shardOfPartition } from '@tally/ingest';
import { JetStreamDeadLetterSink } from '@tally/ingest-protocol';
import { parseMeterDefinition } from '@tally/metering';
import { connectNats, deleteStreams, ensureStreams, eventPartition, natsNames, type NatsConnection, type NatsNames } from '@tally/nats';
import { createLogger } from '@tally/observability';
import { randomPrefix, testNatsAuth, testStreamLimits, waitFor } from '@tally/testing';

/**
 * The scale-out topology of issue 14 on loopback (tools/cluster/cluster.sh, `npm run test:cluster`):
 * a 3-node NATS cluster with Tally's streams at 3 replicas, and ClickHouse 2 shards x 2 replicas with
 * the `--cluster` schema. Writers store each partition into its shard's local tables; readers go
 * through the Distributed tables. Every answer is compared with the same fixture on a single server.
 */
const CLUSTER = process.env.TALLY_CLUSTER_NAME ?? 'tally_cluster';
const NATS_URLS = process.env.TALLY_CLUSTER_NATS_URLS ?? 'nats://127.0.0.1:24331,nats://127.0.0.1:24332,nats://127.0.0.1:24333';
const CH = {
  s1r1: process.env.TALLY_CLUSTER_S1R1_URL ?? 'http://127.0.0.1:28123',
  s1r2: process.env.TALLY_CLUSTER_S1R2_URL ?? 'http://127.0.0.1:28124',
  s2r1: process.env.TALLY_CLUSTER_S2R1_URL ?? 'http://127.0.0.1:28125',
  s2r2: process.env.TALLY_CLUSTER_S2R2_URL ?? 'http://127.0.0.1:28126',
};
const CLUSTER_SH = join(__dirname, 'cluster.sh');
const PARTITIONS = 4;
const CUSTOMERS = 12;
const TENANT = 'acme';
const LEASE_MS = 2_000;
const ACK_WAIT_MS = 3_000;
const logger = createLogger('cluster-test', 'warn');

/** Stops, kills or starts one node of the topology (cluster.sh keeps its data). */
function node(action: 'stop' | 'kill' | 'start', name: string): void {
  execFileSync('bash', [CLUSTER_SH, action, name], { stdio: 'inherit', timeout: 120_000 });
}

const calls = parseMeterDefinition({ key: 'calls', name: 'Calls', eventTypes: ['api_call'], aggregation: 'count' });
const tokens = parseMeterDefinition({
  key: 'tokens',
  name: 'Tokens',
  eventTypes: ['api_call'],
  aggregation: 'sum',
  valueProperty: 'quantity',
});

describe('Tally on a NATS cluster and a sharded, replicated ClickHouse (issue 14)', () => {
  let nc: NatsConnection;
  let names: NatsNames;
  let singleNames: NatsNames;
  let database: string;
  let nodes: Record<keyof typeof CH, ClickHouse>;
  let single: TestDatabase;
  const writers: PartitionedWriter[] = [];

  beforeAll(async () => {
    nc = await connectNats(NATS_URLS, 'cluster-test', testNatsAuth());
    names = natsNames(randomPrefix('t'));
    singleNames = natsNames(randomPrefix('t'));
    await ensureStreams(nc, names, { ...testStreamLimits, replicas: 3 });
    await ensureStreams(nc, singleNames, { ...testStreamLimits, replicas: 3 });
    database = randomPrefix('t');
    nodes = Object.fromEntries(
      Object.entries(CH).map(([k, url]) => [k, createClickHouse({ url, username: 'default', password: '', database, application: 'cluster-test', requestTimeoutMs: 120_000 })]),
    ) as Record<keyof typeof CH, ClickHouse>;
    await migrate(nodes.s1r1, { cluster: { name: CLUSTER, replicated: true } });
    single = await createTestDatabase();
  }, 240_000);

  afterAll(async () => {
    for (const w of writers) await w.stop().catch(() => undefined);
    await nodes?.s1r1.command(sql`DROP DATABASE IF EXISTS ${identifier(database)} ON CLUSTER ${identifier(CLUSTER)}`).catch(() => undefined);
    for (const ch of Object.values(nodes ?? {})) await ch.close();
    await single?.drop();
    if (nc) {
      await deleteStreams(nc, names).catch(() => undefined);
      await deleteStreams(nc, singleNames).catch(() => undefined);
      await nc.close();
    }
  }, 120_000);

  function startWriter(streamNames: NatsNames, cluster: boolean): PartitionedWriter {
    const w = new PartitionedWriter(
      {
        nc,
        names: streamNames,
        clickhouse: cluster ? nodes.s1r1 : single.client,
        // The fence replica of each shard: replica 1 (the same for every writer, in shard order).
        shards: cluster ? [nodes.s1r1, nodes.s2r1] : undefined,
        deadLetters: new JetStreamDeadLetterSink(nc, streamNames),
        admission: { check: () => undefined },
        logger,
      },
      {
        partitions: PARTITIONS,
        leaseMs: LEASE_MS,
        cluster,
        replicas: 3,
        loop: { maxBatchBytes: 256 * 1024, flushIntervalMs: 100, ackWaitMs: ACK_WAIT_MS, retryMinMs: 100, retryMaxMs: 1_000 },
      },
    );
    writers.push(w);
    return w;
  }

  /**
   * Publishes batch `b` of the fixture to both prefixes, as a client does: a publish that is not
   * acknowledged (the gateway's 503, e.g. during a stream leader election) is sent again with the
   * same keys until it is. The fixture: CUSTOMERS customers, quantities with decimals, a tenth of
   * each batch re-sent from the previous batch (the same keys, the same payload).
   */
  async function publishBatch(b: number): Promise<{ refused: number }> {
    const now = Date.now();
    const body = Array.from({ length: 50 }, (_, i) => {
      const resend = i < 5 && b > 0;
      const batch = resend ? b - 1 : b;
      return {
        eventId: `e-${batch}-${i}`,
        customerId: `c${(batch * 7 + i) % CUSTOMERS}`,
        metricName: 'api_call',
        quantity: `${(batch * 50 + i) % 97}.${i % 10}25`,
        timestamp: new Date(Date.UTC(2026, 10, 1 + ((batch + i) % 28), i % 24)).toISOString(),
      };
    });
    const { events } = normalizeBatch(body, 'auto', {
      nowMs: now,
      maxFutureMs: 300_000,
      latenessLimitMs: 3650 * 86_400_000,
      billingrailsCustomerProperty: 'billingrails_customer_id',
      maxBatch: 1000,
    });
    let refused = 0;
    for (const n of [names, singleNames]) {
      const publisher = new JetStreamEventPublisher(nc, n, 2_000, PARTITIONS);
      for (;;) {
        try {
          await publisher.publish({ v: 3, tenant: TENANT, receivedAt: now, events });
          break;
        } catch {
          refused++;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
    return { refused };
  }

  const distinctKeys = (batches: number) => {
    const keys = new Set<string>();
    for (let b = 0; b < batches; b++) for (let i = 0; i < 50; i++) keys.add(`e-${i < 5 && b > 0 ? b - 1 : b}-${i}`);
    return keys.size;
  };

  async function counts(ch: ClickHouse, table: string): Promise<{ n: number; distinct: number }> {
    const [row] = await ch.query<{ n: string; distinct: string }>(
      sql`SELECT count() AS n, uniqExact(event_id) AS distinct FROM ${identifier(ch.database, table)}`,
    );
    return { n: Number(row.n), distinct: Number(row.distinct) };
  }

  it('runs the streams and the writers\' leases bucket at 3 replicas', async () => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(names.eventsStream);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);
    expect(info.cluster?.leader).toMatch(/^tally-nats[123]$/);
  });

  it('stores every event exactly once while a writer is lost and the stream leader is killed', async () => {
    const a = startWriter(names, true);
    const b = startWriter(names, true);
    await a.start();
    await b.start();
    startWriter(singleNames, false);
    await writers[2].start();
    let batch = 0;
    for (; batch < 10; batch++) await publishBatch(batch);
    // Writer a stops renewing its leases and is never heard of again (a kill, from the others' view).
    a.freezeLeases();
    const jsm = await jetstreamManager(nc);
    const leader = (await jsm.streams.info(names.eventsStream)).cluster?.leader ?? '';
    const leaderNode = leader.replace(/^tally-/, '');
    expect(leaderNode).toMatch(/^nats[123]$/);
    node('kill', leaderNode);
    let refused = 0;
    try {
      for (; batch < 30; batch++) refused += (await publishBatch(batch)).refused;
    } finally {
      node('start', leaderNode);
    }
    const newLeader = (await jsm.streams.info(names.eventsStream)).cluster?.leader;
    expect(newLeader).not.toBe(leader);
    const expected = distinctKeys(batch);
    expect(expected).toBeLessThan(batch * 50); // the re-sent keys
    const dist = nodes.s1r1;
    await waitFor(async () => ((await counts(dist, 'events')).n >= expected ? true : undefined), { timeoutMs: 120_000, what: 'cluster stored everything' });
    await waitFor(async () => ((await counts(single.client, 'events')).n >= expected ? true : undefined), { timeoutMs: 60_000, what: 'single stored everything' });
    // Redeliveries that are coming arrive within a few ack waits.
    await new Promise((r) => setTimeout(r, 3 * ACK_WAIT_MS));
    expect(await counts(dist, 'events')).toEqual({ n: expected, distinct: expected });
    expect(await counts(single.client, 'events')).toEqual({ n: expected, distinct: expected });
    // The writer that stopped renewing lost every lease to the other (its loops learn it at their next commit).
    expect(b.partitions()).toEqual([0, 1, 2, 3]);
    logger.warn({ refused, expected }, 'publishes refused during the election (answered 503, sent again)');
  }, 300_000);

  it('keeps each customer on the shard of its partition, with its dedup index', async () => {
    for (const [shard, ch] of [[0, nodes.s1r1], [1, nodes.s2r1]] as const) {
      const rows = await ch.query<{ customer: string }>(
        sql`SELECT DISTINCT customer FROM ${identifier(database, 'events_local')} ORDER BY customer`,
      );
      expect(rows.length).toBeGreaterThan(0);
      for (const { customer } of rows) expect(shardOfPartition(eventPartition(TENANT, customer, PARTITIONS), 2)).toBe(shard);
      expect(await counts(ch, 'event_ids_local')).toEqual({ n: expect.any(Number), distinct: (await counts(ch, 'events_local')).distinct });
    }
  });

  it('answers usage, invoice usage and SQL through the Distributed tables as a single server does', async () => {
    const from = new Date(Date.UTC(2026, 10, 1));
    const to = new Date(Date.UTC(2026, 11, 1));
    const queries: Array<(db: string) => SqlFragment> = [
      (db) => sql`SELECT customer, count() AS n, toString(sum(quantity)) AS q FROM ${identifier(db, 'events')} GROUP BY customer ORDER BY customer`,
      (db) => sql`SELECT customer, toString(toStartOfDay(hour)) AS day, countMerge(events) AS n, toString(sumMerge(quantity_sum)) AS q FROM ${identifier(db, 'usage_hourly')} GROUP BY customer, day ORDER BY customer, day`,
      (db) => sql`SELECT customer, countMerge(events) AS n, toString(sumMerge(quantity_sum)) AS q, toString(maxMerge(quantity_max)) AS mx FROM ${identifier(db, 'usage_daily')} GROUP BY customer ORDER BY customer`,
      ...Array.from({ length: CUSTOMERS }, (_, c) => (db: string) =>
        customerPeriodUsage({ database: db, tenant: TENANT, customer: `c${c}`, meters: [calls, tokens], from, to, timezone: 'America/New_York' }),
      ),
    ];
    for (const q of queries) {
      const sharded = await nodes.s2r2.query(q(database));
      const one = await single.client.query(q(single.database));
      expect(sharded.length).toBeGreaterThan(0);
      expect(sharded).toEqual(one);
    }
  });

  it('a replica stopped and restarted catches up with its shard', async () => {
    node('stop', 'ch-s1r2');
    let batch = 30;
    try {
      for (; batch < 40; batch++) await publishBatch(batch);
    } finally {
      node('start', 'ch-s1r2');
    }
    const expected = distinctKeys(batch);
    await waitFor(async () => ((await counts(nodes.s1r1, 'events')).n >= expected ? true : undefined), { timeoutMs: 120_000, what: 'stored' });
    const primary = await counts(nodes.s1r1, 'events_local');
    await waitFor(async () => ((await counts(nodes.s1r2, 'events_local')).n >= primary.n ? true : undefined), { timeoutMs: 120_000, what: 'replica caught up' });
    expect(await counts(nodes.s1r2, 'events_local')).toEqual(primary);
    await new Promise((r) => setTimeout(r, 2 * ACK_WAIT_MS));
    expect(await counts(nodes.s1r2, 'events')).toEqual({ n: expected, distinct: expected });
  }, 300_000);
});
