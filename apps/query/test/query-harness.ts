import { jetstreamManager } from '@nats-io/jetstream';
import { ApiKeyStore, CatalogStore, type ApiKeyRole } from '@tally/catalog';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import { connectNats, natsNames, type NatsConnection, type NatsNames } from '@tally/nats';
import {
  freePort,
  randomPrefix,
  startService,
  testNatsUrl,
  waitFor,
  type ServiceProcess,
  testNatsAuth,
} from '@tally/testing';

export interface HttpResult {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of any shape, read field by field by tests
  body: any;
  headers: Headers;
}

/**
 * The query service as a real process on its own NATS prefix (catalog and key buckets) and its own
 * ClickHouse database, plus direct handles on the same buckets to arrange and inspect state.
 */
export class QueryHarness {
  service!: ServiceProcess;
  url!: string;
  /** The internal listener: `/metrics` and the detailed `/health` (docs/operations.md#internal-port). */
  internalUrl!: string;
  nc!: NatsConnection;
  names!: NatsNames;
  natsUrl!: string;
  db!: TestDatabase;
  store!: CatalogStore;
  keys!: ApiKeyStore;

  async start(extraEnv: Record<string, string> = {}): Promise<this> {
    this.natsUrl = testNatsUrl();
    this.names = natsNames(randomPrefix('t'));
    this.nc = await connectNats(this.natsUrl, 'query-harness', testNatsAuth());
    this.db = await createTestDatabase();
    this.store = await CatalogStore.open(this.nc, this.names);
    this.keys = await ApiKeyStore.open(this.nc, this.names);
    const port = await freePort();
    const internalPort = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.internalUrl = `http://127.0.0.1:${internalPort}`;
    this.service = startService('query', {
      NATS_URL: this.natsUrl,
      TALLY_NATS_PREFIX: this.names.prefix,
      CLICKHOUSE_DATABASE: this.db.database,
      QUERY_PORT: String(port),
      QUERY_INTERNAL_PORT: String(internalPort),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    });
    await waitFor(
      async () => {
        if (this.service.child.exitCode !== null)
          throw new Error(`query exited early:\n${this.service.output()}`);
        return (await fetch(`${this.internalUrl}/health`).catch(() => undefined))?.ok;
      },
      { timeoutMs: 60_000, what: 'query internal /health' },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- query output ---\n${this.service.output()}`);
    });
    return this;
  }

  /** A tenant with one key per role, usable against the service once its key watch has them. */
  async tenant(id: string): Promise<Record<ApiKeyRole, string>> {
    await this.store.putTenant({ id, name: id, timezone: 'UTC', currency: 'USD' });
    const keys = {} as Record<ApiKeyRole, string>;
    for (const role of ['admin', 'query', 'ingest'] as const)
      keys[role] = (await this.keys.create(id, role, `${role} test key`)).key;
    await this.waitForKey(keys.ingest);
    return keys;
  }

  /** Waits until the service authenticates `key` (its key store follows the bucket by a watch). */
  async waitForKey(key: string): Promise<void> {
    await waitFor(async () => (await this.request('GET', '/v1/tenant', { key })).status !== 401, {
      timeoutMs: 5_000,
      intervalMs: 20,
      what: 'the key to reach the query service',
    });
  }

  async request(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (Swagger UI's HTML): the text itself.
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  async stop(): Promise<void> {
    const exit = await this.service?.stop();
    await this.keys?.close();
    const jsm = await jetstreamManager(this.nc).catch(() => undefined);
    for (const bucket of [this.names.catalogBucket, this.names.apiKeysBucket]) {
      await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
    }
    await this.nc?.close();
    await this.db?.drop();
    // Nest re-raises the signal after its shutdown hooks ran: SIGTERM is a clean stop.
    if (exit !== undefined && exit !== 0 && exit !== 'SIGTERM')
      throw new Error(`query exited with ${String(exit)}:\n${this.service.output()}`);
  }
}

/** A path segment as clients must send it. */
export const seg = (id: string): string => encodeURIComponent(id);
