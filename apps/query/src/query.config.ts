import { env, infraConfig, loadConfig, natsConnectionConfig } from '@tally/config';
import { SQL_DEFAULT_LIMITS, SQL_DEFAULT_MAX_RESPONSE_BYTES } from '@tally/analytics-api';
import { usageConfigSpec } from '@tally/usage';

export const queryConfigSpec = {
  port: env.port('QUERY_PORT', 3001),
  host: env.string('QUERY_HOST', '127.0.0.1', 'interface to listen on'),
  internalPort: env.port('QUERY_INTERNAL_PORT', 9401, 'internal listener: /metrics and the detailed /health (docs/operations.md#internal-port)'),
  internalHost: infraConfig.internalHost,
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
  ...natsConnectionConfig,
  clickhouseUrl: infraConfig.clickhouseUrl,
  clickhouseUser: infraConfig.clickhouseUser,
  clickhousePassword: infraConfig.clickhousePassword,
  clickhouseDatabase: infraConfig.clickhouseDatabase,
  /** Tenants' queries (SQL API, usage) run as this read-only user (docs/security.md#clickhouse). */
  clickhouseReaderUser: env.string('CLICKHOUSE_READER_USER', '', 'read-only ClickHouse user of the SQL API and usage queries (empty: the service user)'),
  clickhouseReaderPassword: env.secret('CLICKHOUSE_READER_PASSWORD', 'password of CLICKHOUSE_READER_USER'),
  bodyLimitBytes: env.int(
    'QUERY_BODY_LIMIT_BYTES',
    1024 * 1024,
    1024,
    64 * 1024 * 1024,
    'largest request body (413 above)',
  ),
  rateLimitPerSecond: env.int('QUERY_RATE_LIMIT_PER_SECOND', 100, 1, 1_000_000, 'requests per second one tenant may make to the query API (per process; 429 beyond)'),
  /** The SQL API's limits per query and per tenant (docs/security.md#sql-api). */
  sqlMaxMemoryBytes: env.int('SQL_MAX_MEMORY_BYTES', SQL_DEFAULT_LIMITS.max_memory_usage, 1024 * 1024, Number.MAX_SAFE_INTEGER, 'ClickHouse max_memory_usage of one SQL API query'),
  sqlMaxBytesToRead: env.int('SQL_MAX_BYTES_TO_READ', SQL_DEFAULT_LIMITS.max_bytes_to_read, 1024, Number.MAX_SAFE_INTEGER, 'ClickHouse max_bytes_to_read of one SQL API query'),
  sqlMaxRowsToRead: env.int('SQL_MAX_ROWS_TO_READ', SQL_DEFAULT_LIMITS.max_rows_to_read, 1, Number.MAX_SAFE_INTEGER, 'ClickHouse max_rows_to_read of one SQL API query'),
  sqlMaxResultBytes: env.int('SQL_MAX_RESULT_BYTES', SQL_DEFAULT_LIMITS.max_result_bytes, 1024, Number.MAX_SAFE_INTEGER, 'ClickHouse max_result_bytes of one SQL API query'),
  sqlMaxResponseBytes: env.int('SQL_MAX_RESPONSE_BYTES', SQL_DEFAULT_MAX_RESPONSE_BYTES, 1024, 1024 ** 3, 'most bytes of one SQL API answer read from ClickHouse (400 SQL_RESULT_TOO_LARGE beyond)'),
  sqlMaxConcurrentPerTenant: env.int('SQL_MAX_CONCURRENT_PER_TENANT', 4, 1, 1_000, 'SQL API queries one tenant may run at once (429 beyond)'),
  docs: env.bool('QUERY_DOCS', true, 'serve the OpenAPI document and Swagger UI at /docs'),
  trustProxy: infraConfig.trustProxy,
  logLevel: infraConfig.logLevel,
  ...usageConfigSpec,
};

export type QueryConfig = ReturnType<typeof loadQueryConfig>;
export const loadQueryConfig = (source = process.env) => loadConfig('query', queryConfigSpec, source);
