import { join, type SqlFragment, sql } from './quote';
import { ROLLUP_TABLES } from './rollup-sql-parts';

/** The engine of `events` and which roll-up tables exist (a database may predate a migration). */
export function rollupTables(database: string): SqlFragment {
  return sql`SELECT name, engine FROM system.tables WHERE database = ${database} AND name IN (${join(['events', ...ROLLUP_TABLES])})`;
}
