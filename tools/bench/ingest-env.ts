import { jetstreamManager } from '@nats-io/jetstream';
import { ApiKeyStore, CatalogStore } from '@tally/catalog';
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
import {
  freePort,
  randomPrefix,
  startService,
  testNatsUrl,
  waitFor,
  type ServiceProcess,
  testNatsAuth,
} from '@tally/testing';

export interface IngestEnvOptions {
  gatewayEnv?: Record<string, string>;
  writerEnv?: Record<string, string>;
}

/**
 * A gateway and a writer as real processes (the same `apps/<app>/src/main.ts` production runs),
 * isolated on their own NATS prefix (streams, subjects, buckets) and their own ClickHouse database,
 * as apps/gateway/test/ingestion-harness.ts does for the integration tests.
 */
export class IngestEnv {
  gateway!: ServiceProcess;
  writer!: ServiceProcess;
  gatewayUrl = '';
  writerUrl = '';
  nc!: NatsConnection;
  readonly natsUrl = testNatsUrl();
  db!: TestDatabase;
  names!: NatsNames;
  private catalog?: CatalogStore;
  private keys?: ApiKeyStore;

  private opened(): { catalog: CatalogStore; keys: ApiKeyStore } {
    if (!this.catalog || !this.keys) throw new Error('IngestEnv.start() first');
    return { catalog: this.catalog, keys: this.keys };
  }

  constructor(private readonly options: IngestEnvOptions = {}) {}

  async start(): Promise<this> {
    const prefix = randomPrefix('bench');
    this.names = natsNames(prefix);
    const natsUrl = this.natsUrl;
    this.nc = await connectNats(natsUrl, 'ingest-bench', testNatsAuth());
    await ensureStreams(this.nc, this.names);
    this.db = await createTestDatabase();
    this.catalog = await CatalogStore.open(this.nc, this.names);
    this.keys = await ApiKeyStore.open(this.nc, this.names);
    const [gatewayPort, writerPort] = [await freePort(), await freePort()];
    this.gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    this.writerUrl = `http://127.0.0.1:${writerPort}`;
    const env = {
      NATS_URL: natsUrl,
      TALLY_NATS_PREFIX: prefix,
      CLICKHOUSE_DATABASE: this.db.database,
      LOG_LEVEL: 'warn',
    };
    this.gateway = startService('gateway', {
      ...env,
      GATEWAY_PORT: String(gatewayPort),
      ...this.options.gatewayEnv,
    });
    this.writer = startService('writer', {
      ...env,
      WRITER_PORT: String(writerPort),
      ...this.options.writerEnv,
    });
    await Promise.all([healthy(this.gatewayUrl, this.gateway), healthy(this.writerUrl, this.writer)]);
    return this;
  }

  /** Creates the tenant and an ingest key, and waits until the gateway knows the key. */
  async tenant(id: string, rateLimitPerSecond: number): Promise<string> {
    const { catalog, keys } = this.opened();
    await catalog.putTenant({
      id,
      name: id,
      timezone: 'UTC',
      currency: 'USD',
      latenessLimitDays: 35,
      rateLimitPerSecond,
      requireKnownCustomers: false,
    });
    const { key } = await keys.create(id, 'ingest', 'ingest benchmark');
    await waitFor(
      async () => {
        const response = await fetch(`${this.gatewayUrl}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: '{"events":[]}',
        });
        return response.status !== 401;
      },
      { what: 'the ingest key to reach the gateway' },
    );
    return key;
  }

  /**
   * Rows in `events` from the active parts' row counts: what `count()` answers, for about 1 ms of
   * server CPU instead of ~40 ms at a few million rows. The bench samples it several times a second,
   * and a `count()` that often took a tenth of a core that ClickHouse's share was then charged with.
   * Exact because the bench's database holds only the bench tenant's events, and a merge swaps its
   * parts atomically.
   */
  async storedRows(): Promise<number> {
    const [row] = await this.db.client.query<{ n: string }>(
      sql`SELECT toString(sum(rows)) AS n FROM system.parts WHERE database = ${this.db.database} AND table = 'events' AND active`,
      { operation: 'bench stored rows' },
    );
    return Number(row.n);
  }

  /** SIGTERM each service, SIGKILL what has not exited after `graceMs`. */
  async stopServices(graceMs = 15_000): Promise<void> {
    await Promise.all(
      [this.gateway, this.writer].filter(Boolean).map(async (service) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          service.stop('SIGTERM').then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
        ]);
        clearTimeout(timer);
        if (timedOut) await service.stop('SIGKILL');
      }),
    );
  }

  async stop(): Promise<void> {
    await this.stopServices();
    await this.keys?.close();
    if (this.nc) {
      await deleteStreams(this.nc, this.names).catch(() => undefined);
      const jsm = await jetstreamManager(this.nc).catch(() => undefined);
      for (const bucket of [this.names.catalogBucket, this.names.apiKeysBucket]) {
        await jsm?.streams.delete(`KV_${bucket}`).catch(() => undefined);
      }
      await this.nc.close();
    }
    await this.db?.drop();
  }
}

async function healthy(url: string, service: ServiceProcess): Promise<void> {
  await waitFor(
    async () => {
      if (service.child.exitCode !== null) throw new Error(`exited early:\n${service.output()}`);
      return (await fetch(`${url}/health`).catch(() => undefined))?.ok;
    },
    { timeoutMs: 60_000, what: `${url}/health` },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- service output ---\n${service.output()}`);
  });
}
