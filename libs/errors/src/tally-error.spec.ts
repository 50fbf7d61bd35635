import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  isTallyError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  TallyError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationFailedError,
} from './tally-error';

describe('typed errors', () => {
  it('each kind has its HTTP status, stable code and own name', () => {
    const cases: Array<[TallyError, number, string, string]> = [
      [new BadRequestError('MALFORMED_JSON', 'no'), 400, 'MALFORMED_JSON', 'BadRequestError'],
      [new UnauthorizedError(), 401, 'UNAUTHORIZED', 'UnauthorizedError'],
      [new ForbiddenError(), 403, 'FORBIDDEN', 'ForbiddenError'],
      [new NotFoundError('Meter', 'plays'), 404, 'NOT_FOUND', 'NotFoundError'],
      [new ConflictError('REVISION_CONFLICT', 'changed'), 409, 'REVISION_CONFLICT', 'ConflictError'],
      [new PayloadTooLargeError('big'), 413, 'PAYLOAD_TOO_LARGE', 'PayloadTooLargeError'],
      [
        new UnsupportedMediaTypeError('text/csv', ['application/json']),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'UnsupportedMediaTypeError',
      ],
      [new ValidationFailedError([]), 422, 'VALIDATION_FAILED', 'ValidationFailedError'],
      [new RateLimitedError(2), 429, 'RATE_LIMITED', 'RateLimitedError'],
      [
        new UnavailableError('CLICKHOUSE_UNAVAILABLE', 'down'),
        503,
        'CLICKHOUSE_UNAVAILABLE',
        'UnavailableError',
      ],
    ];
    for (const [error, status, code, name] of cases) {
      expect([error.httpStatus, error.code, error.name]).toEqual([status, code, name]);
      expect(error).toBeInstanceOf(TallyError);
      expect(error).toBeInstanceOf(Error);
      expect(isTallyError(error)).toBe(true);
    }
    expect(isTallyError(new Error('plain'))).toBe(false);
    expect(isTallyError({ code: 'X', httpStatus: 400 })).toBe(false);
  });

  it('say what is wrong in their messages', () => {
    expect(new NotFoundError('Customer', 'c1').message).toBe("Customer 'c1' does not exist");
    expect(
      new UnsupportedMediaTypeError(undefined, ['application/json', 'application/x-ndjson']).message,
    ).toBe("Content type '(none)' is not accepted; use one of: application/json, application/x-ndjson");
  });

  it('carry Retry-After seconds when waiting helps', () => {
    expect(new RateLimitedError(3).retryAfterSeconds).toBe(3);
    expect(new UnavailableError('NATS_UNAVAILABLE', 'down').retryAfterSeconds).toBe(1);
    expect(new UnavailableError('NATS_UNAVAILABLE', 'down', 5).retryAfterSeconds).toBe(5);
    expect(new BadRequestError('X', 'y').retryAfterSeconds).toBeUndefined();
  });

  it('keep the cause for logs, and only when there is one', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new UnavailableError('CLICKHOUSE_UNAVAILABLE', 'down', 1, cause).cause).toBe(cause);
    expect(new ConflictError('C', 'm', { cause }).cause).toBe(cause);
    expect('cause' in new BadRequestError('X', 'y')).toBe(false);
  });

  it('serialise to the one error body, details only when present and never the cause', () => {
    const details = [{ index: 3, field: 'timestamp', code: 'TIMESTAMP_IN_FUTURE', message: 'in the future' }];
    expect(new ValidationFailedError(details).toBody()).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'Request rejected: see details for every invalid field',
        details,
      },
    });
    const body = new UnavailableError(
      'CLICKHOUSE_UNAVAILABLE',
      'ClickHouse is unavailable',
      1,
      new Error('password=x'),
    ).toBody();
    expect(body).toEqual({ error: { code: 'CLICKHOUSE_UNAVAILABLE', message: 'ClickHouse is unavailable' } });
    expect(JSON.stringify(body)).not.toContain('password');
  });
});
