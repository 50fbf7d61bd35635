import { TallyError } from '@tally/errors';

/** Stable codes of SQL API errors (HTTP 400). docs/analytics-engine.md lists them. */
export const AnalyticsSqlErrorCode = {
  /** Not valid SQL of the dialect: unexpected or missing token, unterminated string, bad number. */
  SQL_SYNTAX: 'SQL_SYNTAX',
  /** Valid ClickHouse perhaps, but outside the dialect: joins, subqueries, SETTINGS, several statements... */
  SQL_UNSUPPORTED: 'SQL_UNSUPPORTED',
  /** The FROM names no dataset of the caller. */
  SQL_UNKNOWN_TABLE: 'SQL_UNKNOWN_TABLE',
  /** A name that is neither a column of a dataset nor an alias of the SELECT list. */
  SQL_UNKNOWN_COLUMN: 'SQL_UNKNOWN_COLUMN',
  /** A function outside the allow-list. */
  SQL_UNKNOWN_FUNCTION: 'SQL_UNKNOWN_FUNCTION',
} as const;

export type AnalyticsSqlErrorCode = (typeof AnalyticsSqlErrorCode)[keyof typeof AnalyticsSqlErrorCode];

/** Where in the SQL text: 1-based line and column (columns count Unicode code points), 0-based offset. */
export interface SourcePosition {
  offset: number;
  line: number;
  column: number;
}

/**
 * A query the SQL API refuses, with what and where: the message ends with `at line L, column C`, and
 * `position` carries the same for clients that underline it.
 */
export class AnalyticsSqlError extends TallyError {
  constructor(
    code: AnalyticsSqlErrorCode,
    readonly reason: string,
    readonly position?: SourcePosition,
  ) {
    super(code, 400, position ? `${reason} at line ${position.line}, column ${position.column}` : reason);
  }
}

export function isAnalyticsSqlError(error: unknown): error is AnalyticsSqlError {
  return error instanceof AnalyticsSqlError;
}
