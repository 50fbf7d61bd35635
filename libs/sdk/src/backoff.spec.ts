import fc from 'fast-check';
import { parseRetryAfter, retryDelayMs } from './backoff';

const policy = { initialDelayMs: 100, maxDelayMs: 30_000 };

describe('retryDelayMs', () => {
  it('draws in [0, min(maxDelayMs, initialDelayMs * 2^n))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** n);
          const delay = retryDelayMs(n, policy, () => r);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(ceiling);
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });

  it('never waits less than Retry-After, even beyond maxDelayMs', () => {
    expect(retryDelayMs(0, policy, () => 0.5, 60_000)).toBe(60_000);
    expect(retryDelayMs(10, policy, () => 0.9, 1_000)).toBe(27_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2024, 4, 1, 12, 0, 0);
  it.each([
    ['1', 1000],
    [' 30 ', 30_000],
    ['2.5', 2500],
    ['0', 0],
    ['Wed, 01 May 2024 12:00:07 GMT', 7000],
    ['Wed, 01 May 2024 11:00:00 GMT', 0],
    ['soon', undefined],
    ['-1', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%p → %p ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
