import { join, type SqlFragment, sql } from './quote';

/**
 * Several one-row totals (each a complete `SELECT ... value`, from the scan or the roll-up) as one
 * query with rows `(series, value)`, so a customer's every meter costs one round trip.
 */
export function seriesTotals(parts: ReadonlyArray<{ key: string; query: SqlFragment }>): SqlFragment {
  return join(
    parts.map((p) => sql`SELECT ${p.key} AS series, value FROM (${p.query})`),
    '\nUNION ALL\n',
  );
}

