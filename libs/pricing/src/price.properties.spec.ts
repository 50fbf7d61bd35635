/**
 * Property tests (fast-check). Expected values come from a BigInt oracle (test-support/oracle.ts) that
 * shares no code with the library, so the properties check the arithmetic, not just self-consistency.
 */
import fc from 'fast-check';
import {
  type Charge,
  type Plan,
  type PriceResult,
  type PricingInput,
  minorUnitExponent,
  priceUsage,
  sumDecimals,
} from './index';
import {
  chargeArb,
  currencyArb,
  decimalArb,
  periodArb,
  planArb,
  priceArb,
  quantityArb,
  tiersArb,
  usageArb,
} from './test-support/arbitraries';
import {
  addFixed,
  ceilDivFixed,
  cmpFixed,
  f,
  formatFixed,
  mulFixed,
  roundHalfEvenRatio,
  subFixed,
  toMinorOracle,
} from './test-support/oracle';

const FULL = { daysInPeriod: 30, activeDays: 30 };
const inputArb: fc.Arbitrary<PricingInput> = fc.record({ plan: planArb, usage: usageArb, period: periodArb });

const big = (s: string) => BigInt(s);
const sumMinor = (values: string[]) => values.reduce((a, v) => a + big(v), 0n);

function one(charge: Charge, quantity: string, currency = 'USD') {
  return priceUsage({ plan: { id: 'p', currency, charges: [charge] }, usage: { m: quantity }, period: FULL })
    .lines[0];
}

