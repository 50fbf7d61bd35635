/**
 * `npm run bench:query`: usage queries on 10 million events, Tally (through the real HTTP query API)
 * against PostgreSQL (the architecture article's `usage_events` schema) over the very same rows.
 *
 * 1. Generates BENCH_EVENTS events (default 10,000,000) for BENCH_CUSTOMERS customers (default 1,000,
 *    Zipf-skewed: the top customer sends ~13 %), spread over the last 90 days, and loads them into a
 *    fresh ClickHouse database with the writer's own `insertEvents` (the roll-up view fills as in
 *    production) and into PostgreSQL with COPY (a schema `bench_<random>` in database `test`).
 * 2. Creates the catalog (tenant in America/New_York, two meters, a plan, a subscription per customer
 *    with anchor days 1..28) on its own NATS prefix and starts `apps/query` as a separate process.
 * 3. Checks that Tally's month total of every customer equals PostgreSQL's (any difference fails the
 *    run and names the customers), then measures, one request at a time, after a warm-up: a single
 *    customer's usage of the last full month, its daily breakdown, all customers grouped for the
 *    month, and a current-period lookup; and the same questions asked of PostgreSQL. Prints one JSON document with p50/p99, the ratios, the
 *    load times and the machine's load average, then removes everything it created.
 *
 * Environment: BENCH_EVENTS, BENCH_CUSTOMERS, BENCH_SAMPLES (per single-customer question, default
 * 300), BENCH_GROUPED_SAMPLES (default 30), PG_URL (default postgres://postgres@127.0.0.1:5432/test,
 * then user root), CLICKHOUSE_URL, NATS_URL, BENCH_KEEP=1 to keep the data.
 */
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { ApiKeyStore, CatalogStore, type Subscription } from '@tally/catalog';
import { createClickHouse, type EventRow, identifier, insertEvents, migrate, sql } from '@tally/clickhouse';
import { connectNats, natsNames } from '@tally/nats';
import {
  freePort,
  startService,
  testClickHouseUrl,
  testNatsUrl,
  waitFor,
  type ServiceProcess,
  testNatsAuth,
} from '@tally/testing';
import { currentPeriod } from '@tally/billing-periods';
import { describeDifferences, totalDifferences } from './totals';
import pg from 'pg';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 1_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const GROUPED_SAMPLES = Number(process.env.BENCH_GROUPED_SAMPLES ?? 30);
const PG_GROUPED_SAMPLES = Math.max(5, Math.ceil(GROUPED_SAMPLES / 3));
const BATCH = 250_000;
const DAYS = 90;
const ZONE = 'America/New_York';
const TENANT = 'bench';
const EVENT_TYPE = 'api_call';
const REGIONS = ['us-east', 'us-west', 'eu-central'];
const PRODUCT_ID = '00000000-0000-4000-8000-00000000beef';

// ----------------------------------------------------------------------------------- data generation

/** mulberry32: a small deterministic PRNG, so both databases get the same rows from one seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf(s = 1) ranks: rank k drawn with probability proportional to 1 / k. */
function zipf(n: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) total += 1 / k;
  let running = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = running += 1 / k / total;
  cdf[n - 1] = 1;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

const customerId = (rank: number) => `c${String(rank + 1).padStart(4, '0')}`;
const customerUuid = (rank: number) => `00000000-0000-4000-8000-${(rank + 1).toString(16).padStart(12, '0')}`;
const eventUuid = (salt: string, i: number) => {
  const h = i.toString(16).padStart(20, '0');
  return `${salt}-${h.slice(0, 4)}-4${h.slice(4, 7)}-8${h.slice(7, 10)}-${h.slice(10, 20)}00`;
};

interface Generated {
  rank: number;
  ts: number;
  quantity: string;
  region: string;
  id: string;
}

function* generate(start: number, spanMs: number, salt: string): Generator<Generated[]> {
  const random = seeded(42);
  const customer = zipf(CUSTOMERS, random);
  for (let offset = 0; offset < EVENTS; offset += BATCH) {
    const n = Math.min(BATCH, EVENTS - offset);
    const batch = new Array<Generated>(n);
    for (let j = 0; j < n; j++) {
      const cents = 100 + Math.floor(random() * 9_900);
      batch[j] = {
        rank: customer(),
        ts: start + Math.floor(random() * spanMs),
        quantity: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
        region: REGIONS[Math.floor(random() * REGIONS.length)],
        id: eventUuid(salt, offset + j),
      };
    }
    yield batch;
  }
}

