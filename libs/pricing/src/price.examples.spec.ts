/**
 * Worked examples, most taken from public pricing documentation (source named above each block) and
 * recomputed by hand in the comments. Amounts in `amountMinor` are cents unless the currency says otherwise.
 */
import { type Charge, type Plan, type PricingInput, type Tier, formatMinor, priceUsage } from './index';

const FULL = { daysInPeriod: 30, activeDays: 30 };

function plan(charges: Charge[], extra: Partial<Plan> = {}): Plan {
  return { id: 'plan', currency: 'USD', charges, ...extra };
}

function price(p: Plan, usage: Record<string, string> = {}, period = FULL) {
  const input: PricingInput = { plan: p, usage, period };
  return priceUsage(input);
}

/** The single line of a one-charge plan. */
function line(charge: Charge, usage: Record<string, string> = {}, currency = 'USD') {
  const result = price(plan([charge], { currency }), usage);
  expect(result.lines).toHaveLength(1);
  return result.lines[0];
}

describe('tiered pricing: Stripe "Set up tiered pricing" (docs.stripe.com/subscriptions/pricing-models/tiered-pricing)', () => {
  // Typographic's font tiers: 1–5 fonts 7 USD each, 6–10 6.5 USD, 11+ 6 USD.
  const tiers: Tier[] = [
    { upTo: '5', unitPrice: '7' },
    { upTo: '10', unitPrice: '6.5' },
    { upTo: null, unitPrice: '6' },
  ];
  const volume: Charge = { kind: 'volume', id: 'fonts', name: 'Fonts', meter: 'fonts', tiers };
  const graduated: Charge = { ...volume, kind: 'graduated' };

  it.each([
    // Stripe's volume table: quantity → total monthly cost.
    ['1', '7', '700'],
    ['5', '35', '3500'],
    ['6', '39', '3900'], // 6 × 6.5: the whole quantity moves to the 6–10 rate
    ['20', '120', '12000'],
    ['25', '150', '15000'],
  ])('volume: %s fonts cost %s USD', (fonts, amount, minor) => {
    const l = line(volume, { fonts });
    expect(l.amount).toBe(amount);
    expect(l.amountMinor).toBe(minor);
    expect(l.tiers).toHaveLength(1);
  });

  it.each([
    // Stripe: "5 fonts result in the same charge as volume-based pricing: 35 USD". Beyond that each
    // tier prices its own fonts: 6 = 5×7 + 1×6.5; 20 = 5×7 + 5×6.5 + 10×6; 25 = 35 + 32.5 + 15×6.
    ['5', '35'],
    ['6', '41.5'],
    ['20', '127.5'],
    ['25', '157.5'],
  ])('graduated: %s fonts cost %s USD', (fonts, amount) => {
    expect(line(graduated, { fonts }).amount).toBe(amount);
  });

  it('shows the graduated tier breakdown', () => {
    expect(line(graduated, { fonts: '20' }).tiers).toEqual([
      { tier: 1, from: '0', upTo: '5', quantity: '5', unitPrice: '7', flatFee: '0', amount: '35' },
      { tier: 2, from: '5', upTo: '10', quantity: '5', unitPrice: '6.5', flatFee: '0', amount: '32.5' },
      { tier: 3, from: '10', upTo: null, quantity: '10', unitPrice: '6', flatFee: '0', amount: '60' },
    ]);
  });
});

describe('graduated vs volume, the issue example (tiers 5 × $5, next 5 × $4, 11+ × $3)', () => {
  const tiers: Tier[] = [
    { upTo: '5', unitPrice: '5' },
    { upTo: '10', unitPrice: '4' },
    { upTo: null, unitPrice: '3' },
  ];

  it('12 units: graduated 5×5 + 5×4 + 2×3 = 51, volume 12×3 = 36', () => {
    const usage = { units: '12' };
    const g = line({ kind: 'graduated', id: 'g', name: 'G', meter: 'units', tiers }, usage);
    const v = line({ kind: 'volume', id: 'v', name: 'V', meter: 'units', tiers }, usage);
    expect(g.amountMinor).toBe('5100');
    expect(v.amountMinor).toBe('3600');
    // With prices falling as volume grows, graduated is the EXPENSIVE one: "graduated never exceeds
    // volume" does not hold; the true statement (volume ≤ graduated) is a property test.
    expect(BigInt(g.amountMinor) > BigInt(v.amountMinor)).toBe(true);
  });

  it('tier boundaries are (previous upTo, upTo]: exactly 5 units stay in tier 1, 5.5 reach tier 2', () => {
    const v = { kind: 'volume', id: 'v', name: 'V', meter: 'units', tiers } as const;
    expect(line(v, { units: '5' }).amount).toBe('25');
    expect(line(v, { units: '5.5' }).amount).toBe('22'); // 5.5 × 4
    expect(line({ ...v, kind: 'graduated' }, { units: '5.5' }).amount).toBe('27'); // 25 + 0.5 × 4
  });
});

