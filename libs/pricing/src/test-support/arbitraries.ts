/** Test-only fast-check arbitraries for plans and usage. Not exported by index.ts. */
import fc from 'fast-check';
import type { Charge, DecimalString, Plan, Tier } from '../types';
import { addFixed, cmpFixed, formatFixed, parseFixed } from './oracle';

/** A non-negative decimal string with up to `maxScale` fraction digits and value ≤ `maxInt`. */
export function decimalArb(
  maxInt: number,
  maxScale: number,
  opts: { positive?: boolean } = {},
): fc.Arbitrary<DecimalString> {
  return fc
    .integer({ min: 0, max: maxScale })
    .chain((scale) =>
      fc
        .bigInt({ min: opts.positive ? 1n : 0n, max: BigInt(maxInt) * 10n ** BigInt(scale) })
        .map((n) => formatFixed({ n, scale })),
    );
}

export const quantityArb = decimalArb(100_000, 4);
export const priceArb = decimalArb(50, 6);

/** Ascending bounds with an unbounded last tier; prices shaped by `order`. */
export function tiersArb(
  opts: { order?: 'any' | 'falling' | 'rising'; flatFees?: boolean } = {},
): fc.Arbitrary<Tier[]> {
  const { order = 'any', flatFees = true } = opts;
  return fc
    .array(
      fc.record({
        width: decimalArb(1_000, 2, { positive: true }),
        price: priceArb,
        flatFee: flatFees ? fc.option(decimalArb(100, 2), { nil: undefined }) : fc.constant(undefined),
      }),
      { minLength: 1, maxLength: 6 },
    )
    .map((rows) => {
      const prices = rows.map((r) => r.price);
      const byValue = (a: string, b: string) => cmpFixed(parseFixed(a), parseFixed(b));
      if (order === 'falling') prices.sort((a, b) => byValue(b, a));
      if (order === 'rising') prices.sort(byValue);
      let bound = { n: 0n, scale: 0 };
      return rows.map((row, i): Tier => {
        bound = addFixed(bound, parseFixed(row.width));
        const upTo = i === rows.length - 1 ? null : formatFixed(bound);
        return { upTo, unitPrice: prices[i], ...(row.flatFee !== undefined ? { flatFee: row.flatFee } : {}) };
      });
    });
}

const meters = ['api_calls', 'storage_gb', 'seats', 'api_calls:eu'];

export function chargeArb(id: string): fc.Arbitrary<Charge> {
  const meter = fc.constantFrom(...meters);
  const freeUnits = fc.option(decimalArb(500, 2), { nil: undefined });
  const withFree = <T extends object>(c: T, free: string | undefined) =>
    free === undefined ? c : { ...c, freeUnits: free };
  return fc.oneof(
    decimalArb(1_000, 2).map((amount): Charge => ({ kind: 'flat', id, name: `Flat ${id}`, amount })),
    fc
      .tuple(meter, priceArb, freeUnits)
      .map(([m, unitPrice, free]): Charge =>
        withFree({ kind: 'per_unit' as const, id, name: `Per unit ${id}`, meter: m, unitPrice }, free),
      ),
    fc
      .tuple(meter, decimalArb(100, 2, { positive: true }), priceArb, freeUnits)
      .map(([m, packageSize, packagePrice, free]): Charge =>
        withFree(
          { kind: 'package' as const, id, name: `Package ${id}`, meter: m, packageSize, packagePrice },
          free,
        ),
      ),
    fc
      .tuple(meter, tiersArb(), freeUnits)
      .map(([m, tiers, free]): Charge =>
        withFree({ kind: 'graduated' as const, id, name: `Graduated ${id}`, meter: m, tiers }, free),
      ),
    fc
      .tuple(meter, tiersArb(), freeUnits)
      .map(([m, tiers, free]): Charge =>
        withFree({ kind: 'volume' as const, id, name: `Volume ${id}`, meter: m, tiers }, free),
      ),
  );
}

export const currencyArb = fc.constantFrom('USD', 'EUR', 'JPY', 'BHD', 'KRW', 'CHF');

/** Minimum and maximum in whole major units (valid for every currency), minimum ≤ maximum. */
const boundsArb = fc
  .tuple(
    fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: undefined }),
    fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: undefined }),
  )
  .map(([a, b]) => {
    if (a !== undefined && b !== undefined && a > b) [a, b] = [b, a];
    return {
      ...(a !== undefined ? { minimumCommitment: String(a) } : {}),
      ...(b !== undefined ? { maximum: String(b) } : {}),
    };
  });

export const planArb: fc.Arbitrary<Plan> = fc
  .tuple(
    currencyArb,
    fc
      .integer({ min: 0, max: 6 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => chargeArb(`c${i}`)))),
    boundsArb,
  )
  .map(([currency, charges, bounds]) => ({ id: 'plan', currency, charges, ...bounds }));

export const usageArb = fc.dictionary(fc.constantFrom(...meters), quantityArb, { maxKeys: meters.length });

export const periodArb = fc.integer({ min: 1, max: 366 }).chain((daysInPeriod) =>
  fc.record({
    daysInPeriod: fc.constant(daysInPeriod),
    activeDays: fc.integer({ min: 0, max: daysInPeriod }),
  }),
);
