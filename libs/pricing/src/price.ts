import { minorFactor, minorUnitExponent, roundToMinor } from './currency';
import { type Dec, D, ONE, ZERO, ceilDiv, dec, divideRoundHalfEven, max, min, str } from './decimal';
import type {
  BillingPeriodShare,
  Charge,
  FlatCharge,
  GraduatedCharge,
  InvoiceLineDraft,
  MeteredCharge,
  PriceResult,
  PricingInput,
  Tier,
  TierBreakdown,
  VolumeCharge,
} from './types';
import { MAXIMUM_ADJUSTMENT_ID, MINIMUM_TRUE_UP_ID, assertValidPricingInput } from './validate';

/** Decimal places shown in `amount` of a prorated flat line whose exact value does not terminate. */
export const PRORATED_AMOUNT_DECIMALS = 12;

/**
 * Prices one billing period of usage against a plan. Pure and deterministic: same input, same output.
 *
 * Rounding rule: each line's exact amount is computed at full precision (`amount`, major units), then
 * rounded once to the currency's minor units with ROUND_HALF_EVEN, banker's rounding (`amountMinor`).
 * The subtotal is the sum of the rounded charge lines, so totals always equal the sum of the lines. If
 * the plan has a `minimumCommitment`, a `minimum_true_up` line adds `max(0, minimum − subtotal)`; if it
 * has a `maximum`, a `maximum_adjustment` line adds `min(0, maximum − subtotal)` (a negative amount).
 *
 * - Flat fees are prorated: `amount × activeDays / daysInPeriod` (rounded from the exact fraction).
 * - Free units are subtracted from the usage before pricing, never below zero; missing usage is 0.
 * - Tier `i` covers `(tiers[i-1].upTo, tiers[i].upTo]`. Graduated: each tier prices its own units plus
 *   its `flatFee` if any unit falls in it. Volume: the tier the total falls in prices every unit plus
 *   its `flatFee`; zero billable units fall in no tier and cost nothing.
 *
 * @throws PricingError `INVALID_PLAN`, `INVALID_PERIOD` or `INVALID_USAGE` with every issue in `details`.
 */
export function priceUsage(input: PricingInput): PriceResult {
  assertValidPricingInput(input);
  const { plan, usage, period } = input;
  const exponent = minorUnitExponent(plan.currency);

  const lines = plan.charges.map((charge) => priceCharge(charge, usage, period, exponent));
  const subtotal = lines.reduce((sum, line) => sum.plus(line.amountMinor), ZERO);

  let trueUp = ZERO;
  if (plan.minimumCommitment !== undefined) {
    const minimum = dec(plan.minimumCommitment).times(minorFactor(exponent));
    trueUp = max(ZERO, minimum.minus(subtotal));
    if (trueUp.gt(0)) {
      lines.push(
        planLine(MINIMUM_TRUE_UP_ID, 'Minimum commitment true-up', 'minimum_true_up', trueUp, exponent),
      );
    }
  }
  let adjustment = ZERO;
  if (plan.maximum !== undefined) {
    const maximum = dec(plan.maximum).times(minorFactor(exponent));
    adjustment = min(ZERO, maximum.minus(subtotal.plus(trueUp)));
    if (adjustment.lt(0)) {
      lines.push(
        planLine(MAXIMUM_ADJUSTMENT_ID, 'Maximum adjustment', 'maximum_adjustment', adjustment, exponent),
      );
    }
  }

  return {
    currency: plan.currency,
    lines,
    subtotalMinor: str(subtotal),
    minimumTrueUpMinor: str(trueUp),
    maximumAdjustmentMinor: str(adjustment),
    totalMinor: str(subtotal.plus(trueUp).plus(adjustment)),
  };
}

function priceCharge(
  charge: Charge,
  usage: Record<string, string>,
  period: BillingPeriodShare,
  exponent: number,
): InvoiceLineDraft {
  if (charge.kind === 'flat') return priceFlat(charge, period, exponent);

  const quantity = Object.prototype.hasOwnProperty.call(usage, charge.meter)
    ? dec(usage[charge.meter])
    : ZERO;
  const billable = max(ZERO, quantity.minus(charge.freeUnits === undefined ? ZERO : dec(charge.freeUnits)));
  const base = {
    chargeId: charge.id,
    name: charge.name,
    kind: charge.kind,
    meter: charge.meter,
    quantity: str(quantity),
    billableQuantity: str(billable),
  };
  const priced = priceMetered(charge, billable);
  return {
    ...base,
    ...priced.extra,
    amount: str(priced.amount),
    amountMinor: str(roundToMinor(priced.amount, exponent)),
  };
}

