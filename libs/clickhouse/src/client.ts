import { Readable } from 'node:stream';
import {
  ClickHouseLogLevel,
  createClient,
  drainStream,
  type ClickHouseClient,
  type ClickHouseSettings,
} from '@clickhouse/client';
import { ClickHouseError, toClickHouseError } from './errors';
import { parseJsonEachRowExact } from './exact-json';
import { insertFormatSql, type InsertFormat } from './sql/insert-format';
import { SqlQuoteError, identifier, isValidIdentifier, raw, type SqlFragment } from './sql/quote';

export interface ClickHouseConfig {
  /** HTTP(S) endpoint, e.g. `http://127.0.0.1:8123`. */
  url: string;
  username: string;
  password: string;
  /** The database holding Tally's tables (default `tally`); see `ClickHouse.database`. */
  database?: string;
  /** Per-request timeout (default 30 s). Long analytical queries can pass a larger one per client. */
  requestTimeoutMs?: number;
  /** Sockets kept open to the server (default 10). */
  maxOpenConnections?: number;
  /**
   * How long an idle keep-alive socket is reused (default 2.5 s). Must stay below the server's
   * `keep_alive_timeout` (3 s by default on 18.16 and modern servers), or a request can land on a socket
   * the server is closing.
   */
  keepAliveIdleMs?: number;
  /** Sent as the HTTP user agent's application part; shows up in the server's query log. */
  application?: string;
  /** Told about every request (metrics: see `ClickHouseMetrics`). */
  observer?: ClickHouseObserver;
}

/** Told the duration and outcome of every request a `ClickHouse` handle makes. */
export interface ClickHouseObserver {
  /** `operation` is the caller's name for the request (`insert events`); `error` is set when it failed. */
  observe(operation: string, seconds: number, error?: ClickHouseError): void;
}

export interface QueryOptions {
  /** Per-query settings; only settings the server knows (18.16 refuses unknown ones). */
  settings?: ClickHouseSettings;
  signal?: AbortSignal;
  queryId?: string;
  /** What is being done, for error reports (`find existing ids`). */
  operation?: string;
}

export interface SelectOptions extends QueryOptions {
  /**
   * Return every number as the exact string the server printed (for Decimal columns and sums);
   * otherwise numbers go through `JSON.parse` (and UInt64/Int64 arrive as strings, as the server quotes them).
   */
  exactNumbers?: boolean;
}

/** 18.16 refuses queries longer than `max_query_size` (256 KiB by default); larger ones raise it. */
const DEFAULT_MAX_QUERY_SIZE = 262_144;

/**
 * Tally's handle on ClickHouse. Queries are `SqlFragment`s built with `sql`/`literal`/`identifier`
 * (quote.ts), never strings, and every failure is a `ClickHouseError`. The underlying client always
 * talks to the `default` database (so that `migrate` can create Tally's database before it exists);
 * Tally's SQL names tables with their database: `identifier(ch.database, 'events')`.
 */
export class ClickHouse {
  constructor(
    /** The `@clickhouse/client` instance, for what this wrapper does not cover (streaming reads). */
    readonly client: ClickHouseClient,
    /** The database holding Tally's tables. */
    readonly database: string,
    private readonly observer?: ClickHouseObserver,
  ) {
    if (!isValidIdentifier(database)) throw new SqlQuoteError(`'${database}' is not a valid database name`);
  }

  /** `db.table` for a table of Tally's database. */
  table(name: string): SqlFragment {
    return identifier(this.database, name);
  }

