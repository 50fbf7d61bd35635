import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { sql } from '@tally/clickhouse';
import {
  BatchFactory,
  HttpLoad,
  PROBE_EVENT_TYPE,
  ProbeTracker,
  round,
  type LoadResult,
  type ProbeSummary,
} from '../loadgen';
import { BacklogGate } from './backlog-gate';
import {
  clickhouseBaseline,
  jetstreamBaseline,
  sampleBatches,
  type ClickHouseBaseline,
  type JetStreamBaseline,
} from './baselines';
import { summarizeCpuProfile, type ProfileSummary } from './cpu-profile';
import { IngestEnv, sumSamples } from './ingest-env';
import { ratesBySlice, steadyRate, StoredSeries } from './stored-series';
import {
  CpuWindow,
  cpuSeconds,
  machineInfo,
  memoryMb,
  pidsListeningOn,
  pidsOf,
  type CpuReport,
} from './process-stats';

export interface IngestBenchOptions {
  /** Seconds of the max-throughput phase (default 60). */
  durationS: number;
  /** Seconds of the half-rate phase (default 30). */
  halfDurationS: number;
  /** Closed-loop seconds before the max phase, not measured (JIT, connections, first parts). */
  warmupS: number;
  batchSize: number;
  customers: number;
  zipfExponent: number;
  connections: number;
  pipelining: number;
  /** Closed loop: requests in flight (default connections × pipelining). */
  concurrency?: number;
  /** One probe event every this many ms (receipt-to-queryable). */
  probeIntervalMs: number;
  /**
   * Max phase: requests wait while more than this many accepted events are not stored yet, so the
   * phase measures what the whole pipeline sustains (0: no gate, the gateway alone sets the pace).
   * The default is about two of the writer's batches: enough to keep it busy.
   */
  maxBacklogEvents: number;
  /** Writer flush interval; undefined keeps the writer's default (1 s). */
  writerFlushMs?: number;
  baselineJetStreamS: number;
  baselineClickHouseRows: number;
  /** Gateway processes; the load goes to them in turn (default 1). */
  gateways: number;
  /** Writer processes, sharing the events stream's partitions (default 1). */
  writers: number;
  /** Partitions of the events stream (`TALLY_EVENT_PARTITIONS`); at least `writers` for every writer to store. */
  partitions: number;
  /** Directory for CPU profiles of gateway and writer over the max phase (undefined: no profiling). */
  profileDir?: string;
  /** Progress lines (stderr); the result is returned, not printed. */
  log: (line: string) => void;
}

export const defaultIngestBenchOptions: IngestBenchOptions = {
  durationS: 60,
  halfDurationS: 30,
  warmupS: 5,
  batchSize: 100,
  customers: 1_000,
  zipfExponent: 1,
  connections: 8,
  pipelining: 1,
  probeIntervalMs: 200,
  // About two writer batches (8 MiB, ~58,000 events): the gate must let a whole batch build up
  // while the previous one is stored, or it caps throughput at backlog / flush interval.
  maxBacklogEvents: 120_000,
  baselineJetStreamS: 15,
  baselineClickHouseRows: 1_000_000,
  gateways: 1,
  writers: 1,
  partitions: 1,
  log: () => undefined,
};

export const TARGETS = {
  sustainedEventsPerSecond: 50_000,
  halfRateHttpP99Ms: 25,
  receiptToQueryableP99Ms: 2_000,
  writerPeakRssMb: 300,
};

interface PhaseReport {
  load: LoadResult;
  /** Events stored in ClickHouse during the phase, per second of the phase. */
  storedEventsPerSecond: number;
  /** The same from the first insert of the phase to its last: free of the window's edge effects. */
  steadyStoredEventsPerSecond: number;
  /** Accepted but not yet stored when the load stopped, and how long the writer took to catch up. */
  backlogAtEnd: number;
  drainSeconds: number;
  /** Stored events/s per 5 s slice of the phase: a falling series means the pipeline did not keep up. */
  storedPerSecondBy5s: number[];
  receiptToQueryable: ProbeSummary;
  cpu: CpuReport & { microsecondsPerEvent: Record<string, number> };
}

