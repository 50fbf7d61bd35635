/**
 * The two engines of the parity suite behind Tally's own `ClickHouse` handle:
 *
 * - ClickHouse 18.16, the clickhouse-server Tally's tests run on (HTTP, `@clickhouse/client`);
 * - ClickHouse 26.7 in-process (the npm package `chdb`, engine `@chdb/lib-linux-x64-gnu`), in a
 *   session directory of its own.
 *
 * `DualClickHouse` is a `ClickHouse` whose every statement runs on both: Tally's real code (builders,
 * repositories, services) is handed this handle, so what the suite compares is exactly the SQL Tally
 * emits, not a copy of it. Reads return 18.16's rows to the caller after recording both answers;
 * inserts send the same bytes, produced by Tally's own encoders, to both.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { AnalyticsQueryRunner, CompiledQuery } from '@tally/analytics-api';
import {
  ClickHouse,
  parseJsonEachRowExact,
  toClickHouseError,
  type QueryOptions,
  type SelectOptions,
  type SqlFragment,
} from '@tally/clickhouse';
import { compareAnswers, formatRows, type Answer, type Difference } from './compare';

// The engine is loaded lazily so that the pure parts of the suite (and its unit tests) do not map
// 500 MB of native library.
type ChdbModule = typeof import('chdb');
let chdbModule: ChdbModule | undefined;
function chdb(): ChdbModule {
  chdbModule ??= require('chdb') as ChdbModule;
  return chdbModule;
}

/**
 * Output settings a modern clickhouse-server uses by default and chDB (an embedded engine tuned for
 * notebooks) does not: without them chDB prints UInt64 as bare JSON numbers where a server quotes them.
 */
const SERVER_DEFAULTS = ['--output_format_json_quote_64bit_integers=1'];

/** ClickHouse 26.7 in-process, with its data in `dir` (removed by `close`). */
export class ChdbEngine {
  private readonly session: InstanceType<ChdbModule['Session']>;
  private files = 0;

