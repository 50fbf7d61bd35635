import type { OutputFormat } from '@tally/analytics-engine';
import type { AnalyticsQuerySettings, ClickHouse } from '@tally/clickhouse';
import type { Readable } from 'node:stream';
import { SqlRefusedError } from './sql-errors';

/** One compiled query: SQL that can only read the caller's rows, with its read-only settings. */
export interface CompiledQuery {
  sql: string;
  format: OutputFormat;
  /** The plan's read-only settings plus the resource limits of the SQL API (`SqlResourceLimits`). */
  settings: AnalyticsQuerySettings & Record<string, string | number>;
  /**
   * Most bytes of the server's output Tally reads (`SQL_MAX_RESPONSE_BYTES`): beyond, the query is
   * stopped and refused with `SQL_RESULT_TOO_LARGE`, so no answer is held in memory whole.
   */
  maxResponseBytes: number;
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
    const output = await this.ch.measure('SQL API query', async () => {
      // `exec` hands over the response as it arrives (the client's `query().text()` would buffer all of
      // it first): it is read chunk by chunk and cut off at the cap.
      const { stream } = await this.ch.client.exec({
        query: `${query.sql}\nFORMAT ${query.format}`,
        clickhouse_settings: settings,
      });
      return readCapped(stream, query.maxResponseBytes);
    });
    if (output === undefined) {
      throw new SqlRefusedError(
        'SQL_RESULT_TOO_LARGE',
        `The answer is larger than ${query.maxResponseBytes} bytes: select fewer rows or columns, or aggregate`,
      );
    }
    return output;
  }
}

/**
 * The stream's bytes as UTF-8 text, or `undefined` once more than `cap` bytes arrived: the stream is
 * then destroyed, which closes the connection so the server stops sending (and, writing to a closed
 * socket, stops the query).
 */
export async function readCapped(stream: Readable, cap: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    total += buffer.length;
    if (total > cap) {
      stream.destroy();
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