const TENANT = 'bench';

/**
 * The ingestion benchmark: an isolated gateway and writer (own NATS prefix, own ClickHouse database),
 * a closed-loop phase at maximum throughput, an open-loop phase at half of what was sustained end to
 * end, an exactness check (ClickHouse holds exactly the accepted events), then the raw JetStream and
 * raw ClickHouse baselines on the same events. See docs/benchmarks.md.
 */
export async function runIngestBench(options: IngestBenchOptions) {
  const o = options;
  const log = o.log;
  const machineAtStart = machineInfo();
  const profileEnv: Record<string, string> = o.profileDir
    ? {
        NODE_OPTIONS: `--require ${path.join(__dirname, 'cpu-profile-preload.js')}`,
        TALLY_CPU_PROFILE_DIR: path.resolve(o.profileDir),
      }
    : {};
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const h = new IngestEnv({
    gateways: o.gateways,
    writers: o.writers,
    partitions: o.partitions,
    gatewayEnv: profileEnv,
    writerEnv: {
      ...profileEnv,
      ...(o.writerFlushMs ? { WRITER_FLUSH_INTERVAL_MS: String(o.writerFlushMs) } : {}),
    },
  });
  let opened: HttpLoad | undefined;
  try {
    log(`starting ${o.gateways} gateway(s) and ${o.writers} writer(s) on ${o.partitions} partition(s)`);
    await h.start();
    // The rate limit is not what is measured: set it out of the way.
    const ingestKey = await h.tenant(TENANT, 10_000_000);
    const factory = new BatchFactory({
      batchSize: o.batchSize,
      customers: o.customers,
      zipfExponent: o.zipfExponent,
    });
    const load = new HttpLoad(
      { url: h.gatewayUrls, apiKey: ingestKey, connections: o.connections, pipelining: o.pipelining },
      factory,
    );
    opened = load;
    const stored = () => h.storedRows();
    const pids = {
      gateway: h.gateways.map((g) => g.child.pid as number),
      writer: h.writers.map((w) => w.child.pid as number),
    };
    // Only the NATS server the bench talks to (a machine may run others, e.g. a distribution's own).
    const natsServer = { url: h.natsUrl, version: h.nc.info?.version ?? 'unknown' };
    const natsPids = pidsListeningOn('nats-server', Number(new URL(h.natsUrl).port || 4222));
    log(
      `NATS server ${natsServer.version} at ${natsServer.url} (pid ${natsPids.join(', ') || 'not found on this machine'})`,
    );
    const cpuSources = {
      gateway: () => sum(pids.gateway.map(cpuSeconds)),
      writer: () => sum(pids.writer.map(cpuSeconds)),
      clickhouse: () => sum(pidsOf('clickhouse-server').map(cpuSeconds)),
      nats: () => sum(natsPids.map(cpuSeconds)),
      // The bench process itself: load generation, probes, counting.
      loadgen: () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      },
    };

    if (o.warmupS > 0) {
      log(`warm-up: ${o.warmupS} s closed loop`);
      await load.closedLoop({ durationMs: o.warmupS * 1000, concurrency: o.concurrency });
    }

    const runPhase = async (
      name: string,
      drive: (probes: ProbeTracker, series: StoredSeries) => Promise<LoadResult>,
    ): Promise<PhaseReport> => {
      const tracker = new ProbeTracker((ids) => visibleProbes(h, ids));
      const series = new StoredSeries(stored);
      await series.start();
      const cpu = new CpuWindow(cpuSources).start();
      if (name === 'max' && o.profileDir) signalAll(pids, 'SIGWINCH');
      tracker.start();
      const result = await drive(tracker, series);
      await series.stop();
      const cpuReport = cpu.stop();
      if (name === 'max' && o.profileDir) signalAll(pids, 'SIGWINCH');
      const storedAtStart = series.points[0].stored;
      const storedAtEnd = series.latest;
      const backlog = load.eventsAccepted - storedAtEnd;
      log(`${name}: ${result.eventsPerSecond} accepted events/s, backlog ${backlog}; draining`);
      const drainStarted = performance.now();
      await waitUntil(
        async () => (await stored()) >= load.eventsAccepted,
        180_000,
        'the writer to store every accepted event',
      );
      const drainSeconds = (performance.now() - drainStarted) / 1000;
      const receiptToQueryable = await tracker.stop(30_000);
      const seconds = result.durationMs / 1000;
      const storedRate = (storedAtEnd - storedAtStart) / seconds;
      return {
        load: result,
        storedEventsPerSecond: Math.round(storedRate),
        steadyStoredEventsPerSecond: Math.round(steadyRate(series.points)),
        backlogAtEnd: backlog,
        drainSeconds: round(drainSeconds, 1),
        storedPerSecondBy5s: ratesBySlice(series.points, 5_000),
        receiptToQueryable,
        cpu: {
          ...cpuReport,
          // CPU per event: the HTTP side per accepted event, the storing side per stored event.
          microsecondsPerEvent: Object.fromEntries(
            Object.entries(cpuReport.cores).map(([k, cores]) => {
              const rate = k === 'writer' || k === 'clickhouse' ? storedRate : result.eventsPerSecond;
              return [k, round((cores * 1e6) / Math.max(1, rate), 1)];
            }),
          ),
        },
      };
    };

    log(
      `max phase: ${o.durationS} s closed loop, ${o.concurrency ?? o.connections * o.pipelining} requests in flight` +
        (o.maxBacklogEvents > 0 ? `, held back above ${o.maxBacklogEvents} events not yet stored` : ''),
    );
    let backlogGate: { maxBacklogEvents: number; requestsHeld: number } | 'off' = 'off';
    const max = await runPhase('max', async (tracker, series) => {
      // The gate reads the phase's own stored-count samples: no second stream of count queries.
      const gate =
        o.maxBacklogEvents > 0
          ? new BacklogGate(
              () => load.eventsAccepted,
              async () => series.latest,
              o.maxBacklogEvents,
            )
          : undefined;
      await gate?.start();
      try {
        return await load.closedLoop({
          durationMs: o.durationS * 1000,
          concurrency: o.concurrency,
          probes: { tracker, intervalMs: o.probeIntervalMs },
          gate: gate?.wait,
        });
      } finally {
        await gate?.stop();
        if (gate) backlogGate = { maxBacklogEvents: gate.maxBacklog, requestsHeld: gate.holds };
      }
    });
    // End to end: the rate at which events reached ClickHouse, measured over whole inserts, and
    // only as far as the gateway accepted them (a writer draining an older backlog does not count).
    const steady = Number.isFinite(max.steadyStoredEventsPerSecond)
      ? max.steadyStoredEventsPerSecond
      : max.storedEventsPerSecond;
    const sustained = Math.min(steady, max.load.eventsPerSecond);
    const halfRate = Math.max(o.batchSize, Math.round(sustained / 2));
    log(`half-rate phase: ${o.halfDurationS} s open loop at ${halfRate} events/s`);
    const half = await runPhase('half', (tracker) =>
      load.openLoop({
        durationMs: o.halfDurationS * 1000,
        eventsPerSecond: halfRate,
        probes: { tracker, intervalMs: o.probeIntervalMs },
      }),
    );

    log('checking ClickHouse against what was accepted');
    const exactness = await checkExactness(h, load.eventsAccepted, load.quantityMilliAccepted);
    const writerMetrics = await Promise.all(
      h.writerInternalUrls.map(async (url) => (await fetch(`${url}/metrics`)).text()),
    );
    const writerHistogram = receiptHistogram(writerMetrics);
    // Who stored what: with several writers, each should hold partitions and store a share.
    const insertedByWriter = writerMetrics.map((text) =>
      sumSamples(text, 'tally_writer_events_inserted_total'),
    );
    // The largest process of each kind: the figure to hold against a per-process memory target.
    const memory = { gateway: largestMemory(pids.gateway), writer: largestMemory(pids.writer) };
    const warmupAccepted = load.eventsAccepted - max.load.eventsAccepted - half.load.eventsAccepted;

    log('stopping gateway and writer');
    await h.stopServices();
    const profiles = o.profileDir ? latestProfiles(o.profileDir, pids) : undefined;

    log(`baseline: raw JetStream publish for ${o.baselineJetStreamS} s`);
    const batches = sampleBatches(factory, 200);
    const js: JetStreamBaseline = await jetstreamBaseline(h.nc, batches, { seconds: o.baselineJetStreamS });
    log(`baseline: raw ClickHouse insert of ${o.baselineClickHouseRows} rows`);
    const ch: ClickHouseBaseline = await clickhouseBaseline(h.db.client, batches, {
      totalRows: o.baselineClickHouseRows,
    });
    log(`baseline: raw ClickHouse RowBinary insert of ${o.baselineClickHouseRows} rows`);
    const chRowBinary: ClickHouseBaseline = await clickhouseBaseline(h.db.client, batches, {
      totalRows: o.baselineClickHouseRows,
      format: 'RowBinary',
    });

    const halfP99 = half.load.latency.p99Ms;
    const r2q = half.receiptToQueryable.p99Ms;
    return {
      command: 'npm run bench:ingest',
      date: new Date().toISOString(),
      options: { ...o, log: undefined },
      topology: { gateways: o.gateways, writers: o.writers, partitions: o.partitions },
      tally: {
        sustainedEventsPerSecond: sustained,
        maxPhase: {
          ...max,
          backlogGate,
          httpP50Ms: max.load.latency.p50Ms,
          httpP99Ms: max.load.latency.p99Ms,
        },
        halfRatePhase: { ...half, httpP50Ms: half.load.latency.p50Ms, httpP99Ms: halfP99 },
        receiptToQueryableP99Ms: r2q,
        writerReceiptToStoredHistogram: writerHistogram,
        peakRssMb: { gateway: memory.gateway.peakRssMb, writer: memory.writer.peakRssMb },
        memory,
        exactness: { ...exactness, warmupAccepted },
        insertedByWriter,
        profiles,
      },
      baselines: { jetstreamPublish: js, clickhouseInsert: ch, clickhouseInsertRowBinary: chRowBinary },
      ratios: {
        tallyToJetStream: round(sustained / js.eventsPerSecond, 3),
        tallyToClickHouse: round(sustained / ch.eventsPerSecond, 3),
        tallyToClickHouseRowBinary: round(sustained / chRowBinary.eventsPerSecond, 3),
      },
      targets: {
        sustainedEventsPerSecond: target(sustained, TARGETS.sustainedEventsPerSecond, '>='),
        halfRateHttpP99Ms: target(halfP99, TARGETS.halfRateHttpP99Ms, '<='),
        receiptToQueryableP99Ms: target(r2q, TARGETS.receiptToQueryableP99Ms, '<='),
        writerPeakRssMb: target(memory.writer.peakRssMb, TARGETS.writerPeakRssMb, '<='),
        exactlyOnce: { met: exactness.exact },
      },
      machine: { ...machineInfo(), loadavgAtStart: machineAtStart.loadavg },
      natsServer,
    };
  } finally {
    await opened?.close();
    await h.stop();
  }
}

