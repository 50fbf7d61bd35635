import { TallyUnavailableError } from './errors';
import { classify } from './outcome';

const NOW = 1_700_000_000_000;

describe('classify', () => {
  it('treats any 2xx as stored, reading the duplicates the gateway counted', () => {
    expect(classify({ status: 202, body: { accepted: 1, duplicates: 2, events: [] } }, 3, NOW)).toEqual({
      type: 'accepted',
      duplicates: 2,
    });
    expect(classify({ status: 200, body: undefined }, 3, NOW)).toEqual({ type: 'accepted', duplicates: 0 });
    expect(classify({ status: 202, body: { duplicates: 99 } }, 3, NOW)).toEqual({
      type: 'accepted',
      duplicates: 3,
    });
  });

  it.each([408, 429, 500, 502, 503, 504])('retries %i, with its Retry-After', (status) => {
    const outcome = classify(
      { status, body: { error: { code: 'RATE_LIMITED', message: 'slow down' } }, retryAfter: '3' },
      1,
      NOW,
    );
    expect(outcome).toMatchObject({ type: 'retry', retryAfterMs: 3000 });
    expect(outcome.type === 'retry' && outcome.error).toBeInstanceOf(TallyUnavailableError);
  });

  it.each([301, 400, 401, 403, 404, 409, 413, 415, 422])('rejects %i for good', (status) => {
    expect(classify({ status, body: undefined }, 1, NOW)).toEqual({
      type: 'rejected',
      status,
      code: `HTTP_${status}`,
      message: `HTTP ${status}`,
      details: [],
    });
  });

  it('keeps the code, message and details of a Tally error body', () => {
    const details = [{ index: 1, field: 'timestamp', code: 'TIMESTAMP_IN_FUTURE', message: 'm' }];
    expect(
      classify(
        { status: 422, body: { error: { code: 'VALIDATION_FAILED', message: 'see details', details } } },
        2,
        NOW,
      ),
    ).toEqual({ type: 'rejected', status: 422, code: 'VALIDATION_FAILED', message: 'see details', details });
  });
});
