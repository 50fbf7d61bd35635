/**
 * ClickHouse outage under load, with real processes: a gateway and a writer (compiled, as production
 * runs them) on their own NATS prefix and ClickHouse database, the writer reaching ClickHouse through a
 * TCP proxy that is cut for the outage. Events are offered at a fixed rate (open loop) the whole time.
 * What it measures is what docs/ingestion.md promises: 202 while the events stream has room, 503
 * `STREAM_FULL` only once its `max_bytes` is reached, a writer whose pulls stay bounded (the backlog
 * stays in JetStream, not in its memory), and after ClickHouse is back every acknowledged event stored
 * exactly once and nothing of a refused request stored. Used by `clickhouse-outage.int-spec.ts` (small)
 * and by `cli.ts` (the 10 minutes at 5,000 events/s).
 */
import { readFileSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { ApiKeyStore, CatalogStore } from '@tally/catalog';
import { join, sql } from '@tally/clickhouse';
import { createTestDatabase } from '@tally/clickhouse/testing';
import { connectNats, deleteStreams, ensureStreams, natsNames } from '@tally/nats';
import { freePort, randomPrefix, startService, TcpProxy, testClickHouseUrl, testNatsAuth, testNatsUrl, testStreamLimits, waitFor, type ServiceProcess, waitUntilHealthy } from '@tally/testing';

export interface OutageOptions {
  /** Offered events per second (open loop). */
  rate: number;
  /** Seconds of load in all. */
  durationS: number;
  /** When ClickHouse becomes unreachable for the writer, seconds after the load started... */
  outageStartS: number;
  /** ...and for how long. */
  outageS: number;
  /** Events per request. */
  batch: number;
  /** `TALLY_EVENTS_MAX_BYTES` of the run's events stream. */
  eventsMaxBytes: number;
  /** `WRITER_MAX_BATCH_BYTES`: what bounds the writer's pulls. */
  writerMaxBatchBytes: number;
  /** Requests in flight at most. */
  concurrency: number;
  /** How long the writer may take to store the backlog once ClickHouse is back. */
  drainTimeoutS: number;
  log: (line: string) => void;
}

export const defaultOutageOptions: OutageOptions = {
  rate: 5_000,
  durationS: 600,
  outageStartS: 30,
  outageS: 600 - 60,
  batch: 100,
  eventsMaxBytes: 256 * 1024 ** 2,
  writerMaxBatchBytes: 8 * 1024 ** 2,
  concurrency: 32,
  drainTimeoutS: 600,
  log: () => undefined,
};

interface Sample {
  atS: number;
  gatewayRssMb: number;
  writerRssMb: number;
  streamBytes: number;
  streamMessages: number;
  /** Messages the writer pulled and has not acked: what it holds in memory. */
  writerAckPending: number;
}

export interface OutageReport {
  options: Omit<OutageOptions, 'log'>;
  requests: { sent: number; accepted: number; streamFull: number; other: Record<string, number> };
  acceptedEventsPerS: number;
  /** Events offered late because the gateway answered slower than the rate (open-loop lag). */
  maxScheduleLagMs: number;
  firstStreamFull?: { atS: number; streamBytes: number; fractionOfMaxBytes: number };
  /** Any answer other than 202 before the stream was full (should be none). */
  non202BeforeFull: number;
  memory: {
    gatewayRssMbAtOutageStart: number;
    gatewayRssMbMaxDuringOutage: number;
    writerRssMbAtOutageStart: number;
    writerRssMbMaxDuringOutage: number;
  };
  backlog: { maxStreamBytes: number; maxStreamMessages: number; maxWriterAckPending: number };
  drainSeconds: number;
  stored: { acceptedEvents: number; rows: number; distinctIds: number; refusedFound: number };
  exactlyOnce: boolean;
  samples: Sample[];
}

function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Math.round(Number(kb ?? 0) / 102.4) / 10;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runClickHouseOutage(partial: Partial<OutageOptions> = {}): Promise<OutageReport> {
  const o: OutageOptions = { ...defaultOutageOptions, ...partial };
  const names = natsNames(randomPrefix('chaos'));
  const natsUrl = testNatsUrl();
  const nc = await connectNats(natsUrl, 'chaos-clickhouse-outage', testNatsAuth());
  const jsm = await jetstreamManager(nc);
  const db = await createTestDatabase();
  const proxy = await TcpProxy.start(await freePort(), new URL(testClickHouseUrl()));
  const services: ServiceProcess[] = [];
  const tenant = 'chaos';
  try {
    await ensureStreams(nc, names, { ...testStreamLimits, eventsMaxBytes: o.eventsMaxBytes });
    const catalog = await CatalogStore.open(nc, names);
    const keys = await ApiKeyStore.open(nc, names);
    await catalog.putTenant({
      id: tenant,
      name: tenant,
      timezone: 'UTC',
      currency: 'USD',
      latenessLimitDays: 35,
      rateLimitPerSecond: 10_000_000,
      requireKnownCustomers: false,
    });
    const key = (await keys.create(tenant, 'ingest', 'chaos')).key;
    await keys.close();

    const env = {
      NATS_URL: natsUrl,
      TALLY_NATS_PREFIX: names.prefix,
      CLICKHOUSE_DATABASE: db.database,
      TALLY_EVENTS_MAX_BYTES: String(o.eventsMaxBytes),
      LOG_LEVEL: 'error',
    };
    const gatewayPort = await freePort();
    const writerPort = await freePort();
    const gateway = startService('gateway', { ...env, GATEWAY_PORT: String(gatewayPort) });
    const writer = startService('writer', {
      ...env,
      WRITER_PORT: String(writerPort),
      CLICKHOUSE_URL: proxy.url,
      WRITER_MAX_BATCH_BYTES: String(o.writerMaxBatchBytes),
    });
    services.push(gateway, writer);
    for (const [url, s] of [
      [`http://127.0.0.1:${gatewayPort}`, gateway],
      [`http://127.0.0.1:${writerPort}`, writer],
    ] as const) {
      await waitUntilHealthy(s, url, { timeoutMs: 60_000 });
    }
    const post = async (body: string) => {
      const r = await fetch(`http://127.0.0.1:${gatewayPort}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      const text = await r.text();
      return { status: r.status, code: r.status === 202 ? '' : ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '') };
    };
    await waitFor(async () => (await post('{"events":[]}')).status !== 401, { what: 'the key to reach the gateway' });

    const body = (req: number) =>
      JSON.stringify({
        events: Array.from({ length: o.batch }, (_, i) => ({
          eventId: `r${req}-${i}`,
          customerId: `c${(req * 7 + i) % 500}`,
          metricName: 'calls',
          quantity: '1',
        })),
      });

    const accepted: number[] = [];
    const refused: number[] = [];
    const other: Record<string, number> = {};
    let streamFull = 0;
    let non202BeforeFull = 0;
    let firstStreamFull: OutageReport['firstStreamFull'];
    let maxScheduleLagMs = 0;
    const samples: Sample[] = [];
    const started = Date.now();
    const elapsedS = () => (Date.now() - started) / 1000;
    let outage: 'before' | 'on' | 'after' = 'before';
    let atOutageStart: Sample | undefined;

    const sample = async (): Promise<Sample> => {
      const info = await jsm.streams.info(names.eventsStream);
      const consumer = await jsm.consumers.info(names.eventsStream, names.writerPartitionConsumer(0)).catch(() => undefined);
      const s: Sample = {
        atS: Math.round(elapsedS() * 10) / 10,
        gatewayRssMb: rssMb(gateway.child.pid),
        writerRssMb: rssMb(writer.child.pid),
        streamBytes: info.state.bytes,
        streamMessages: info.state.messages,
        writerAckPending: consumer?.num_ack_pending ?? 0,
      };
      return s;
    };

    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        if (outage === 'before' && elapsedS() >= o.outageStartS) {
          atOutageStart = await sample();
          await proxy.pause();
          outage = 'on';
          o.log(`${elapsedS().toFixed(1)}s: ClickHouse cut for the writer`);
        } else if (outage === 'on' && elapsedS() >= o.outageStartS + o.outageS) {
          await proxy.resume();
          outage = 'after';
          o.log(`${elapsedS().toFixed(1)}s: ClickHouse back`);
        }
        const s = await sample();
        if (outage === 'on') samples.push(s);
        else if (samples.length < 2 || s.atS - samples[samples.length - 1].atS >= 5) samples.push(s);
        await sleep(1_000);
      }
    })();

    // Open loop: request n is due at n·batch/rate seconds, whatever the previous answers took.
    const total = Math.floor((o.durationS * o.rate) / o.batch);
    let next = 0;
    const worker = async () => {
      for (;;) {
        const n = next++;
        if (n >= total) return;
        const due = started + (n * o.batch * 1000) / o.rate;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        else maxScheduleLagMs = Math.max(maxScheduleLagMs, -wait);
        const r = await post(body(n)).catch((error: unknown) => ({ status: 0, code: String(error) }));
        if (r.status === 202) accepted.push(n);
        else {
          refused.push(n);
          if (r.code === 'STREAM_FULL') {
            streamFull++;
            if (!firstStreamFull) {
              const info = await jsm.streams.info(names.eventsStream);
              firstStreamFull = {
                atS: Math.round(elapsedS() * 10) / 10,
                streamBytes: info.state.bytes,
                fractionOfMaxBytes: Math.round((info.state.bytes / o.eventsMaxBytes) * 1000) / 1000,
              };
              o.log(`${firstStreamFull.atS}s: first 503 STREAM_FULL at ${info.state.bytes} bytes in the stream`);
            }
          } else {
            other[`${r.status} ${r.code}`] = (other[`${r.status} ${r.code}`] ?? 0) + 1;
            if (!firstStreamFull) non202BeforeFull++;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const loadSeconds = elapsedS();
    if ((outage as string) !== 'after') {
      await proxy.resume();
      outage = 'after';
    }
    o.log(`${elapsedS().toFixed(1)}s: load done (${accepted.length} requests accepted), draining`);
    const drainStart = Date.now();
    await waitFor(
      async () => {
        // A work queue: once every message is acked, the stream is empty.
        return (await jsm.streams.info(names.eventsStream)).state.messages === 0;
      },
      { timeoutMs: o.drainTimeoutS * 1000, intervalMs: 500, what: 'the writer to store the backlog' },
    );
    const drainSeconds = Math.round((Date.now() - drainStart) / 100) / 10;
    sampling = false;
    await sampler;

    const [row] = await db.client.query<{ n: string; ids: string }>(
      sql`SELECT toString(count()) AS n, toString(uniqExact(event_id)) AS ids FROM ${db.client.table('events')} WHERE tenant = ${tenant}`,
    );
    const refusedIds = refused.slice(0, 200).map((n) => `r${n}-0`);
    const [found] = refusedIds.length
      ? await db.client.query<{ n: string }>(
          sql`SELECT toString(count()) AS n FROM ${db.client.table('events')} WHERE tenant = ${tenant} AND event_id IN (${join(refusedIds)})`,
        )
      : [{ n: '0' }];
    const during = samples.filter((s) => s.atS >= o.outageStartS && s.atS <= o.outageStartS + o.outageS);
    const max = (f: (s: Sample) => number) => Math.max(0, ...during.map(f));
    const acceptedEvents = accepted.length * o.batch;
    const stored = {
      acceptedEvents,
      rows: Number(row.n),
      distinctIds: Number(row.ids),
      refusedFound: Number(found.n),
    };
    return {
      options: {
        rate: o.rate,
        durationS: o.durationS,
        outageStartS: o.outageStartS,
        outageS: o.outageS,
        batch: o.batch,
        eventsMaxBytes: o.eventsMaxBytes,
        writerMaxBatchBytes: o.writerMaxBatchBytes,
        concurrency: o.concurrency,
        drainTimeoutS: o.drainTimeoutS,
      },
      requests: { sent: accepted.length + refused.length, accepted: accepted.length, streamFull, other },
      acceptedEventsPerS: Math.round(acceptedEvents / loadSeconds),
      maxScheduleLagMs: Math.round(maxScheduleLagMs),
      firstStreamFull,
      non202BeforeFull,
      memory: {
        gatewayRssMbAtOutageStart: atOutageStart?.gatewayRssMb ?? 0,
        gatewayRssMbMaxDuringOutage: max((s) => s.gatewayRssMb),
        writerRssMbAtOutageStart: atOutageStart?.writerRssMb ?? 0,
        writerRssMbMaxDuringOutage: max((s) => s.writerRssMb),
      },
      backlog: {
        maxStreamBytes: max((s) => s.streamBytes),
        maxStreamMessages: max((s) => s.streamMessages),
        maxWriterAckPending: max((s) => s.writerAckPending),
      },
      drainSeconds,
      stored,
      exactlyOnce: stored.rows === acceptedEvents && stored.distinctIds === acceptedEvents && stored.refusedFound === 0,
      samples,
    };
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await proxy.stop();
    await deleteStreams(nc, names).catch(() => undefined);
    for (const bucket of [names.catalogBucket, names.apiKeysBucket]) await jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
    await nc.close();
    await db.drop();
  }
}