export type IngestBenchResult = Awaited<ReturnType<typeof runIngestBench>>;

function target(value: number, limit: number, op: '>=' | '<=') {
  return { value, target: `${op} ${limit}`, met: op === '>=' ? value >= limit : value <= limit };
}

/** Probe ids (of the bench tenant) that a query can see now. */
async function visibleProbes(h: IngestEnv, ids: string[]): Promise<string[]> {
  // tenant and event_type lead the sort key, so this reads only the probes' granules.
  const rows = await h.db.client.query<{ event_id: string }>(
    sql`SELECT event_id FROM ${h.db.client.table('events')} WHERE tenant = ${TENANT} AND event_type = ${PROBE_EVENT_TYPE} AND event_id IN (SELECT arrayJoin(${ids}))`,
    { operation: 'bench probes' },
  );
  return rows.map((r) => r.event_id);
}

/** Count, distinct ids and exact quantity sum in ClickHouse against what the gateway accepted (warm-up included). */
async function checkExactness(h: IngestEnv, accepted: number, acceptedQuantityMilli: number) {
  const [row] = await h.db.client.query<{ events: string; ids: string; quantity: string }>(
    sql`SELECT toString(count()) AS events, toString(uniqExact(event_id)) AS ids, toString(sum(quantity)) AS quantity FROM ${h.db.client.table('events')} WHERE tenant = ${TENANT}`,
    { exactNumbers: true, operation: 'bench exactness' },
  );
  const stored = Number(row.events);
  const distinct = Number(row.ids);
  const storedQuantity = trimDecimal(row.quantity);
  const acceptedQuantity = trimDecimal(milliToDecimal(acceptedQuantityMilli));
  return {
    accepted,
    stored,
    distinctIds: distinct,
    lost: Math.max(0, accepted - stored),
    duplicates: stored - distinct,
    acceptedQuantity,
    storedQuantity,
    exact: stored === accepted && distinct === stored && storedQuantity === acceptedQuantity,
  };
}

