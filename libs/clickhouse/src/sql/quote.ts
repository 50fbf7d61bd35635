/**
 * The one audited place where values become ClickHouse SQL text.
 *
 * ClickHouse 18.16 has no server-side query parameters (`{name:Type}` is refused), so every value that
 * reaches a query goes through `literal()`, every name through `identifier()`, and queries are built
 * with the `sql` tagged template, which quotes each interpolated value unless it already is a
 * `SqlFragment`. Nothing else in Tally concatenates SQL. `quote.int-spec.ts` fuzzes `literal()` against
 * the real server: whatever string goes in comes back byte for byte, so no value can leave its literal.
 */
import { TallyError } from '@tally/errors';
import { parseDecimalText } from '../decimal-column';

/** Thrown when a value or a name cannot be represented safely; a programming error, never user-facing. */
export class SqlQuoteError extends TallyError {
  constructor(message: string) {
    super('SQL_QUOTE_INVALID', 500, message);
  }
}

const FRAGMENT_TOKEN: unique symbol = Symbol('SqlFragment');

/**
 * SQL text that is already safe to embed: built only by `sql`, `identifier`, `raw`, `decimal`, `join`
 * and `literal`-derived helpers of this module (the constructor refuses any other caller).
 */
export class SqlFragment {
  constructor(
    readonly text: string,
    token: typeof FRAGMENT_TOKEN,
  ) {
    if (token !== FRAGMENT_TOKEN)
      throw new SqlQuoteError('SqlFragment can only be built by quote.ts helpers');
  }

  toString(): string {
    return this.text;
  }
}

function fragment(text: string): SqlFragment {
  return new SqlFragment(text, FRAGMENT_TOKEN);
}

export function isSqlFragment(value: unknown): value is SqlFragment {
  return value instanceof SqlFragment;
}

/** Every value `literal()` accepts. Arrays may nest and may mix kinds the server can unify. */
export type SqlValue = string | number | bigint | boolean | null | Date | readonly SqlValue[];

// DateTime is a UInt32 of epoch seconds, but 18.16 parses 'YYYY-MM-DD hh:mm:ss' text only up to the end
// of 2105 (2106-01-01 silently becomes 0): the range both generations read the same is 1970..2105.
export const MAX_DATETIME_SECONDS = Date.UTC(2106, 0, 1) / 1000 - 1;

// No backslash, quote, control character, DEL or surrogate: the text goes in as it is. Event ids and
// names are like this, and the writer quotes thousands of them per dedup lookup.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const NOTHING_TO_ESCAPE = /^[^\\'\x00-\x1f\x7f\uD800-\uDFFF]*$/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Escapes the content of a single-quoted string: backslash and quote, NUL and the common control
 * characters by name, every other byte below 0x20 (and DEL) as `\xHH`. Everything else (all of
 * Unicode) is sent as UTF-8 unchanged; only `\` and `'` could end or alter the literal.
 */
function escapeString(value: string): string {
  if (NOTHING_TO_ESCAPE.test(value)) return `'${value}'`;
  if (LONE_SURROGATE.test(value)) {
    // A lone UTF-16 surrogate has no UTF-8 encoding: it would silently reach the server as U+FFFD.
    throw new SqlQuoteError('String contains a lone UTF-16 surrogate and cannot be sent exactly');
  }
  let out = '';
  for (const ch of value) {
    const code = ch.charCodeAt(0); // the first UTF-16 unit is enough to tell control characters apart
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case "'":
        out += "\\'";
        break;
      case '\0':
        out += '\\0';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      default:
        out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}` : ch;
    }
  }
  return `'${out}'`;
}

// A negative number is parenthesised so that `a-${n}` can never turn into the comment `a--5`.
function signed(digits: string): string {
  return digits.startsWith('-') ? `(${digits})` : digits;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function dateTimeLiteral(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new SqlQuoteError('Invalid Date');
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0 || seconds > MAX_DATETIME_SECONDS) {
    throw new SqlQuoteError(`Date ${date.toISOString()} is outside the ClickHouse DateTime range`);
  }
  // Second precision: DateTime has no sub-second part, the milliseconds are dropped (floor).
  const d = new Date(seconds * 1000);
  const text =
    `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return `toDateTime('${text}', 'UTC')`;
}