const toRow = (e: Generated): EventRow => ({
  tenant: TENANT,
  customer: customerId(e.rank),
  eventType: EVENT_TYPE,
  ts: Math.floor(e.ts / 1000),
  tsMs: e.ts % 1000,
  eventId: e.id,
  quantity: e.quantity,
  properties: { region: e.region },
  source: 'bench',
  schemaVersion: '1',
  requestId: '',
  receivedAt: Math.floor(e.ts / 1000),
  payloadHash: 'bench',
});

function* copyChunks(batch: Generated[]): Generator<Buffer> {
  const lines: string[] = [];
  for (const e of batch) {
    lines.push(
      `${e.id}\t${customerUuid(e.rank)}\t${PRODUCT_ID}\t${EVENT_TYPE}\t${e.quantity}\t${new Date(e.ts).toISOString()}\t{"region":"${e.region}"}`,
    );
    if (lines.length === 20_000) yield Buffer.from(lines.splice(0).join('\n') + '\n');
  }
  if (lines.length) yield Buffer.from(lines.join('\n') + '\n');
}

// ------------------------------------------------------------------------------- COPY with plain pg

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain: boolean };
}

/**
 * `COPY ... FROM STDIN` through pg's submittable protocol (what pg-copy-streams does, in a few lines):
 * pg hands the connection over when the server answers CopyInResponse; the chunks are written with
 * back-pressure, then CopyDone; pg calls back at ReadyForQuery.
 */
class CopyIn {
  callback?: (error: Error | null, rows?: number) => void;
  private error: Error | null = null;
  private rows = 0;

  constructor(
    private readonly text: string,
    private readonly chunks: Iterable<Buffer>,
  ) {}

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    void (async () => {
      try {
        for (const chunk of this.chunks) {
          connection.sendCopyFromChunk(chunk);
          if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
        }
        connection.endCopyFrom();
      } catch (error) {
        connection.sendCopyFail(String(error));
      }
    })();
  }

  handleCommandComplete(message: { text: string }): void {
    this.rows = Number(message.text.split(' ')[1] ?? 0);
  }

  handleError(error: Error): void {
    this.error = error;
  }

  handleReadyForQuery(): void {
    this.callback?.(this.error, this.rows);
  }
}

function copy(client: pg.Client, text: string, chunks: Iterable<Buffer>): Promise<number> {
  return new Promise((resolve, reject) => {
    const query = new CopyIn(text, chunks);
    query.callback = (error, rows) => (error ? reject(error) : resolve(rows ?? 0));
    void client.query(query as unknown as pg.QueryConfig);
  });
}

async function connectPostgres(): Promise<pg.Client> {
  const urls = process.env.PG_URL
    ? [process.env.PG_URL]
    : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];
  let last: unknown;
  for (const url of urls) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      return client;
    } catch (error) {
      last = error;
      await client.end().catch(() => undefined);
    }
  }
  throw last;
}

// ---------------------------------------------------------------------------------------- measuring

interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]),
  };
}

async function measure(samples: number, run: (i: number) => Promise<void>): Promise<Stats> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await run(i);
    times.push(performance.now() - t);
  }
  return stats(times);
}

