/**
 * `@tally/analytics-api`: Cloudflare Workers Analytics Engine's SQL API (`POST /v1/sql`) and dataset
 * declarations (`/v1/datasets`) for the query service, on `@tally/analytics-engine`'s dialect.
 * Node-only; the host app provides nest-kit's `PRINCIPAL_RESOLVER`.
 */
export {
  AnalyticsApiModule,
  type AnalyticsApiDependencies,
  type AnalyticsApiOptions,
} from './analytics-api.module';
export { DATASET_STORE, DatasetsController, type DatasetStore } from './datasets.controller';
export {
  SQL_DEFAULT_LIMITS,
  SQL_DEFAULT_MAX_RESPONSE_BYTES,
  SqlApiService,
  type SqlResourceLimits,
  type DatasetList,
  type SqlApiOptions,
  type SqlRequest,
  type SqlResponse,
} from './sql-api.service';
export { SqlRefusedError, type SqlErrorBody } from './sql-errors';
export { ClickHouseAnalyticsRunner, type AnalyticsQueryRunner, type CompiledQuery } from './sql-runner';
export { SqlController } from './sql.controller';
