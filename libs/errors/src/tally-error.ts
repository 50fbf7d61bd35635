/** One failing field of one event (or of a request body when `index` is absent). */
export interface FieldIssue {
  /** Position of the event in the request's batch; absent for request-level issues. */
  index?: number;
  /** Dotted path of the failing field, e.g. `properties.duration`. */
  field: string;
  /** Stable, documented machine code such as `TIMESTAMP_IN_FUTURE`. */
  code: string;
  message: string;
}

export interface TallyErrorOptions {
  details?: FieldIssue[];
  cause?: unknown;
  /** Seconds a client should wait before retrying (429, 503). */
  retryAfterSeconds?: number;
  /** Whether doing the same again can succeed (a dependency was down, a precondition not yet met). Default false. */
  retryable?: boolean;
}

/**
 * Base of every error Tally raises on purpose. `code` is stable and documented; `httpStatus` is the
 * one mapping to HTTP, applied in a single place (the Nest exception filter and the NATS ingress).
 */
export class TallyError extends Error {
  readonly details: FieldIssue[];
  readonly retryAfterSeconds?: number;
  /**
   * Whether the same operation can succeed later without anything else changing. Retry loops (Temporal
   * activities, billing) read this, never the HTTP status: a rule that refused stays refused.
   */
  readonly retryable: boolean;

  constructor(
    readonly code: string,
    readonly httpStatus: number,
    message: string,
    options: TallyErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryable = options.retryable ?? false;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details.length ? { details: this.details } : {}),
      },
    };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: FieldIssue[] };
}

export class BadRequestError extends TallyError {
  constructor(code: string, message: string, options?: TallyErrorOptions) {
    super(code, 400, message, options);
  }
}

export class ValidationFailedError extends TallyError {
  constructor(details: FieldIssue[], message = 'Request rejected: see details for every invalid field') {
    super('VALIDATION_FAILED', 422, message, { details });
  }
}

export class UnauthorizedError extends TallyError {
  constructor(message = 'Missing or unknown API key') {
    super('UNAUTHORIZED', 401, message);
  }
}

export class ForbiddenError extends TallyError {
  constructor(message = 'This API key may not do that') {
    super('FORBIDDEN', 403, message);
  }
}

export class NotFoundError extends TallyError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', 404, `${what} '${id}' does not exist`);
  }
}

export class ConflictError extends TallyError {
  constructor(code: string, message: string, options?: TallyErrorOptions) {
    super(code, 409, message, options);
  }
}

export class PayloadTooLargeError extends TallyError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', 413, message);
  }
}

export class UnsupportedMediaTypeError extends TallyError {
  constructor(contentType: string | undefined, accepted: string[]) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      `Content type '${contentType ?? '(none)'}' is not accepted; use one of: ${accepted.join(', ')}`,
    );
  }
}

export class RateLimitedError extends TallyError {
  constructor(retryAfterSeconds: number) {
    super('RATE_LIMITED', 429, 'Too many requests for this tenant', { retryAfterSeconds, retryable: true });
  }
}

export class UnavailableError extends TallyError {
  constructor(code: string, message: string, retryAfterSeconds = 1, cause?: unknown) {
    super(code, 503, message, { retryAfterSeconds, cause, retryable: true });
  }
}

export function isTallyError(error: unknown): error is TallyError {
  return error instanceof TallyError;
}
