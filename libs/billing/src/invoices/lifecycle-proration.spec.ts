import { customerPeriod, type SubscriptionTerms } from '@tally/billing-periods';
import type { Plan } from '@tally/pricing';
import { pricePeriod } from './period-pricing';

const monthly = (id: string, amount: string, proration?: 'day' | 'second'): Plan => ({
  id,
  currency: 'USD',
  charges: [{ id: 'fee', name: 'Monthly fee', kind: 'flat', amount }],
  ...(proration ? { proration } : {}),
});

function feeLines(subs: SubscriptionTerms[], period: string, zone: string, plans: Plan[]) {
  const p = customerPeriod(subs, period, zone);
  if (!p) throw new Error('no period');
  const priced = pricePeriod({
    period: p,
    pricing: {
      subscriptions: p.subscriptions,
      plans: Object.fromEntries(plans.map((x) => [x.id, x])),
      meterVersions: {},
    },
    usage: {},
  });
  return priced.lines.map((l) => [l.subscription, l.amountMinor, l.proration]);
}

describe('the invoice prorates flat fees per plan setting, outside trials (docs/finance.md#subscription-lifecycle)', () => {
  // A plan change on 2 November 2026 in New York: 1 November has 25 hours (DST ends), so the month has
  // 30 days but 721 hours (2,595,600 s). The first side is 1 day, or 25 hours.
  const change: SubscriptionTerms[] = [
    { id: 's1', plan: 'a', start: '2026-10-01', end: '2026-11-02' },
    { id: 's1-v2', plan: 'b', start: '2026-11-02', billingAnchorDay: 1 },
  ];

  it('by seconds: $721.00 × 25 h / 721 h = $25.00, then $1,442.00 × 696 h / 721 h = $1,392.00', () => {
    expect(
      feeLines(change, '2026-11', 'America/New_York', [
        monthly('a', '721', 'second'),
        monthly('b', '1442', 'second'),
      ]),
    ).toEqual([
      ['s1', '2500', { activeDays: 90_000, daysInPeriod: 2_595_600, unit: 'second' }],
      ['s1-v2', '139200', { activeDays: 2_505_600, daysInPeriod: 2_595_600, unit: 'second' }],
    ]);
  });

  it('by days (the default): $721.00 × 1/30 = $24.03, then $1,442.00 × 29/30 = $1,393.93', () => {
    expect(
      feeLines(change, '2026-11', 'America/New_York', [monthly('a', '721'), monthly('b', '1442')]),
    ).toEqual([
      ['s1', '2403', { activeDays: 1, daysInPeriod: 30 }],
      ['s1-v2', '139393', { activeDays: 29, daysInPeriod: 30 }],
    ]);
  });

  it('a trial until 15 October: $31.00 × 17/31 = $17.00 in October, the whole fee in November', () => {
    const trial: SubscriptionTerms[] = [{ id: 't', plan: 'a', start: '2026-10-01', trialEnd: '2026-10-15' }];
    expect(feeLines(trial, '2026-10', 'UTC', [monthly('a', '31')])).toEqual([
      ['t', '1700', { activeDays: 17, daysInPeriod: 31 }],
    ]);
    expect(feeLines(trial, '2026-11', 'UTC', [monthly('a', '31')])).toEqual([['t', '3100', undefined]]);
    // A trial longer than the period: nothing.
    const long: SubscriptionTerms[] = [{ id: 't', plan: 'a', start: '2026-10-01', trialEnd: '2026-12-15' }];
    expect(feeLines(long, '2026-11', 'UTC', [monthly('a', '31')])).toEqual([
      ['t', '0', { activeDays: 0, daysInPeriod: 30 }],
    ]);
  });
});
