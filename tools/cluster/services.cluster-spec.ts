import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { ApiKeyStore, CatalogStore } from '@tally/catalog';
import { createClickHouse, identifier, migrate, sql, type ClickHouse } from '@tally/clickhouse';
import { connectNats, deleteStreams, ensureStreams, natsNames, type NatsConnection, type NatsNames } from '@tally/nats';
import { freePort, randomPrefix, startService, testNatsAuth, testStreamLimits, waitFor, type ServiceProcess, waitUntilHealthy } from '@tally/testing';

/**
 * The apps as real processes on the cluster topology (tools/cluster/cluster.sh): two gateways and two
 * writers configured for it (`NATS_URL` with the three nodes, `TALLY_STREAM_REPLICAS=3`,
 * `CLICKHOUSE_CLUSTER`, `CLICKHOUSE_SHARD_URLS`). Under a steady closed-loop load with re-sent keys,
 * one writer is SIGKILLed, the NATS node leading the events stream is SIGKILLed (and started again),
 * and a ClickHouse replica is stopped and started. Every event a gateway answered 202 for must be
 * stored exactly once; what it answered 503 for is sent again by the client with the same key.
 */
const CLUSTER = process.env.TALLY_CLUSTER_NAME ?? 'tally_cluster';
const NATS_URLS = process.env.TALLY_CLUSTER_NATS_URLS ?? 'nats://127.0.0.1:24331,nats://127.0.0.1:24332,nats://127.0.0.1:24333';
const S1R1 = process.env.TALLY_CLUSTER_S1R1_URL ?? 'http://127.0.0.1:28123';
const S2R1 = process.env.TALLY_CLUSTER_S2R1_URL ?? 'http://127.0.0.1:28125';
const CLUSTER_SH = join(__dirname, 'cluster.sh');
const TENANT = 'acme';
const PARTITIONS = 4;
const BATCH = 100;
const CUSTOMERS = 40;
/** Seconds of load; the faults happen at fixed points within it. */
const LOAD_SECONDS = Number(process.env.TALLY_CLUSTER_LOAD_SECONDS ?? 24);

function node(action: 'stop' | 'kill' | 'start', name: string): void {
  execFileSync('bash', [CLUSTER_SH, action, name], { stdio: 'inherit', timeout: 120_000 });
}

