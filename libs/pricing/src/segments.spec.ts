/**
 * Plan changes inside a period: worked examples (each with its hand computation) and the no-drift
 * property of segment proration.
 */
import fc from 'fast-check';
import {
  completeInvoice,
  creditBalance,
  discountInvoice,
  drawCredits,
  priceSegments,
  priceUsage,
  unusedPartCredit,
  validatePlan,
  type CreditEntry,
  type Plan,
} from './index';

const starter: Plan = {
  id: 'starter',
  currency: 'USD',
  charges: [
    { id: 'base', name: 'Starter', kind: 'flat', amount: '49' },
    {
      id: 'calls',
      name: 'API calls',
      kind: 'graduated',
      meter: 'calls',
      tiers: [
        { upTo: '1000', unitPrice: '0' },
        { upTo: '10000', unitPrice: '0.01' },
        { upTo: null, unitPrice: '0.005' },
      ],
    },
  ],
};
const pro: Plan = {
  id: 'pro',
  currency: 'USD',
  charges: [
    { id: 'base', name: 'Pro', kind: 'flat', amount: '199' },
    {
      id: 'calls',
      name: 'API calls',
      kind: 'graduated',
      meter: 'calls',
      tiers: [
        { upTo: '5000', unitPrice: '0' },
        { upTo: null, unitPrice: '0.004' },
      ],
    },
  ],
};
const DAY = 86_400;
const seg = (plan: Plan, startDay: number, endDay: number, calls: string) => ({
  plan,
  startDay,
  endDay,
  startSecond: startDay * DAY,
  endSecond: endDay * DAY,
  usage: { calls },
});

describe('plan changes inside a period (worked examples)', () => {
  it('upgrade Starter → Pro on 11 April (30-day April), tiers counted from zero', () => {
    // Starter 1-10 April: fee 49 × 10/30 = 16.333… → 1633 ¢; 4,000 calls: 1,000 free + 3,000 × $0.01 = 3000 ¢.
    // Pro 11-30 April: fee round(19900 × 30/30) − round(19900 × 10/30) = 19900 − 6633 = 13267 ¢ (= 199 × 20/30 = 132.67);
    //   20,000 calls from zero: 5,000 free + 15,000 × $0.004 = 6000 ¢.
    // Total 1633 + 3000 + 13267 + 6000 = 23900 ¢ = $239.00. Starter's unused 20 days are not billed (fees are billed
    // in arrears, for the days used), which is the upgrade's credit for the unused part.
    const r = priceSegments({
      periodDays: 30,
      periodSeconds: 30 * DAY,
      segments: [seg(starter, 0, 10, '4000'), seg(pro, 10, 30, '20000')],
    });
    expect(r.lines.map((l) => [l.plan, l.chargeId, l.amountMinor])).toEqual([
      ['starter', 'base', '1633'],
      ['starter', 'calls', '3000'],
      ['pro', 'base', '13267'],
      ['pro', 'calls', '6000'],
    ]);
    expect(r.lines[2].proration).toEqual({ activeDays: 20, daysInPeriod: 30 });
    expect(r.totalMinor).toBe('23900');
  });

  it('the same upgrade when Pro carries tiers over: its free 5,000 calls count from the period start', () => {
    // Pro with segmentTiers carry_over: the 4,000 calls under Starter count first. price(24,000) − price(4,000) under Pro
    // = (24,000 − 5,000) × 0.004 − 0 = $76.00. Total 1633 + 3000 + 13267 + 7600 = 25500 ¢.
    const proCarry: Plan = { ...pro, segmentTiers: 'carry_over' };
    const r = priceSegments({
      periodDays: 30,
      periodSeconds: 30 * DAY,
      segments: [seg(starter, 0, 10, '4000'), seg(proCarry, 10, 30, '20000')],
    });
    const calls = r.lines[3];
    expect([calls.amountMinor, calls.carriedOver, calls.quantity]).toEqual(['7600', '4000', '20000']);
    expect(calls.tiers?.map((t) => [t.tier, t.quantity, t.amount])).toEqual(
      [
        ['1', '1000', '0'],
        ['2', '19000', '76'],
      ].map(([t, q, a]) => [Number(t), q, a]),
    );
    expect(r.totalMinor).toBe('25500');
  });

  it('downgrade Pro → Starter on 21 April, Starter carrying tiers over', () => {
    // Pro 1-20 April: fee round(19900 × 20/30) = 13267; 12,000 calls: 7,000 × 0.004 = 2800.
    // Starter 21-30 April: fee 4900 − round(4900 × 20/30) = 4900 − 3267 = 1633; 3,000 calls on top of the 12,000:
    //   price(15,000) − price(12,000) under Starter = (90 + 25) − (90 + 10) = $15.00, all in tier 3.
    // Total 13267 + 2800 + 1633 + 1500 = 19200 ¢.
    const starterCarry: Plan = { ...starter, segmentTiers: 'carry_over' };
    const r = priceSegments({
      periodDays: 30,
      periodSeconds: 30 * DAY,
      segments: [seg(pro, 0, 20, '12000'), seg(starterCarry, 20, 30, '3000')],
    });
    expect(r.lines.map((l) => l.amountMinor)).toEqual(['13267', '2800', '1633', '1500']);
    expect(r.lines[3].tiers?.map((t) => [t.tier, t.quantity, t.amount])).toEqual([[3, '3000', '15']]);
    expect(r.totalMinor).toBe('19200');
  });

  it('annual plan switched to monthly on 1 April: the unused part of the year becomes credit later invoices draw', () => {
    // $1,200.00 paid in advance for 2026 (365 days). Switched on 2026-04-01: 275 days unused (April to December).
    // Credit 120000 × 275 / 365 = 90410.958… → 90411 ¢ ($904.11), a grant effective 1 April.
    // Monthly plan $120.00 in arrears: April-October draw 7 × 12000 = 84000; November draws the last 6411 and the
    // customer pays 12000 − 6411 = 5589; December pays 12000. Nothing is ever negative.
    const credit = unusedPartCredit('120000', 365, 275);
    expect(credit).toBe('90411');
    let entries: CreditEntry[] = [
      {
        type: 'grant',
        grant: {
          id: 'annual-unused',
          currency: 'USD',
          amountMinor: credit,
          effective: '2026-04-01',
          source: 'proration',
        },
      },
    ];
    const due: string[] = [];
    for (let m = 4; m <= 12; m++) {
      const from = `2026-${String(m).padStart(2, '0')}-01`;
      const to = m === 12 ? '2027-01-01' : `2026-${String(m + 1).padStart(2, '0')}-01`;
      const monthly = priceUsage({
        plan: {
          id: 'monthly',
          currency: 'USD',
          charges: [{ id: 'fee', name: 'Monthly', kind: 'flat', amount: '120' }],
        },
        usage: {},
        period: { daysInPeriod: 30, activeDays: 30 },
      });
      const d = discountInvoice('USD', [
        { lineId: 'fee', chargeId: 'fee', name: 'Monthly', amountMinor: monthly.totalMinor },
      ]);
      const balance = creditBalance(entries, 'USD', from).balanceMinor;
      const want = BigInt(d.creditableMinor) < BigInt(balance) ? d.creditableMinor : balance;
      const r = drawCredits(entries, 'USD', [{ from, to, amountMinor: want }], `inv-${from}`);
      entries = [...entries, ...r.entries];
      due.push(completeInvoice(d, r.draws, undefined).totalMinor);
    }
    expect(due).toEqual(['0', '0', '0', '0', '0', '0', '0', '5589', '12000']);
    expect(creditBalance(entries, 'USD', '2027-01-01').balanceMinor).toBe('0');
  });
});

