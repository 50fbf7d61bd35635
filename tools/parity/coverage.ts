/**
 * What the parity suite covers, checked against the source tree so that a new SQL builder, or a new
 * file that writes SQL, cannot go unnoticed: `coverage.spec.ts` fails until it is listed here, and
 * the suite checks that each listed section really compared something on both engines.
 *
 * Keys are function names and file base names (not paths), so moving a builder to another folder or
 * library keeps its entry.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Exported SQL builders (functions returning SQL), and the suite section that runs each on both engines. */
export const BUILDERS: Record<string, string> = {
  meterQuery: 'meterQuery windows',
  topCustomers: 'topCustomers',
  customerPeriodUsage: 'customerPeriodUsage',
  rollupMeterQuery: 'usage roll-ups',
  rollupTopCustomers: 'usage roll-ups',
  seriesTotals: 'usage roll-ups',
  rollupBuckets: 'usage buckets and coverage',
  rollupCoverage: 'usage buckets and coverage',
  rollupTables: 'usage buckets and coverage',
  billingUsageQuery: 'billing usage',
  usageFingerprintQuery: 'billing usage',
  findExistingPointIdsSql: 'ingestion',
  findExistingEventIdsSql: 'ingestion',
  createStagingTableSql: 'writer fence',
  truncateStagingTableSql: 'writer fence',
  dropTableSql: 'writer fence',
  stagingTablesSql: 'writer fence',
  writeFenceSql: 'writer fence',
  currentFenceSql: 'writer fence',
  fencedCommitSql: 'writer fence',
  runningStaleCommitsSql: 'writer fence',
  invoiceDocumentsQuery: 'invoice ledger',
  invoiceWatermarksQuery: 'invoice ledger',
  invoicedCustomersQuery: 'invoice ledger',
  invoicedCustomerCountQuery: 'invoice ledger',
  simulationResultsPageQuery: 'simulation results',
  // The render's statements include each migration's record; the suite reads them back after it.
  recordMigrationSql: 'schema render',
  recordedMigrationsSql: 'schema render',
};

/** Exported pieces of SQL that only builders use: covered through the builder named. */
export const PARTS: Record<string, string> = {
  propertyValue: 'meterQuery',
  hasProperty: 'meterQuery',
  numericValue: 'meterQuery',
  filterCondition: 'meterQuery',
  valueGuard: 'meterQuery',
  aggregateExpression: 'topCustomers',
  aggregateText: 'meterQuery',
  trimDecimalText: 'meterQuery',
  windowStart: 'meterQuery',
  seriesConditions: 'meterQuery',
  eventsTable: 'meterQuery',
  rollupAggregate: 'rollupTopCustomers',
  rollupAggregateText: 'rollupMeterQuery',
  rollupWindowStart: 'rollupMeterQuery',
  rollupSource: 'rollupMeterQuery',
  invoiceSelectionWhere: 'invoiceDocumentsQuery',
  columnList: 'fencedCommitSql',
  // Every insert on 18.16 is this statement (client.ts); chDB reads the same bytes with INSERT ... FROM
  // INFILE (tools/parity/engines.ts), so the statement text itself runs on 18.16 only.
  insertFormatSql: 'event inserts (18.16 side)',
  // The quoting module: every builder's values go through these.
  sql: 'every builder',
  literal: 'every builder',
  identifier: 'every builder',
  decimal: 'meterQuery (filters on numbers)',
  join: 'every builder',
  raw: 'every builder',
};

/**
 * Files that write SQL (by base name), and how the suite covers what they emit. A section name means
 * the suite runs that code, on the dual handle, in that section.
 */
