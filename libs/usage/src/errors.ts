import { type FieldIssue, TallyError } from '@tally/errors';

/**
 * The query asks for more time than one request may cover (too many windows, or a range longer
 * than the configured maximum). Refused before anything reaches ClickHouse.
 */
export class RangeTooLargeError extends TallyError {
  constructor(message: string, field = 'to') {
    super('RANGE_TOO_LARGE', 422, message, { details: [{ field, code: 'RANGE_TOO_LARGE', message }] });
  }
}

/** The answer has more rows than the request allows (`limit`, or the server's maximum). */
export class ResultTooLargeError extends TallyError {
  constructor(maxRows: number, cause?: unknown) {
    const message = `The result has more than ${maxRows} rows; narrow the range, the customers or the grouping, or use a coarser window`;
    super('RESULT_TOO_LARGE', 422, message, {
      cause,
      details: [{ field: 'limit', code: 'RESULT_TOO_LARGE', message }],
    });
  }
}

/** ClickHouse stopped the query at `max_execution_time`: it asks for too much work at once. */
export class QueryTooExpensiveError extends TallyError {
  constructor(seconds: number, cause?: unknown) {
    super(
      'QUERY_TOO_EXPENSIVE',
      422,
      `The query did not finish within ${seconds} s; narrow the range, the customers or the grouping`,
      { cause },
    );
  }
}

/** Shorthand for one invalid query parameter. */
export function issue(field: string, code: string, message: string): FieldIssue {
  return { field, code, message };
}
