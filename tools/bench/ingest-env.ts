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
  waitUntilHealthy,
} from '@tally/testing';

export interface IngestEnvOptions {
  gatewayEnv?: Record<string, string>;
  writerEnv?: Record<string, string>;
  /** Gateway processes (default 1); each has its own port. */
  gateways?: number;
  /** Writer processes (default 1), sharing the events stream's partitions through their leases. */
  writers?: number;
  /** Partitions of the events stream (`TALLY_EVENT_PARTITIONS`, default 1): at most this many writers store at once. */
  partitions?: number;
}

/**
 * Gateways and writers as real processes (the same `apps/<app>/src/main.ts` production runs),
 * isolated on their own NATS prefix (streams, subjects, buckets) and their own ClickHouse database,
 * as apps/gateway/test/ingestion-harness.ts does for the integration tests.
 */
export class IngestEnv {
  gateways: ServiceProcess[] = [];
  writers: ServiceProcess[] = [];
  gatewayUrls: string[] = [];
  writerUrls: string[] = [];
  /** Each writer's internal listener (`/metrics`, detailed `/health`; docs/operations.md#internal-port). */
  writerInternalUrls: string[] = [];
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
    const env = {
      NATS_URL: natsUrl,
      TALLY_NATS_PREFIX: prefix,
      CLICKHOUSE_DATABASE: this.db.database,
      TALLY_EVENT_PARTITIONS: String(this.options.partitions ?? 1),
      LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < (this.options.gateways ?? 1); i++) {
      const port = await freePort();
      this.gatewayUrls.push(`http://127.0.0.1:${port}`);
      this.gateways.push(
        startService('gateway', { ...env, GATEWAY_PORT: String(port), ...this.options.gatewayEnv }),
      );
    }
    for (let i = 0; i < (this.options.writers ?? 1); i++) {
      const [port, internalPort] = [await freePort(), await freePort()];
      this.writerUrls.push(`http://127.0.0.1:${port}`);
      this.writerInternalUrls.push(`http://127.0.0.1:${internalPort}`);
      this.writers.push(
        startService('writer', {
          ...env,
          WRITER_PORT: String(port),
          WRITER_INTERNAL_PORT: String(internalPort),
          ...this.options.writerEnv,
        }),
      );
    }
    await Promise.all([
      ...this.gateways.map((g, i) => waitUntilHealthy(g, this.gatewayUrls[i], { timeoutMs: 60_000 })),
      ...this.writers.map((w, i) => waitUntilHealthy(w, this.writerUrls[i], { timeoutMs: 60_000 })),
    ]);
    await this.partitionsSettled();
    return this;
  }

  /**
   * Waits until the writers hold every partition between them, each its share: writers that start
   * together first take what is free, then hand extras over (a lease, a fence), and a measurement
   * started before that would count the hand-over, not the steady state.
   */
  private async partitionsSettled(): Promise<void> {
    const partitions = this.options.partitions ?? 1;
    const fairShare = Math.floor(partitions / this.writers.length);
    await waitFor(
      async () => {
        const owned = await Promise.all(
          this.writerInternalUrls.map(async (url) => {
            const text = await (await fetch(`${url}/metrics`)).text();
            return sumSamples(text, 'tally_writer_partitions_owned');
          }),
        );
        return owned.reduce((a, b) => a + b, 0) === partitions && owned.every((n) => n >= fairShare);
      },
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        what: `${this.writers.length} writer(s) to hold the ${partitions} partition(s)`,
      },
    );
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
    for (const url of this.gatewayUrls) {
      await waitFor(
        async () => {
          const response = await fetch(`${url}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: '{"events":[]}',
          });
          return response.status !== 401;
        },
        { what: `the ingest key to reach the gateway at ${url}` },
      );
    }
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
      [...this.gateways, ...this.writers].map(async (service) => {
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

/** A metric's samples in a Prometheus text exposition, summed over their labels (0 when absent). */
export function sumSamples(text: string, metric: string): number {
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'gm')))
    total += Number(m[1]);
  return total;
}