describe('more graduated/volume examples from public docs', () => {
  // Zuplo "Pricing models" (zuplo.com/docs/articles/monetization/pricing-models): 0–1,000 $0.10,
  // 1,001–10,000 $0.05, 10,001+ $0.01. 15,000 units: graduated 100 + 450 + 50 = $600; volume 15,000 × 0.01 = $150.
  const zuplo: Tier[] = [
    { upTo: '1000', unitPrice: '0.10' },
    { upTo: '10000', unitPrice: '0.05' },
    { upTo: null, unitPrice: '0.01' },
  ];
  it('Zuplo: 15,000 units cost $600 graduated and $150 volume', () => {
    expect(
      line({ kind: 'graduated', id: 'g', name: 'G', meter: 'u', tiers: zuplo }, { u: '15000' }).amountMinor,
    ).toBe('60000');
    expect(
      line({ kind: 'volume', id: 'v', name: 'V', meter: 'u', tiers: zuplo }, { u: '15000' }).amountMinor,
    ).toBe('15000');
  });

  // Autumn "Graduated Pricing" (docs.useautumn.com/documentation/modelling-pricing/graduated-pricing):
  // first 1,000 requests $0.01, 1,001–10,000 $0.008, above $0.005. 15,000 requests: 10 + 72 + 25 = $107.
  it('Autumn: 15,000 requests cost $107 graduated', () => {
    const tiers: Tier[] = [
      { upTo: '1000', unitPrice: '0.01' },
      { upTo: '10000', unitPrice: '0.008' },
      { upTo: null, unitPrice: '0.005' },
    ];
    const l = line(
      { kind: 'graduated', id: 'req', name: 'Requests', meter: 'requests', tiers },
      { requests: '15000' },
    );
    expect(l.amount).toBe('107');
    expect(l.amountMinor).toBe('10700');
  });
});

describe('tier flat fees (Stripe tiers[].flat_amount: "the flat billing amount for an entire tier")', () => {
  // Our example: first 10 units for a $20 flat fee, then $1.50 per unit plus a $5 flat fee for tier 2.
  const tiers: Tier[] = [
    { upTo: '10', unitPrice: '0', flatFee: '20' },
    { upTo: null, unitPrice: '1.50', flatFee: '5' },
  ];
  const graduated: Charge = { kind: 'graduated', id: 'g', name: 'Builds', meter: 'builds', tiers };
  const volume: Charge = { ...graduated, kind: 'volume' };

  it.each([
    ['0', '0'], // no unit falls in any tier: no flat fee either (use a flat charge for a fee due anyway)
    ['1', '20'],
    ['10', '20'],
    ['11', '26.5'], // 20 + (1 × 1.50 + 5)
    ['30', '55'], // 20 + (20 × 1.50 + 5)
  ])('graduated: %s units cost %s', (builds, amount) => {
    expect(line(graduated, { builds }).amount).toBe(amount);
  });

  it.each([
    ['0', '0'],
    ['10', '20'],
    ['11', '21.5'], // 11 × 1.50 + 5: only the tier the total falls in
    ['30', '50'],
  ])('volume: %s units cost %s', (builds, amount) => {
    expect(line(volume, { builds }).amount).toBe(amount);
  });

  it('lists the flat fee in the breakdown', () => {
    expect(line(graduated, { builds: '11' }).tiers).toEqual([
      { tier: 1, from: '0', upTo: '10', quantity: '10', unitPrice: '0', flatFee: '20', amount: '20' },
      { tier: 2, from: '10', upTo: null, quantity: '1', unitPrice: '1.5', flatFee: '5', amount: '6.5' },
    ]);
  });
});

