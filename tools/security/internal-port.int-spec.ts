import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import {
  connectNats,
  deleteStreams,
  ensureStreams,
  natsNames,
  type NatsConnection,
  type NatsNames,
} from '@tally/nats';
import {
  freePort,
  internalPortEnv,
  randomPrefix,
  startService,
  testNatsAuth,
  testNatsUrl,
  testStreamLimits,
  testTemporalAddress,
  waitFor,
  type ServiceProcess,
} from '@tally/testing';

/**
 * `/metrics` (labelled by tenant) and the detailed `/health` (dependencies and their errors) are on
 * each service's internal listener, never on the public API port (docs/operations.md#internal-port).
 * The real services, as production runs them: gateway, query and writer with a public and an
 * internal port, the billing worker with its internal port only.
 */
const HTTP_APPS = { gateway: 'GATEWAY_PORT', query: 'QUERY_PORT', writer: 'WRITER_PORT' } as const;
type HttpApp = keyof typeof HTTP_APPS;

describe('internal port: metrics and detailed health off the public API', () => {
  let nc: NatsConnection;
  let names: NatsNames;
  let db: TestDatabase;
  const services: ServiceProcess[] = [];
  const publicUrl = {} as Record<HttpApp, string>;
  const internalUrl = {} as Record<HttpApp | 'billing-worker', string>;

  const get = async (url: string) => {
    const response = await fetch(url);
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      text: await response.text(),
    };
  };

  beforeAll(async () => {
    names = natsNames(randomPrefix('t'));
    nc = await connectNats(testNatsUrl(), 'internal-port-test', testNatsAuth());
    await ensureStreams(nc, names, testStreamLimits);
    db = await createTestDatabase();
    const env = {
      NATS_URL: testNatsUrl(),
      TEMPORAL_ADDRESS: testTemporalAddress(),
      TALLY_NATS_PREFIX: names.prefix,
      CLICKHOUSE_DATABASE: db.database,
      TALLY_TASK_QUEUE: names.prefix,
      BILLING_SCHEDULES: 'false',
      LOG_LEVEL: 'warn',
    };
    for (const [app, portEnv] of Object.entries(HTTP_APPS) as [HttpApp, string][]) {
      const [port, internal] = [await freePort(), await freePort()];
      publicUrl[app] = `http://127.0.0.1:${port}`;
      internalUrl[app] = `http://127.0.0.1:${internal}`;
      services.push(
        startService(app, { ...env, [portEnv]: String(port), [internalPortEnv(app)]: String(internal) }),
      );
    }
    // The billing worker on port 0 (any free port), found from its log line: the other way to find it.
    const worker = startService('billing-worker', {
      ...env,
      LOG_LEVEL: 'info',
      BILLING_WORKER_INTERNAL_PORT: '0',
    });
    services.push(worker);
    const workerPort = await waitFor(
      async () => {
        if (worker.child.exitCode !== null) throw new Error(`billing worker exited:\n${worker.output()}`);
        return /"internalPort":(\d+)/.exec(worker.output())?.[1];
      },
      { timeoutMs: 90_000, what: 'the billing worker to log its internal port' },
    );
    internalUrl['billing-worker'] = `http://127.0.0.1:${workerPort}`;
    for (const [app, url] of Object.entries(internalUrl)) {
      await waitFor(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, {
        timeoutMs: 90_000,
        what: `${app} internal /health`,
      }).catch((error: Error) => {
        throw new Error(`${error.message}\n${services.map((s) => s.output().slice(-2000)).join('\n---\n')}`);
      });
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await deleteStreams(nc, names).catch(() => undefined);
    await nc?.drain();
    await db?.drop();
  });

  it.each(Object.keys(HTTP_APPS) as HttpApp[])(
    '%s: the public port answers 404 to /metrics and a plain liveness /health; the internal port serves both in full',
    async (app) => {
      const publicMetrics = await get(`${publicUrl[app]}/metrics`);
      expect(publicMetrics.status).toBe(404);
      expect(publicMetrics.text).not.toContain('process_cpu');
      expect(JSON.parse(publicMetrics.text)).toMatchObject({ error: { code: 'NOT_FOUND' } });

      const liveness = await get(`${publicUrl[app]}/health`);
      expect(liveness.status).toBe(200);
      expect(JSON.parse(liveness.text)).toEqual({ status: 'ok' }); // no components, no error texts

      const metrics = await get(`${internalUrl[app]}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.type).toContain('text/plain');
      expect(metrics.text).toContain(`process_cpu_user_seconds_total{service="${app}"}`);

      const health = await get(`${internalUrl[app]}/health`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', checks: { nats: 'ok' } });

      // The internal listener serves nothing of the API.
      expect((await get(`${internalUrl[app]}/v1/tenant`)).status).toBe(404);
    },
  );

  it('names the dependencies in the detailed /health: ClickHouse for the query service and the writer', async () => {
    for (const app of ['query', 'writer'] as const)
      expect(JSON.parse((await get(`${internalUrl[app]}/health`)).text).checks).toMatchObject({
        clickhouse: 'ok',
      });
  });

  it('billing worker: its only listener is internal, its /health reports temporal and nats, /metrics includes the SDK metrics', async () => {
    const health = await get(`${internalUrl['billing-worker']}/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: 'ok', checks: { temporal: 'ok', nats: 'ok' } });
    const metrics = await get(`${internalUrl['billing-worker']}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('tally_billing_sdk_metrics_up{service="billing-worker"} 1');
    expect(metrics.text).toMatch(/^temporal_/m);
  });
});
