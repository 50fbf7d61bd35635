import { Global, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ApiKeyStore, CatalogProjection, CatalogStore, WebhookDestinationPolicy } from '@tally/catalog';
import { AnalyticsApiModule } from '@tally/analytics-api';
import { BillingApiModule } from '@tally/billing-api';
import { CatalogApiModule } from '@tally/catalog-api';
import { UsageModule } from '@tally/usage';
import { ClickHouseHealth, ClickHouseMetrics, createClickHouse, migrate, type ClickHouse } from '@tally/clickhouse';
import { connectNats, natsNames, NatsHealth, type NatsConnection, type NatsNames } from '@tally/nats';
import { HealthModule, PRINCIPAL_RESOLVER, TENANT_REQUEST_RATE, TenantRequestRate } from '@tally/nest-kit';
import type { Logger } from '@tally/observability';
import type { Registry } from 'prom-client';
import type { QueryConfig } from './query.config';

/** Everything the query service talks to, connected before Nest starts so a broken dependency fails boot loudly. */
export interface QueryDependencies {
  config: QueryConfig;
  names: NatsNames;
  nc: NatsConnection;
  /** The query service's own ClickHouse user: migrations, the billing API's ledger and simulation results. */
  clickhouse: ClickHouse;
  /**
   * The read-only user (`CLICKHOUSE_READER_USER`, with its settings profile and quota on the server)
   * that tenants' queries run as: the SQL API and usage queries. The service user when none is set.
   */
  reader: ClickHouse;
  /** Catalog writes and consistent reads (with revisions). */
  store: CatalogStore;
  /** In-memory catalog kept current by a KV watch: for hot paths such as usage queries. */
  cache: CatalogProjection;
  keys: ApiKeyStore;
}

export async function connectQueryDependencies(
  config: QueryConfig,
  logger: Logger,
  registry?: Registry,
): Promise<QueryDependencies> {
  const names = natsNames(config.natsPrefix);
  const nc = await connectNats(config.natsUrl, 'tally-query', config);
  // One observer for both users: a registry refuses a metric name registered twice.
  const observer = registry && new ClickHouseMetrics(registry);
  const clickhouse = createClickHouse({
    url: config.clickhouseUrl,
    username: config.clickhouseUser,
    password: config.clickhousePassword,
    database: config.clickhouseDatabase,
    application: 'tally-query',
    observer,
  });
  const reader = config.clickhouseReaderUser
    ? createClickHouse({
        url: config.clickhouseUrl,
        username: config.clickhouseReaderUser,
        password: config.clickhouseReaderPassword,
        database: config.clickhouseDatabase,
        application: 'tally-query-reader',
        observer,
      })
    : clickhouse;
  if (reader === clickhouse) {
    logger.warn('CLICKHOUSE_READER_USER is not set: tenants\' queries run as the service user (docs/security.md#clickhouse)');
  }
  const onError = (error: unknown) => logger.warn({ err: error }, 'catalog watch problem (retrying)');
  try {
    await migrate(clickhouse, { logger });
    // A wrong reader password or a missing user fails boot, not the first tenant's query.
    if (reader !== clickhouse) await reader.ping();
    const [store, cache, keys] = await Promise.all([
      CatalogStore.open(nc, names),
      CatalogProjection.open(nc, names, { onError }),
      ApiKeyStore.open(nc, names, { onError }),
    ]);
    return { config, names, nc, clickhouse, reader, store, cache, keys };
  } catch (error) {
    await nc.close().catch(() => undefined);
    await clickhouse.close().catch(() => undefined);
    if (reader !== clickhouse) await reader.close().catch(() => undefined);
    throw error;
  }
}

/** Closes the connections after Nest has stopped serving requests. */
class QueryRuntime implements OnApplicationShutdown {
  constructor(private readonly deps: QueryDependencies) {}

  async onApplicationShutdown(): Promise<void> {
    await this.deps.keys.close();
    await this.deps.cache.close();
    await this.deps.nc.drain();
    await this.deps.clickhouse.close();
    if (this.deps.reader !== this.deps.clickhouse) await this.deps.reader.close();
  }
}

/** Every module's controllers can use nest-kit's `ApiKeyGuard`: keys resolve through the watched key store. */
@Global()
@Module({})
class QueryAuthModule {
  static register(deps: QueryDependencies): DynamicModule {
    return {
      module: QueryAuthModule,
      providers: [
        { provide: PRINCIPAL_RESOLVER, useValue: deps.keys },
        { provide: TENANT_REQUEST_RATE, useValue: new TenantRequestRate(deps.config.rateLimitPerSecond) },
      ],
      exports: [PRINCIPAL_RESOLVER, TENANT_REQUEST_RATE],
    };
  }
}

@Module({})
export class AppModule {
  static register(deps: QueryDependencies, registry: Registry): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HealthModule.register(registry, () => [
          new NatsHealth(deps.nc),
          new ClickHouseHealth(deps.clickhouse),
          ...(deps.reader !== deps.clickhouse ? [new ClickHouseHealth(deps.reader, undefined, 'clickhouse-reader')] : []),
        ]),
        QueryAuthModule.register(deps),
        CatalogApiModule.register({
          ...deps,
          webhookDestinations: WebhookDestinationPolicy.parse(deps.config.webhookAllow),
        }),
        UsageModule.register({ ...deps, clickhouse: deps.reader }),
        BillingApiModule.register(deps),
        AnalyticsApiModule.register({ ...deps, clickhouse: deps.reader }, {
          limits: {
            max_memory_usage: deps.config.sqlMaxMemoryBytes,
            max_bytes_to_read: deps.config.sqlMaxBytesToRead,
            max_rows_to_read: deps.config.sqlMaxRowsToRead,
            max_result_bytes: deps.config.sqlMaxResultBytes,
          },
          maxConcurrentPerTenant: deps.config.sqlMaxConcurrentPerTenant,
          maxResponseBytes: deps.config.sqlMaxResponseBytes,
          readOnlyUser: deps.reader !== deps.clickhouse,
        }),
      ],
      providers: [{ provide: QueryRuntime, useFactory: () => new QueryRuntime(deps) }],
    };
  }
}
