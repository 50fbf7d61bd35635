import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiKeyStore, CatalogStore } from '@tally/catalog';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import {
  connectNats,
  deleteStreams,
  ensureStreams,
  natsNames,
  type NatsConnection,
  type NatsNames,
} from '@tally/nats';
import { connectTemporal } from '@tally/temporal';
import {
  freePort,
  randomPrefix,
  startService,
  testNatsUrl,
  testTemporalAddress,
  waitFor,
  type ServiceProcess,
  testStreamLimits,
  testNatsAuth,
  internalPortEnv,
} from '@tally/testing';
import { parse } from 'yaml';
import { opsBinary, repoRoot } from './ops-binaries';

/**
 * The four services, started here on random ports, scraped by a real Prometheus (random port, temp
 * data dir) on their internal ports, as deploy/prometheus/prometheus.yml does; it loads the committed
 * alert rules; every Grafana dashboard query and every alert expression is evaluated through
 * Prometheus's HTTP API. The billing worker has no public port, only the internal one.
 */
const SERVICES = {
  gateway: 'GATEWAY_PORT',
  query: 'QUERY_PORT',
  writer: 'WRITER_PORT',
  'billing-worker': undefined,
} as const;
type Service = keyof typeof SERVICES;

/** What Grafana substitutes for `$__rate_interval` at a 2 s scrape interval (4 × scrape interval, and some). */
const RATE_INTERVAL = '10s';
const REQUEST_ID = `ops-test-${Date.now()}`;
interface PromAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