  constructor(readonly dir: string) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(joinPath(dir, 'db'), { recursive: true });
    mkdirSync(joinPath(dir, 'in'), { recursive: true });
    this.session = new (chdb().Session)(joinPath(dir, 'db'), { connectionArgs: SERVER_DEFAULTS });
  }

  version(): string {
    return String((JSON.parse(this.query('SELECT version() AS v', 'JSONEachRow')) as { v: string }).v);
  }

  /** Like `query`, off the event loop. */
  async queryAsync(text: string, format = 'JSONEachRow'): Promise<string> {
    return (await this.session.queryAsync(text, { format })).text();
  }

  /** Runs one statement; the output in `format` (empty for statements without a result). */
  query(text: string, format = 'JSONEachRow'): string {
    return this.session.query(text, format);
  }

  /**
   * Inserts a body already in `format` (RowBinary or JSONEachRow), as clickhouse-server receives it
   * over HTTP: the bytes go to a file that `INSERT ... FROM INFILE` reads unchanged.
   */
  insertBody(
    table: string,
    columns: readonly string[],
    format: 'RowBinary' | 'JSONEachRow',
    body: Buffer,
  ): void {
    const file = joinPath(this.dir, 'in', `${++this.files}.${format}`);
    writeFileSync(file, body);
    try {
      this.session.query(
        `INSERT INTO ${table} (${columns.join(', ')}) FROM INFILE '${file}' FORMAT ${format}`,
        'CSV',
      );
    } finally {
      rmSync(file, { force: true });
    }
  }

  close(): void {
    this.session.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface LedgerEntry {
  kind: 'statement' | 'insert' | 'query';
  label: string;
}

/** What the suite compared: every statement and query run on both engines, and the differences. */
export class ParityLedger {
  readonly entries: LedgerEntry[] = [];
  readonly differences: Difference[] = [];
  /** Differences a documented one (compare.ts, KNOWN_DIFFERENCES) accounts for. */
  readonly explained: Difference[] = [];
  label = 'unlabelled';

  count(kind: LedgerEntry['kind']): number {
    return this.entries.filter((e) => e.kind === kind).length;
  }

  record(kind: LedgerEntry['kind'], sqlText: string, legacy: Answer, modern: Answer): Difference | undefined {
    this.entries.push({ kind, label: this.label });
    const difference = compareAnswers(this.label, sqlText, legacy, modern);
    if (difference) (difference.explainedBy ? this.explained : this.differences).push(difference);
    return difference;
  }

  summary(): string {
    return (
      `parity: ${this.count('statement')} statements, ${this.count('insert')} inserts and ` +
      `${this.count('query')} queries compared on ClickHouse 18.16 and 26.7 (chDB); ` +
      `${this.differences.length} differences` +
      (this.explained.length
        ? `; ${this.explained.length} answers differ only by a documented 18.16 defect (${[...new Set(this.explained.map((d) => d.explainedBy))].join(', ')})`
        : '')
    );
  }
}

async function answer(run: () => Promise<string>): Promise<Answer> {
  try {
    return { rows: await run() };
  } catch (error) {
    return { error: message(error) };
  }
}

function message(error: unknown): string {
  return error instanceof Error
    ? ((error as { serverMessage?: string }).serverMessage ?? error.message)
    : String(error);
}

/**
 * A `ClickHouse` handle over 18.16 that runs every statement on chDB too and records both answers in
 * the ledger. The caller sees 18.16's answer (or its error), as it would without the suite.
 */
export class DualClickHouse extends ClickHouse {
  constructor(
    legacy: ClickHouse,
    readonly modern: ChdbEngine,
    readonly ledger: ParityLedger,
  ) {
    super(legacy.client, legacy.database);
  }

  /** Both engines' JSONEachRow answers to a SELECT, recorded; returns 18.16's text or throws its error. */
  async compareSelect(query: SqlFragment | string, settings?: QueryOptions['settings']): Promise<string> {
    const text = typeof query === 'string' ? query : query.text;
    // Both engines at once: chDB answers off the event loop while 18.16 answers over HTTP.
    const [legacy, modern] = await Promise.all([
      answer(async () =>
        (
          await this.client.query({ query: text, format: 'JSONEachRow', clickhouse_settings: settings })
        ).text(),
      ),
      answer(() => this.modern.queryAsync(text, 'JSONEachRow')),
    ]);
    this.ledger.record('query', text, legacy, modern);
    if (legacy.error !== undefined)
      throw toClickHouseError(new Error(legacy.error), { operation: 'parity query' });
    return legacy.rows ?? '';
  }

  override async query<T>(query: SqlFragment, options: SelectOptions = {}): Promise<T[]> {
    const text = await this.compareSelect(query, options.settings);
    return options.exactNumbers
      ? parseJsonEachRowExact<T>(text)
      : text
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as T);
  }

  override async command(statement: SqlFragment, options: QueryOptions = {}): Promise<void> {
    const legacy: Answer = { rows: '' };
    let legacyError: unknown;
    try {
      await super.command(statement, options);
    } catch (error) {
      legacyError = error;
      legacy.error = message(error);
      delete legacy.rows;
    }
    const modern: Answer = { rows: '' };
    try {
      this.modern.query(statement.text, 'CSV');
    } catch (error) {
      modern.error = message(error);
      delete modern.rows;
    }
    this.ledger.record('statement', statement.text, legacy, modern);
    if (legacyError) throw legacyError;
  }

  override async insertJsonEachRow(
    table: SqlFragment,
    columns: readonly string[],
    body: string,
    options: QueryOptions = {},
  ): Promise<{ queryId: string }> {
    return this.insertBoth(table, columns, 'JSONEachRow', Buffer.from(body, 'utf8'), () =>
      super.insertJsonEachRow(table, columns, body, options),
    );
  }

  override async insertRowBinary(
    table: SqlFragment,
    columns: readonly string[],
    body: Buffer,
    options: QueryOptions = {},
  ): Promise<{ queryId: string }> {
    return this.insertBoth(table, columns, 'RowBinary', body, () =>
      super.insertRowBinary(table, columns, body, options),
    );
  }

  private async insertBoth(
    table: SqlFragment,
    columns: readonly string[],
    format: 'RowBinary' | 'JSONEachRow',
    body: Buffer,
    legacyInsert: () => Promise<{ queryId: string }>,
  ): Promise<{ queryId: string }> {
    const names = columns.map((c) =>
      c
        .split('.')
        .map((p) => `\`${p}\``)
        .join('.'),
    );
    const label = `INSERT INTO ${table.text} (${names.join(', ')}) FORMAT ${format} (${body.length} bytes)`;
    const legacy: Answer = { rows: '' };
    const modern: Answer = { rows: '' };
    let result: { queryId: string } | undefined;
    let legacyError: unknown;
    try {
      result = await legacyInsert();
    } catch (error) {
      legacyError = error;
      legacy.error = message(error);
    }
    try {
      this.modern.insertBody(table.text, names, format, body);
    } catch (error) {
      modern.error = message(error);
    }
    this.ledger.record('insert', label, legacy, modern);
    if (legacyError || !result) throw legacyError;
    return result;
  }
}

export type OutputFormat = 'JSON' | 'JSONEachRow' | 'TabSeparated';

/**
 * Runs one query in an output format on 18.16 (`legacySql`) and on 26.7 (`modernSql`, the same SQL
 * unless a generation-specific form is being compared) and records both answers.
 */
export async function compareFormatted(
  ch: DualClickHouse,
  format: OutputFormat,
  legacySql: string,
  modernSql = legacySql,
  settings?: QueryOptions['settings'],
): Promise<string> {
  let output = '';
  const [legacy, modern] = await Promise.all([
    answer(async () => {
      output = await (
        await ch.client.query({ query: legacySql, format, clickhouse_settings: settings })
      ).text();
      return formatRows(format, output);
    }),
    answer(async () => formatRows(format, await ch.modern.queryAsync(modernSql, format))),
  ]);
  ch.ledger.record(
    'query',
    modernSql === legacySql ? legacySql : `${legacySql}\n-- on 26.7:\n${modernSql}`,
    legacy,
    modern,
  );
  if (legacy.error !== undefined)
    throw toClickHouseError(new Error(legacy.error), { operation: 'parity query' });
  return output;
}

/**
 * The SQL API's runner port on both engines: each compiled query runs in its output format on 18.16
 * (through the service's own `ClickHouseAnalyticsRunner`, whose output the service answers with) and
 * on 26.7, and both outputs are compared.
 */
export class ParityAnalyticsRunner implements AnalyticsQueryRunner {
  runs = 0;
  constructor(private readonly ch: DualClickHouse) {}

  async run(query: CompiledQuery): Promise<string> {
    this.runs++;
    return compareFormatted(this.ch, query.format, query.sql, query.sql, query.settings);
  }
}
