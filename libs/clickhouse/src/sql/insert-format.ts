import { columnList, raw, sql, SqlQuoteError, type SqlFragment } from './quote';

/** The body formats Tally sends inserts in. */
export type InsertFormat = 'JSONEachRow' | 'RowBinary';

const FORMATS: ReadonlySet<string> = new Set<InsertFormat>(['JSONEachRow', 'RowBinary']);

/**
 * `INSERT INTO <table> (<columns>) FORMAT <format>`: the statement of an insert whose rows follow as
 * the request body (`ClickHouse.insertJsonEachRow` / `insertRowBinary`). The column list is always
 * sent, so that the columns it leaves out get their DEFAULT expression.
 */
export function insertFormatSql(table: SqlFragment, columns: readonly string[], format: InsertFormat): SqlFragment {
  if (!FORMATS.has(format)) throw new SqlQuoteError(`'${String(format)}' is not an insert format Tally sends`);
  return sql`INSERT INTO ${table} (${columnList(columns)}) FORMAT ${raw(format)}`;
}