describe('package pricing: Stripe quantity transformation', () => {
  // stripe.com/docs/billing/subscriptions/quantity-transformation: "$10 for every 5 users (or portion
  // thereof)": 1, 3, 5 users → $10; 6, 7 users → $20.
  const perFiveUsers: Charge = {
    kind: 'package',
    id: 'seats',
    name: 'Seats',
    meter: 'users',
    packageSize: '5',
    packagePrice: '10',
  };
  it.each([
    ['1', '1', '1000'],
    ['3', '1', '1000'],
    ['5', '1', '1000'],
    ['6', '2', '2000'],
    ['7', '2', '2000'],
  ])('%s users → %s package(s), %s cents', (users, packages, minor) => {
    const l = line(perFiveUsers, { users });
    expect(l.packages).toBe(packages);
    expect(l.amountMinor).toBe(minor);
  });

  // docs.stripe.com/billing/subscriptions/usage-based/transform-quantities: car rental, usage in minutes,
  // 10 USD per started hour: 150 minutes → 3 hours → 30 USD.
  it('car rental: 150 minutes at $10 per started hour is $30', () => {
    const l = line(
      {
        kind: 'package',
        id: 'rent',
        name: 'Rental',
        meter: 'minutes',
        packageSize: '60',
        packagePrice: '10',
      },
      { minutes: '150' },
    );
    expect(l.packages).toBe('3');
    expect(l.amount).toBe('30');
  });

  it('the issue example: $5 per 5 units, 8 units → 2 packages = $10; 0 units → 0 packages', () => {
    const c: Charge = {
      kind: 'package',
      id: 'p',
      name: 'P',
      meter: 'u',
      packageSize: '5',
      packagePrice: '5',
    };
    expect(line(c, { u: '8' })).toMatchObject({ packages: '2', amount: '10', amountMinor: '1000' });
    expect(line(c, { u: '0' })).toMatchObject({ packages: '0', amount: '0' });
  });
});

describe('included units: Stripe "flat fee and overages" (Hypernian)', () => {
  // docs.stripe.com/billing/subscriptions/usage-based-v1/use-cases/flat-fee-and-overages: 100 USD per
  // user, usage 0–1000 free, 1000+ at 0.04 USD. One user and 1,500 tokens: 100 + 500 × 0.04 = 120 USD.
  const seat: Charge = { kind: 'flat', id: 'seat', name: 'Per user', amount: '100' };

  it('as a per-unit charge with freeUnits', () => {
    const tokens: Charge = {
      kind: 'per_unit',
      id: 'tokens',
      name: 'Tokens',
      meter: 'tokens',
      unitPrice: '0.04',
      freeUnits: '1000',
    };
    const r = price(plan([seat, tokens]), { tokens: '1500' });
    expect(r.lines[1]).toMatchObject({ quantity: '1500', billableQuantity: '500', amount: '20' });
    expect(r.totalMinor).toBe('12000');
  });

  it('as a graduated charge with a free first tier: same total', () => {
    const tokens: Charge = {
      kind: 'graduated',
      id: 'tokens',
      name: 'Tokens',
      meter: 'tokens',
      tiers: [
        { upTo: '1000', unitPrice: '0' },
        { upTo: null, unitPrice: '0.04' },
      ],
    };
    expect(price(plan([seat, tokens]), { tokens: '1500' }).totalMinor).toBe('12000');
  });

  it('usage below the included units costs nothing and never goes negative', () => {
    const tokens: Charge = {
      kind: 'per_unit',
      id: 'tokens',
      name: 'Tokens',
      meter: 'tokens',
      unitPrice: '0.04',
      freeUnits: '1000',
    };
    expect(line(tokens, { tokens: '400' })).toMatchObject({
      billableQuantity: '0',
      amount: '0',
      amountMinor: '0',
    });
  });

  it('free units shift the tiers: tiers apply to the billable quantity', () => {
    const c: Charge = {
      kind: 'graduated',
      id: 'g',
      name: 'G',
      meter: 'u',
      freeUnits: '100',
      tiers: [
        { upTo: '10', unitPrice: '1' },
        { upTo: null, unitPrice: '0.5' },
      ],
    };
    expect(line(c, { u: '120' }).amount).toBe('15'); // 20 billable: 10 × 1 + 10 × 0.5
  });
});

