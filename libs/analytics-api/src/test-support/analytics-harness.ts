import { request as httpRequest } from 'node:http';
import { jetstreamManager } from '@nats-io/jetstream';
import { ApiKeyStore, CatalogStore, type ApiKeyRole, type TenantInput } from '@tally/catalog';
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
  randomPrefix,
  startService,
  testNatsUrl,
  waitFor,
  type ServiceProcess,
  testStreamLimits,
  testNatsAuth,
  waitUntilHealthy,
} from '@tally/testing';

export interface HttpResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON answers, read field by field in tests
  body: any;
  text: string;
  headers: Headers;
}

/**
 * The gateway, the writer and the query service as real processes against the real NATS and
 * ClickHouse, isolated by their own NATS prefix (streams, subjects, buckets) and ClickHouse database:
 * data points go in through the gateway and come out through `POST /v1/sql`.
 */
export class AnalyticsHarness {
  readonly services: ServiceProcess[] = [];
  gatewayUrl!: string;
  queryUrl!: string;
  nc!: NatsConnection;
  names!: NatsNames;
  natsUrl!: string;
  db!: TestDatabase;
  store!: CatalogStore;
  keys!: ApiKeyStore;

  constructor(private readonly gatewayEnv: Record<string, string> = {}) {}

  async start(): Promise<this> {
    this.natsUrl = testNatsUrl();
    this.names = natsNames(randomPrefix('t'));
    this.nc = await connectNats(this.natsUrl, 'analytics-harness', testNatsAuth());
    await ensureStreams(this.nc, this.names, testStreamLimits);
    this.db = await createTestDatabase();
    this.store = await CatalogStore.open(this.nc, this.names);
    this.keys = await ApiKeyStore.open(this.nc, this.names);
    const [gatewayPort, writerPort, queryPort] = [await freePort(), await freePort(), await freePort()];
    this.gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    this.queryUrl = `http://127.0.0.1:${queryPort}`;
    const env = {
      NATS_URL: this.natsUrl,
      TALLY_NATS_PREFIX: this.names.prefix,
      CLICKHOUSE_DATABASE: this.db.database,
      LOG_LEVEL: 'warn',
    };
    // Started together: on two cores the three boots overlap well.
    const starts: Array<[string, Record<string, string>, string]> = [
      ['gateway', { ...env, GATEWAY_PORT: String(gatewayPort), ...this.gatewayEnv }, this.gatewayUrl],
      [
        'writer',
        { ...env, WRITER_PORT: String(writerPort), WRITER_FLUSH_INTERVAL_MS: '100' },
        `http://127.0.0.1:${writerPort}`,
      ],
      ['query', { ...env, QUERY_PORT: String(queryPort), QUERY_DOCS: 'false' }, this.queryUrl],
    ];
    await Promise.all(
      starts.map(async ([app, appEnv, url]) => {
        const service = startService(app, appEnv);
        this.services.push(service);
        await waitUntilHealthy(service, url, { what: `${app} /health` });
      }),
    );
    return this;
  }

  /** A tenant that accepts points from 2016 on (the seeds' queries read March 2023), with a key per role. */
  async tenant(id: string, settings: Partial<TenantInput> = {}): Promise<Record<ApiKeyRole, string>> {
    await this.store.putTenant({
      id,
      name: id,
      timezone: 'UTC',
      currency: 'USD',
      latenessLimitDays: 3650,
      rateLimitPerSecond: 10_000_000,
      ...settings,
    });
    const keys = {} as Record<ApiKeyRole, string>;
    for (const role of ['admin', 'query', 'ingest'] as const)
      keys[role] = (await this.keys.create(id, role, `${role} test key`)).key;
    // Both services learn about keys through their KV watches.
    await waitFor(async () => (await this.points('probe', { points: [] }, keys.ingest)).status === 422, {
      what: 'the key to reach the gateway',
    });
    await waitFor(async () => (await this.query('GET', '/v1/datasets', keys.query)).status === 200, {
      what: 'the key to reach the query service',
    });
    return keys;
  }

  points(dataset: string, body: unknown, key: string, contentType = 'application/json'): Promise<HttpResult> {
    return request(
      `${this.gatewayUrl}/v1/datasets/${encodeURIComponent(dataset)}/points`,
      'POST',
      key,
      body,
      contentType,
    );
  }

  /**
   * The status of a request announcing a `bytes`-long body (Content-Length), without sending it.
   */
  oversized(dataset: string, bytes: number, key: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${this.gatewayUrl}/v1/datasets/${dataset}/points`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': bytes,
        },
      });
      // Only the headers: the gateway refuses on Content-Length alone, before any body is read (and
      // a client still writing when the server closes would see EPIPE instead of the answer).
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
  }

  /** `POST /v1/sql` with the SQL text as the body, as curl --data-binary sends it. */
  sql(
    text: string,
    key: string,
    options: { format?: string; contentType?: string } = {},
  ): Promise<HttpResult> {
    const qs = options.format ? `?format=${encodeURIComponent(options.format)}` : '';
    return request(`${this.queryUrl}/v1/sql${qs}`, 'POST', key, text, options.contentType ?? 'text/plain');
  }

  query(method: string, path: string, key: string, body?: unknown): Promise<HttpResult> {
    return request(`${this.queryUrl}${path}`, method, key, body, 'application/json');
  }

  /** Waits until the points writer has stored (and acked) everything published so far. */
  async waitForPointsDrained(timeoutMs = 30_000): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(this.names.pointsStream, this.names.pointsWriterConsumer);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { timeoutMs, intervalMs: 50, what: 'the points writer to drain' },
    );
  }

  /** The points consumer's state and the last lines each service wrote, for a failing test's message. */
  async diagnostics(): Promise<string> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers
      .info(this.names.pointsStream, this.names.pointsWriterConsumer)
      .catch(String);
    const stream = await jsm.streams.info(this.names.pointsStream).catch(String);
    return [
      `points consumer: ${JSON.stringify(typeof info === 'string' ? info : { ...info, config: undefined })}`,
      `points stream: ${JSON.stringify(typeof stream === 'string' ? stream : stream.state)}`,
      ...this.services.map((s, i) => `--- service ${i} ---\n${s.output().slice(-3000)}`),
    ].join('\n');
  }

  async stop(): Promise<void> {
    const exits = await Promise.all(this.services.map((s) => s.stop()));
    await this.keys?.close();
    await deleteStreams(this.nc, this.names).catch(() => undefined);
    const jsm = await jetstreamManager(this.nc).catch(() => undefined);
    for (const bucket of [this.names.catalogBucket, this.names.apiKeysBucket]) {
      await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
    }
    await this.nc?.close();
    await this.db?.drop();
    // Nest re-raises the signal after its shutdown hooks ran: SIGTERM is a clean stop.
    exits.forEach((exit, i) => {
      if (exit !== 0 && exit !== 'SIGTERM')
        throw new Error(`a service exited with ${String(exit)}:\n${this.services[i].output()}`);
    });
  }
}

async function request(
  url: string,
  method: string,
  key: string,
  body: unknown,
  contentType: string,
): Promise<HttpResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = contentType;
  const response = await fetch(url, {
    method,
    headers,
    body:
      body === undefined
        ? undefined
        : typeof body === 'string' || Buffer.isBuffer(body)
          ? body
          : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}
