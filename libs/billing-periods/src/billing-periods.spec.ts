import { ValidationFailedError } from '@tally/errors';
import { customerPeriod, localDateOf, parsePeriod, periodsEndedBetween, subscriptionPeriod } from './index';

/** The value, or a test failure naming what was missing. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

const sub = (
  overrides: Partial<{ id: string; plan: string; start: string; end: string; billingAnchorDay: number }> = {},
) => ({
  id: 's1',
  plan: 'p',
  start: '2026-01-01',
  ...overrides,
});

describe('billing periods', () => {
  it('are calendar months for a subscription that starts on the 1st', () => {
    expect(subscriptionPeriod(sub(), '2026-02')).toEqual({
      subscription: 's1',
      plan: 'p',
      start: '2026-02-01',
      end: '2026-03-01',
      daysInPeriod: 28,
      activeDays: 28,
    });
  });

  it('start on the anchor day (default: the start date’s day), clamped to short months', () => {
    expect(subscriptionPeriod(sub({ start: '2026-01-15' }), '2026-03')).toMatchObject({
      start: '2026-03-15',
      end: '2026-04-15',
      daysInPeriod: 31,
    });
    expect(subscriptionPeriod(sub({ start: '2026-01-31' }), '2026-02')).toMatchObject({
      start: '2026-02-28',
      end: '2026-03-31',
      daysInPeriod: 31,
    });
    expect(subscriptionPeriod(sub({ start: '2026-01-01', billingAnchorDay: 31 }), '2026-04')).toMatchObject({
      start: '2026-04-30',
      end: '2026-05-31',
    });
  });

  it('are cut to the subscription’s start and end (the share flat fees are prorated by)', () => {
    expect(subscriptionPeriod(sub({ start: '2026-10-16', billingAnchorDay: 1 }), '2026-10')).toMatchObject({
      start: '2026-10-16',
      end: '2026-11-01',
      daysInPeriod: 31,
      activeDays: 16,
    });
    expect(subscriptionPeriod(sub({ end: '2026-10-11' }), '2026-10')).toMatchObject({
      end: '2026-10-11',
      activeDays: 10,
    });
    expect(subscriptionPeriod(sub({ end: '2026-09-15' }), '2026-10')).toBeUndefined();
    expect(subscriptionPeriod(sub({ start: '2026-11-01' }), '2026-10')).toBeUndefined();
  });

  it('turn local dates into instants of the customer’s zone', () => {
    const p = defined(customerPeriod([sub()], '2026-10', 'America/New_York'));
    expect(new Date(p.fromMs).toISOString()).toBe('2026-10-01T04:00:00.000Z');
    // 1 November 2026 is still summer time at midnight in New York (DST ends at 02:00).
    expect(new Date(p.toMs).toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(new Date(defined(customerPeriod([sub()], '2026-10', 'Asia/Tokyo')).toMs).toISOString()).toBe(
      '2026-10-31T15:00:00.000Z',
    );
    expect(localDateOf(Date.parse('2026-11-01T03:30:00Z'), 'America/New_York')).toBe('2026-10-31');
  });

  it('find the periods that ended inside a run’s look-back window, each in its own zone', () => {
    const at = Date.parse('2026-11-01T06:00:00Z');
    const after = at - 48 * 3_600_000;
    for (const zone of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
      expect(periodsEndedBetween([sub()], zone, after, at).map((p) => p.period)).toEqual(['2026-10']);
    }
    // Los Angeles is still in October at 06:00 UTC (23:00 on the 31st).
    expect(periodsEndedBetween([sub()], 'America/Los_Angeles', after, at)).toEqual([]);
    // A subscription that ended mid-month is due when it ends.
    const ended = periodsEndedBetween(
      [sub({ end: '2026-10-20' })],
      'UTC',
      Date.parse('2026-10-19T00:00:00Z'),
      Date.parse('2026-10-21T00:00:00Z'),
    );
    expect(ended.map((p) => [p.period, new Date(p.toMs).toISOString()])).toEqual([
      ['2026-10', '2026-10-20T00:00:00.000Z'],
    ]);
  });

  it('reject malformed period names with the field and a stable code', () => {
    for (const bad of ['2026-13', '2026-1', '26-01', '2026-00', '']) {
      try {
        parsePeriod(bad);
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationFailedError);
        expect((e as ValidationFailedError).details).toEqual([
          expect.objectContaining({ field: 'period', code: 'INVALID_PERIOD' }),
        ]);
      }
    }
  });
});
