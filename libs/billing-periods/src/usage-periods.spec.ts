import {
  activeSubscription,
  calendarMonth,
  currentPeriod,
  localDayStarts,
  subscriptionPeriodDates,
} from './index';
import type { SubscriptionTerms } from './periods';

/** The catalog's subscription as this pure lib sees it (the lib never imports the catalog). */
type Subscription = SubscriptionTerms & { tenant: string; customer: string };

const sub = (overrides: Partial<Subscription>): Subscription => ({
  tenant: 'acme',
  id: 's1',
  customer: 'c1',
  plan: 'p',
  start: '2026-01-15',
  ...overrides,
});

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

describe('billing periods', () => {
  it('calendar months start at local midnight of the 1st', () => {
    expect(calendarMonth(2026, 3, 'America/New_York')).toEqual({
      from: new Date('2026-03-01T05:00:00Z'),
      to: new Date('2026-04-01T04:00:00Z'),
    });
    expect(calendarMonth(2026, 12, 'UTC').to).toEqual(new Date('2027-01-01T00:00:00Z'));
  });

  it('subscription periods run from anchor day to anchor day, clamped to short months', () => {
    expect(subscriptionPeriodDates(sub({}), '2026-03-20')).toEqual({
      start: '2026-03-15',
      end: '2026-04-15',
    });
    expect(subscriptionPeriodDates(sub({}), '2026-03-14')).toEqual({
      start: '2026-02-15',
      end: '2026-03-15',
    });
    const end31 = sub({ start: '2026-01-31' });
    expect(subscriptionPeriodDates(end31, '2026-02-28')).toEqual({ start: '2026-02-28', end: '2026-03-31' });
    expect(subscriptionPeriodDates(end31, '2026-02-27')).toEqual({ start: '2026-01-31', end: '2026-02-28' });
    expect(subscriptionPeriodDates(sub({ billingAnchorDay: 1 }), '2026-01-20')).toEqual({
      start: '2026-01-15',
      end: '2026-02-01',
    });
    expect(subscriptionPeriodDates(sub({ billingAnchorDay: 1, end: '2026-03-10' }), '2026-03-05')).toEqual({
      start: '2026-03-01',
      end: '2026-03-10',
    });
    expect(subscriptionPeriodDates(sub({}), '2026-12-20')).toEqual({
      start: '2026-12-15',
      end: '2027-01-15',
    });
  });

  it('picks the active subscription, the latest start first', () => {
    const old = sub({ id: 'old', start: '2025-01-01', end: '2026-02-01' });
    const current = sub({ id: 'current', start: '2026-02-01' });
    const future = sub({ id: 'future', start: '2026-06-01' });
    expect(activeSubscription([old, current, future], '2026-03-01')?.id).toBe('current');
    expect(activeSubscription([old, current, future], '2026-01-31')?.id).toBe('old');
    expect(activeSubscription([future], '2026-03-01')).toBeUndefined();
  });

  it('current period: the subscription in the customer zone, else the calendar month', () => {
    const now = new Date('2026-03-20T12:00:00Z');
    expect(currentPeriod(now, 'America/New_York', [sub({})])).toEqual({
      from: new Date('2026-03-15T04:00:00Z'),
      to: new Date('2026-04-15T04:00:00Z'),
      timezone: 'America/New_York',
      source: 'subscription',
      subscription: 's1',
      plan: 'p',
    });
    // 2026-03-01T02:00Z is still February in New York.
    expect(currentPeriod(new Date('2026-03-01T02:00:00Z'), 'America/New_York')).toMatchObject({
      from: new Date('2026-02-01T05:00:00Z'),
      to: new Date('2026-03-01T05:00:00Z'),
      source: 'calendar_month',
    });
  });

  it('local days across both New York DST changes (23 and 25 hours)', () => {
    const march = localDayStarts(
      new Date('2026-03-07T05:00:00Z'),
      new Date('2026-03-10T04:00:00Z'),
      'America/New_York',
    );
    expect(march.map(iso)).toEqual([
      '2026-03-07T05:00:00.000Z',
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ]);
    const november = localDayStarts(
      new Date('2026-11-01T12:00:00Z'),
      new Date('2026-11-03T05:00:00Z'),
      'America/New_York',
    );
    expect(november.map(iso)).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
  });
});
