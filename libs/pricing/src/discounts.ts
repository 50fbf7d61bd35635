/**
 * Coupons: a percentage or an amount off, once, for N periods or forever, on the whole invoice or on
 * some plans' or charges' lines. Applied after the minimum and maximum, before credits and taxes
 * (docs/finance.md "The order").
 */
import { minorFactor, minorUnitExponent } from './currency';
import { type Dec, ZERO, dec, decimalProblem, max, min, str } from './decimal';
import { PricingError, type PricingIssue } from './errors';
import { allocate, percentOf } from './money';
import type { DecimalString } from './types';

export type CouponDuration = 'once' | 'repeating' | 'forever';

export interface Coupon {
  id: string;
  name: string;
  kind: 'percentage' | 'amount';
  /** `percentage`: percent off, `"0"` to `"100"`. */
  percent?: DecimalString;
  /** `amount`: major units off per period, in `currency`. */
  amount?: DecimalString;
  /** `amount`: the currency of `amount` (an amount coupon never applies to another currency). */
  currency?: string;
  /** `once`: the first period; `repeating`: the first `periods`; `forever`: every period. */
  duration: CouponDuration;
  periods?: number;
  /** Lines it discounts: of these plans and/or these charge ids. Absent: every line. */
  appliesTo?: { plans?: string[]; charges?: string[] };
}

/** A coupon as redeemed by a customer: `periodIndex` 0 is the first period it applies to. */
export interface AppliedCoupon {
  coupon: Coupon;
  periodIndex: number;
}

/** What a discount step sees of a line. */
export interface DiscountableLine {
  lineId: string;
  plan?: string;
  chargeId: string;
  /** Amount still to pay (after the coupons before this one), minor units, may be negative. */
  amountMinor: Dec;
}

export interface LineDiscount {
  couponId: string;
  amountMinor: string;
}

/** Whether a coupon still applies in its `periodIndex`-th period since redemption. */
export function couponActive(coupon: Coupon, periodIndex: number): boolean {
  if (periodIndex < 0) return false;
  if (coupon.duration === 'once') return periodIndex === 0;
  if (coupon.duration === 'repeating') return periodIndex < (coupon.periods ?? 0);
  return true;
}

function eligible(coupon: Coupon, line: DiscountableLine): boolean {
  const to = coupon.appliesTo;
  if (!to) return true;
  if (to.plans && !(line.plan !== undefined && to.plans.includes(line.plan))) return false;
  if (to.charges && !to.charges.includes(line.chargeId)) return false;
  return true;
}

/**
 * The discount of one coupon on each line (in `lines` order; 0 for lines it does not cover), given what
 * is left to pay. Percentage: each eligible line's own `round(amount × % / 100)`, half-even per line
 * (a negative line, e.g. a maximum adjustment, gets a negative discount: the coupon takes its percent
 * off the lines' net). Amount: `min(amount, what the eligible lines still owe)`, spread over the
 * eligible lines that owe something in proportion to what they owe (exactly, largest remainder).
 */
export function couponDiscounts(coupon: Coupon, currency: string, lines: readonly DiscountableLine[]): Dec[] {
  const covered = lines.map((l) => eligible(coupon, l));
  if (coupon.kind === 'percentage') {
    const pct = dec(coupon.percent ?? '0');
    return lines.map((l, i) => (covered[i] ? percentOf(l.amountMinor, pct) : ZERO));
  }
  if (coupon.currency !== undefined && coupon.currency !== currency) return lines.map(() => ZERO);
  const off = dec(coupon.amount ?? '0').times(minorFactor(minorUnitExponent(currency)));
  const owed = lines.reduce((s, l, i) => (covered[i] ? s.plus(l.amountMinor) : s), ZERO);
  const total = min(off, max(ZERO, owed));
  if (!total.gt(0)) return lines.map(() => ZERO);
  const weights = lines.map((l, i) => (covered[i] && l.amountMinor.gt(0) ? l.amountMinor : ZERO));
  return allocate(total, weights);
}