describe('proration of flat fees by active days', () => {
  const fee: Charge = { kind: 'flat', id: 'platform', name: 'Platform fee', amount: '30' };

  it('a $30 fee, 10 active days of a 30-day month → $10.00', () => {
    const l = price(plan([fee]), {}, { daysInPeriod: 30, activeDays: 10 }).lines[0];
    expect(l).toMatchObject({
      amount: '10',
      amountMinor: '1000',
      proration: { activeDays: 10, daysInPeriod: 30 },
    });
    expect(formatMinor(l.amountMinor, 'USD')).toBe('10.00');
  });

  it('10 active days of a 31-day month: 300/31 = 9.677419354838709… → $9.68', () => {
    const l = price(plan([fee]), {}, { daysInPeriod: 31, activeDays: 10 }).lines[0];
    expect(l.amount).toBe('9.677419354839'); // shown to 12 decimals
    expect(l.amountMinor).toBe('968');
  });

  it('rounds the exact fraction, half-even: $0.05 for 1 of 2 days = 2.5 cents → 2 cents', () => {
    const l = price(plan([{ ...fee, amount: '0.05' }]), {}, { daysInPeriod: 2, activeDays: 1 }).lines[0];
    expect(l.amount).toBe('0.025');
    expect(l.amountMinor).toBe('2');
  });

  it('rounds from the exact fraction, not from the 12-decimal display', () => {
    // 0.0449999999999999 / 3 = 0.01499999999999996…: 1.4999… cents → 1 cent. The display rounds to
    // 0.015000000000, which would wrongly round (half-even) to 2 cents.
    const l = price(plan([{ ...fee, amount: '0.0449999999999999' }]), {}, { daysInPeriod: 3, activeDays: 1 })
      .lines[0];
    expect(l.amount).toBe('0.015');
    expect(l.amountMinor).toBe('1');
  });

  it('a full period is not prorated; zero active days cost nothing; usage is never prorated', () => {
    expect(price(plan([fee])).lines[0].proration).toBeUndefined();
    const usageCharge: Charge = {
      kind: 'per_unit',
      id: 'calls',
      name: 'Calls',
      meter: 'calls',
      unitPrice: '1',
    };
    const r = price(plan([fee, usageCharge]), { calls: '7' }, { daysInPeriod: 30, activeDays: 0 });
    expect(r.lines.map((l) => l.amountMinor)).toEqual(['0', '700']);
  });
});

describe('currencies and minor units', () => {
  it('JPY has no minor unit: ¥0.5 per call, 1,235 calls = ¥617.5 → ¥618; 1,233 calls = ¥616.5 → ¥616 (half-even)', () => {
    const c: Charge = { kind: 'per_unit', id: 'calls', name: 'Calls', meter: 'calls', unitPrice: '0.5' };
    const up = price(plan([c], { currency: 'JPY' }), { calls: '1235' });
    expect(up.lines[0].amount).toBe('617.5');
    expect(up.totalMinor).toBe('618');
    expect(formatMinor(up.totalMinor, 'JPY')).toBe('618');
    expect(price(plan([c], { currency: 'JPY' }), { calls: '1233' }).totalMinor).toBe('616');
  });

  it('KRW: a ₩9,900 flat fee is 9900 minor units', () => {
    expect(line({ kind: 'flat', id: 'f', name: 'F', amount: '9900' }, {}, 'KRW').amountMinor).toBe('9900');
  });

  it('BHD has three decimals: 1.2345 BHD → 1234 fils (half-even), formatted "1.234"', () => {
    const l = line({ kind: 'flat', id: 'f', name: 'F', amount: '1.2345' }, {}, 'BHD');
    expect(l.amountMinor).toBe('1234');
    expect(formatMinor(l.amountMinor, 'BHD')).toBe('1.234');
  });
});

describe('rounding: ROUND_HALF_EVEN per line, then sum', () => {
  const unit = (unitPrice: string): Charge => ({
    kind: 'per_unit',
    id: 'u',
    name: 'U',
    meter: 'u',
    unitPrice,
  });

  it.each([
    ['0.125', '12'], // half → even 12
    ['0.135', '14'], // half → even 14
    ['0.145', '14'],
    ['0.155', '16'],
    ['0.1250001', '13'], // above half rounds up
    ['0.124999', '12'],
  ])('%s USD → %s cents', (unitPrice, minor) => {
    expect(line(unit(unitPrice), { u: '1' }).amountMinor).toBe(minor);
  });

  it('the subtotal is the sum of rounded lines, not the rounded sum: 0.125 + 0.125 → 12 + 12 = 24', () => {
    const r = price(plan([unit('0.125'), { ...unit('0.125'), id: 'u2' }]), { u: '1' });
    expect(r.lines.map((l) => l.amountMinor)).toEqual(['12', '12']);
    expect(r.subtotalMinor).toBe('24');
    expect(r.totalMinor).toBe('24');
  });

  it('sub-cent unit prices stay exact until the line is rounded: 1,234,567 calls × $0.0001 = $123.4567 → $123.46', () => {
    const l = line(unit('0.0001'), { u: '1234567' });
    expect(l.amount).toBe('123.4567');
    expect(l.amountMinor).toBe('12346');
  });
});

