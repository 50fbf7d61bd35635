import type { OutputFormat } from '@tally/analytics-engine';
import type { AnalyticsQuerySettings, ClickHouse } from '@tally/clickhouse';

/** One compiled query: SQL that can only read the caller's rows, with its read-only settings. */
export interface CompiledQuery {
  sql: string;
  format: OutputFormat;
  /** The plan's read-only settings plus the resource limits of the SQL API (`SqlResourceLimits`). */
  settings: AnalyticsQuerySettings & Record<string, string | number>;
}

/** Port: runs a compiled query and returns the server's output in `format`, as text. */
export interface AnalyticsQueryRunner {
  run(query: CompiledQuery): Promise<string>;
}

/** 18.16 refuses queries longer than `max_query_size` (256 KiB by default); larger ones raise it. */
const DEFAULT_MAX_QUERY_SIZE = 262_144;

/**
 * Runs compiled queries on ClickHouse through the client's raw interface: the SQL was built by
 * `compileAnalyticsSql` from the audited quoting module (every literal and name re-emitted through
 * it, never copied from the request), so it is passed as it is, with `readonly: 1` and the time limit.
 */
export class ClickHouseAnalyticsRunner implements AnalyticsQueryRunner {
  constructor(private readonly ch: ClickHouse) {}

  async run(query: CompiledQuery): Promise<string> {
    const bytes = Buffer.byteLength(query.sql, 'utf8');
    const settings =
      bytes < DEFAULT_MAX_QUERY_SIZE - 1024
        ? query.settings
        : { ...query.settings, max_query_size: String(bytes + 1024) };
    return this.ch.measure('SQL API query', async () => {
      const result = await this.ch.client.query({
        query: query.sql,
        format: query.format,
        clickhouse_settings: settings,
      });
      // Exceptions raised mid-stream surface while reading, so reading stays inside the measure.
      return await result.text();
    });
  }
}