describe('gateways and writers on the cluster topology, with a writer, a NATS leader and a replica lost (issue 14)', () => {
  let nc: NatsConnection;
  let names: NatsNames;
  let ch: ClickHouse;
  const database = randomPrefix('t');
  const services: ServiceProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    const prefix = randomPrefix('t');
    names = natsNames(prefix);
    nc = await connectNats(NATS_URLS, 'cluster-services-test', testNatsAuth());
    await ensureStreams(nc, names, { ...testStreamLimits, replicas: 3 });
    // The catalog and key buckets at 3 replicas too (the services open them as they find them).
    const kvm = new Kvm(nc);
    for (const bucket of [names.catalogBucket, names.apiKeysBucket]) await kvm.create(bucket, { history: 5, replicas: 3 });
    ch = createClickHouse({ url: S1R1, username: 'default', password: '', database, application: 'cluster-test', requestTimeoutMs: 120_000 });
    await migrate(ch, { cluster: { name: CLUSTER, replicated: true } });
    env = {
      NATS_URL: NATS_URLS,
      TALLY_NATS_PREFIX: prefix,
      TALLY_STREAM_REPLICAS: '3',
      TALLY_EVENT_PARTITIONS: String(PARTITIONS),
      CLICKHOUSE_URL: S1R1,
      CLICKHOUSE_DATABASE: database,
      LOG_LEVEL: 'warn',
    };
  }, 240_000);

  afterAll(async () => {
    for (const s of services) await s.stop('SIGKILL');
    await ch?.command(sql`DROP DATABASE IF EXISTS ${identifier(database)} ON CLUSTER ${identifier(CLUSTER)}`).catch(() => undefined);
    await ch?.close();
    if (nc) {
      await deleteStreams(nc, names).catch(() => undefined);
      const jsm = await jetstreamManager(nc);
      for (const bucket of [names.catalogBucket, names.apiKeysBucket, names.writerLeasesBucket])
        await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
      await nc.close();
    }
  }, 120_000);

  async function start(app: 'gateway' | 'writer', extra: Record<string, string>): Promise<{ url: string; process: ServiceProcess }> {
    const port = await freePort();
    const portKey = app === 'gateway' ? 'GATEWAY_PORT' : 'WRITER_PORT';
    const service = startService(app, { ...env, [portKey]: String(port), ...extra });
    services.push(service);
    const url = `http://127.0.0.1:${port}`;
    await waitUntilHealthy(service, url, { what: `${app} health` });
    return { url, process: service };
  }

  const writerEnv = {
    CLICKHOUSE_CLUSTER: CLUSTER,
    CLICKHOUSE_SHARD_URLS: `${S1R1},${S2R1}`,
    WRITER_LEASE_MS: '2000',
    WRITER_ACK_WAIT_MS: '5000',
    WRITER_FLUSH_INTERVAL_MS: '200',
  };

  it('stores every accepted event exactly once; 503 (never 202) for what NATS could not make durable', async () => {
    const gateways = [await start('gateway', {}), await start('gateway', {})];
    const writers = [await start('writer', writerEnv), await start('writer', writerEnv)];
    const catalog = await CatalogStore.open(nc, names);
    const keys = await ApiKeyStore.open(nc, names);
    await catalog.putTenant({
      id: TENANT,
      name: TENANT,
      timezone: 'UTC',
      currency: 'USD',
      latenessLimitDays: 35,
      rateLimitPerSecond: 1_000_000,
      requireKnownCustomers: false,
    });
    const { key } = await keys.create(TENANT, 'ingest', 'cluster test');

    const accepted = new Map<string, string>(); // event id -> quantity
    const statuses = new Map<number, number>();
    let batchNo = 0;
    const post = async (gateway: string, events: Array<{ eventId: string; quantity: string; customerId: string }>) => {
      const response = await fetch(`${gateway}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          events.map((e) => ({ ...e, metricName: 'api_call', timestamp: new Date(Date.now() - 60_000).toISOString() })),
        ),
      }).catch(() => undefined);
      const status = response?.status ?? 0;
      await response?.text();
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      return status;
    };
    await waitFor(async () => (await post(gateways[0].url, [])) !== 401, { timeoutMs: 30_000, what: 'key to propagate' });

    // Two connections per gateway, closed loop; 10% of each batch re-sends keys of an earlier batch, and
    // both connections of a pair send the same batch at once now and then (the same keys concurrently).
    const deadline = Date.now() + LOAD_SECONDS * 1_000;
    const connection = async (c: number) => {
      const gateway = gateways[c % 2].url;
      while (Date.now() < deadline) {
        const b = batchNo++;
        const events = Array.from({ length: BATCH }, (_, i) => {
          const src = i < BATCH / 10 && b > 0 ? b - 1 : b;
          return { eventId: `e-${src}-${i}`, quantity: `${(src + i) % 13}.${i % 100}`, customerId: `c${(src * 3 + i) % CUSTOMERS}` };
        });
        const sameKeysTwice = b % 25 === 0;
        for (;;) {
          const results = await Promise.all(sameKeysTwice ? [post(gateway, events), post(gateways[(c + 1) % 2].url, events)] : [post(gateway, events)]);
          if (results.some((s) => s === 202)) break;
          expect(results.every((s) => s === 503 || s === 0)).toBe(true);
          await new Promise((r) => setTimeout(r, 200));
        }
        for (const e of events) accepted.set(e.eventId, e.quantity);
      }
    };
    const faults = async () => {
      const at = (s: number) => new Promise((r) => setTimeout(r, Math.max(0, deadline - LOAD_SECONDS * 1_000 + s * 1_000 - Date.now())));
      await at(LOAD_SECONDS * 0.2);
      await writers[0].process.stop('SIGKILL');
      await at(LOAD_SECONDS * 0.3);
      node('stop', 'ch-s2r2');
      await at(LOAD_SECONDS * 0.4);
      const jsm = await jetstreamManager(nc);
      const leader = ((await jsm.streams.info(names.eventsStream)).cluster?.leader ?? '').replace(/^tally-/, '');
      node('kill', leader);
      await at(LOAD_SECONDS * 0.7);
      node('start', leader);
      node('start', 'ch-s2r2');
    };
    await Promise.all([connection(0), connection(1), connection(2), connection(3), faults()]);

    const expected = { n: accepted.size };
    const count = async (where: ClickHouse) => {
      const [row] = await where.query<{ n: string; distinct: string; q: string }>(
        sql`SELECT count() AS n, uniqExact(event_id) AS distinct, toString(sum(quantity)) AS q FROM ${identifier(database, 'events')}`,
      );
      return { n: Number(row.n), distinct: Number(row.distinct), q: row.q };
    };
    await waitFor(async () => ((await count(ch)).n >= expected.n ? true : undefined), { timeoutMs: 180_000, what: 'everything stored' });
    await new Promise((r) => setTimeout(r, 12_000)); // redeliveries: two ack waits
    const stored = await count(ch);
    const quantity = [...accepted.values()].reduce((sum, q) => sum + Math.round(Number(q) * 100), 0);
    expect(stored.n).toBe(expected.n);
    expect(stored.distinct).toBe(expected.n);
    expect(Math.round(Number(stored.q) * 100)).toBe(quantity);
    process.stdout.write(
      `[cluster] accepted=${accepted.size} stored=${stored.n} distinct=${stored.distinct} statuses=${JSON.stringify(Object.fromEntries(statuses))} ev/s=${Math.round((batchNo * BATCH) / LOAD_SECONDS)}\n`,
    );
    await keys.close();
  }, 600_000);
});
