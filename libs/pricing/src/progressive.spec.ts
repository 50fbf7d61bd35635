import { progressiveThresholds } from './progressive';
import { validatePlan } from './validate';

describe('progressiveThresholds', () => {
  const listed = { thresholds: ['100.00', '500.00'] };
  const repeating = { repeatEvery: '1000.00' };
  const both = { thresholds: ['100.00', '500.00'], repeatEvery: '1000.00' };

  it('counts the listed thresholds at or below the accrued amount', () => {
    expect(progressiveThresholds(listed, '9999', 'USD')).toEqual({
      count: '0',
      thresholdMinor: '0',
      nextMinor: '10000',
    });
    expect(progressiveThresholds(listed, '10000', 'USD')).toEqual({
      count: '1',
      thresholdMinor: '10000',
      nextMinor: '50000',
    });
    expect(progressiveThresholds(listed, '10000000', 'USD')).toEqual({ count: '2', thresholdMinor: '50000' });
  });

  it('repeats every step from zero without a list', () => {
    expect(progressiveThresholds(repeating, '99999', 'USD')).toEqual({
      count: '0',
      thresholdMinor: '0',
      nextMinor: '100000',
    });
    expect(progressiveThresholds(repeating, '100000', 'USD')).toEqual({
      count: '1',
      thresholdMinor: '100000',
      nextMinor: '200000',
    });
    expect(progressiveThresholds(repeating, '350001', 'USD')).toEqual({
      count: '3',
      thresholdMinor: '300000',
      nextMinor: '400000',
    });
  });

  it('repeats above the last listed threshold', () => {
    expect(progressiveThresholds(both, '149999', 'USD')).toEqual({
      count: '2',
      thresholdMinor: '50000',
      nextMinor: '150000',
    });
    expect(progressiveThresholds(both, '250000', 'USD')).toEqual({
      count: '4',
      thresholdMinor: '250000',
      nextMinor: '350000',
    });
  });

  it('works in the currency minor unit (JPY has none, KWD three)', () => {
    expect(progressiveThresholds({ repeatEvery: '1000' }, '2500', 'JPY').count).toBe('2');
    expect(progressiveThresholds({ thresholds: ['1.500'] }, '1500', 'KWD').count).toBe('1');
  });

  it('is exact far beyond the range of doubles', () => {
    const r = progressiveThresholds({ repeatEvery: '0.01' }, '900719925474099312345', 'USD');
    expect(r.count).toBe('900719925474099312345');
    expect(r.thresholdMinor).toBe('900719925474099312345');
  });
});

describe('validatePlan: progressiveBilling', () => {
  const plan = (progressiveBilling: unknown) => ({
    id: 'p',
    currency: 'USD',
    charges: [],
    progressiveBilling,
  });

  it('accepts thresholds, a repeat, or both', () => {
    expect(validatePlan(plan({ thresholds: ['100.00', '500'] }))).toEqual([]);
    expect(validatePlan(plan({ repeatEvery: '1000.00' }))).toEqual([]);
    expect(validatePlan(plan({ thresholds: ['100'], repeatEvery: '1000' }))).toEqual([]);
  });

  it('names the failing field with a stable code', () => {
    const codes = (p: unknown) => validatePlan(plan(p)).map((i) => [i.field, i.code]);
    expect(codes({})).toEqual([['progressiveBilling', 'PROGRESSIVE_BILLING_EMPTY']]);
    expect(codes({ thresholds: [] })).toEqual([['progressiveBilling', 'PROGRESSIVE_BILLING_EMPTY']]);
    expect(codes({ thresholds: ['500', '100'] })).toEqual([
      ['progressiveBilling.thresholds[1]', 'THRESHOLDS_NOT_ASCENDING'],
    ]);
    expect(codes({ thresholds: ['0'] })).toEqual([
      ['progressiveBilling.thresholds[0]', 'THRESHOLD_NOT_POSITIVE'],
    ]);
    expect(codes({ repeatEvery: '-5' })).toEqual([
      ['progressiveBilling.repeatEvery', 'THRESHOLD_NOT_POSITIVE'],
    ]);
    expect(codes({ repeatEvery: '10.001' })).toEqual([
      ['progressiveBilling.repeatEvery', 'TOO_PRECISE_FOR_CURRENCY'],
    ]);
    expect(codes({ thresholds: ['1e3'] })).toEqual([['progressiveBilling.thresholds[0]', 'INVALID_DECIMAL']]);
    expect(codes({ every: '10' })).toEqual([
      ['progressiveBilling.every', 'UNKNOWN_FIELD'],
      ['progressiveBilling', 'PROGRESSIVE_BILLING_EMPTY'],
    ]);
    expect(codes('1000')).toEqual([['progressiveBilling', 'REQUIRED']]);
  });
});
