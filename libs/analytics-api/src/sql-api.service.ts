import { AnalyticsSqlError, parseAnalyticsSql, type OutputFormat } from '@tally/analytics-engine';
import { isClickHouseError, rewriteAnalyticsSql } from '@tally/clickhouse';
import { BadRequestError, RateLimitedError } from '@tally/errors';
import type { AnalyticsQueryRunner, CompiledQuery } from './sql-runner';
import { SqlRefusedError } from './sql-errors';

/** The part of the catalog cache the SQL API reads: a tenant's datasets are its tables. */
export interface DatasetList {
  listDatasets(tenant: string): Array<{ name: string }>;
}

export interface SqlApiOptions {
  /** Tally's ClickHouse database (the one holding `datapoints`). */
  database: string;
  /** Most rows a query returns (a missing or larger LIMIT becomes this). Default 10,000. */
  maxRows?: number;
  /**
   * Server-side time limit. Default 25 s: below the ClickHouse client's own 30 s request timeout, so
   * that a slow query ends as the server's "timeout exceeded" (a clear 400), not as a cut connection.
   */
  maxExecutionTimeSeconds?: number;
  /** What one query may use on ClickHouse (docs/security.md#sql-api); `SQL_DEFAULT_LIMITS` by default. */
  limits?: Partial<SqlResourceLimits>;
  /** Queries one tenant may have running at once; beyond, 429 with Retry-After. Default 4. */
  maxConcurrentPerTenant?: number;
  /** Most bytes of one answer read from ClickHouse; beyond, 400 `SQL_RESULT_TOO_LARGE`. Default 16 MiB. */
  maxResponseBytes?: number;
  /**
   * The ClickHouse user is read-only by its settings profile (`readonly=2`, the `tally_reader` user of
   * docs/security.md#clickhouse). Queries then do not send `readonly=1`: 18.16 refuses any change of
   * `readonly` by such a user, and its profile already forbids every write.
   */
  readOnlyUser?: boolean;
}

/** Default of `SqlApiOptions.maxResponseBytes` (`SQL_MAX_RESPONSE_BYTES`). */
export const SQL_DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 ** 2;

/**
 * ClickHouse's own limits on one SQL API query, sent as settings of the query (with `readonly`, so
 * the query cannot change them): a query that would exceed one is stopped by the server and answered
 * 400 `SQL_LIMIT_EXCEEDED`, whatever it does (`GROUP BY` over every blob, `uniqExact` over millions of
 * rows, a long `replaceAll` chain).
 */
export interface SqlResourceLimits {
  max_memory_usage: number;
  max_bytes_to_read: number;
  max_rows_to_read: number;
  max_result_rows: number;
  max_result_bytes: number;
}

export const SQL_DEFAULT_LIMITS: SqlResourceLimits = {
  max_memory_usage: 1024 ** 3,
  max_bytes_to_read: 10 * 1024 ** 3,
  max_rows_to_read: 200_000_000,
  max_result_rows: 100_000,
  max_result_bytes: 64 * 1024 ** 2,
};

export interface SqlRequest {
  tenant: string;
  /** The request body: the SQL text (a raw Buffer for non-JSON content types, or a parsed JSON string). */
  body: unknown;
  /** `?format=`: used when the SQL has no FORMAT clause. */
  format?: string;
}

export interface SqlResponse {
  contentType: string;
  body: string;
}

const CONTENT_TYPES: Record<OutputFormat, string> = {
  JSON: 'application/json; charset=utf-8',
  JSONEachRow: 'application/x-ndjson; charset=utf-8',
  TabSeparated: 'text/tab-separated-values; charset=utf-8',
};

const FORMAT_PARAMS: Record<string, OutputFormat> = {
  json: 'JSON',
  jsoneachrow: 'JSONEachRow',
  tabseparated: 'TabSeparated',
  tsv: 'TabSeparated',
};

/** ClickHouse TIMEOUT_EXCEEDED: the query, not the server, is at fault. */
const SERVER_TIMEOUT = 159;
/** TOO_MANY_ROWS, TOO_MANY_BYTES, MEMORY_LIMIT_EXCEEDED, TOO_MANY_ROWS_OR_BYTES: a resource limit of the query. */
const SERVER_LIMITS = new Set([158, 307, 241, 396]);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `POST /v1/sql`: Cloudflare's SQL API dialect on Tally. The query is parsed and validated against the
 * caller's tenant and datasets (the tenant comes from the API key only), rewritten to SQL both
 * ClickHouse generations run, and executed read-only with row and time limits. Every refusal is a
 * `SqlRefusedError` (400) with its code and position.
 */
export class SqlApiService {
  /** Queries running per tenant (this process): the per-tenant concurrency limit. */
  private readonly running = new Map<string, number>();

  constructor(
    private readonly datasets: DatasetList,
    private readonly runner: AnalyticsQueryRunner,
    private readonly options: SqlApiOptions,
  ) {}

