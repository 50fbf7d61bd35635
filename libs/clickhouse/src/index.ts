// Public API of @tally/clickhouse (Node-only: drivers, migrations, repositories).
export {
  ClickHouse,
  ClickHouseHealth,
  createClickHouse,
  type ClickHouseConfig,
  type ClickHouseObserver,
  type QueryOptions,
  type SelectOptions,
} from './client';
export {
  ClickHouseError,
  isClickHouseError,
  isTransient,
  serverCodeOf,
  toClickHouseError,
  type ClickHouseErrorCode,
  type ClickHouseErrorOptions,
} from './errors';
export { parseJsonEachRowExact, parseJsonExact } from './exact-json';
export { ClickHouseMetrics } from './metrics';
export {
  MigrationError,
  migrate,
  migrationChecksum,
  migrationId,
  renderMigrations,
  type AppliedMigration,
  type MigrateOptions,
  type MigrateResult,
  type MigrationLogger,
} from './migrations';
export {
  SqlFragment,
  SqlQuoteError,
  decimal,
  identifier,
  isSqlFragment,
  isValidIdentifier,
  join,
  literal,
  raw,
  sql,
  type SqlValue,
} from './sql/quote';
export { trimDecimalText } from './sql/meter-sql-parts';
export { findExistingEventIdsSql } from './sql/existing-event-ids';
export { findExistingPointIdsSql } from './sql/existing-point-ids';
export { writeFenceSql } from './sql/writer-fence';
export {
  ANALYTICS_SQL_DEFAULTS,
  DATASET_COLUMNS,
  compileAnalyticsSql,
  rewriteAnalyticsSql,
  type AnalyticsQuerySettings,
  type AnalyticsSqlPlan,
  type RewriteOptions,
} from './sql/analytics-query';
export { meterQuery } from './sql/meter-query';
export {
  billingUsageQuery,
  type BillingUsageParams,
  type BillingUsageRow,
  type SeriesRef,
} from './sql/billing-usage';
export { usageFingerprintQuery, type FingerprintParams, type FingerprintRow } from './sql/usage-fingerprint';
export {
  MAX_PERIOD_SERIES,
  customerPeriodUsage,
  type CustomerPeriodUsageParams,
  type PeriodUsageRow,
} from './sql/customer-period-usage';
export { topCustomers, type TopCustomerRow, type TopCustomersParams } from './sql/top-customers';
export { invoiceSelectionWhere, type InvoiceSelection } from './sql/invoice-sql-parts';
export { invoiceDocumentsQuery, type InvoiceDocumentsParams } from './sql/invoice-documents';
export { invoiceWatermarksQuery, type InvoiceWatermarkRow } from './sql/invoice-watermarks';
export { invoicedCustomersQuery, type InvoicedCustomersParams } from './sql/invoiced-customers';
export { invoicedCustomerCountQuery } from './sql/invoiced-customer-count';
export { simulationResultsPageQuery, type SimulationResultsPageParams } from './sql/simulation-results-page';
export { recordedMigrationsSql, recordMigrationSql, type MigrationRecord } from './sql/schema-migrations';
export {
  BY_TIME_TABLE,
  DAILY_TABLE,
  ROLLUP_TABLE,
  ROLLUP_TABLES,
  rollupAggregate,
  rollupAggregateText,
  rollupWindowStart,
  seriesUsesRollup,
  wholeUtcDays,
  type RollupScope,
  type RollupTable,
} from './sql/rollup-sql-parts';
export { rollupMeterQuery, type RollupMeterQueryParams } from './sql/rollup-meter-query';
export { rollupTopCustomers, type RollupTopCustomersParams } from './sql/rollup-top-customers';
export { seriesTotals } from './sql/series-totals';
export { rollupCoverage } from './sql/rollup-coverage-query';
export { rollupTables } from './sql/rollup-tables';
export { rollupBuckets, type BucketRow, type RollupBucketsParams } from './sql/rollup-buckets';
export {
  EVENT_COLUMNS,
  EventRowError,
  EventRowsEncoder,
  FIND_IDS_CHUNK,
  encodeEventRows,
  eventKey,
  findExistingIds,
  insertEventRowBinary,
  insertEvents,
  readEventFields,
  readEventFieldsSummary,
  serializeEventRows,
  toEventRow,
  writeEventFields,
  type EventFieldsSummary,
  type EventKey,
  type EventRow,
  type EventRowSource,
} from './repositories/eventStore';
export {
  currentFence,
  FenceTakeoverTimeoutError,
  fenceTarget,
  insertFenced,
  takeOverPartition,
  type Fence,
  type FenceTarget,
} from './repositories/writerFences';
export { RowBinaryError, RowBinaryReader, RowBinaryWriter } from './row-binary';
export { MIGRATIONS, type ClusterOptions, type Migration, type SchemaOptions } from './schema';