describe('minimum commitment and maximum', () => {
  const calls: Charge = { kind: 'per_unit', id: 'calls', name: 'Calls', meter: 'calls', unitPrice: '0.01' };
  const base: Charge = { kind: 'flat', id: 'base', name: 'Base', amount: '20' };

  it('tops a $60 subtotal up to a $100 minimum with a $40 true-up line', () => {
    const r = price(plan([base, calls], { minimumCommitment: '100' }), { calls: '4000' });
    expect(r.subtotalMinor).toBe('6000');
    expect(r.minimumTrueUpMinor).toBe('4000');
    expect(r.lines[2]).toEqual({
      chargeId: 'minimum_true_up',
      name: 'Minimum commitment true-up',
      kind: 'minimum_true_up',
      quantity: '1',
      billableQuantity: '1',
      amount: '40',
      amountMinor: '4000',
    });
    expect(r.totalMinor).toBe('10000');
  });

  it('adds no true-up once the subtotal reaches the minimum', () => {
    const r = price(plan([base, calls], { minimumCommitment: '100' }), { calls: '15000' });
    expect(r.minimumTrueUpMinor).toBe('0');
    expect(r.lines).toHaveLength(2);
    expect(r.totalMinor).toBe('17000');
  });

  it('caps a $170 subtotal at a $150 maximum with a −$20 adjustment line', () => {
    const r = price(plan([base, calls], { maximum: '150' }), { calls: '15000' });
    expect(r.subtotalMinor).toBe('17000');
    expect(r.maximumAdjustmentMinor).toBe('-2000');
    expect(r.lines[2]).toMatchObject({
      chargeId: 'maximum_adjustment',
      kind: 'maximum_adjustment',
      amount: '-20',
      amountMinor: '-2000',
    });
    expect(r.totalMinor).toBe('15000');
  });

  it('applies both on one plan: below the minimum, between, above the maximum', () => {
    const p = plan([calls], { minimumCommitment: '50', maximum: '80' });
    const totals = ['1000', '6000', '9000'].map((n) => price(p, { calls: n }));
    expect(
      totals.map((t) => [t.subtotalMinor, t.minimumTrueUpMinor, t.maximumAdjustmentMinor, t.totalMinor]),
    ).toEqual([
      ['1000', '4000', '0', '5000'],
      ['6000', '0', '0', '6000'],
      ['9000', '0', '-1000', '8000'],
    ]);
  });
});

describe('usage keys and no floats', () => {
  it('reads "meter:profile" keys as they are and treats missing usage as 0', () => {
    const eu: Charge = { kind: 'per_unit', id: 'eu', name: 'EU calls', meter: 'calls:eu', unitPrice: '2' };
    const us: Charge = { kind: 'per_unit', id: 'us', name: 'US calls', meter: 'calls:us', unitPrice: '1' };
    const r = price(plan([eu, us]), { 'calls:eu': '3', calls: '100' });
    expect(r.lines.map((l) => [l.meter, l.quantity, l.amount])).toEqual([
      ['calls:eu', '3', '6'],
      ['calls:us', '0', '0'],
    ]);
  });

  it('does not pick up inherited object properties as usage (meter "constructor")', () => {
    const c: Charge = { kind: 'per_unit', id: 'c', name: 'C', meter: 'constructor', unitPrice: '1' };
    expect(line(c, {}).quantity).toBe('0');
  });

  it('0.1 GB + 0.2 GB at $1/GB is exactly $0.3', () => {
    const a: Charge = { kind: 'per_unit', id: 'a', name: 'A', meter: 'a', unitPrice: '1' };
    const b: Charge = { kind: 'per_unit', id: 'b', name: 'B', meter: 'b', unitPrice: '1' };
    const r = price(plan([a, b]), { a: '0.1', b: '0.2' });
    expect(r.lines.map((l) => l.amount)).toEqual(['0.1', '0.2']);
    expect(r.totalMinor).toBe('30');
    const single = line({ kind: 'per_unit', id: 'x', name: 'X', meter: 'x', unitPrice: '0.1' }, { x: '3' });
    expect(single.amount).toBe('0.3'); // 3 × 0.1 in floats is 0.30000000000000004
  });

  it('keeps 30-digit quantities exact', () => {
    const l = line(
      {
        kind: 'per_unit',
        id: 'b',
        name: 'Bytes',
        meter: 'bytes',
        unitPrice: '0.000000000000000000000000000001',
      },
      {
        bytes: '123456789012345678901234567890.5',
      },
    );
    expect(l.amount).toBe('0.1234567890123456789012345678905');
    expect(l.amountMinor).toBe('12');
  });
});
