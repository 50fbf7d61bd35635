/**
 * `npm run chaos:cluster -- [options]` (issue 14's chaos run): the apps as real processes on the cluster
 * topology (tools/cluster/cluster.sh: 3 NATS nodes, 2 shards x 2 replicas of ClickHouse), under load
 * from closed-loop HTTP connections paced 5 % above `--target-rate`, while processes and nodes are lost:
 *
 *   at 15 % of the run   SIGKILL writer 1 (not restarted)
 *   at 30 %              SIGSTOP writer 2 for its ack wait (WRITER_ACK_WAIT_MS) + 3 s, then SIGCONT
 *   at 45 %              SIGKILL the NATS node leading the events stream; started again at 65 %
 *   at 55 %              stop ClickHouse replica ch-s2r2 (SIGTERM); started again at 80 %
 *
 * Load: batches of `--batch` events; 10 % of each batch re-sends keys of a batch accepted earlier
 * (identical events), and every 25th batch is sent at once to both gateways on two connections (the
 * same keys concurrently). A batch answered 503 (or not answered) is sent again, unchanged, until one
 * answer is 202, as a client does; any other answer is counted and fails the run.
 *
 * Afterwards (once the cluster holds at least every accepted key, plus two ack waits for redeliveries):
 * accepted keys = stored rows = distinct stored keys; the quantity sum as ClickHouse's exact decimal text
 * equals the client's own sum (BigInt); per customer, the count and quantity sum through the Distributed
 * table, the sum recounted from each shard's `events_local` node by node, and the client's recount are
 * equal, and so are the totals @tally/pricing's `priceUsage` computes from them (a graduated plan);
 * both replicas of each shard hold the same rows. Prints one JSON object per run, then a summary, and
 * exits 1 if any run is not exact.
 *
 * Needs the topology up (the npm script brings it up and down: tools/cluster/chaos.sh) and the
 * cluster's addresses in the environment (`eval "$(bash tools/cluster/cluster.sh env)"`).
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { ApiKeyStore, CatalogStore } from '@tally/catalog';
import { createClickHouse, identifier, migrate, sql, type ClickHouse } from '@tally/clickhouse';
import {
  connectNats,
  deleteStreams,
  ensureStreams,
  natsNames,
  type NatsConnection,
  type NatsNames,
} from '@tally/nats';
import { priceUsage, type Plan } from '@tally/pricing';
import {
  freePort,
  randomPrefix,
  startService,
  testNatsAuth,
  testStreamLimits,
  waitFor,
  type ServiceProcess,
  waitUntilHealthy,
} from '@tally/testing';
import { numberOption, parseArgs, usage, type OptionSpec } from '../loadgen';

const execFileAsync = promisify(execFile);

const specs = {
  runs: { env: 'CHAOS_RUNS', help: 'runs, each on a fresh stream prefix and database (default 3)' },
  seconds: { env: 'CHAOS_SECONDS', help: 'seconds of load per run (default 120)' },
  writers: {
    env: 'CHAOS_WRITERS',
    help: 'writer processes (default 3, at least 3: one is killed, one paused)',
  },
  gateways: { env: 'CHAOS_GATEWAYS', help: 'gateway processes (default 2)' },
  partitions: { env: 'CHAOS_PARTITIONS', help: 'TALLY_EVENT_PARTITIONS (default 6)' },
  connections: { env: 'CHAOS_CONNECTIONS', help: 'closed-loop client connections (default 16)' },
  batch: { env: 'CHAOS_BATCH', help: 'events per request (default 500)' },
  'target-rate': {
    env: 'CHAOS_TARGET_RATE',
    help: 'events/s to offer: the connections are paced 5 % above it, 0 = unpaced (default 5000)',
  },
  customers: { env: 'CHAOS_CUSTOMERS', help: 'distinct customers (default 40)' },
  'ack-wait-ms': { env: 'CHAOS_ACK_WAIT_MS', help: "writers' WRITER_ACK_WAIT_MS (default 5000)" },
  'lease-ms': { env: 'CHAOS_LEASE_MS', help: "writers' WRITER_LEASE_MS (default 2000)" },
  'drain-seconds': {
    env: 'CHAOS_DRAIN_SECONDS',
    help: 'longest wait for the cluster to store every accepted key (default 300)',
  },
  help: { flag: true, help: 'print this help' },
} satisfies Record<string, OptionSpec>;

const CLUSTER = process.env.TALLY_CLUSTER_NAME ?? 'tally_cluster';
const NATS_URLS =
  process.env.TALLY_CLUSTER_NATS_URLS ??
  'nats://127.0.0.1:24331,nats://127.0.0.1:24332,nats://127.0.0.1:24333';
const SHARDS = [
  [
    process.env.TALLY_CLUSTER_S1R1_URL ?? 'http://127.0.0.1:28123',
    process.env.TALLY_CLUSTER_S1R2_URL ?? 'http://127.0.0.1:28124',
  ],
  [
    process.env.TALLY_CLUSTER_S2R1_URL ?? 'http://127.0.0.1:28125',
    process.env.TALLY_CLUSTER_S2R2_URL ?? 'http://127.0.0.1:28126',
  ],
];
const CLUSTER_SH = join(__dirname, 'cluster.sh');
const TENANT = 'acme';
const METRIC = 'api_call';
const EVENTS_MAX_BYTES = 256 * 1024 ** 2;
/** The connections are paced this much above `--target-rate`. */
const PACE_HEADROOM = 1.05;
/** Every 25th batch goes to both gateways at once. */
const TWICE_EVERY = 25;
/** A graduated plan: the per-customer invoice total both sides are priced with. */
const PLAN: Plan = {
  id: 'chaos',
  currency: 'USD',
  charges: [
    {
      kind: 'graduated',
      id: 'calls',
      name: 'API calls',
      meter: METRIC,
      tiers: [
        { upTo: '1000', unitPrice: '0.013' },
        { upTo: '10000', unitPrice: '0.0071' },
        { upTo: null, unitPrice: '0.00037', flatFee: '2.5' },
      ],
    },
  ],
};