/** Whole thousandths (a safe integer) as exact decimal text. */
function milliToDecimal(milli: number): string {
  return `${Math.floor(milli / 1000)}.${String(milli % 1000).padStart(3, '0')}`;
}

/** The writers' receipt-to-stored histograms (their `/metrics` texts), summed: bucket bounds that hold 50% and 99% of the batches. */
function receiptHistogram(texts: string[]) {
  const counts = new Map<number, number>();
  for (const text of texts) {
    for (const m of text.matchAll(
      /^tally_writer_receipt_to_stored_seconds_bucket\{le="([^"]+)"[^}]*\} (\d+)$/gm,
    )) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      counts.set(le, (counts.get(le) ?? 0) + Number(m[2]));
    }
  }
  const buckets = [...counts].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  const bound = (q: number) => buckets.find((b) => b.count >= q * total)?.le ?? NaN;
  const within2s = buckets.find((b) => b.le === 2)?.count ?? NaN;
  return {
    observations: total,
    p50AtMostSeconds: bound(0.5),
    p99AtMostSeconds: bound(0.99),
    shareWithin2s: total ? round(within2s / total, 4) : NaN,
  };
}

/** The latest profile of the first process of each kind. */
function latestProfiles(dir: string, pids: Record<string, number[]>): Record<string, ProfileSummary> {
  const out: Record<string, ProfileSummary> = {};
  for (const [name, [pid]] of Object.entries(pids)) {
    const file = readdirSync(dir)
      .filter((f) => f.startsWith(`${name}-${pid}-`) && f.endsWith('.cpuprofile'))
      .sort()
      .at(-1);
    if (file) out[name] = summarizeCpuProfile(path.join(dir, file), 15);
  }
  return out;
}

function signalAll(pids: Record<string, number[]>, signal: NodeJS.Signals): void {
  for (const pid of Object.values(pids).flat()) process.kill(pid, signal);
}

function largestMemory(pids: number[]): ReturnType<typeof memoryMb> {
  return pids.map(memoryMb).reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** ClickHouse 18.16 prints every fraction digit of a Decimal(38, 12); compare canonical forms. */
function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/\.?0+$/, '') : value;
}
