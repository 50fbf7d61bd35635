import {
  drawUnitGrants,
  priceUsage,
  priceUsageWithUnitGrants,
  unitGrantBalance,
  type Plan,
  type UnitDraw,
  type UnitGrant,
} from './index';

/** $0.01 a call for the first 1,000, $0.005 up to 10,000, $0.002 above. */
const tiered: Plan = {
  id: 'api',
  currency: 'USD',
  charges: [
    {
      id: 'calls',
      name: 'API calls',
      kind: 'graduated',
      meter: 'api_calls',
      tiers: [
        { upTo: '1000', unitPrice: '0.01' },
        { upTo: '10000', unitPrice: '0.005' },
        { upTo: null, unitPrice: '0.002' },
      ],
    },
  ],
};
const period = { daysInPeriod: 31, activeDays: 31 };

describe('unit grants', () => {
  it('a grant of 1,000 calls comes off the quantity before the tiers: the customer does not skip tier 1', () => {
    const grants: UnitGrant[] = [
      { id: 'free1k', meter: 'api_calls', units: '1000', effective: '2026-10-01' },
    ];
    // 1,500 calls on 3 October and 2,000 on 20 October: 3,500 calls, all after the grant started.
    const { consumedUnits, draws } = drawUnitGrants({
      grants,
      draws: [],
      meter: 'api_calls',
      days: [
        { day: '2026-10-20', value: '2000' },
        { day: '2026-10-03', value: '1500' },
      ],
      invoiceId: 'inv-oct',
    });
    expect(consumedUnits).toBe('1000');
    expect(draws).toEqual([
      {
        id: 'inv-oct/unit/free1k',
        grantId: 'free1k',
        meter: 'api_calls',
        date: '2026-10-03',
        units: '1000',
        invoiceId: 'inv-oct',
      },
    ]);
    const priced = priceUsageWithUnitGrants(
      { plan: tiered, usage: { api_calls: '3500' }, period },
      { api_calls: consumedUnits },
    );
    // 3,500 − 1,000 granted = 2,500 billed from tier 1: 1,000 × 0.01 + 1,500 × 0.005 = 10.00 + 7.50.
    expect(priced.lines[0]).toMatchObject({
      quantity: '3500',
      grantedUnits: '1000',
      billableQuantity: '2500',
      amountMinor: '1750',
    });
    expect(priced.totalMinor).toBe('1750');
    // Not the "skip the first tiers" reading, price(3,500) − price(1,000) = 22.50 − 10.00 = 12.50,
    // and not the price without the grant: 10.00 + 2,500 × 0.005 = 22.50.
    expect(priceUsage({ plan: tiered, usage: { api_calls: '3500' }, period }).totalMinor).toBe('2250');
  });

  it("the plan's free units are the period's first units; the grant pays for the units after them", () => {
    const plan: Plan = {
      id: 'p',
      currency: 'USD',
      charges: [
        {
          id: 'c',
          name: 'Calls',
          kind: 'per_unit',
          meter: 'api_calls',
          unitPrice: '0.002',
          freeUnits: '500',
        },
      ],
    };
    const grants: UnitGrant[] = [{ id: 'g', meter: 'api_calls', units: '1000', effective: '2026-10-01' }];
    // 800 on 1 Oct: 500 free, 300 granted; 900 on 2 Oct: 700 granted, 200 billed.
    const { consumedUnits, draws } = drawUnitGrants({
      grants,
      draws: [],
      meter: 'api_calls',
      days: [
        { day: '2026-10-01', value: '800' },
        { day: '2026-10-02', value: '900' },
      ],
      includedUnits: '500',
      invoiceId: 'inv',
    });
    expect(consumedUnits).toBe('1000');
    expect(draws[0]).toMatchObject({ date: '2026-10-01', units: '1000' });
    const priced = priceUsageWithUnitGrants(
      { plan, usage: { api_calls: '1700' }, period },
      { api_calls: consumedUnits },
    );
    // 1,700 − 500 free − 1,000 granted = 200 × $0.002 = $0.40.
    expect(priced.lines[0]).toMatchObject({
      grantedUnits: '1000',
      billableQuantity: '200',
      amountMinor: '40',
    });
  });

  it('a grant expiring mid-period pays only for the days before, its rest expires; the next period draws what is left', () => {
    const grants: UnitGrant[] = [
      { id: 'short', meter: 'api_calls', units: '600', effective: '2026-10-01', expires: '2026-10-16' },
      { id: 'long', meter: 'api_calls', units: '1000', effective: '2026-10-01' },
    ];
    // 400 calls on 5 October: from 'short' (it expires first). 500 on 20 October: 'short' has
    // expired (200 left expire on 16 October), so from 'long'.
    const october = drawUnitGrants({
      grants,
      draws: [],
      meter: 'api_calls',
      days: [
        { day: '2026-10-05', value: '400' },
        { day: '2026-10-20', value: '500' },
      ],
      invoiceId: 'inv-oct',
    });
    expect(october.consumedUnits).toBe('900');
    expect(october.draws.map((d) => [d.grantId, d.date, d.units])).toEqual([
      ['short', '2026-10-05', '400'],
      ['long', '2026-10-20', '500'],
    ]);
    const drawn: UnitDraw[] = october.draws;
    // On 10 October: 1,600 granted, 400 drawn, nothing expired yet.
    expect(unitGrantBalance(grants, drawn, 'api_calls', '2026-10-10')).toMatchObject({
      balanceUnits: '1200',
      grantedUnits: '1600',
      drawnUnits: '400',
      expiredUnits: '0',
    });
    // On 1 November: 1,600 − 900 drawn − 200 expired = 500, all of 'long'.
    const nov1 = unitGrantBalance(grants, drawn, 'api_calls', '2026-11-01');
    expect(nov1).toMatchObject({ balanceUnits: '500', drawnUnits: '900', expiredUnits: '200' });
    expect(nov1.buckets).toEqual([
      {
        grantId: 'long',
        meter: 'api_calls',
        priority: 10,
        effective: '2026-10-01',
        grantedUnits: '1000',
        remainingUnits: '500',
      },
    ]);
    // November: 800 calls, the 500 left pay for 500; 300 are billed: 300 × 0.01 = $3.00.
    const november = drawUnitGrants({
      grants,
      draws: drawn,
      meter: 'api_calls',
      days: [{ day: '2026-11-02', value: '800' }],
      invoiceId: 'inv-nov',
    });
    expect(november.consumedUnits).toBe('500');
    expect(november.draws).toMatchObject([{ grantId: 'long', units: '500', id: 'inv-nov/unit/long' }]);
    const priced = priceUsageWithUnitGrants(
      { plan: tiered, usage: { api_calls: '800' }, period },
      { api_calls: november.consumedUnits },
    );
    expect(priced.lines[0]).toMatchObject({ billableQuantity: '300', amountMinor: '300' });
    expect(
      unitGrantBalance(grants, [...drawn, ...november.draws], 'api_calls', '2026-12-01').balanceUnits,
    ).toBe('0');
  });

  it('draw order: lowest priority first; a grant effective mid-period pays nothing for earlier days', () => {
    const grants: UnitGrant[] = [
      { id: 'b', meter: 'api_calls', units: '100', effective: '2026-10-01', priority: 20 },
      { id: 'a', meter: 'api_calls', units: '100', effective: '2026-10-01', priority: 5 },
      { id: 'late', meter: 'api_calls', units: '100', effective: '2026-10-15', priority: 0 },
      { id: 'other', meter: 'storage_gb', units: '100', effective: '2026-10-01' },
    ];
    const r = drawUnitGrants({
      grants,
      draws: [],
      meter: 'api_calls',
      days: [{ day: '2026-10-05', value: '150' }],
      invoiceId: 'i',
    });
    // 'a' (priority 5) then 50 of 'b'; 'late' is not usable on 5 October, 'other' is another meter.
    expect(r.draws.map((d) => [d.grantId, d.units])).toEqual([
      ['a', '100'],
      ['b', '50'],
    ]);
    expect(r.consumedUnits).toBe('150');
  });

  it('decimal units stay exact; a draw larger than what is left or negative units are refused', () => {
    const grants: UnitGrant[] = [{ id: 'gb', meter: 'gb_hours', units: '0.3', effective: '2026-10-01' }];
    const r = drawUnitGrants({
      grants,
      draws: [],
      meter: 'gb_hours',
      days: [
        { day: '2026-10-01', value: '0.1' },
        { day: '2026-10-02', value: '0.1' },
      ],
      invoiceId: 'i',
    });
    // Exact decimals: 0.3 − 0.2 leaves 0.1 (in JavaScript floats, 0.09999999999999998).
    expect(r.consumedUnits).toBe('0.2');
    expect(unitGrantBalance(grants, r.draws, 'gb_hours', '2026-10-31').balanceUnits).toBe('0.1');
    const tooMuch: UnitDraw = { ...r.draws[0], id: 'x', units: '0.4' };
    expect(() => unitGrantBalance(grants, [tooMuch], 'gb_hours', '2026-10-31')).toThrow(/has 0.3/);
    expect(() => unitGrantBalance([{ ...grants[0], units: '-1' }], [], 'gb_hours', '2026-10-31')).toThrow(
      /must not be negative/,
    );
  });
});