function literalText(value: SqlValue, depth: number): string {
  if (depth > 32) throw new SqlQuoteError('Array nesting is too deep');
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'string':
      return escapeString(value);
    case 'boolean':
      return value ? '1' : '0';
    case 'bigint':
      return signed(value.toString());
    case 'number':
      if (!Number.isFinite(value)) throw new SqlQuoteError(`Number ${value} is not finite`);
      if (!Number.isInteger(value)) {
        throw new SqlQuoteError(`Number ${value} is not an integer: pass decimals as strings to decimal()`);
      }
      if (!Number.isSafeInteger(value)) {
        throw new SqlQuoteError(`Integer ${value} is beyond 2^53 and may already be rounded: pass a bigint`);
      }
      return signed(String(value === 0 ? 0 : value)); // -0 -> 0
    case 'object':
      if (value instanceof Date) return dateTimeLiteral(value);
      if (Array.isArray(value)) return `[${value.map((v) => literalText(v, depth + 1)).join(', ')}]`;
      break;
  }
  throw new SqlQuoteError(`Unsupported value for a SQL literal: ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/**
 * The SQL literal for a value: strings single-quoted and escaped, integers as digits (finite and
 * safe only; use `bigint` beyond 2^53 and `decimal()` for fractions), booleans as 1/0, `null` as NULL,
 * a Date as `toDateTime('YYYY-MM-DD hh:mm:ss', 'UTC')` (milliseconds dropped), arrays as `[a, b]`.
 */
export function literal(value: SqlValue): SqlFragment {
  return fragment(literalText(value, 0));
}

/**
 * An exact decimal: `toDecimal128('<value>', <scale>)`. The value is a string so that nothing passes
 * through a binary float on the way; it must be `Decimal(38, scale)` text as `parseDecimalText`
 * (decimal-column.ts, the one check of such text, which the RowBinary and JSON encoders use too)
 * accepts: `^-?\d+(\.\d+)?$`, at most `scale` fraction and `38 - scale` integer digits.
 */
export function decimal(value: string, scale: number): SqlFragment {
  if (!Number.isInteger(scale) || scale < 0 || scale > 38) {
    throw new SqlQuoteError(`Decimal scale ${scale} must be an integer between 0 and 38`);
  }
  const problem = parseDecimalText(value, scale);
  if (typeof problem === 'string') throw new SqlQuoteError(`'${String(value)}' is not a Decimal(38, ${scale}) value: it ${problem}`);
  return fragment(`toDecimal128('${value}', ${scale})`);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A database, table or column name in backquotes. Only `^[A-Za-z_][A-Za-z0-9_]*$` is accepted, so
 * there is nothing to escape; several parts are joined with dots: `identifier('db', 'events')`.
 */
export function identifier(...parts: string[]): SqlFragment {
  if (parts.length === 0) throw new SqlQuoteError('identifier() needs at least one name');
  for (const part of parts) {
    if (typeof part !== 'string' || !IDENTIFIER.test(part)) {
      throw new SqlQuoteError(`'${String(part)}' is not a valid identifier (^[A-Za-z_][A-Za-z0-9_]*$)`);
    }
  }
  return fragment(parts.map((p) => `\`${p}\``).join('.'));
}

/**
 * A column list, `` `a`, `properties`.`key` ``: each name an `identifier()`, the parts of a Nested
 * column (`properties.key`) quoted one by one.
 */
export function columnList(names: readonly string[]): SqlFragment {
  if (names.length === 0) throw new SqlQuoteError('columnList() needs at least one column');
  return fragment(names.map((name) => identifier(...name.split('.')).text).join(', '));
}

/** True when `name` is accepted by `identifier()`; for validating configuration early. */
export function isValidIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/**
 * Trusted SQL text taken verbatim. Only for constants written in Tally's source (keywords, engine
 * clauses, function names chosen from a fixed list); never for anything derived from input.
 */
export function raw(text: string): SqlFragment {
  return fragment(text);
}

/** Joins fragments (or values, which are quoted) with a constant separator. */
export function join(parts: ReadonlyArray<SqlFragment | SqlValue>, separator = ', '): SqlFragment {
  return fragment(parts.map(toText).join(separator));
}

function toText(value: SqlFragment | SqlValue): string {
  return value instanceof SqlFragment ? value.text : literalText(value, 0);
}

/**
 * Tagged template for queries: every `${value}` is quoted with `literal()` unless it is a
 * `SqlFragment` (from `identifier`, `raw`, `decimal`, `join` or a nested `sql`), which is inserted as is.
 *
 *     sql`SELECT count() FROM ${identifier(db, 'events')} WHERE tenant = ${tenant}`
 */
export function sql(strings: TemplateStringsArray, ...values: Array<SqlFragment | SqlValue>): SqlFragment {
  let text = strings[0];
  for (let i = 0; i < values.length; i++) {
    text += toText(values[i]) + strings[i + 1];
  }
  return fragment(text);
}
