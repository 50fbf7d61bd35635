/**
 * Integer minor-unit arithmetic shared by the finance steps (discounts, credits, taxes, proration):
 * minor amounts are integer strings, computed exactly with the library's Decimal.
 */
import { D, type Dec, ZERO, dec, decimalProblem, str } from './decimal';
import { PricingError } from './errors';

/** Parses an integer minor-unit string, naming the field when it is not one. */
export function minorArg(value: unknown, field: string): Dec {
  const problem =
    decimalProblem(value) ??
    (String(value).includes('.') ? 'must be an integer string of minor units' : undefined);
  if (problem) {
    throw new PricingError('INVALID_ARGUMENT', `${field} ${problem}`, [
      { field, code: 'INVALID_DECIMAL', message: problem },
    ]);
  }
  return dec(value as string);
}

/** `value × percent / 100` rounded half-even to an integer (per-line rounding, as the ledger does). */
export function percentOf(value: Dec, percent: Dec): Dec {
  return roundHalfEvenSigned(value.times(percent).div(100));
}

/** Half-even rounding to an integer, symmetric around zero (`-2.5` → `-2`, `2.5` → `2`). */
export function roundHalfEvenSigned(value: Dec): Dec {
  return value.toDecimalPlaces(0, D.ROUND_HALF_EVEN);
}

/**
 * Splits the integer `total` into integer parts proportional to `weights` (non-negative), exactly:
 * each part is the floor of its exact share, then the units left go one each to the largest
 * remainders (ties: the earlier weight). The parts always sum to `total`. All weights zero: the whole
 * total goes to the first part (an empty list is refused).
 */
export function allocate(total: Dec, weights: readonly Dec[]): Dec[] {
  if (weights.length === 0) throw new RangeError('allocate needs at least one weight');
  const sum = weights.reduce((s, w) => s.plus(w), ZERO);
  if (sum.isZero()) return weights.map((_, i) => (i === 0 ? total : ZERO));
  const negative = total.isNeg();
  const t = total.abs();
  const parts = weights.map((w) => t.times(w).divToInt(sum));
  let left = t.minus(parts.reduce((s, p) => s.plus(p), ZERO));
  const order = weights
    .map((w, i) => ({ i, rem: t.times(w).minus(parts[i].times(sum)) }))
    .sort((a, b) => b.rem.cmp(a.rem) || a.i - b.i);
  for (const { i } of order) {
    if (!left.gt(0)) break;
    parts[i] = parts[i].plus(1);
    left = left.minus(1);
  }
  return negative ? parts.map((p) => (p.isZero() ? ZERO : p.neg())) : parts;
}

export { str as minorString };