  async execute(request: SqlRequest): Promise<SqlResponse> {
    const text = sqlText(request.body);
    const requested = formatParam(request.format);
    const datasets = this.datasets.listDatasets(request.tenant).map((d) => d.name);
    let plan;
    try {
      const statement = parseAnalyticsSql(text);
      if (requested && statement.format && statement.format !== requested) {
        throw new SqlRefusedError(
          'SQL_UNSUPPORTED',
          `The query asks for FORMAT ${statement.format} and the URL for format=${request.format}: ask once`,
        );
      }
      statement.format ??= requested;
      plan = rewriteAnalyticsSql(statement, {
        tenant: request.tenant,
        datasets,
        database: this.options.database,
        maxRows: this.options.maxRows,
        maxExecutionTimeSeconds: this.options.maxExecutionTimeSeconds ?? 25,
      });
    } catch (error) {
      if (error instanceof AnalyticsSqlError) throw SqlRefusedError.from(error);
      throw error;
    }
    const format = plan.format;
    if (plan.kind === 'show_tables') {
      return { contentType: CONTENT_TYPES[format], body: showTables(plan.datasets, format) };
    }
    // One tenant's burst of heavy queries must not take every ClickHouse thread from the others:
    // beyond its share it is told to come back (the limit is per process; each replica has its own).
    const limit = this.options.maxConcurrentPerTenant ?? 4;
    const inFlight = this.running.get(request.tenant) ?? 0;
    if (inFlight >= limit) throw new RateLimitedError(1);
    this.running.set(request.tenant, inFlight + 1);
    let output: string;
    try {
      const settings: CompiledQuery['settings'] = { ...plan.settings, ...SQL_DEFAULT_LIMITS, ...this.options.limits };
      if (this.options.readOnlyUser) delete (settings as Partial<typeof settings>).readonly;
      output = await this.runner.run({
        ...plan,
        settings,
        maxResponseBytes: this.options.maxResponseBytes ?? SQL_DEFAULT_MAX_RESPONSE_BYTES,
      });
    } catch (error) {
      throw serverRefusal(error, plan.settings.max_execution_time) ?? error;
    } finally {
      const left = (this.running.get(request.tenant) ?? 1) - 1;
      if (left > 0) this.running.set(request.tenant, left);
      else this.running.delete(request.tenant);
    }
    return { contentType: CONTENT_TYPES[format], body: format === 'JSON' ? cloudflareJson(output) : output };
  }
}

function sqlText(body: unknown): string {
  let text: string | undefined;
  if (Buffer.isBuffer(body)) {
    try {
      text = utf8.decode(body);
    } catch {
      throw new SqlRefusedError('SQL_SYNTAX', 'The body is not UTF-8 text');
    }
  } else if (typeof body === 'string') {
    text = body;
  } else if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { query?: unknown }).query === 'string'
  ) {
    text = (body as { query: string }).query;
  }
  if (text === undefined || text.trim() === '') {
    throw new SqlRefusedError(
      'SQL_SYNTAX',
      'Send the SQL text as the request body (Content-Type: text/plain)',
    );
  }
  return text;
}

function formatParam(value: string | undefined): OutputFormat | undefined {
  if (value === undefined || value === '') return undefined;
  const format = FORMAT_PARAMS[value.toLowerCase()];
  if (!format) {
    throw new BadRequestError(
      'SQL_UNSUPPORTED',
      `format=${value.slice(0, 40)} is not supported: use JSON, JSONEachRow or TabSeparated`,
    );
  }
  return format;
}

/** `SHOW TABLES` answered from the catalog, in the format asked for, one row `{ dataset }` per name. */
function showTables(datasets: string[], format: OutputFormat): string {
  const rows = datasets.map((dataset) => ({ dataset }));
  switch (format) {
    case 'JSON':
      return JSON.stringify({
        meta: [{ name: 'dataset', type: 'String' }],
        data: rows,
        rows: rows.length,
        rows_before_limit_at_least: rows.length,
      });
    case 'JSONEachRow':
      return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    case 'TabSeparated':
      // Dataset names are letters, digits and '_': nothing to escape.
      return datasets.map((d) => `${d}\n`).join('');
  }
}

/**
 * ClickHouse's FORMAT JSON, in the shape of Cloudflare's SQL API: `meta`, `data`, `rows` and
 * `rows_before_limit_at_least` (the server's `statistics` stay internal).
 */
function cloudflareJson(output: string): string {
  const parsed = JSON.parse(output) as {
    meta: unknown[];
    data: unknown[];
    rows: number;
    rows_before_limit_at_least?: number;
  };
  return JSON.stringify({
    meta: parsed.meta,
    data: parsed.data,
    rows: parsed.rows,
    rows_before_limit_at_least: parsed.rows_before_limit_at_least ?? parsed.rows,
  });
}

/**
 * A query that passed the dialect's checks can still fail on the server (an aggregate inside WHERE, a
 * type mismatch, the time limit): those are the query's fault, answered 400 with the server's first
 * line. An unreachable or overloaded server stays a 503 (`CLICKHOUSE_UNAVAILABLE`).
 */
function serverRefusal(error: unknown, seconds: number): SqlRefusedError | undefined {
  if (!isClickHouseError(error) || error.serverCode === undefined) return undefined;
  if (error.serverCode === SERVER_TIMEOUT) {
    return new SqlRefusedError(
      'SQL_TIMEOUT',
      `The query ran longer than ${seconds} s: narrow its time range`,
    );
  }
  if (SERVER_LIMITS.has(error.serverCode)) {
    return new SqlRefusedError(
      'SQL_LIMIT_EXCEEDED',
      `The query needs more than its limits allow (${serverReason(error.serverMessage)}): narrow its time range or aggregate less`,
    );
  }
  if (error.code !== 'CLICKHOUSE_QUERY_FAILED') return undefined;
  return new SqlRefusedError(
    'SQL_QUERY_FAILED',
    `ClickHouse refused the query: ${serverReason(error.serverMessage)}`,
  );
}

/** "Code: 47, e.displayText() = DB::Exception: Missing columns: ..., e.what() = DB::Exception" → "Missing columns: ...". */
function serverReason(message: string | undefined): string {
  const firstLine = (message ?? '').split('\n')[0];
  const reason = firstLine
    .replace(/^.*?DB::Exception:\s*/, '')
    .replace(/,\s*e\.what\(\) = DB::Exception\s*$/, '')
    .replace(/\s*\(version [^)]*\)\s*$/, '')
    .trim();
  return reason.length > 500 ? `${reason.slice(0, 500)}…` : reason || 'unknown error';
}