interface Options {
  runs: number;
  seconds: number;
  writers: number;
  gateways: number;
  partitions: number;
  connections: number;
  batch: number;
  targetRate: number;
  customers: number;
  ackWaitMs: number;
  leaseMs: number;
  drainSeconds: number;
}

const log = (line: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function clusterNode(action: 'stop' | 'kill' | 'start', name: string): Promise<void> {
  await execFileAsync('bash', [CLUSTER_SH, action, name], { timeout: 180_000 });
}

/** Canonical decimal text: no leading zeros, no trailing fraction zeros, no '.' when whole. */
function canonical(text: string): string {
  const negative = text.startsWith('-');
  const [int, frac = ''] = (negative ? text.slice(1) : text).split('.');
  const i = int.replace(/^0+(?=\d)/, '') || '0';
  const f = frac.replace(/0+$/, '');
  const out = f ? `${i}.${f}` : i;
  return negative && out !== '0' ? `-${out}` : out;
}

/** Hundredths (BigInt) as decimal text. */
const centsText = (cents: bigint) =>
  canonical(`${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`);

/** The event a key stands for: everything derives from (batch, index), so a re-sent key is the identical event. */
function eventOf(runTag: string, src: number, i: number, customers: number, baseMs: number) {
  const cents = BigInt(((src * 7 + i * 13) % 1_300) + 1); // 0.01 .. 13.00
  return {
    eventId: `${runTag}-${src}-${i}`,
    metricName: METRIC,
    customerId: `c${(src * 3 + i) % customers}`,
    quantity: centsText(cents),
    timestamp: new Date(baseMs + ((src * 1_000 + i) % 3_600_000)).toISOString(),
    cents,
  };
}
type ChaosEvent = ReturnType<typeof eventOf>;

interface Fault {
  at: string;
  atSecond: number;
  what: string;
  error?: string;
}

async function run(o: Options, runNo: number) {
  const prefix = randomPrefix('chaos');
  const database = randomPrefix('chaos');
  const names: NatsNames = natsNames(prefix);
  const services: ServiceProcess[] = [];
  const down = { natsNode: '', chReplica: false, paused: undefined as ServiceProcess | undefined };
  let nc: NatsConnection | undefined;
  let ch: ClickHouse | undefined;
  const replicas: ClickHouse[] = [];
  try {
    const natsConnection = await connectNats(NATS_URLS, 'chaos', testNatsAuth());
    nc = natsConnection;
    await ensureStreams(nc, names, { ...testStreamLimits, eventsMaxBytes: EVENTS_MAX_BYTES, replicas: 3 });
    const kvm = new Kvm(nc);
    for (const bucket of [names.catalogBucket, names.apiKeysBucket])
      await kvm.create(bucket, { history: 5, replicas: 3 });
    const chOf = (url: string, application: string) =>
      createClickHouse({
        url,
        username: 'default',
        password: '',
        database,
        application,
        requestTimeoutMs: 120_000,
      });
    const cluster = chOf(SHARDS[0][0], 'chaos');
    ch = cluster;
    await migrate(ch, { cluster: { name: CLUSTER, replicated: true } });
    for (const shard of SHARDS) for (const url of shard) replicas.push(chOf(url, 'chaos-replica'));

    const env = {
      NATS_URL: NATS_URLS,
      TALLY_NATS_PREFIX: prefix,
      TALLY_STREAM_REPLICAS: '3',
      TALLY_EVENT_PARTITIONS: String(o.partitions),
      TALLY_EVENTS_MAX_BYTES: String(EVENTS_MAX_BYTES),
      CLICKHOUSE_URL: SHARDS[0][0],
      CLICKHOUSE_DATABASE: database,
      LOG_LEVEL: 'warn',
    };
    const writerEnv = {
      CLICKHOUSE_CLUSTER: CLUSTER,
      CLICKHOUSE_SHARD_URLS: SHARDS.map((s) => s[0]).join(','),
      WRITER_LEASE_MS: String(o.leaseMs),
      WRITER_ACK_WAIT_MS: String(o.ackWaitMs),
      WRITER_FLUSH_INTERVAL_MS: '200',
    };
    const start = async (app: 'gateway' | 'writer', extra: Record<string, string>) => {
      const port = await freePort();
      const service = startService(app, {
        ...env,
        [app === 'gateway' ? 'GATEWAY_PORT' : 'WRITER_PORT']: String(port),
        ...extra,
      });
      services.push(service);
      const url = `http://127.0.0.1:${port}`;
      await waitUntilHealthy(service, url, { what: `${app} health` });
      return { url, process: service };
    };
    const gateways = await Promise.all(Array.from({ length: o.gateways }, () => start('gateway', {})));
    const writers = await Promise.all(Array.from({ length: o.writers }, () => start('writer', writerEnv)));
    log(
      `run ${runNo}: ${o.gateways} gateways, ${o.writers} writers up (prefix ${prefix}, database ${database})`,
    );

    const catalog = await CatalogStore.open(nc, names);
    const keys = await ApiKeyStore.open(nc, names);
    await catalog.putTenant({
      id: TENANT,
      name: TENANT,
      timezone: 'UTC',
      currency: 'USD',
      latenessLimitDays: 35,
      rateLimitPerSecond: 10_000_000,
      requireKnownCustomers: false,
    });
    const { key } = await keys.create(TENANT, 'ingest', 'chaos run');
    await keys.close();

    const statuses = new Map<string, number>();
    /** Per second of the run (from t0), the answers other than 202. */
    const timeline = new Map<number, Record<string, number>>();
    let t0 = 0;
    /** Distinct answers other than 202 (by gateway and body), with the second they first came. */
    const answerSamples: string[] = [];
    const countStatus = (s: string) => {
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      if (s !== '202' && t0 > 0) {
        const second = Math.floor((Date.now() - t0) / 1_000);
        const bucket = timeline.get(second) ?? {};
        bucket[s] = (bucket[s] ?? 0) + 1;
        timeline.set(second, bucket);
      }
    };
    let postedEvents = 0;
    const post = async (gateway: string, body: string, n: number) => {
      postedEvents += n;
      const response = await fetch(`${gateway}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(60_000),
      }).catch(() => undefined);
      const text = (await response?.text().catch(() => '')) ?? '';
      const status = response?.status ?? 0;
      countStatus(status === 0 ? 'no answer' : String(status));
      if (status !== 202 && t0 > 0 && answerSamples.length < 20) {
        const sample = `t+${Math.floor((Date.now() - t0) / 1_000)}s ${gateway} ${status}: ${text.slice(0, 200)}`;
        if (!answerSamples.some((a) => a.slice(a.indexOf(' ')) === sample.slice(sample.indexOf(' '))))
          answerSamples.push(sample);
      }
      return { status, text };
    };
    await waitFor(async () => ((await post(gateways[0].url, '[]', 0)).status !== 401 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the API key to reach the gateways',
    });
    statuses.clear();

    const runTag = `r${runNo}`;
    const baseMs = Date.now() - 2 * 3_600_000;
    const accepted = new Map<string, ChaosEvent>();
    const acceptedBatches: number[] = [];
    const unexpected: Array<{ status: number; body: string }> = [];
    const faults: Fault[] = [];
    let batchNo = 0;
    let firstAttemptEvents = 0;
    let retries = 0;
    let duplicatesReported = 0;
    // Paced 5 % above the target: the rate is measured up to the last answer, after the schedule's end.
    const slotMs = o.targetRate > 0 ? (o.batch / (o.targetRate * PACE_HEADROOM)) * 1_000 : 0;
    t0 = Date.now();
    const deadline = t0 + o.seconds * 1_000;
    let nextSlot = t0;
    const resendShare = Math.max(1, Math.round(o.batch / 10));

    const connection = async (c: number) => {
      const gateway = gateways[c % gateways.length].url;
      const other = gateways[(c + 1) % gateways.length].url;
      for (;;) {
        if (slotMs > 0) {
          const slot = nextSlot;
          nextSlot += slotMs;
          if (slot >= deadline) return;
          await sleep(slot - Date.now());
        } else if (Date.now() >= deadline) return;
        const b = batchNo++;
        // 10 % of the batch: keys of a batch accepted earlier (a random one of those accepted so far).
        const earlier =
          acceptedBatches.length > 0
            ? acceptedBatches[Math.floor(Math.random() * acceptedBatches.length)]
            : -1;
        const events = Array.from({ length: o.batch }, (_, i) =>
          i < resendShare && earlier >= 0
            ? eventOf(runTag, earlier, i + resendShare, o.customers, baseMs)
            : eventOf(runTag, b, i, o.customers, baseMs),
        );
        const body = JSON.stringify(
          events.map((e) => ({
            eventId: e.eventId,
            metricName: e.metricName,
            customerId: e.customerId,
            quantity: e.quantity,
            timestamp: e.timestamp,
          })),
        );
        firstAttemptEvents += events.length;
        const twice = b % TWICE_EVERY === 0 && gateways.length > 1;
        const giveUp = deadline + o.drainSeconds * 1_000;
        let ok = false;
        for (let attempt = 0; ; attempt++) {
          const results = await Promise.all(
            twice
              ? [post(gateway, body, events.length), post(other, body, events.length)]
              : [post(gateway, body, events.length)],
          );
          if (attempt > 0) retries++;
          for (const r of results) {
            if (r.status === 202) {
              const answer = JSON.parse(r.text) as { accepted: number; duplicates: number };
              duplicatesReported += answer.duplicates;
              if (answer.accepted + answer.duplicates !== events.length)
                unexpected.push({ status: r.status, body: r.text.slice(0, 300) });
            } else if (r.status !== 503 && r.status !== 0)
              unexpected.push({ status: r.status, body: r.text.slice(0, 300) });
          }
          if (results.some((r) => r.status === 202)) {
            ok = true;
            break;
          }
          // Neither durable nor worth retrying (counted as unexpected, which fails the run): not accepted.
          if (results.every((r) => r.status !== 503 && r.status !== 0)) break;
          if (Date.now() > giveUp)
            throw new Error(
              `batch ${b} not accepted after ${attempt + 1} attempts: ${JSON.stringify(results)}`,
            );
          await sleep(200);
        }
        if (!ok) continue;
        for (const e of events) accepted.set(e.eventId, e);
        acceptedBatches.push(b);
      }
    };

    const fault = async (atFraction: number, what: string, action: (entry: Fault) => Promise<void>) => {
      await sleep(t0 + atFraction * o.seconds * 1_000 - Date.now());
      const at = Date.now();
      const entry: Fault = { at: new Date(at).toISOString(), atSecond: round((at - t0) / 1_000), what };
      faults.push(entry);
      log(`run ${runNo}: t+${entry.atSecond}s ${what}`);
      await action(entry).catch((e: unknown) => {
        entry.error = e instanceof Error ? e.message : String(e);
        log(`run ${runNo}: ${what} failed: ${entry.error}`);
      });
    };
    const pauseMs = o.ackWaitMs + 3_000;
    const faultPlan = [
      fault(0.15, 'SIGKILL writer 1', async () => {
        await writers[0].process.stop('SIGKILL');
      }),
      (async () => {
        await fault(0.3, `SIGSTOP writer 2 (for ${pauseMs} ms, ack wait ${o.ackWaitMs} ms)`, async () => {
          down.paused = writers[1].process;
          writers[1].process.child.kill('SIGSTOP');
        });
        await sleep(pauseMs);
        await fault((Date.now() - t0) / 1_000 / o.seconds, 'SIGCONT writer 2', async () => {
          writers[1].process.child.kill('SIGCONT');
          down.paused = undefined;
        });
      })(),
      (async () => {
        let leader = '';
        await fault(0.45, 'SIGKILL the NATS node leading the events stream', async (entry) => {
          const jsm = await jetstreamManager(natsConnection);
          leader = ((await jsm.streams.info(names.eventsStream)).cluster?.leader ?? '').replace(
            /^tally-/,
            '',
          );
          if (!/^nats[1-3]$/.test(leader)) throw new Error(`no leader found ('${leader}')`);
          entry.what += ` (${leader})`;
          down.natsNode = leader;
          await clusterNode('kill', leader);
        });
        await fault(0.65, `start the NATS node again${leader ? ` (${leader})` : ''}`, async () => {
          if (!leader) return;
          await clusterNode('start', leader);
          down.natsNode = '';
        });
      })(),
      (async () => {
        await fault(0.55, 'stop ClickHouse replica ch-s2r2 (SIGTERM)', async () => {
          down.chReplica = true;
          await clusterNode('stop', 'ch-s2r2');
        });
        await fault(0.8, 'start ClickHouse replica ch-s2r2', async () => {
          await clusterNode('start', 'ch-s2r2');
          down.chReplica = false;
        });
      })(),
    ];
    const loadStats = (async () => {
      const samples: number[] = [];
      while (Date.now() < deadline) {
        samples.push(loadavg()[0]);
        await sleep(5_000);
      }
      return samples;
    })();
    let loadEnd = 0;
    const load = Promise.all(Array.from({ length: o.connections }, (_, c) => connection(c))).then(
      () => (loadEnd = Date.now()),
    );
    await Promise.all([load, ...faultPlan]);
    const loadSeconds = (loadEnd - t0) / 1_000;
    const loadSamples = await loadStats;
    log(
      `run ${runNo}: load done, ${accepted.size} keys accepted in ${round(loadSeconds)} s; waiting for the cluster to store them`,
    );

    // Everything stored, then two ack waits more for redeliveries (which must store nothing).
    const events = identifier(database, 'events');
    const totals = async () => {
      const [row] = await cluster.query<{ n: string; distinct: string; q: string }>(
        sql`SELECT count() AS n, uniqExact(event_id) AS distinct, toString(sum(quantity)) AS q FROM ${events}`,
      );
      return { n: Number(row.n), distinct: Number(row.distinct), q: canonical(row.q) };
    };
    let storedAllAt = 0;
    await waitFor(
      async () => {
        const t = await totals().catch(() => undefined);
        return t && t.n >= accepted.size ? true : undefined;
      },
      { timeoutMs: o.drainSeconds * 1_000, intervalMs: 1_000, what: 'every accepted key stored' },
    ).then(
      () => (storedAllAt = Date.now()),
      (e: unknown) => log(`run ${runNo}: ${e instanceof Error ? e.message : String(e)}`),
    );
    await sleep(2 * o.ackWaitMs + 2_000);
    const stored = await totals();

    // The client's recount.
    const mine = new Map<string, { n: number; cents: bigint }>();
    let cents = 0n;
    for (const e of accepted.values()) {
      cents += e.cents;
      const m = mine.get(e.customerId) ?? { n: 0, cents: 0n };
      m.n++;
      m.cents += e.cents;
      mine.set(e.customerId, m);
    }
    const expectedQuantity = centsText(cents);

    // Per customer through the Distributed table, and from the shards' local tables node by node.
    type PerCustomer = Map<string, { n: number; q: string }>;
    const perCustomer = async (where: ClickHouse, table: string): Promise<PerCustomer> => {
      const rows = await where.query<{ customer: string; n: string; q: string }>(
        sql`SELECT customer, count() AS n, toString(sum(quantity)) AS q FROM ${identifier(database, table)} WHERE tenant = ${TENANT} GROUP BY customer`,
      );
      return new Map(rows.map((r) => [r.customer, { n: Number(r.n), q: canonical(r.q) }]));
    };
    const distributed = await perCustomer(ch, 'events');
    // The stored keys are exactly the accepted ones (not only as many).
    const storedIds = new Set(
      (
        await ch.query<{ id: string }>(sql`SELECT event_id AS id FROM ${events} WHERE tenant = ${TENANT}`)
      ).map((r) => r.id),
    );
    const missing = [...accepted.keys()].filter((id) => !storedIds.has(id));
    const extra = [...storedIds].filter((id) => !accepted.has(id));
    const local: PerCustomer = new Map();
    const replicaRows: Array<{ node: string; rows: number }> = [];
    for (const [s, shard] of SHARDS.entries()) {
      const [fence, second] = [replicas[s * 2], replicas[s * 2 + 1]];
      await second
        .command(sql`SYSTEM SYNC REPLICA ${identifier(database, 'events_local')}`)
        .catch((e: unknown) => log(`sync replica: ${String(e)}`));
      for (const [r, handle] of [fence, second].entries()) {
        const [row] = await handle.query<{ n: string }>(
          sql`SELECT count() AS n FROM ${identifier(database, 'events_local')}`,
        );
        replicaRows.push({ node: `ch-s${s + 1}r${r + 1} (${shard[r]})`, rows: Number(row.n) });
      }
      for (const [customer, v] of await perCustomer(fence, 'events_local')) {
        if (local.has(customer)) throw new Error(`customer ${customer} on two shards`);
        local.set(customer, v);
      }
    }
    const invoiceTotal = (q: string) =>
      priceUsage({ plan: PLAN, usage: { [METRIC]: q }, period: { daysInPeriod: 30, activeDays: 30 } })
        .totalMinor;
    const customerMismatches: unknown[] = [];
    const allCustomers = new Set([...mine.keys(), ...distributed.keys(), ...local.keys()]);
    let invoiceMinorTotal = 0n;
    for (const customer of [...allCustomers].sort()) {
      const m = mine.get(customer);
      const client = { n: m?.n ?? 0, q: centsText(m?.cents ?? 0n) };
      const d = distributed.get(customer) ?? { n: 0, q: '0' };
      const l = local.get(customer) ?? { n: 0, q: '0' };
      const invoices = {
        client: invoiceTotal(client.q),
        distributed: invoiceTotal(d.q),
        shardLocal: invoiceTotal(l.q),
      };
      invoiceMinorTotal += BigInt(invoices.client);
      const same =
        client.n === d.n &&
        client.n === l.n &&
        client.q === d.q &&
        client.q === l.q &&
        invoices.client === invoices.distributed &&
        invoices.client === invoices.shardLocal;
      if (!same)
        customerMismatches.push({ customer, client, distributed: d, shardLocal: l, invoicesMinor: invoices });
    }
    const replicasAgree = SHARDS.every((_, s) => replicaRows[s * 2].rows === replicaRows[s * 2 + 1].rows);

    const statusCounts = Object.fromEntries([...statuses.entries()].sort());
    const unexpectedStatuses = [...statuses.entries()]
      .filter(([s]) => s !== '202' && s !== '503')
      .reduce((n, [, c]) => n + c, 0);
    const checks = {
      acceptedEqualsStored: stored.n === accepted.size,
      storedKeysAreAcceptedKeys: missing.length === 0 && extra.length === 0,
      storedEqualsDistinct: stored.distinct === stored.n,
      quantitySumEqual: stored.q === expectedQuantity,
      perCustomerEqual: customerMismatches.length === 0,
      replicasAgree,
      onlyStatuses202And503: unexpectedStatuses === 0,
      everyFaultInjected: faults.every((f) => !f.error),
    };
    const exact = Object.values(checks).every(Boolean);
    const result = {
      run: runNo,
      exact,
      checks,
      seconds: round(loadSeconds),
      eventsPerSecond: {
        offered: round(firstAttemptEvents / loadSeconds),
        offeredNote:
          'events in first attempts of every batch (10 % of them re-sent keys) / load seconds; retries and the second copy of concurrent batches not counted',
        postedIncludingRetriesAndCopies: round(postedEvents / loadSeconds),
        acceptedDistinct: round(accepted.size / loadSeconds),
        stored: round(stored.n / loadSeconds),
        storedUntilAllStored: storedAllAt ? round(stored.n / ((storedAllAt - t0) / 1_000)) : null,
      },
      secondsAfterLoadUntilAllStored: storedAllAt ? round((storedAllAt - loadEnd) / 1_000) : null,
      targetRate: o.targetRate,
      targetRateMet: firstAttemptEvents / loadSeconds >= o.targetRate,
      batches: batchNo,
      retriedAttempts: retries,
      duplicatesReportedByGateways: duplicatesReported,
      accepted: accepted.size,
      stored: stored.n,
      distinct: stored.distinct,
      quantity: { accepted: expectedQuantity, stored: stored.q },
      acceptedKeysNotStored: { count: missing.length, first: missing.slice(0, 10) },
      storedKeysNotAccepted: { count: extra.length, first: extra.slice(0, 10) },
      customers: allCustomers.size,
      customerMismatches,
      invoiceTotalMinorAllCustomers: invoiceMinorTotal.toString(),
      replicaRows,
      statuses: statusCounts,
      statusesNot202BySecond: Object.fromEntries(
        [...timeline.entries()].sort((a, b) => a[0] - b[0]).map(([sec, c]) => [`t+${sec}s`, c]),
      ),
      unexpectedAnswers: unexpected.slice(0, 5),
      answersNot202Samples: answerSamples,
      faults,
      loadAverage: { during: loadSamples.map((l) => round(l, 2)), atEnd: loadavg().map((l) => round(l, 2)) },
      prefix,
      database,
    };
    return result;
  } finally {
    if (down.paused) down.paused.child.kill('SIGCONT');
    for (const s of services) await s.stop('SIGKILL');
    if (down.natsNode)
      await clusterNode('start', down.natsNode).catch((e: unknown) =>
        log(`restart ${down.natsNode}: ${String(e)}`),
      );
    if (down.chReplica)
      await clusterNode('start', 'ch-s2r2').catch((e: unknown) => log(`restart ch-s2r2: ${String(e)}`));
    for (const r of replicas) await r.close().catch(() => undefined);
    await ch
      ?.command(sql`DROP DATABASE IF EXISTS ${identifier(database)} ON CLUSTER ${identifier(CLUSTER)}`)
      .catch(() => undefined);
    await ch?.close().catch(() => undefined);
    if (nc) {
      await deleteStreams(nc, names).catch(() => undefined);
      const jsm = await jetstreamManager(nc).catch(() => undefined);
      for (const bucket of [names.catalogBucket, names.apiKeysBucket, names.writerLeasesBucket])
        await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
      await nc.close().catch(() => undefined);
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(specs);
  if (args.help) {
    process.stdout.write(`usage: npm run chaos:cluster -- [options]\n${usage(specs)}\n`);
    return;
  }
  const int = (min: number, max: number) => ({ integer: true, min, max });
  const o: Options = {
    runs: numberOption(args, 'runs', 3, int(1, 100)),
    seconds: numberOption(args, 'seconds', 120, int(10, 3_600)),
    writers: numberOption(args, 'writers', 3, int(3, 16)),
    gateways: numberOption(args, 'gateways', 2, int(1, 16)),
    partitions: numberOption(args, 'partitions', 6, int(1, 1_024)),
    connections: numberOption(args, 'connections', 16, int(1, 256)),
    batch: numberOption(args, 'batch', 500, int(10, 1_000)),
    targetRate: numberOption(args, 'target-rate', 5_000, int(0, 1_000_000)),
    customers: numberOption(args, 'customers', 40, int(1, 100_000)),
    ackWaitMs: numberOption(args, 'ack-wait-ms', 5_000, int(1_000, 600_000)),
    leaseMs: numberOption(args, 'lease-ms', 2_000, int(500, 600_000)),
    drainSeconds: numberOption(args, 'drain-seconds', 300, int(10, 3_600)),
  };
  const command = `npm run chaos:cluster -- ${process.argv.slice(2).join(' ')}`.trim();
  const results = [];
  for (let r = 1; r <= o.runs; r++) {
    const result = await run(o, r);
    results.push(result);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  const summary = {
    summary: true,
    command,
    date: new Date().toISOString(),
    options: o,
    runs: results.length,
    allExact: results.every((r) => r.exact),
    exact: results.map((r) => r.exact),
    targetRateMetInEveryRun: results.every((r) => r.targetRateMet),
    offeredEventsPerSecond: results.map((r) => r.eventsPerSecond.offered),
    storedEventsPerSecond: results.map((r) => r.eventsPerSecond.stored),
    accepted: results.map((r) => r.accepted),
    stored: results.map((r) => r.stored),
    distinct: results.map((r) => r.distinct),
    statuses: results.map((r) => r.statuses),
    loadAverageAtEnd: loadavg().map((l) => round(l, 2)),
    cores: cpus().length,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (!summary.allExact) process.exitCode = 1;
}

// Interrupted: exit through 'exit', where @tally/testing SIGKILLs the services it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
