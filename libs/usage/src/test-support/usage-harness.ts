/**
 * For integration tests: the usage module in a real Nest app (Fastify, Tally's exception filter, the
 * API-key guard) on a free port, against the real NATS and ClickHouse, isolated by its own NATS prefix
 * (buckets) and its own ClickHouse database. Events go straight into `events` with `insertEvents` (the
 * writer's own insert, so the roll-up's view fires exactly as in production).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { ApiKeyStore, CatalogProjection, CatalogStore, type TenantInput } from '@tally/catalog';
import { type EventRow, insertEvents } from '@tally/clickhouse';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import { connectNats, type NatsConnection, natsNames, type NatsNames } from '@tally/nats';
import { type NestFastifyApplication, startHttpApp } from '@tally/nest-kit';
import { createLogger } from '@tally/observability';
import { freePort, randomPrefix, testNatsUrl, waitFor, testNatsAuth } from '@tally/testing';
import { UsageModule } from '../usage.module';
import type { UsageOptions } from '../usage-options';
import { AlertEvaluator } from '../alerts/alert-evaluator';

export interface TestEvent {
  tenant: string;
  id: string;
  /** ISO time with milliseconds. */
  at: string;
  customer: string;
  type: string;
  quantity?: string;
  properties?: Record<string, string>;
}

export function toRow(e: TestEvent): EventRow {
  const ms = Date.parse(e.at);
  return {
    tenant: e.tenant,
    customer: e.customer,
    eventType: e.type,
    ts: Math.floor(ms / 1000),
    tsMs: ms % 1000,
    eventId: e.id,
    quantity: e.quantity ?? '1',
    properties: e.properties ?? {},
    source: 'test',
    schemaVersion: '1',
    requestId: '',
    receivedAt: Math.floor(ms / 1000),
    payloadHash: e.id,
  };
}

export class UsageHarness {
  nc!: NatsConnection;
  names!: NatsNames;
  db!: TestDatabase;
  store!: CatalogStore;
  keys!: ApiKeyStore;
  cache!: CatalogProjection;
  app!: NestFastifyApplication;
  url!: string;
  private readonly replicas: NestFastifyApplication[] = [];
  clock = new Date('2026-03-20T12:00:00Z');

  constructor(private readonly options: Partial<UsageOptions> = {}) {}

  async start(): Promise<this> {
    this.names = natsNames(randomPrefix('t'));
    this.nc = await connectNats(testNatsUrl(), 'usage-harness', testNatsAuth());
    this.db = await createTestDatabase();
    this.store = await CatalogStore.open(this.nc, this.names);
    this.keys = await ApiKeyStore.open(this.nc, this.names);
    this.cache = await CatalogProjection.open(this.nc, this.names);
    const { app, url } = await this.startApp();
    this.app = app;
    this.url = url;
    return this;
  }

  /** A second query instance on the same NATS prefix and database (as two replicas would be). */
  async startReplica(): Promise<NestFastifyApplication> {
    const { app } = await this.startApp();
    this.replicas.push(app);
    return app;
  }

  private async startApp(): Promise<{ app: NestFastifyApplication; url: string }> {
    const port = await freePort();
    const logger = createLogger('usage-test', process.env.LOG_LEVEL ?? 'warn');
    const app = await startHttpApp(
      UsageModule.register({
        clickhouse: this.db.client,
        cache: this.cache,
        nc: this.nc,
        names: this.names,
        keys: this.keys,
        logger,
        now: () => this.clock,
        options: { alertIntervalMs: 0, rollupCheckIntervalMs: 0, ...this.options },
      }),
      { port, logger, maxParamLength: 1024 },
    );
    return { app, url: `http://127.0.0.1:${port}` };
  }

  get alerts(): AlertEvaluator {
    return this.app.get(AlertEvaluator);
  }

  /** Creates a tenant and returns a query key (and an ingest key, for 403 checks) for it. */
  async tenant(input: Partial<TenantInput> & { id: string }): Promise<{ query: string; ingest: string }> {
    await this.store.putTenant({ name: input.id, timezone: 'UTC', currency: 'USD', ...input });
    const query = await this.keys.create(input.id, 'query', 'test');
    const ingest = await this.keys.create(input.id, 'ingest', 'test');
    await waitFor(async () => this.cache.getTenant(input.id) !== undefined, { what: 'tenant in cache' });
    return { query: query.key, ingest: ingest.key };
  }

  /** Waits until the module's caches (meters, customers, plans, subscriptions, rules) caught up. */
  async settle(check: () => boolean): Promise<void> {
    await waitFor(async () => check(), {
      timeoutMs: 5_000,
      intervalMs: 20,
      what: 'catalog change to propagate',
    });
  }

  async insert(events: TestEvent[]): Promise<void> {
    await insertEvents(this.db.client, this.db.database, events.map(toRow));
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
  async get(path: string, key: string | undefined): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.url}${path}`, {
      headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  async stop(): Promise<void> {
    for (const replica of this.replicas) await replica.close();
    await this.app?.close();
    await this.keys?.close();
    await this.cache?.close();
    const jsm = await jetstreamManager(this.nc).catch(() => undefined);
    for (const bucket of [this.names.catalogBucket, this.names.apiKeysBucket, this.names.alertStateBucket]) {
      await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
    }
    await this.nc?.close();
    await this.db?.drop();
  }
}

/** `?a=1&b=x&b=y` from an object (arrays repeat the key). */
export function qs(params: Record<string, string | number | boolean | Array<string> | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) search.append(k, String(item));
  }
  return `?${search.toString()}`;
}
