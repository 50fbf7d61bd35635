/**
 * How the parity suite compares what ClickHouse 18.16 and ClickHouse 26.7 (chDB) answered to the same
 * SQL. Pure: no I/O.
 *
 * The normalisation is deliberately small; everything it does not touch must be byte-identical:
 *
 * 1. **Decimal text.** 18.16 prints a Decimal(38, 12) with all its fraction digits (`1.500000000000`);
 *    modern servers drop trailing zeros by default (`output_format_decimal_trailing_zeros = 0`:
 *    `1.5`). Bare JSON numbers (never quoted strings) are compared as exact decimals with trailing
 *    fraction zeros removed. Strings are compared as they are, so a `toString(...)` Tally builds is
 *    compared byte for byte.
 * 2. **Row order where the SQL leaves it open.** A statement whose outermost query has no `ORDER BY`
 *    may return its rows in any order on either engine (parallel reads, UNION ALL branches); its rows
 *    are compared as a multiset. One with an outer `ORDER BY` is compared in order.
 *
 * 64-bit integers are printed quoted on both engines (the modern server's default,
 * `output_format_json_quote_64bit_integers = 1`, which chDB is started with; see engines.ts), and
 * DateTime text has the same `YYYY-MM-DD hh:mm:ss` form on both, so neither needs normalising.
 */

/** A JSON value in which every bare number is kept as its exact text, tagged as a number. */
export type ExactValue =
  string | { num: string } | boolean | null | ExactValue[] | { [key: string]: ExactValue };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Parses one JSON document, keeping each bare number as `{ num: '<canonical text>' }`. Not
 * `parseJsonExact` of `@tally/clickhouse`: that one turns numbers into strings, and the comparison must
 * still tell a quoted `"5"` from a bare `5` (a change of output type is a difference).
 */
export function parseExact(text: string): ExactValue {
  let out = '';
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      i++;
    } else if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39)) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) break;
      out += `${text.slice(start, i)}{"\\u0000num":${JSON.stringify(canonicalNumber(match[0]))}}`;
      i += match[0].length;
      start = i;
    } else {
      i++;
    }
  }
  return retag(JSON.parse(out + text.slice(start)) as unknown);
}

function retag(value: unknown): ExactValue {
  if (Array.isArray(value)) return value.map(retag);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['\u0000num'] === 'string' && Object.keys(record).length === 1)
      return { num: record['\u0000num'] };
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, retag(v)]));
  }
  return value as ExactValue;
}

/** `1.500000000000` → `1.5`, `100.000` → `100`, `-0.0` → `0`; exponents and integers stay as printed. */
export function canonicalNumber(text: string): string {
  if (!/^-?\d+\.\d+$/.test(text)) return text;
  const trimmed = text.replace(/\.?0+$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}

/** Rows of a JSONEachRow answer, each as its canonical JSON text (keys in the server's order). */
export function canonicalRows(jsonEachRow: string): string[] {
  return jsonEachRow
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.stringify(parseExact(line)));
}

/**
 * The rows of an answer in one of the SQL API's output formats, as JSONEachRow lines: `JSON` becomes
 * its `meta` (column names and types, compared too: they are part of the API's answer) and its `data`
 * rows; `TabSeparated` lines become JSON strings, compared as they are.
 */
export function formatRows(format: 'JSON' | 'JSONEachRow' | 'TabSeparated', output: string): string {
  if (format === 'JSONEachRow') return output;
  if (format === 'TabSeparated') {
    return output
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.stringify(line))
      .join('\n');
  }
  // The data rows keep their exact number text: split `data` out of the document without parsing it.
  const parsed = parseExact(output) as { meta?: ExactValue; data?: ExactValue[] };
  return [
    JSON.stringify({ meta: parsed.meta }),
    ...(parsed.data ?? []).map((row) => JSON.stringify(row)),
  ].join('\n');
}