describe('metrics, dashboards and alert rules on a real Prometheus', () => {
  let nc: NatsConnection;
  let names: NatsNames;
  let db: TestDatabase;
  let dataDir: string;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  const services: Partial<Record<Service, ServiceProcess>> = {};
  const urls = {} as Record<Service, string>;
  /** Each service's internal listener: what Prometheus scrapes. */
  const internalUrls = {} as Record<Service, string>;

  const prom = async <T>(api: string, params: Record<string, string> = {}): Promise<PromAnswer<T>> => {
    const answer = await fetch(`${promUrl}/api/v1/${api}?${new URLSearchParams(params).toString()}`);
    return (await answer.json()) as PromAnswer<T>;
  };
  const instant = (query: string) => prom<{ result: unknown[] }>('query', { query });

  beforeAll(async () => {
    const prefix = randomPrefix('t');
    names = natsNames(prefix);
    nc = await connectNats(testNatsUrl(), 'ops-metrics-test', testNatsAuth());
    // Small byte caps: JetStream reserves each stream's max_bytes on the shared test server.
    await ensureStreams(nc, names, testStreamLimits);
    db = await createTestDatabase();
    const env = {
      NATS_URL: testNatsUrl(),
      TEMPORAL_ADDRESS: testTemporalAddress(),
      TALLY_NATS_PREFIX: prefix,
      CLICKHOUSE_DATABASE: db.database,
      TALLY_TASK_QUEUE: prefix,
      BILLING_SCHEDULES: 'false',
      LOG_LEVEL: 'warn',
      WRITER_FLUSH_INTERVAL_MS: '200',
    };
    for (const [service, portVar] of Object.entries(SERVICES) as [Service, string | undefined][]) {
      const port = await freePort();
      const internalPort = await freePort();
      urls[service] = `http://127.0.0.1:${port}`;
      internalUrls[service] = `http://127.0.0.1:${internalPort}`;
      // The writer logs each stored batch (with its request ids) at debug level.
      const level = service === 'writer' ? { LOG_LEVEL: 'debug' } : {};
      services[service] = startService(service, {
        ...env,
        ...level,
        ...(portVar ? { [portVar]: String(port) } : {}),
        [internalPortEnv(service)]: String(internalPort),
      });
    }
    await Promise.all(
      (Object.keys(SERVICES) as Service[]).map((s) =>
        waitFor(async () => (await fetch(`${internalUrls[s]}/health`)).ok, {
          timeoutMs: 150_000,
          intervalMs: 250,
          what: `${s} healthy`,
        }).catch((error: Error) => {
          throw new Error(`${error.message}\n${s} output:\n${services[s]?.output().slice(-3000)}`);
        }),
      ),
    );

    // Traffic, so that every metric the dashboards read has series.
    const catalog = await CatalogStore.open(nc, names);
    const keys = await ApiKeyStore.open(nc, names);
    await catalog.putTenant({
      id: 'acme',
      name: 'acme',
      timezone: 'UTC',
      currency: 'USD',
      latenessLimitDays: 35,
      rateLimitPerSecond: 100_000,
      requireKnownCustomers: false,
    });
    const ingest = await keys.create('acme', 'ingest', 'ops test');
    const query = await keys.create('acme', 'query', 'ops test');
    await keys.close();
    const post = (body: unknown) =>
      fetch(`${urls.gateway}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ingest.key}`,
          'content-type': 'application/json',
          'x-request-id': REQUEST_ID,
        },
        body: JSON.stringify(body),
      });
    await waitFor(async () => (await post({ events: [] })).status !== 401, {
      what: 'ingest key at the gateway',
    });
    const events = Array.from({ length: 20 }, (_, i) => ({
      eventId: `e${i}`,
      customerId: 'c1',
      metricName: 'api_call',
      quantity: 1,
    }));
    expect((await post({ events })).status).toBe(202);
    // The same request again, as a client retrying it: recognised as duplicates.
    expect((await post({ events })).status).toBe(202);
    expect(
      (await post({ events: [{ eventId: 'bad', customerId: 'c1', metricName: 'api_call', quantity: 'x' }] }))
        .status,
    ).toBe(422);
    await waitFor(async () => services.writer?.output().includes(REQUEST_ID), {
      timeoutMs: 30_000,
      what: 'the batch stored',
    });
    const auth = { authorization: `Bearer ${query.key}` };
    await waitFor(async () => (await fetch(`${urls.query}/v1/tenant`, { headers: auth })).ok, {
      what: 'query key',
    });
    await fetch(`${urls.query}/v1/customers/c1/usage`, { headers: auth });
    await fetch(`${urls.query}/no/such/route`);

    // A workflow and an activity through the billing worker, for the Temporal SDK's metrics.
    const temporal = await connectTemporal({ address: testTemporalAddress(), namespace: 'default' });
    try {
      await temporal.client.workflow.execute('echoWorkflow', {
        taskQueue: prefix,
        workflowId: `${prefix}-echo`,
        args: ['metrics'],
      });
    } finally {
      await temporal.close();
    }

    // Prometheus, scraping every second, with the committed rules.
    dataDir = mkdtempSync(path.join(tmpdir(), 'tally-prom-'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const config = {
      // A scrape that takes longer than its interval fails and marks the target's series stale; on a
      // busy CI machine /metrics (which reads JetStream and Temporal's exporter) can take a second.
      global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '2s' },
      rule_files: [path.join(repoRoot, 'deploy/prometheus/rules/tally-alerts.yml')],
      scrape_configs: (Object.keys(SERVICES) as Service[]).map((s) => ({
        job_name: `tally-${s}`,
        static_configs: [{ targets: [internalUrls[s].replace('http://', '')] }],
      })),
    };
    writeFileSync(path.join(dataDir, 'prometheus.yml'), JSON.stringify(config));
    prometheus = spawn(
      opsBinary('prometheus'),
      [
        `--config.file=${path.join(dataDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dataDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(async () => (await fetch(`${promUrl}/-/ready`)).ok, {
      timeoutMs: 30_000,
      what: 'Prometheus ready',
    });
    // Enough scrapes after the traffic for rates over RATE_INTERVAL.
    await waitFor(
      async () => {
        const answer = await instant('count(sum_over_time(up[20s]) >= 5)');
        return (answer.data.result[0] as { value: [number, string] } | undefined)?.value[1] === '4';
      },
      { timeoutMs: 60_000, intervalMs: 500, what: '5 successful scrapes of each service' },
    );
  }, 300_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await Promise.all(Object.values(services).map((s) => s?.stop()));
    await deleteStreams(nc, names).catch(() => undefined);
    await nc?.drain();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('scrapes the four services', async () => {
    const answer = await prom<{
      activeTargets: { labels: { job: string }; health: string; lastError: string }[];
    }>('targets');
    const health = Object.fromEntries(
      answer.data.activeTargets.map((t) => [t.labels.job, t.health || t.lastError]),
    );
    expect(health).toEqual({
      'tally-gateway': 'up',
      'tally-query': 'up',
      'tally-writer': 'up',
      'tally-billing-worker': 'up',
    });
  });

  it('answers every dashboard query with series', async () => {
    const dir = path.join(repoRoot, 'deploy/grafana/dashboards');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['api.json', 'billing.json', 'ingestion.json', 'writer-lag.json']);
    const queries = files.flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      return dashboard.panels.flatMap((panel) =>
        panel.targets.map(({ expr }) => ({ file, title: panel.title, expr })),
      );
    });
    expect(queries.length).toBeGreaterThan(30);
    const check = async (q: (typeof queries)[number]): Promise<string | undefined> => {
      const answer = await instant(q.expr.replaceAll('$__rate_interval', RATE_INTERVAL));
      if (answer.status !== 'success') return `${q.file} "${q.title}": ${answer.error}`;
      if (answer.data.result.length === 0) return `${q.file} "${q.title}": no series for ${q.expr}`;
      return undefined;
    };
    // A query that comes back empty is asked again for a while: one slow scrape on a loaded machine
    // makes a target's series stale until the next one succeeds.
    let failing = queries;
    let failures: string[] = [];
    for (let attempt = 0; attempt < 10 && failing.length; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 2_000));
      const results = await Promise.all(failing.map(async (q) => ({ q, failure: await check(q) })));
      failing = results.filter((r) => r.failure).map((r) => r.q);
      failures = results.flatMap((r) => (r.failure ? [r.failure] : []));
    }
    expect(failures).toEqual([]);
  });

  it('evaluates every alert rule without error, on metrics the services export', async () => {
    const rules = parse(
      readFileSync(path.join(repoRoot, 'deploy/prometheus/rules/tally-alerts.yml'), 'utf8'),
    ) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const alerts = rules.groups.flatMap((g) => g.rules);
    expect(alerts.length).toBeGreaterThanOrEqual(5);
    // Prometheus itself evaluated the loaded rules: health ok, no error.
    await waitFor(
      async () => {
        const answer = await prom<{
          groups: { rules: { name: string; health: string; lastError?: string }[] }[];
        }>('rules');
        const loaded = answer.data.groups.flatMap((g) => g.rules);
        return loaded.length === alerts.length && loaded.every((r) => r.health === 'ok');
      },
      { timeoutMs: 20_000, what: 'every rule evaluated with health ok' },
    );
    const missing: string[] = [];
    for (const { alert, expr } of alerts) {
      const answer = await instant(expr);
      if (answer.status !== 'success') missing.push(`${alert}: ${answer.error}`);
      // An alert that is not firing answers nothing; what it reads must still exist.
      for (const metric of new Set(expr.match(/\b(?:tally|temporal)_[a-z0-9_]+|\bup\b/g) ?? [])) {
        // Over the last minute, so that one slow scrape (stale series) does not count as missing.
        const series = await instant(`count(last_over_time(${metric}{job=~"tally-.*"}[1m]))`);
        if (series.data.result.length === 0) missing.push(`${alert}: no series of ${metric}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("names the gateway request's id in the writer's log line for the batch", () => {
    const line = services.writer
      ?.output()
      .split('\n')
      .find((l) => l.includes('"batch stored"') && l.includes(REQUEST_ID));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({ inserted: 20, requestIds: [REQUEST_ID] });
  });
});
