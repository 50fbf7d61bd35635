import { ApiKeyStore, CatalogStore, type Tenant } from '@tally/catalog';
import { sql } from '@tally/clickhouse';
import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import {
  connectNats,
  deleteStreams,
  ensureStreams,
  natsNames,
  type NatsConnection,
  type NatsNames,
} from '@tally/nats';
import { freePort, randomPrefix, startService, testNatsUrl, waitFor, type ServiceProcess, testStreamLimits, testNatsAuth, waitUntilHealthy } from '@tally/testing';
import { jetstreamManager } from '@nats-io/jetstream';

export interface HarnessOptions {
  gatewayEnv?: Record<string, string>;
  writerEnv?: Record<string, string>;
  /** ClickHouse URL the writer uses (e.g. a TcpProxy in front of the real server). */
  writerClickhouseUrl?: string;
  natsUrl?: string;
  /** The NATS prefix (random by default), e.g. when the test wrote a server configuration for it. */
  prefix?: string;
  startWriter?: boolean;
}

/**
 * A gateway and a writer as real processes against real NATS and ClickHouse, isolated by their own
 * NATS prefix (streams, subjects, buckets) and their own ClickHouse database.
 */
export class IngestionHarness {
  gateway!: ServiceProcess;
  /** Gateways started by `startGateway`, beside the first. */
  gateways: ServiceProcess[] = [];
  writer?: ServiceProcess;
  gatewayUrl!: string;
  nc!: NatsConnection;
  db!: TestDatabase;
  names!: NatsNames;
  catalog!: CatalogStore;
  keys!: ApiKeyStore;
  private writerPort = 0;
  private env: Record<string, string> = {};

  constructor(private readonly options: HarnessOptions = {}) {}

  async start(): Promise<this> {
    const prefix = this.options.prefix ?? randomPrefix('t');
    this.names = natsNames(prefix);
    const natsUrl = this.options.natsUrl ?? testNatsUrl();
    this.nc = await connectNats(natsUrl, 'ingestion-harness', testNatsAuth());
    await ensureStreams(this.nc, this.names, testStreamLimits);
    this.db = await createTestDatabase();
    this.catalog = await CatalogStore.open(this.nc, this.names);
    this.keys = await ApiKeyStore.open(this.nc, this.names);
    const gatewayPort = await freePort();
    this.writerPort = await freePort();
    this.gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    this.env = {
      NATS_URL: natsUrl,
      TALLY_NATS_PREFIX: prefix,
      CLICKHOUSE_DATABASE: this.db.database,
      LOG_LEVEL: 'warn',
    };
    this.gateway = startService('gateway', {
      ...this.env,
      GATEWAY_PORT: String(gatewayPort),
      ...this.options.gatewayEnv,
    });
    await waitUntilHealthy(this.gateway, this.gatewayUrl, { timeoutMs: 60_000 });
    if (this.options.startWriter !== false) await this.startWriter();
    return this;
  }

  /** One more gateway on the same NATS prefix and database; returns its base URL. */
  async startGateway(extraEnv: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    const gateway = startService('gateway', { ...this.env, GATEWAY_PORT: String(port), ...this.options.gatewayEnv, ...extraEnv });
    this.gateways.push(gateway);
    await waitUntilHealthy(gateway, `http://127.0.0.1:${port}`, { timeoutMs: 60_000 });
    return `http://127.0.0.1:${port}`;
  }

  async startWriter(extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const writer = startService('writer', {
      ...this.env,
      WRITER_PORT: String(this.writerPort),
      WRITER_FLUSH_INTERVAL_MS: '200',
      ...(this.options.writerClickhouseUrl ? { CLICKHOUSE_URL: this.options.writerClickhouseUrl } : {}),
      ...this.options.writerEnv,
      ...extraEnv,
    });
    this.writer = writer;
    await waitUntilHealthy(writer, `http://127.0.0.1:${this.writerPort}`, { timeoutMs: 60_000 });
    return writer;
  }

  async tenant(id: string, settings: Partial<Tenant> = {}): Promise<{ ingestKey: string; queryKey: string }> {
    await this.catalog.putTenant({
      id,
      name: id,
      timezone: 'UTC',
      currency: 'USD',
      latenessLimitDays: 35,
      rateLimitPerSecond: 100_000,
      requireKnownCustomers: false,
      ...settings,
    });
    const ingest = await this.keys.create(id, 'ingest', 'test ingest key');
    const query = await this.keys.create(id, 'query', 'test query key');
    // Gateway and writer learn about the tenant and keys through their KV watches.
    await waitFor(async () => (await this.post({ events: [] }, ingest.key)).status !== 401, {
      what: 'key to propagate',
    });
    return { ingestKey: ingest.key, queryKey: query.key };
  }

  async post(
    body: unknown,
    key: string,
    contentType = 'application/json',
    gatewayUrl = this.gatewayUrl,
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const response = await fetch(`${gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  }

  /** Rows of one tenant in ClickHouse, read straight from the real server. */
  async rows(tenant: string): Promise<
    {
      event_id: string;
      customer: string;
      event_type: string;
      quantity: string;
      props: string[][];
      ts: number;
      ts_ms: number;
    }[]
  > {
    const rows = await this.db.client.query<{
      event_id: string;
      customer: string;
      event_type: string;
      quantity: string;
      props: string[][];
      ts: number;
      ts_ms: number;
    }>(
      sql`SELECT event_id, customer, event_type, toString(quantity) AS quantity, arrayMap((k, v) -> [k, v], properties.key, properties.value) AS props, toUInt32(ts) AS ts, ts_ms FROM ${this.db.client.table('events')} WHERE tenant = ${tenant} ORDER BY event_id`,
      { exactNumbers: true },
    );
    return rows.map((r) => ({ ...r, quantity: trimDecimal(r.quantity) }));
  }

  async total(tenant: string): Promise<{ events: string; quantity: string }> {
    const [row] = await this.db.client.query<{ events: string; quantity: string }>(
      sql`SELECT toString(count()) AS events, toString(sum(quantity)) AS quantity FROM ${this.db.client.table('events')} WHERE tenant = ${tenant}`,
      { exactNumbers: true },
    );
    return { events: row.events, quantity: trimDecimal(row.quantity) };
  }

  async waitForEvents(tenant: string, count: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => Number((await this.total(tenant)).events) >= count, {
      timeoutMs,
      what: `${count} events of ${tenant} in ClickHouse`,
    });
  }

  /** Waits until the writers stored everything: the events stream is a work queue, acked messages leave it. */
  async waitForDrained(timeoutMs = 30_000): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await waitFor(
      async () => (await jsm.streams.info(this.names.eventsStream)).state.messages === 0,
      { timeoutMs, what: 'the events stream to drain' },
    );
  }

  async stop(): Promise<void> {
    await Promise.all([this.gateway?.stop(), ...this.gateways.map((g) => g.stop()), this.writer?.stop()]);
    await this.keys?.close();
    await deleteStreams(this.nc, this.names).catch(() => undefined);
    const jsm = await jetstreamManager(this.nc).catch(() => undefined);
    for (const bucket of [this.names.catalogBucket, this.names.apiKeysBucket, this.names.gatewayLimitsBucket]) {
      await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
    }
    await this.nc?.close();
    await this.db?.drop();
  }
}

/** 18.16 prints Decimal(38, 12) with all 12 fraction digits; compare canonical forms. */
export function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/\.?0+$/, '') : value;
}