/**
 * Applies the coupons that are active this period, in the order given, each to what the previous ones
 * left (two 10 % coupons take 19 % off, not 20 %). Returns the per-line discounts per coupon.
 */
export function applyCoupons(
  coupons: readonly AppliedCoupon[],
  currency: string,
  lines: readonly DiscountableLine[],
): {
  remaining: Dec[];
  perLine: LineDiscount[][];
  perCoupon: Array<{ couponId: string; name: string; amountMinor: string }>;
} {
  const remaining = lines.map((l) => l.amountMinor);
  const perLine: LineDiscount[][] = lines.map(() => []);
  const perCoupon: Array<{ couponId: string; name: string; amountMinor: string }> = [];
  for (const { coupon, periodIndex } of coupons) {
    if (!couponActive(coupon, periodIndex)) continue;
    const current = lines.map((l, i) => ({ ...l, amountMinor: remaining[i] }));
    const off = couponDiscounts(coupon, currency, current);
    let total = ZERO;
    off.forEach((d, i) => {
      if (d.isZero()) return;
      remaining[i] = remaining[i].minus(d);
      perLine[i].push({ couponId: coupon.id, amountMinor: str(d) });
      total = total.plus(d);
    });
    if (!total.isZero()) perCoupon.push({ couponId: coupon.id, name: coupon.name, amountMinor: str(total) });
  }
  return { remaining, perLine, perCoupon };
}

/** Every problem of a coupon, with paths under `coupon`. */
export function validateCoupon(c: Coupon, field = 'coupon'): PricingIssue[] {
  const issues: PricingIssue[] = [];
  if (typeof c.id !== 'string' || c.id === '')
    issues.push({ field: `${field}.id`, code: 'REQUIRED', message: 'is required' });
  if (c.kind === 'percentage') {
    const p = decimalProblem(c.percent);
    if (p) issues.push({ field: `${field}.percent`, code: 'INVALID_DECIMAL', message: p });
    else if (dec(c.percent as string).isNeg() || dec(c.percent as string).gt(100))
      issues.push({ field: `${field}.percent`, code: 'NEGATIVE_AMOUNT', message: 'must be in [0, 100]' });
  } else if (c.kind === 'amount') {
    const p = decimalProblem(c.amount);
    if (p) issues.push({ field: `${field}.amount`, code: 'INVALID_DECIMAL', message: p });
    else if (dec(c.amount as string).isNeg())
      issues.push({ field: `${field}.amount`, code: 'NEGATIVE_AMOUNT', message: 'must not be negative' });
    if (typeof c.currency !== 'string' || !/^[A-Z]{3}$/.test(c.currency))
      issues.push({
        field: `${field}.currency`,
        code: 'UNKNOWN_CURRENCY_FORMAT',
        message: 'an amount coupon needs its currency',
      });
    else if (p === undefined && dec(c.amount as string).decimalPlaces() > minorUnitExponent(c.currency))
      issues.push({
        field: `${field}.amount`,
        code: 'TOO_PRECISE_FOR_CURRENCY',
        message: `has more decimals than ${c.currency}'s minor unit`,
      });
  } else {
    issues.push({ field: `${field}.kind`, code: 'REQUIRED', message: 'must be "percentage" or "amount"' });
  }
  if (!['once', 'repeating', 'forever'].includes(c.duration))
    issues.push({
      field: `${field}.duration`,
      code: 'REQUIRED',
      message: 'must be once, repeating or forever',
    });
  if (c.duration === 'repeating' && !(Number.isInteger(c.periods) && (c.periods as number) >= 1))
    issues.push({
      field: `${field}.periods`,
      code: 'REQUIRED',
      message: 'a repeating coupon needs periods ≥ 1',
    });
  return issues;
}

export function assertValidCoupon(c: Coupon): void {
  const issues = validateCoupon(c);
  if (issues.length) throw new PricingError('INVALID_ARGUMENT', 'Invalid coupon', issues);
}