const seconds = (ms: number) => Math.round(ms / 10) / 100;
const load = () => loadavg().map((v) => Math.round(v * 100) / 100);
const log = (message: string) => process.stderr.write(`[bench:query] ${message}\n`);
const trim = (v: string) => (v.includes('.') ? v.replace(/\.?0+$/, '') : v);

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const salt = randomBytes(4).toString('hex');
  const database = `bench_${salt}`;
  const prefix = `bench_${salt}`;
  const pgSchema = `bench_${salt}`;
  const now = Date.now();
  const end = Math.floor(now / 3_600_000) * 3_600_000;
  const start = end - DAYS * 86_400_000;
  // The last full calendar month in the tenant's zone, e.g. October when run in November.
  const today = new Date(now);
  const monthIndex = today.getUTCFullYear() * 12 + today.getUTCMonth() - 1;
  const month = `${Math.floor(monthIndex / 12)}-${String((monthIndex % 12) + 1).padStart(2, '0')}`;
  const result: Record<string, unknown> = {
    machine: { cpus: cpus().length, node: process.version, loadAverageAtStart: load() },
    dataset: {
      events: EVENTS,
      customers: CUSTOMERS,
      skew: 'Zipf s=1 (top customer ~13 %)',
      from: new Date(start).toISOString(),
      to: new Date(end).toISOString(),
      month,
      timezone: ZONE,
    },
  };

  const ch = createClickHouse({
    url: testClickHouseUrl(),
    username: process.env.CLICKHOUSE_USER ?? 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    database,
    requestTimeoutMs: 300_000,
  });
  const nc = await connectNats(testNatsUrl(), 'bench-query', testNatsAuth());
  const names = natsNames(prefix);
  const pgClient = await connectPostgres();
  let service: ServiceProcess | undefined;
  const table = `${pgSchema}.usage_events`;

  try {
    // ------------------------------------------------------------------------------------- schemas
    await migrate(ch);
    await pgClient.query(`CREATE SCHEMA ${pgSchema}`);
    await pgClient.query(`
      CREATE TABLE ${table} (
        event_id UUID NOT NULL,
        customer_id UUID NOT NULL,
        product_id UUID NOT NULL,
        metric_name VARCHAR(100) NOT NULL,
        quantity DECIMAL(10,4) NOT NULL,
        event_timestamp TIMESTAMPTZ NOT NULL,
        dimensions JSONB,
        created_at TIMESTAMPTZ DEFAULT NOW()
      ) PARTITION BY RANGE (event_timestamp)`);
    const first = new Date(start);
    for (let m = first.getUTCFullYear() * 12 + first.getUTCMonth() - 1; m <= monthIndex + 2; m++) {
      const from = `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}-01`;
      const to = `${Math.floor((m + 1) / 12)}-${String(((m + 1) % 12) + 1).padStart(2, '0')}-01`;
      await pgClient.query(
        `CREATE TABLE ${table}_${m} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`,
      );
    }

    // ---------------------------------------------------------------------------------------- load
    log(`loading ${EVENTS.toLocaleString('en')} events into ClickHouse ${database} and PostgreSQL ${table}`);
    let chMs = 0;
    let pgMs = 0;
    let loaded = 0;
    for (const batch of generate(start, end - start, salt)) {
      let t = performance.now();
      await insertEvents(ch, database, batch.map(toRow));
      chMs += performance.now() - t;
      t = performance.now();
      await copy(
        pgClient,
        `COPY ${table} (event_id, customer_id, product_id, metric_name, quantity, event_timestamp, dimensions) FROM STDIN`,
        copyChunks(batch),
      );
      pgMs += performance.now() - t;
      loaded += batch.length;
      if (loaded % 2_000_000 === 0 || loaded === EVENTS) {
        log(
          `  ${loaded.toLocaleString('en')} rows (ClickHouse ${seconds(chMs)} s, PostgreSQL COPY ${seconds(pgMs)} s)`,
        );
      }
    }
    let t = performance.now();
    await pgClient.query(`ALTER TABLE ${table} ADD PRIMARY KEY (event_id, event_timestamp)`);
    await pgClient.query(
      `CREATE INDEX ON ${table} (customer_id, metric_name, event_timestamp) INCLUDE (quantity)`,
    );
    await pgClient.query(`CREATE INDEX ON ${table} (metric_name, event_timestamp)`);
    const pgIndexMs = performance.now() - t;
    t = performance.now();
    await pgClient.query(`VACUUM ANALYZE ${table}`);
    const pgVacuumMs = performance.now() - t;
    // Let ClickHouse finish merging the freshly inserted parts before anything is timed.
    t = performance.now();
    await waitFor(
      async () => {
        const [row] = await ch.query<{ n: string }>(
          sql`SELECT toString(count()) AS n FROM system.merges WHERE database = ${database}`,
        );
        return row.n === '0';
      },
      { timeoutMs: 600_000, intervalMs: 1_000, what: 'ClickHouse merges' },
    );
    const mergeMs = performance.now() - t;
    // A server that has been ingesting for 90 days has its roll-ups merged by its background merges;
    // a bulk load leaves them in many parts. Merge them now (events stay as they are).
    t = performance.now();
    for (const rollup of ['usage_hourly', 'usage_daily', 'usage_hourly_by_time']) {
      await ch.command(sql`OPTIMIZE TABLE ${identifier(database, rollup)} FINAL`, {
        operation: 'optimize roll-up',
      });
    }
    const optimizeMs = performance.now() - t;
    const rollupRows = Object.fromEntries(
      (
        await ch.query<{ table: string; rows: string; parts: string }>(
          sql`SELECT table, toString(sum(rows)) AS rows, toString(count()) AS parts FROM system.parts WHERE database = ${database} AND active GROUP BY table ORDER BY table`,
        )
      ).map((r) => [r.table, { rows: Number(r.rows), parts: Number(r.parts) }]),
    );
    result.load = {
      clickhouseSeconds: seconds(chMs),
      clickhouseRowsPerSecond: Math.round(EVENTS / (chMs / 1000)),
      clickhouseMergesAfterLoadSeconds: seconds(mergeMs),
      clickhouseOptimizeRollupsSeconds: seconds(optimizeMs),
      clickhouseTables: rollupRows,
      postgresCopySeconds: seconds(pgMs),
      postgresRowsPerSecond: Math.round(EVENTS / (pgMs / 1000)),
      postgresIndexSeconds: seconds(pgIndexMs),
      postgresVacuumAnalyzeSeconds: seconds(pgVacuumMs),
      loadAverageAfterLoad: load(),
    };
    log(`loaded: ${JSON.stringify(result.load)}`);

    // ------------------------------------------------------------------------------------- catalog
    const store = await CatalogStore.open(nc, names);
    const keys = await ApiKeyStore.open(nc, names);
    await store.putTenant({
      id: TENANT,
      name: 'Bench',
      timezone: ZONE,
      currency: 'USD',
      rateLimitPerSecond: 10_000_000,
    });
    await store.putMeter({
      tenant: TENANT,
      key: 'api_calls',
      name: 'API calls',
      eventTypes: [EVENT_TYPE],
      aggregation: 'count',
    });
    await store.putMeter({
      tenant: TENANT,
      key: 'api_units',
      name: 'API units',
      eventTypes: [EVENT_TYPE],
      aggregation: 'sum',
      valueProperty: 'quantity',
    });
    await store.putPlan({
      tenant: TENANT,
      id: 'standard',
      name: 'Standard',
      currency: 'USD',
      charges: [
        {
          id: 'units',
          name: 'Units',
          kind: 'per_unit',
          meter: 'api_units',
          unitPrice: '0.001',
          freeUnits: '100000',
        },
      ],
    });
    const subscriptions: Subscription[] = [];
    for (let rank = 0; rank < CUSTOMERS; rank += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, CUSTOMERS - rank) }, async (_, j) => {
          const id = customerId(rank + j);
          await store.putCustomer({ tenant: TENANT, id });
          const subscription = {
            tenant: TENANT,
            id: `sub_${id}`,
            customer: id,
            plan: 'standard',
            start: '2025-01-01',
            billingAnchorDay: ((rank + j) % 28) + 1,
          };
          await store.putSubscription(subscription);
          subscriptions[rank + j] = subscription;
        }),
      );
    }
    const { key } = await keys.create(TENANT, 'query', 'bench');
    await keys.close();

    // ------------------------------------------------------------------------------ query service
    const port = await freePort();
    service = startService('query', {
      QUERY_PORT: String(port),
      TALLY_NATS_PREFIX: prefix,
      CLICKHOUSE_DATABASE: database,
      LOG_LEVEL: 'warn',
      QUERY_DOCS: 'false',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (service?.child.exitCode !== null) throw new Error(`query service exited:\n${service?.output()}`);
        return (await fetch(`${base}/health`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 120_000, what: 'query service' },
    );
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the bench reads a few fields of the JSON answers
    const api = async (path: string): Promise<any> => {
      const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const body = await response.json();
      if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
      return body;
    };
    // The catalog reaches the service through its KV watch.
    await waitFor(
      async () =>
        (await api(`/v1/customers/${customerId(CUSTOMERS - 1)}/current-usage`).catch(() => undefined))?.period
          ?.source === 'subscription',
      {
        timeoutMs: 30_000,
        what: 'catalog in the query service',
      },
    );

    // ---------------------------------------------------------------------------------- questions
    const [year, mon] = month.split('-').map(Number);
    const monthFrom = `${month}-01`;
    const monthTo = mon === 12 ? `${year + 1}-01-01` : `${year}-${String(mon + 1).padStart(2, '0')}-01`;
    const pgFrom = (
      await pgClient.query(`SELECT ($1::date::timestamp AT TIME ZONE '${ZONE}') AS t`, [monthFrom])
    ).rows[0].t as Date;
    const pgTo = (await pgClient.query(`SELECT ($1::date::timestamp AT TIME ZONE '${ZONE}') AS t`, [monthTo]))
      .rows[0].t as Date;
    // Half the questions are about customers picked by their share of traffic (the big ones), half uniformly.
    const pick = (() => {
      const random = seeded(7);
      const heavy = zipf(CUSTOMERS, random);
      return () => (random() < 0.5 ? heavy() : Math.floor(random() * CUSTOMERS));
    })();
    const picks = Array.from({ length: SAMPLES }, pick);

    const tally = {
      singleCustomerMonth: (rank: number) =>
        api(`/v1/meters/api_units/query?from=${monthFrom}&to=${monthTo}&customer=${customerId(rank)}`),
      dailyBreakdown: (rank: number) => api(`/v1/customers/${customerId(rank)}/usage?period=${month}`),
      allCustomersMonth: () =>
        api(`/v1/meters/api_units/query?from=${monthFrom}&to=${monthTo}&perCustomer=true`),
      currentPeriod: (rank: number) => api(`/v1/customers/${customerId(rank)}/current-usage`),
    };
    const postgres = {
      singleCustomerMonth: (rank: number) =>
        pgClient.query(
          `SELECT SUM(quantity) AS total FROM ${table} WHERE customer_id = $1 AND metric_name = $2 AND event_timestamp >= $3 AND event_timestamp < $4`,
          [customerUuid(rank), EVENT_TYPE, pgFrom, pgTo],
        ),
      dailyBreakdown: (rank: number) =>
        pgClient.query(
          `SELECT date_trunc('day', event_timestamp AT TIME ZONE '${ZONE}') AS day, COUNT(*) AS calls, SUM(quantity) AS units FROM ${table}
           WHERE customer_id = $1 AND metric_name = $2 AND event_timestamp >= $3 AND event_timestamp < $4 GROUP BY day ORDER BY day`,
          [customerUuid(rank), EVENT_TYPE, pgFrom, pgTo],
        ),
      allCustomersMonth: () =>
        pgClient.query(
          `SELECT customer_id, SUM(quantity) AS total FROM ${table} WHERE metric_name = $1 AND event_timestamp >= $2 AND event_timestamp < $3 GROUP BY customer_id ORDER BY customer_id`,
          [EVENT_TYPE, pgFrom, pgTo],
        ),
      currentPeriod: (rank: number) => {
        const period = currentPeriod(new Date(), ZONE, [subscriptions[rank]]);
        return pgClient.query(
          `SELECT COUNT(*) AS calls, SUM(quantity) AS units FROM ${table} WHERE customer_id = $1 AND metric_name = $2 AND event_timestamp >= $3 AND event_timestamp < $4`,
          [customerUuid(rank), EVENT_TYPE, period.from, period.to],
        );
      },
    };

    // Same rows, same answers: every customer's month total must agree to the last digit, for every
    // customer of either side (a customer without events in the month may be absent, as 0). Any
    // difference fails the run: the timings of wrong answers mean nothing.
    const tallyAll = await tally.allCustomersMonth();
    const pgAll = await postgres.allCustomersMonth();
    const idOfUuid = new Map(
      Array.from({ length: CUSTOMERS }, (_, rank) => [customerUuid(rank), customerId(rank)]),
    );
    const expected = new Map<string, string>(
      pgAll.rows.map((r: { customer_id: string; total: string }) => [
        idOfUuid.get(r.customer_id) ?? r.customer_id,
        r.total,
      ]),
    );
    const actual = new Map<string, string>(
      tallyAll.rows.map((r: { customer: string; value: string }) => [r.customer, r.value]),
    );
    const differences = totalDifferences(expected, actual, { missingAs: '0' });
    const consistency = {
      tallyCustomers: actual.size,
      postgresCustomers: expected.size,
      customersCompared: new Set([...expected.keys(), ...actual.keys()]).size,
      mismatches: differences.length,
      source: tallyAll.source,
    };
    result.consistency = consistency;
    log(`consistency: ${JSON.stringify(consistency)}`);
    if (differences.length) {
      throw new Error(
        describeDifferences(
          `Tally and PostgreSQL disagree on ${month}`,
          differences,
          consistency.customersCompared,
          {
            actual: 'Tally',
            expected: 'PostgreSQL',
          },
        ),
      );
    }

    log('warming up');
    for (let i = 0; i < 20; i++) {
      await tally.singleCustomerMonth(picks[i]);
      await tally.dailyBreakdown(picks[i]);
      await tally.currentPeriod(picks[i]);
      await postgres.singleCustomerMonth(picks[i]);
      await postgres.dailyBreakdown(picks[i]);
      await postgres.currentPeriod(picks[i]);
    }
    for (let i = 0; i < 3; i++) {
      await tally.allCustomersMonth();
      await postgres.allCustomersMonth();
    }

    log('measuring Tally');
    const loadBefore = load();
    const tallyStats = {
      singleCustomerMonth: await measure(SAMPLES, (i) => tally.singleCustomerMonth(picks[i])),
      dailyBreakdown: await measure(SAMPLES, (i) => tally.dailyBreakdown(picks[i])),
      allCustomersMonth: await measure(GROUPED_SAMPLES, () => tally.allCustomersMonth()),
      currentPeriod: await measure(SAMPLES, (i) => tally.currentPeriod(picks[i])),
    };
    log('measuring PostgreSQL');
    const pgStats = {
      singleCustomerMonth: await measure(SAMPLES, (i) =>
        postgres.singleCustomerMonth(picks[i]).then(() => undefined),
      ),
      dailyBreakdown: await measure(SAMPLES, (i) => postgres.dailyBreakdown(picks[i]).then(() => undefined)),
      allCustomersMonth: await measure(PG_GROUPED_SAMPLES, () =>
        postgres.allCustomersMonth().then(() => undefined),
      ),
      currentPeriod: await measure(SAMPLES, (i) => postgres.currentPeriod(picks[i]).then(() => undefined)),
    };
    const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
    const questions = Object.keys(tallyStats) as Array<keyof typeof tallyStats>;
    result.tally = tallyStats;
    result.postgres = pgStats;
    result.postgresOverTally = Object.fromEntries(
      questions.map((q) => [
        q,
        { p50: ratio(pgStats[q].p50, tallyStats[q].p50), p99: ratio(pgStats[q].p99, tallyStats[q].p99) },
      ]),
    );
    result.targets = {
      singleCustomerMonthP99Under50ms: tallyStats.singleCustomerMonth.p99 <= 50,
      dailyBreakdownP99Under50ms: tallyStats.dailyBreakdown.p99 <= 50,
      allCustomersMonthWarmUnder300ms: tallyStats.allCustomersMonth.p99 <= 300,
      currentPeriodP99Under50ms: tallyStats.currentPeriod.p99 <= 50,
      groupedAtLeast10xFasterThanPostgres:
        pgStats.allCustomersMonth.p50 / tallyStats.allCustomersMonth.p50 >= 10,
    };
    (result.machine as Record<string, unknown>).loadAverageDuringQueries = [loadBefore, load()];
    result.notes = [
      'Tally: HTTP requests to apps/query (one at a time, keep-alive), authenticated, JSON answers; PostgreSQL: the same SQL questions over one connection.',
      'single customer month = GET /v1/meters/api_units/query?customer=...; daily breakdown = GET /v1/customers/:id/usage?period=YYYY-MM (2 meters, total + every day); all customers = GET /v1/meters/api_units/query?perCustomer=true (every customer, one month); current period = GET /v1/customers/:id/current-usage (2 meters, subscription period).',
      'ClickHouse 18.16: the roll-up tables were OPTIMIZEd after the bulk load (what background merges do on a server that ingests over weeks); events were left as loaded.',
      'PostgreSQL 15 with default settings, monthly partitions, PRIMARY KEY (event_id, event_timestamp), indexes (customer_id, metric_name, event_timestamp) INCLUDE (quantity) and (metric_name, event_timestamp), VACUUM ANALYZE after the load.',
    ];
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await service?.stop();
    if (process.env.BENCH_KEEP !== '1') {
      log('cleaning up');
      await ch.command(sql`DROP DATABASE IF EXISTS ${identifier(database)}`).catch(() => undefined);
      await pgClient.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`).catch(() => undefined);
      const jsm = await jetstreamManager(nc).catch(() => undefined);
      for (const bucket of [names.catalogBucket, names.apiKeysBucket, names.alertStateBucket]) {
        await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
      }
    }
    await pgClient.end().catch(() => undefined);
    await nc.close();
    await ch.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:query failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