describe('segment proration (property)', () => {
  const cuts = (length: number) =>
    fc
      .uniqueArray(fc.integer({ min: 1, max: length - 1 }), { maxLength: 6 })
      .map((xs) => [0, ...xs.sort((a, b) => a - b), length]);

  it('no rounding drift: an unchanged plan split anywhere costs exactly its whole-period price (days or seconds)', () => {
    const scenario = fc
      .record({
        days: fc.integer({ min: 28, max: 31 }),
        fee: fc.integer({ min: 0, max: 10_000_000 }).map((c) => (c / 100).toFixed(2)),
        proration: fc.constantFrom<'day' | 'second'>('day', 'second'),
        usages: fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 8, maxLength: 8 }),
      })
      .chain((x) => fc.tuple(fc.constant(x), cuts(x.proration === 'day' ? x.days : x.days * DAY)));
    fc.assert(
      fc.property(scenario, ([{ days, fee, proration, usages }, points]) => {
        const plan: Plan = {
          ...starter,
          proration,
          segmentTiers: 'carry_over',
          charges: [{ id: 'base', name: 'Starter', kind: 'flat', amount: fee }, starter.charges[1]],
        };
        // Day offsets of second cuts: the day each cut falls in (only seconds decide the proration then).
        const segments = points.slice(1).map((end, i) => {
          const start = points[i];
          const [startSecond, endSecond] = proration === 'day' ? [start * DAY, end * DAY] : [start, end];
          return {
            plan,
            startDay: Math.floor(startSecond / DAY),
            endDay: i === points.length - 2 ? days : Math.floor(endSecond / DAY),
            startSecond,
            endSecond,
            usage: { calls: String(usages[i] ?? 0) },
          };
        });
        const split = priceSegments({ periodDays: days, periodSeconds: days * DAY, segments });
        const total = segments.reduce((s, x) => s + Number(x.usage.calls), 0);
        const whole = priceUsage({
          plan,
          usage: { calls: String(total) },
          period: { daysInPeriod: days, activeDays: days },
        });
        expect(split.totalMinor).toBe(whole.totalMinor);
        const flat = split.lines
          .filter((l) => l.kind === 'flat')
          .reduce((s, l) => s + BigInt(l.amountMinor), 0n);
        expect(flat).toBe(BigInt(whole.lines[0].amountMinor));
      }),
      { numRuns: 300 },
    );
  });
});

describe('plan change settings', () => {
  it('are validated with the failing field', () => {
    const bad = { ...starter, proration: 'hour', segmentTiers: 'keep' } as unknown as Plan;
    expect(validatePlan(bad).map((i) => [i.field, i.code])).toEqual([
      ['proration', 'REQUIRED'],
      ['segmentTiers', 'REQUIRED'],
    ]);
    expect(validatePlan({ ...starter, proration: 'second', segmentTiers: 'carry_over' })).toEqual([]);
  });
});
