/**
 * The quoting functions the SQL builders are given.
 *
 * `@tally/metering` is a pure domain library and may not import `@tally/clickhouse` (a data-access
 * library), yet Tally has exactly one audited place that turns values into SQL: `quote.ts` of
 * `@tally/clickhouse`. So the builders take that module's functions as an argument and never produce a
 * character of SQL from a value themselves:
 *
 *     import * as quote from '@tally/clickhouse';
 *     const query = meterQuery(quote, { database, tenant, meter, ... }); // a SqlFragment
 *
 * The builders use only `sql` (every interpolated value becomes a literal unless it is already a
 * fragment), `identifier` (the database name), `decimal` (numeric filter values) and `join`.
 */

/** The values `literal()` accepts (same definition as `@tally/clickhouse`). */
export type SqlValue = string | number | bigint | boolean | null | Date | readonly SqlValue[];

/** Anything carrying finished SQL text, e.g. `@tally/clickhouse`'s `SqlFragment`. */
export interface SqlText {
  readonly text: string;
}

export interface Quoter<F extends SqlText = SqlText> {
  /** Tagged template: values are quoted with `literal()`, fragments are inserted as they are. */
  sql(strings: TemplateStringsArray, ...values: Array<F | SqlValue>): F;
  /** Backquoted, validated identifier(s) joined with dots. Throws on anything but `^[A-Za-z_][A-Za-z0-9_]*$`. */
  identifier(...parts: string[]): F;
  /** An exact `toDecimal128('<value>', <scale>)`. */
  decimal(value: string, scale: number): F;
  /** Fragments (or quoted values) joined by a constant separator. */
  join(parts: ReadonlyArray<F | SqlValue>, separator?: string): F;
}