  /**
   * Runs `work` (one request to the server) and tells the observer how long it took and how it
   * ended; failures come out as `ClickHouseError`. For requests made on `client` directly.
   */
  async measure<T>(operation: string, work: () => Promise<T>, queryId?: string): Promise<T> {
    const started = performance.now();
    try {
      const result = await work();
      this.observer?.observe(operation, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      const failure = toClickHouseError(error, { operation, queryId });
      this.observer?.observe(operation, (performance.now() - started) / 1000, failure);
      throw failure;
    }
  }

  /** Runs a SELECT and returns its rows (JSONEachRow). */
  async query<T>(query: SqlFragment, options: SelectOptions = {}): Promise<T[]> {
    return this.measure(
      options.operation ?? 'query',
      async () => {
      const result = await this.client.query({
        query: query.text,
        format: 'JSONEachRow',
        clickhouse_settings: withQuerySize(query, options.settings),
        abort_signal: options.signal,
        query_id: options.queryId,
      });
        // Exceptions raised mid-stream surface while reading, so reading stays inside the measure.
        return options.exactNumbers ? parseJsonEachRowExact<T>(await result.text()) : await result.json<T>();
      },
      options.queryId,
    );
  }

  /** Runs a statement without a result set (DDL, ALTER, INSERT ... SELECT). */
  async command(statement: SqlFragment, options: QueryOptions = {}): Promise<void> {
    await this.measure(
      options.operation ?? 'command',
      () =>
        this.client.command({
          query: statement.text,
          clickhouse_settings: withQuerySize(statement, options.settings),
          abort_signal: options.signal,
          query_id: options.queryId,
        }),
      options.queryId,
    );
  }

  /**
   * Inserts rows that are already serialized as JSONEachRow lines, in one request. Callers that
   * need exact decimals write the numbers into the text themselves (see eventStore.ts); the column
   * list is sent so that omitted columns get their DEFAULT expression (18.16 stores the type's zero
   * value for a column missing from a JSON row unless the column list leaves it out).
   */
  async insertJsonEachRow(
    table: SqlFragment,
    columns: readonly string[],
    body: string,
    options: QueryOptions = {},
  ): Promise<{ queryId: string }> {
    return this.insertBody(table, columns, 'JSONEachRow', Buffer.from(body, 'utf8'), options);
  }

  /**
   * Inserts rows already encoded in ClickHouse's `RowBinary` format (see row-binary.ts), in one
   * request: the cheapest format for the server to read. The column list is sent so that columns
   * left out get their DEFAULT expression.
   */
  async insertRowBinary(
    table: SqlFragment,
    columns: readonly string[],
    body: Buffer,
    options: QueryOptions = {},
  ): Promise<{ queryId: string }> {
    return this.insertBody(table, columns, 'RowBinary', body, options);
  }

  private async insertBody(
    table: SqlFragment,
    columns: readonly string[],
    format: InsertFormat,
    body: Buffer,
    options: QueryOptions,
  ): Promise<{ queryId: string }> {
    const statement = insertFormatSql(table, columns, format).text;
    return this.measure(
      options.operation ?? 'insert',
      async () => {
        const result = await this.client.exec({
          query: statement,
          values: Readable.from([body], { objectMode: false }),
          clickhouse_settings: options.settings,
          abort_signal: options.signal,
          query_id: options.queryId,
        });
        await drainStream(result.stream);
        return { queryId: result.query_id };
      },
      options.queryId,
    );
  }

  /** Inserts plain objects (JSON-serialized by the client) into the named columns, in one request. */
  async insert<T extends object>(
    table: SqlFragment,
    rows: readonly T[],
    columns: readonly string[],
    options: QueryOptions = {},
  ): Promise<{ queryId: string }> {
    const body = rows.map((row) => JSON.stringify(row)).join('\n');
    return this.insertJsonEachRow(table, columns, body, options);
  }

  /** Resolves when the server answers `SELECT 1` with these credentials; throws `ClickHouseError` otherwise. */
  async ping(signal?: AbortSignal): Promise<void> {
    let result;
    try {
      result = await this.client.ping({ select: true, abort_signal: signal });
    } catch (error) {
      throw toClickHouseError(error, { operation: 'ping' });
    }
    if (!result.success) throw toClickHouseError(result.error, { operation: 'ping' });
  }

  /** The server's `version()`, e.g. `18.16.1`. */
  async serverVersion(): Promise<string> {
    const [row] = await this.query<{ v: string }>(SELECT_VERSION, { operation: 'version' });
    return row.v;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

const SELECT_VERSION = raw('SELECT version() AS v');

function withQuerySize(
  query: SqlFragment,
  settings: ClickHouseSettings | undefined,
): ClickHouseSettings | undefined {
  if (settings?.max_query_size !== undefined) return settings;
  const bytes = Buffer.byteLength(query.text, 'utf8');
  if (bytes < DEFAULT_MAX_QUERY_SIZE - 1024) return settings;
  return { ...settings, max_query_size: String(bytes + 1024) };
}

/**
 * A `ClickHouse` handle with settings that suit 18.16 as well as modern servers: no client-wide
 * ClickHouse settings at all (18.16 rejects every setting it does not know, and the defaults are
 * right), uncompressed requests and responses (cheap CPU on the LAN/loopback that Tally runs on),
 * HTTP keep-alive on, the client's own console logging off (failures are thrown as `ClickHouseError`
 * and logged by the caller).
 */
export function createClickHouse(config: ClickHouseConfig): ClickHouse {
  const database = config.database ?? 'tally';
  if (!isValidIdentifier(database)) throw new SqlQuoteError(`'${database}' is not a valid database name`);
  const client = createClient({
    url: config.url,
    username: config.username,
    password: config.password,
    application: config.application ?? 'tally',
    request_timeout: config.requestTimeoutMs ?? 30_000,
    max_open_connections: config.maxOpenConnections ?? 10,
    compression: { request: false, response: false },
    keep_alive: { enabled: true, idle_socket_ttl: config.keepAliveIdleMs ?? 2_500 },
    log: { level: ClickHouseLogLevel.OFF },
  });
  return new ClickHouse(client, database, config.observer);
}

/**
 * Health check for `/health` (structurally the `HealthCheck` of @tally/nest-kit): ClickHouse
 * answers `SELECT 1` with the configured credentials.
 */
export class ClickHouseHealth {
  constructor(
    private readonly clickhouse: ClickHouse,
    private readonly timeoutMs = 2_000,
    /** The check's name in `/health` (the query service has a second one, its read-only user). */
    readonly name = 'clickhouse',
  ) {}

  async check(): Promise<void> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      await this.clickhouse.ping(signal);
    } catch (error) {
      if (!signal.aborted) throw error;
      throw new ClickHouseError(
        'CLICKHOUSE_UNAVAILABLE',
        `ClickHouse did not answer within ${this.timeoutMs} ms`,
        true,
        {
          cause: error,
          operation: 'health check',
        },
      );
    }
  }
}
