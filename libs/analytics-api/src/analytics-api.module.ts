import { Module, type DynamicModule } from '@nestjs/common';
import type { ClickHouse } from '@tally/clickhouse';
import { DATASET_STORE, DatasetsController, type DatasetStore } from './datasets.controller';
import { SqlApiService, type DatasetList, type SqlResourceLimits } from './sql-api.service';
import { SqlController } from './sql.controller';
import { ClickHouseAnalyticsRunner } from './sql-runner';

export interface AnalyticsApiDependencies {
  clickhouse: ClickHouse;
  /** The in-memory catalog (`CatalogProjection`): a tenant's datasets are the SQL API's tables. */
  cache: DatasetList;
  /** Dataset declarations (`CatalogStore`). */
  store: DatasetStore;
}

export interface AnalyticsApiOptions {
  /** Most rows a query returns. Default 10,000. */
  maxRows?: number;
  /** Server-side time limit of a query. Default 25 s. */
  maxExecutionTimeSeconds?: number;
  /** ClickHouse limits of one query (`SQL_DEFAULT_LIMITS` for what is not set). */
  limits?: Partial<SqlResourceLimits>;
  /** Queries one tenant may run at once (per process); beyond, 429. Default 4. */
  maxConcurrentPerTenant?: number;
  /** Most bytes of one answer read from ClickHouse; beyond, 400 SQL_RESULT_TOO_LARGE. Default 16 MiB. */
  maxResponseBytes?: number;
  /** The ClickHouse user is read-only by its profile: queries do not send `readonly=1` (`SqlApiOptions`). */
  readOnlyUser?: boolean;
}

/**
 * Cloudflare Workers Analytics Engine compatibility on the query service: `POST /v1/sql` (the SQL
 * API) and `/v1/datasets` (dataset declarations). Its controllers use nest-kit's `ApiKeyGuard`, so the
 * host app must provide `PRINCIPAL_RESOLVER` globally.
 */
@Module({})
export class AnalyticsApiModule {
  static register(deps: AnalyticsApiDependencies, options: AnalyticsApiOptions = {}): DynamicModule {
    const sqlApi = new SqlApiService(deps.cache, new ClickHouseAnalyticsRunner(deps.clickhouse), {
      database: deps.clickhouse.database,
      maxRows: options.maxRows,
      maxExecutionTimeSeconds: options.maxExecutionTimeSeconds,
      limits: options.limits,
      maxConcurrentPerTenant: options.maxConcurrentPerTenant,
      maxResponseBytes: options.maxResponseBytes,
      readOnlyUser: options.readOnlyUser,
    });
    return {
      module: AnalyticsApiModule,
      controllers: [SqlController, DatasetsController],
      providers: [
        { provide: SqlApiService, useValue: sqlApi },
        { provide: DATASET_STORE, useValue: deps.store },
      ],
    };
  }
}