describe('pricing properties', () => {
  it('total = sum of every line; subtotal = sum of charge lines; total = subtotal + true-up + adjustment', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const r = priceUsage(input);
        const chargeLines = r.lines.filter(
          (l) => l.kind !== 'minimum_true_up' && l.kind !== 'maximum_adjustment',
        );
        expect(chargeLines).toHaveLength(input.plan.charges.length);
        expect(big(r.totalMinor)).toBe(sumMinor(r.lines.map((l) => l.amountMinor)));
        expect(big(r.subtotalMinor)).toBe(sumMinor(chargeLines.map((l) => l.amountMinor)));
        expect(big(r.totalMinor)).toBe(
          big(r.subtotalMinor) + big(r.minimumTrueUpMinor) + big(r.maximumAdjustmentMinor),
        );
        expect(big(r.minimumTrueUpMinor) >= 0n).toBe(true);
        expect(big(r.maximumAdjustmentMinor) <= 0n).toBe(true);
      }),
    );
  });

  it('the total respects the minimum and the maximum', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const r = priceUsage(input);
        const e = minorUnitExponent(input.plan.currency);
        const toMinor = (s: string) => toMinorOracle(f(s), e);
        const subtotal = big(r.subtotalMinor);
        let expected = subtotal;
        if (input.plan.minimumCommitment !== undefined && expected < toMinor(input.plan.minimumCommitment)) {
          expected = toMinor(input.plan.minimumCommitment);
        }
        if (input.plan.maximum !== undefined && expected > toMinor(input.plan.maximum))
          expected = toMinor(input.plan.maximum);
        expect(big(r.totalMinor)).toBe(expected);
      }),
    );
  });

  it('every line rounds its exact amount half-even (the oracle recomputes per-unit, package, tiered and prorated lines)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const r = priceUsage(input);
        const e = minorUnitExponent(input.plan.currency);
        input.plan.charges.forEach((charge, i) => {
          const l = r.lines[i];
          if (charge.kind === 'flat') {
            const { daysInPeriod, activeDays } = input.period;
            const amount = f(charge.amount);
            // round(amount × active × 10^e / days), exactly, on BigInt
            const num = amount.n * BigInt(activeDays) * 10n ** BigInt(e);
            const den = BigInt(daysInPeriod) * 10n ** BigInt(amount.scale);
            expect(big(l.amountMinor)).toBe(roundHalfEvenRatio(num, den));
            return;
          }
          const quantity = f(
            Object.prototype.hasOwnProperty.call(input.usage, charge.meter) ? input.usage[charge.meter] : '0',
          );
          let billable = subFixed(quantity, f(charge.freeUnits ?? '0'));
          if (billable.n < 0n) billable = f('0');
          expect(l.billableQuantity).toBe(formatFixed(billable));
          let exact = f('0');
          if (charge.kind === 'per_unit') exact = mulFixed(billable, f(charge.unitPrice));
          if (charge.kind === 'package') {
            exact = mulFixed(
              { n: ceilDivFixed(billable, f(charge.packageSize)), scale: 0 },
              f(charge.packagePrice),
            );
          }
          if (charge.kind === 'graduated' || charge.kind === 'volume') {
            exact = tieredOracle(charge.kind, charge.tiers, billable);
          }
          expect(l.amount).toBe(formatFixed(exact));
          expect(big(l.amountMinor)).toBe(toMinorOracle(exact, e));
        });
      }),
    );
  });

  it('half-way amounts round to the even neighbour, in every currency', () => {
    fc.assert(
      fc.property(currencyArb, fc.bigInt({ min: 0n, max: 10n ** 12n }), (currency, k) => {
        const e = minorUnitExponent(currency);
        const amount = formatFixed({ n: k * 10n + 5n, scale: e + 1 }); // exactly k.5 minor units
        const expected = k % 2n === 0n ? k : k + 1n;
        const flat = priceUsage({
          plan: { id: 'p', currency, charges: [{ kind: 'flat', id: 'f', name: 'F', amount }] },
          usage: {},
          period: FULL,
        });
        expect(big(flat.totalMinor)).toBe(expected);
        expect(
          big(
            one({ kind: 'per_unit', id: 'u', name: 'U', meter: 'm', unitPrice: amount }, '1', currency)
              .amountMinor,
          ),
        ).toBe(expected);
      }),
    );
  });

  it('tier bounds are inclusive: a quantity equal to upTo stays in that tier, the next 0.0001 moves on', () => {
    const arb = tiersArb()
      .filter((tiers) => tiers.length >= 2)
      .chain((tiers) => fc.tuple(fc.constant(tiers), fc.integer({ min: 0, max: tiers.length - 2 })));
    fc.assert(
      fc.property(arb, ([tiers, i]) => {
        const bound = tiers[i].upTo as string;
        const above = formatFixed(addFixed(f(bound), f('0.0001')));
        const volume: Charge = { kind: 'volume', id: 'v', name: 'V', meter: 'm', tiers };
        const graduated: Charge = { ...volume, kind: 'graduated' };
        expect(one(volume, bound).tiers?.map((t) => t.tier)).toEqual([i + 1]);
        expect(one(volume, above).tiers?.map((t) => t.tier)).toEqual([i + 2]);
        expect(one(graduated, bound).tiers?.length).toBe(i + 1);
        expect(one(graduated, above).tiers?.length).toBe(i + 2);
        for (const q of [bound, above]) {
          expect(one(volume, q).amount).toBe(formatFixed(tieredOracle('volume', tiers, f(q))));
          expect(one(graduated, q).amount).toBe(formatFixed(tieredOracle('graduated', tiers, f(q))));
        }
      }),
    );
  });

  it('falling unit prices: volume ≤ graduated for the same tiers and usage (also with tier flat fees)', () => {
    fc.assert(
      fc.property(tiersArb({ order: 'falling', flatFees: false }), quantityArb, (tiers, q) => {
        const g = one({ kind: 'graduated', id: 'g', name: 'G', meter: 'm', tiers }, q);
        const v = one({ kind: 'volume', id: 'v', name: 'V', meter: 'm', tiers }, q);
        expect(cmpFixed(f(v.amount), f(g.amount))).toBeLessThanOrEqual(0);
        expect(big(v.amountMinor) <= big(g.amountMinor)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(tiersArb({ order: 'falling', flatFees: true }), quantityArb, (tiers, q) => {
        const g = one({ kind: 'graduated', id: 'g', name: 'G', meter: 'm', tiers }, q);
        const v = one({ kind: 'volume', id: 'v', name: 'V', meter: 'm', tiers }, q);
        expect(cmpFixed(f(v.amount), f(g.amount))).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('rising unit prices, no flat fees: graduated ≤ volume', () => {
    fc.assert(
      fc.property(tiersArb({ order: 'rising', flatFees: false }), quantityArb, (tiers, q) => {
        const g = one({ kind: 'graduated', id: 'g', name: 'G', meter: 'm', tiers }, q);
        const v = one({ kind: 'volume', id: 'v', name: 'V', meter: 'm', tiers }, q);
        expect(cmpFixed(f(g.amount), f(v.amount))).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('"graduated never exceeds volume" (the issue wording) is false for falling prices: fast-check finds a counterexample', () => {
    const claim = fc.property(tiersArb({ order: 'falling', flatFees: false }), quantityArb, (tiers, q) => {
      const g = one({ kind: 'graduated', id: 'g', name: 'G', meter: 'm', tiers }, q);
      const v = one({ kind: 'volume', id: 'v', name: 'V', meter: 'm', tiers }, q);
      return cmpFixed(f(g.amount), f(v.amount)) <= 0;
    });
    expect(fc.check(claim, { seed: 42 }).failed).toBe(true);
  });

  // Volume is deliberately absent: it is not monotone (tiers 5 × $5, 5 × $4, then $3: 10 units $40, 11 units $33).
  it('graduated, per-unit and package charges never cost less for more usage', () => {
    fc.assert(
      fc.property(
        chargeArb('c').filter((c) => c.kind === 'graduated' || c.kind === 'per_unit' || c.kind === 'package'),
        quantityArb,
        quantityArb,
        (charge, a, b) => {
          const [lo, hi] = cmpFixed(f(a), f(b)) <= 0 ? [a, b] : [b, a];
          const c = { ...charge, meter: 'm' } as Charge;
          expect(cmpFixed(f(one(c, lo).amount), f(one(c, hi).amount))).toBeLessThanOrEqual(0);
        },
      ),
    );
  });

  it('zero usage costs only the flat fees (and the minimum true-up / maximum cap)', () => {
    fc.assert(
      fc.property(planArb, periodArb, fc.boolean(), (plan, period, explicitZeros) => {
        const usage: Record<string, string> = explicitZeros
          ? { api_calls: '0', storage_gb: '0', seats: '0', 'api_calls:eu': '0' }
          : {};
        const r = priceUsage({ plan, usage, period });
        const flat = r.lines.filter((l) => l.kind === 'flat');
        const metered = r.lines.filter(
          (l) => l.kind !== 'flat' && l.kind !== 'minimum_true_up' && l.kind !== 'maximum_adjustment',
        );
        for (const l of metered) {
          expect(l.amountMinor).toBe('0');
          expect(l.amount).toBe('0');
        }
        expect(big(r.subtotalMinor)).toBe(sumMinor(flat.map((l) => l.amountMinor)));
        expect(big(r.totalMinor)).toBe(
          big(r.subtotalMinor) + big(r.minimumTrueUpMinor) + big(r.maximumAdjustmentMinor),
        );
      }),
    );
  });

  it('is deterministic, survives a JSON round trip, and does not depend on charge order', () => {
    fc.assert(
      fc.property(inputArb, fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), (input, keys) => {
        const a = priceUsage(input);
        expect(priceUsage(input)).toEqual(a);
        expect(priceUsage(JSON.parse(JSON.stringify(input)) as PricingInput)).toEqual(a);

        const order = input.plan.charges
          .map((c, i) => ({ c, k: keys[i] ?? 0, i }))
          .sort((x, y) => x.k - y.k || y.i - x.i);
        const shuffled: Plan = { ...input.plan, charges: order.map((o) => o.c) };
        const b = priceUsage({ ...input, plan: shuffled });
        expect(totals(b)).toEqual(totals(a));
        expect(byChargeId(b)).toEqual(byChargeId(a));
        expect(b.lines.map((l) => l.chargeId)).toEqual([
          ...shuffled.charges.map((c) => c.id),
          ...planLineIds(a),
        ]);
      }),
    );
  });

  it('does not mutate its input', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const copy = JSON.parse(JSON.stringify(input)) as PricingInput;
        priceUsage(input);
        expect(input).toEqual(copy);
      }),
    );
  });

  it('free units: pricing q with f free units equals pricing max(0, q − f) with none', () => {
    fc.assert(
      fc.property(chargeArb('c'), quantityArb, decimalArb(500, 3), (charge, q, free) => {
        if (charge.kind === 'flat') return;
        const withFree = one({ ...charge, meter: 'm', freeUnits: free } as Charge, q);
        const rest = subFixed(f(q), f(free));
        const without = one(
          { ...charge, meter: 'm', freeUnits: undefined } as Charge,
          rest.n < 0n ? '0' : formatFixed(rest),
        );
        expect(withFree.amount).toBe(without.amount);
        expect(withFree.amountMinor).toBe(without.amountMinor);
      }),
    );
  });

  it('a single unbounded tier, graduated or volume, prices like per-unit', () => {
    fc.assert(
      fc.property(priceArb, quantityArb, currencyArb, (unitPrice, q, currency) => {
        const perUnit = one({ kind: 'per_unit', id: 'p', name: 'P', meter: 'm', unitPrice }, q, currency);
        const tiers = [{ upTo: null, unitPrice }];
        expect(
          one({ kind: 'graduated', id: 'g', name: 'G', meter: 'm', tiers }, q, currency).amountMinor,
        ).toBe(perUnit.amountMinor);
        expect(one({ kind: 'volume', id: 'v', name: 'V', meter: 'm', tiers }, q, currency).amountMinor).toBe(
          perUnit.amountMinor,
        );
      }),
    );
  });

  it('graduated tier quantities add up to the billable quantity and stay inside their bounds', () => {
    fc.assert(
      fc.property(tiersArb(), quantityArb, (tiers, q) => {
        const l = one({ kind: 'graduated', id: 'g', name: 'G', meter: 'm', tiers }, q);
        expect(sumDecimals((l.tiers ?? []).map((t) => t.quantity))).toBe(l.billableQuantity);
        for (const t of l.tiers ?? []) {
          expect(cmpFixed(f(t.quantity), f('0'))).toBe(1);
          if (t.upTo !== null)
            expect(cmpFixed(addFixed(f(t.from), f(t.quantity)), f(t.upTo))).toBeLessThanOrEqual(0);
        }
      }),
    );
  });

  it('no floats: decimal sums are exact (0.1 + 0.2 = 0.3 and any generated list)', () => {
    expect(sumDecimals(['0.1', '0.2'])).toBe('0.3');
    fc.assert(
      fc.property(fc.array(decimalArb(1_000_000, 10), { maxLength: 20 }), (values) => {
        expect(sumDecimals(values)).toBe(formatFixed(values.map(f).reduce(addFixed, f('0'))));
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('0.1', '0.2', '0.3', '0.7'), { minLength: 1, maxLength: 8 }),
        (quantities) => {
          const charges: Charge[] = quantities.map((_, i) => ({
            kind: 'per_unit',
            id: `c${i}`,
            name: 'C',
            meter: `m${i}`,
            unitPrice: '1',
          }));
          const usage = Object.fromEntries(quantities.map((q, i) => [`m${i}`, q]));
          const r = priceUsage({ plan: { id: 'p', currency: 'USD', charges }, usage, period: FULL });
          const expected = quantities.map(f).reduce(addFixed, f('0'));
          expect(sumDecimals(r.lines.map((l) => l.amount))).toBe(formatFixed(expected));
          expect(big(r.totalMinor)).toBe(toMinorOracle(expected, 2)); // one-decimal amounts: no rounding anywhere
        },
      ),
    );
  });
});

function tieredOracle(
  kind: 'graduated' | 'volume',
  tiers: { upTo: string | null; unitPrice: string; flatFee?: string }[],
  q: ReturnType<typeof f>,
) {
  let total = f('0');
  let from = f('0');
  for (const tier of tiers) {
    if (cmpFixed(q, from) <= 0) break;
    const upTo = tier.upTo === null ? null : f(tier.upTo);
    const inTier = upTo !== null && cmpFixed(q, upTo) > 0 ? subFixed(upTo, from) : subFixed(q, from);
    const fee = f(tier.flatFee ?? '0');
    if (kind === 'graduated') {
      total = addFixed(total, addFixed(mulFixed(inTier, f(tier.unitPrice)), fee));
    } else if (upTo === null || cmpFixed(q, upTo) <= 0) {
      return addFixed(mulFixed(q, f(tier.unitPrice)), fee);
    }
    if (upTo === null) break;
    from = upTo;
  }
  return total;
}

function totals(r: PriceResult) {
  return [r.currency, r.subtotalMinor, r.minimumTrueUpMinor, r.maximumAdjustmentMinor, r.totalMinor];
}

function byChargeId(r: PriceResult) {
  return [...r.lines].sort((x, y) => (x.chargeId < y.chargeId ? -1 : x.chargeId > y.chargeId ? 1 : 0));
}

function planLineIds(r: PriceResult) {
  return r.lines
    .filter((l) => l.kind === 'minimum_true_up' || l.kind === 'maximum_adjustment')
    .map((l) => l.chargeId);
}