describe('a voided unit grant', () => {
  it('pays for nothing from the void on; what was left is voided, not expired', () => {
    // 500 calls from 1 October, voided on 10 October (refunded); 300 calls on 5 October, 400 on 12 October.
    const grants: UnitGrant[] = [
      { id: 'g', meter: 'api_calls', units: '500', effective: '2026-10-01', voidedOn: '2026-10-10' },
    ];
    const r = drawUnitGrants({
      grants,
      draws: [],
      meter: 'api_calls',
      days: [
        { day: '2026-10-05', value: '300' },
        { day: '2026-10-12', value: '400' },
      ],
      invoiceId: 'inv',
    });
    // Only 5 October's 300 are granted; 12 October's 400 are billed.
    expect(r.consumedUnits).toBe('300');
    // 500 − 300 drawn − 200 voided = 0 from 10 October; before it, 200 usable.
    expect(unitGrantBalance(grants, r.draws, 'api_calls', '2026-10-09')).toMatchObject({
      balanceUnits: '200',
      voidedUnits: '0',
    });
    expect(unitGrantBalance(grants, r.draws, 'api_calls', '2026-10-10')).toMatchObject({
      balanceUnits: '0',
      drawnUnits: '300',
      voidedUnits: '200',
      expiredUnits: '0',
    });
  });
});
