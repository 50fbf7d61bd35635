import type { AnalyticsSqlError, SourcePosition } from '@tally/analytics-engine';
import { BadRequestError, type ErrorBody } from '@tally/errors';

/** The error body of a refused query: Tally's usual `{ error: { code, message } }` plus where. */
export interface SqlErrorBody extends ErrorBody {
  error: ErrorBody['error'] & { position?: SourcePosition };
}

/**
 * A query the SQL API refuses (HTTP 400): the code and message of the dialect's `AnalyticsSqlError`
 * (`... at line L, column C`) and the same position as data, for clients that underline it.
 */
export class SqlRefusedError extends BadRequestError {
  constructor(
    code: string,
    message: string,
    readonly position?: SourcePosition,
  ) {
    super(code, message);
  }

  static from(error: AnalyticsSqlError): SqlRefusedError {
    return new SqlRefusedError(error.code, error.message, error.position);
  }

  override toBody(): SqlErrorBody {
    const body = super.toBody();
    return this.position ? { error: { ...body.error, position: this.position } } : body;
  }
}
