import { type ClickHouse, isClickHouseError, type SqlFragment } from '@tally/clickhouse';
import { QueryTooExpensiveError, ResultTooLargeError } from './errors';

/** ClickHouse's `TIMEOUT_EXCEEDED` (max_execution_time) and `TOO_MANY_ROWS_OR_BYTES` (max_result_rows). */
const TIMEOUT_EXCEEDED = 159;
const TOO_MANY_ROWS = 396;

/**
 * Runs usage queries with the limits that keep one request from becoming a slow death: the server
 * stops a query at `max_execution_time` and refuses more than `max_result_rows` rows (both known to
 * 18.16 and modern servers), and the answers turn into 4xx errors a client can act on.
 */
export class QueryRunner {
  constructor(
    private readonly clickhouse: ClickHouse,
    private readonly timeoutSeconds: number,
  ) {}

  get database(): string {
    return this.clickhouse.database;
  }

  /**
   * Rows of `query`, numbers exact. `maxRows` is the most rows the caller accepts: the query must
   * itself LIMIT to at most `maxRows + 1`; one row more means "too large". `narrow` queries (one
   * customer's few thousand rows at most) run on one thread, since splitting so little work costs more
   * in thread hand-offs than it saves (most of all on a busy server), and read through the
   * uncompressed-block cache, as ClickHouse recommends for short, frequent queries.
   */
  async rows<T>(query: SqlFragment, maxRows: number, operation: string, narrow = false): Promise<T[]> {
    let rows: T[];
    try {
      rows = await this.clickhouse.query<T>(query, {
        exactNumbers: true,
        operation,
        settings: {
          max_execution_time: this.timeoutSeconds,
          max_result_rows: String(maxRows + 1),
          result_overflow_mode: 'throw',
          ...(narrow ? { max_threads: 1, use_uncompressed_cache: 1 } : {}),
        },
      });
    } catch (error) {
      if (isClickHouseError(error) && error.serverCode === TIMEOUT_EXCEEDED) {
        throw new QueryTooExpensiveError(this.timeoutSeconds, error);
      }
      if (isClickHouseError(error) && error.serverCode === TOO_MANY_ROWS)
        throw new ResultTooLargeError(maxRows, error);
      throw error;
    }
    if (rows.length > maxRows) throw new ResultTooLargeError(maxRows);
    return rows;
  }
}