export const SQL_FILES: Record<string, string> = {
  'meter-query.ts': 'meterQuery windows',
  'top-customers.ts': 'topCustomers',
  'customer-period-usage.ts': 'customerPeriodUsage',
  'sql-parts.ts': 'meterQuery filters',
  'meter-sql-parts.ts': 'meterQuery filters',
  'quoter.ts': 'meterQuery windows',
  'rollup-sql-parts.ts': 'usage roll-ups',
  'rollup-meter-query.ts': 'usage roll-ups',
  'rollup-top-customers.ts': 'usage roll-ups',
  'series-totals.ts': 'usage roll-ups',
  'rollup-coverage-query.ts': 'usage buckets and coverage',
  'rollup-tables.ts': 'usage buckets and coverage',
  'rollup-buckets.ts': 'usage buckets and coverage',
  'billing-usage.ts': 'billing usage',
  'usage-fingerprint.ts': 'billing usage',
  'invoice-ledger.ts': 'invoice ledger',
  'simulation-results.ts': 'simulation results',
  'invoice-sql-parts.ts': 'invoice ledger',
  'invoice-documents.ts': 'invoice ledger',
  'invoice-watermarks.ts': 'invoice ledger',
  'invoiced-customers.ts': 'invoice ledger',
  'invoiced-customer-count.ts': 'invoice ledger',
  'simulation-results-page.ts': 'simulation results',
  'schema-migrations.ts': 'schema render',
  'insert-format.ts': 'event inserts',
  'clickhouse-point-store.ts': 'ingestion',
  'existing-event-ids.ts': 'ingestion',
  'existing-point-ids.ts': 'ingestion',
  'writer-fence.ts': 'writer fence',
  'writerFences.ts': 'writer fence',
  'eventStore.ts': 'event inserts',
  'sql-api.service.ts': 'SQL API seeds',
  'analytics-api.module.ts': 'SQL API seeds',
  'analytics-query.ts': 'SQL API generation forms',
  'migrations.ts': 'schema render',
  'ddl.ts': 'schema render',
  '0001_events.ts': 'schema render',
  '0002_datapoints.ts': 'schema render',
  '0003_usage_rollups.ts': 'schema render',
  '0004_datapoint_ids.ts': 'schema render',
  '0005_invoices.ts': 'schema render',
  '0006_usage_daily.ts': 'schema render',
  'quote.ts': 'every section',
  'client.ts': 'every section',
  // Not product SQL: test support and exports only.
  'testing.ts': 'test support (DROP DATABASE of a test database)',
  'index.ts': 'exports only',
};

const EXPORTED_BUILDER =
  /export (?:async )?function (\w+)(?:<[^>]*>)?\((?:[^)]|\)(?!\s*:))*\)\s*:\s*(?:Promise<)?(?:SqlFragment|F)\b/g;
const WRITES_SQL = /\bsql`|\.sql`/;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!['node_modules', 'test-support', 'test'].includes(entry.name)) sourceFiles(path, out);
    } else if (entry.name.endsWith('.ts') && !/\.(spec|int-spec|bench)\.ts$/.test(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

export interface SqlSources {
  /** Exported functions that return SQL, with their file. */
  builders: Array<{ name: string; file: string }>;
  /** Files that write SQL. */
  files: string[];
}

/** Scans the libraries and apps of the workspace at `root` for SQL builders and files writing SQL. */
export function scanSqlSources(root: string): SqlSources {
  const result: SqlSources = { builders: [], files: [] };
  for (const top of ['libs', 'apps']) {
    for (const file of sourceFiles(join(root, top))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(EXPORTED_BUILDER)) result.builders.push({ name: match[1], file });
      if (WRITES_SQL.test(text)) result.files.push(file);
    }
  }
  return result;
}

/** What the scan found that this file does not list (empty when the suite covers everything). */
export function uncovered(sources: SqlSources): string[] {
  const missing: string[] = [];
  for (const b of sources.builders) {
    if (!(b.name in BUILDERS) && !(b.name in PARTS)) missing.push(`builder ${b.name} (${b.file})`);
  }
  for (const file of sources.files) {
    if (!(basename(file) in SQL_FILES)) missing.push(`file ${file}`);
  }
  return missing;
}