function priceMetered(
  charge: MeteredCharge,
  billable: Dec,
): { amount: Dec; extra: Pick<InvoiceLineDraft, 'packages' | 'tiers'> } {
  switch (charge.kind) {
    case 'per_unit':
      return { amount: billable.times(dec(charge.unitPrice)), extra: {} };
    case 'package': {
      const packages = ceilDiv(billable, dec(charge.packageSize));
      return { amount: packages.times(dec(charge.packagePrice)), extra: { packages: str(packages) } };
    }
    case 'graduated':
      return tiered(graduatedTiers(charge, billable));
    case 'volume':
      return tiered(volumeTiers(charge, billable));
  }
}

function tiered(tiers: TierBreakdown[]): { amount: Dec; extra: Pick<InvoiceLineDraft, 'tiers'> } {
  return { amount: tiers.reduce((sum, t) => sum.plus(t.amount), ZERO), extra: { tiers } };
}

function breakdown(tiers: Tier[], i: number, from: Dec, quantity: Dec): TierBreakdown {
  const tier = tiers[i];
  const unitPrice = dec(tier.unitPrice);
  const flatFee = tier.flatFee === undefined ? ZERO : dec(tier.flatFee);
  return {
    tier: i + 1,
    from: str(from),
    upTo: tier.upTo === null ? null : str(dec(tier.upTo)),
    quantity: str(quantity),
    unitPrice: str(unitPrice),
    flatFee: str(flatFee),
    amount: str(quantity.times(unitPrice).plus(flatFee)),
  };
}

/** Every tier holding at least one billable unit, with the units that fall in it. */
function graduatedTiers(charge: GraduatedCharge, billable: Dec): TierBreakdown[] {
  const result: TierBreakdown[] = [];
  let from = ZERO;
  for (let i = 0; i < charge.tiers.length && billable.gt(from); i++) {
    const upTo = charge.tiers[i].upTo;
    const to = upTo === null ? billable : min(billable, dec(upTo));
    result.push(breakdown(charge.tiers, i, from, to.minus(from)));
    if (upTo === null) break;
    from = dec(upTo);
  }
  return result;
}

/** The one tier whose range `(from, upTo]` contains the billable total; none for zero units. */
function volumeTiers(charge: VolumeCharge, billable: Dec): TierBreakdown[] {
  if (!billable.gt(0)) return [];
  let from = ZERO;
  for (let i = 0; i < charge.tiers.length; i++) {
    const upTo = charge.tiers[i].upTo;
    if (upTo === null || billable.lte(dec(upTo))) return [breakdown(charge.tiers, i, from, billable)];
    from = dec(upTo);
  }
  /* istanbul ignore next -- validation guarantees an unbounded last tier */
  throw new RangeError(`volume charge '${charge.id}' has no tier for ${str(billable)}`);
}

function priceFlat(charge: FlatCharge, period: BillingPeriodShare, exponent: number): InvoiceLineDraft {
  const full = dec(charge.amount);
  const line = {
    chargeId: charge.id,
    name: charge.name,
    kind: 'flat' as const,
    quantity: '1',
    billableQuantity: '1',
  };
  if (period.activeDays === period.daysInPeriod) {
    return { ...line, amount: str(full), amountMinor: str(roundToMinor(full, exponent)) };
  }
  // Exact fraction full × activeDays / daysInPeriod; each rounding below starts from it.
  const numerator = full.times(new D(period.activeDays));
  const days = new D(period.daysInPeriod);
  const shown = divideRoundHalfEven(numerator, days, PRORATED_AMOUNT_DECIMALS).value;
  const minor = divideRoundHalfEven(numerator.times(minorFactor(exponent)), days, 0).value;
  return {
    ...line,
    proration: {
      activeDays: period.activeDays,
      daysInPeriod: period.daysInPeriod,
      ...(period.unit !== undefined ? { unit: period.unit } : {}),
    },
    amount: str(shown),
    amountMinor: str(minor),
  };
}

function planLine(
  chargeId: string,
  name: string,
  kind: 'minimum_true_up' | 'maximum_adjustment',
  amountMinor: Dec,
  exponent: number,
): InvoiceLineDraft {
  return {
    chargeId,
    name,
    kind,
    quantity: str(ONE),
    billableQuantity: str(ONE),
    amount: str(amountMinor.times(new D(10).pow(-exponent))),
    amountMinor: str(amountMinor),
  };
}