/**
 * Whether the statement fixes the order of its rows: its outermost query has an ORDER BY. An ORDER BY
 * inside parentheses (a subquery, a UNION ALL branch) orders nothing of the result.
 */
export function isOrdered(sqlText: string): boolean {
  let outer = '';
  let depth = 0;
  for (let i = 0; i < sqlText.length; i++) {
    const c = sqlText[i];
    if (c === "'" || c === '`' || c === '"') {
      // Quoted text (a literal, a name) never counts; backslash escapes are skipped with it.
      for (i++; i < sqlText.length && sqlText[i] !== c; i++) if (sqlText[i] === '\\') i++;
      outer += ' ';
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
    } else if (depth === 0) {
      outer += c;
    }
  }
  return /\border\s+by\b/i.test(outer);
}

export interface Answer {
  /** JSONEachRow text, or undefined when the engine refused the statement. */
  rows?: string;
  /** The engine's error message when it refused. */
  error?: string;
}

export interface Difference {
  label: string;
  sql: string;
  reason: string;
  legacy: Answer;
  modern: Answer;
  /** Set when a documented difference of the engines (`KNOWN_DIFFERENCES`) accounts for it. */
  explainedBy?: string;
}

/**
 * Differences between the engines that are known, documented (docs/clickhouse.md) and tested
 * (compare.spec.ts, and the suite's own probe of each): an answer that differs only in this way is
 * counted apart, never as equal and never hidden.
 */
export interface KnownDifference {
  id: string;
  description: string;
  /** 18.16's canonical row as 26.7 prints it, when this difference applies to it; else the row unchanged. */
  repair(legacyRow: string): string;
}

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    id: 'toString-decimal128',
    description:
      "ClickHouse 18.16's toString(Decimal128) writes a NUL byte for some zero digits of values with 22 or more " +
      'integer digits (the stored value and arithmetic are right, output formats print it right); 26.7 prints ' +
      'the digits. Tally builds meter values with toString, so on 18.16 such a value comes back corrupted.',
    // In canonical JSON text a NUL byte is the escape \u0000; 26.7 has a '0' there.
    repair: (row) => row.replace(/\\u0000/g, '0'),
  },
];

/**
 * Compares two answers to one statement. Undefined when they agree; otherwise what differs.
 * A statement one engine refuses and the other runs is a difference; both refusing is one too
 * (Tally emitted SQL that does not run), reported with both messages.
 */
export function compareAnswers(
  label: string,
  sqlText: string,
  legacy: Answer,
  modern: Answer,
): Difference | undefined {
  const differ = (reason: string): Difference => ({ label, sql: sqlText, reason, legacy, modern });
  if (legacy.error !== undefined || modern.error !== undefined) {
    if (legacy.error !== undefined && modern.error !== undefined)
      return differ('both engines refused the statement');
    return differ(
      legacy.error !== undefined ? 'only ClickHouse 18.16 refused it' : 'only ClickHouse 26.7 refused it',
    );
  }
  const a = canonicalRows(legacy.rows ?? '');
  const b = canonicalRows(modern.rows ?? '');
  const reason = rowDifference(a, b, isOrdered(sqlText));
  if (reason === undefined) return undefined;
  const difference = differ(reason);
  for (const known of KNOWN_DIFFERENCES) {
    const repaired = a.map((row) => known.repair(row));
    if (
      repaired.some((row, i) => row !== a[i]) &&
      rowDifference(repaired, b, isOrdered(sqlText)) === undefined
    ) {
      return { ...difference, explainedBy: known.id };
    }
  }
  return difference;
}

function rowDifference(legacyRows: string[], modernRows: string[], ordered: boolean): string | undefined {
  let a = legacyRows;
  let b = modernRows;
  if (a.length !== b.length) return `row counts differ: ${a.length} on 18.16, ${b.length} on 26.7`;
  if (!ordered) {
    a = [...a].sort();
    b = [...b].sort();
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `row ${i} differs: ${a[i]} on 18.16, ${b[i]} on 26.7`;
  }
  return undefined;
}
