import { AnalyticsSqlError, parseAnalyticsSql, type OutputFormat } from '@tally/analytics-engine';
import { isClickHouseError, rewriteAnalyticsSql } from '@tally/clickhouse';
import { BadRequestError } from '@tally/errors';
import type { AnalyticsQueryRunner } from './sql-runner';
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
}

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
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `POST /v1/sql`: Cloudflare's SQL API dialect on Tally. The query is parsed and validated against the
 * caller's tenant and datasets (the tenant comes from the API key only), rewritten to SQL both
 * ClickHouse generations run, and executed read-only with row and time limits. Every refusal is a
 * `SqlRefusedError` (400) with its code and position.
 */
export class SqlApiService {
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
    let output: string;
    try {
      output = await this.runner.run(plan);
    } catch (error) {
      throw serverRefusal(error, plan.settings.max_execution_time) ?? error;
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
