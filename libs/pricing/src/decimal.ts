import { Decimal } from 'decimal.js';
import { PricingError, type PricingIssue } from './errors';
import type { DecimalString } from './types';

/**
 * The one Decimal constructor of this library. A private clone (the global `Decimal` config is
 * neither read nor changed), with every setting pinned so other code calling `Decimal.set` cannot
 * change our results. Precision is far above what the input limits can produce (30 + 30 digit inputs,
 * products of two of them, sums of those), so `plus`, `minus` and `times` are exact; we never call
 * `div` on values whose quotient may not terminate (see `divideRoundHalfEven`).
 */
export const D = Decimal.clone({
  precision: 500,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
  minE: -9e15,
  maxE: 9e15,
  modulo: Decimal.ROUND_DOWN,
  crypto: false,
});
export type Dec = InstanceType<typeof D>;

export const ZERO: Dec = new D(0);
export const ONE: Dec = new D(1);

export const MAX_INTEGER_DIGITS = 30;
export const MAX_FRACTION_DIGITS = 30;

const DECIMAL_PATTERN = /^-?(\d+)(?:\.(\d+))?$/;

/** Why `value` is not an acceptable decimal string, or `undefined` if it is. */
export function decimalProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return `must be a decimal string such as "12.5" (got ${typeof value === 'number' ? 'a JSON number' : describe(value)})`;
  }
  const match = DECIMAL_PATTERN.exec(value);
  if (!match) return `"${truncate(value)}" is not a decimal in plain notation such as "12.5"`;
  const integerDigits = match[1].replace(/^0+(?=\d)/, '').length;
  const fractionDigits = match[2]?.length ?? 0;
  if (integerDigits > MAX_INTEGER_DIGITS || fractionDigits > MAX_FRACTION_DIGITS) {
    return `"${truncate(value)}" has more than ${MAX_INTEGER_DIGITS} integer or ${MAX_FRACTION_DIGITS} fraction digits`;
  }
  return undefined;
}

/** `true` if `value` is a decimal string this library accepts (plain notation, within the digit limits). */
export function isDecimalString(value: unknown): value is DecimalString {
  return decimalProblem(value) === undefined;
}

/** Parses a value already checked with `decimalProblem`. `-0` becomes `0`. */
export function dec(value: string): Dec {
  const d = new D(value);
  return d.isZero() ? ZERO : d;
}

/**
 * Canonical text of a Decimal: plain notation, no exponent, no trailing fraction zeros, never `-0`
 * (what the SQL's trim produces). The one definition: metering's meter values and every amount here
 * use it. `toFixed()` without places is exact, so it holds for any decimal.js clone's values.
 */
export function decimalText(d: Decimal): DecimalString {
  return d.isZero() ? '0' : d.toFixed();
}

/** {@link decimalText} under the short name this library's arithmetic uses. */
export const str: (d: Dec) => DecimalString = decimalText;

export function max(a: Dec, b: Dec): Dec {
  return a.gte(b) ? a : b;
}

export function min(a: Dec, b: Dec): Dec {
  return a.lte(b) ? a : b;
}

/** `ceil(n / d)` for `n ≥ 0`, `d > 0`, exactly (integer part by truncated division, then the remainder). */
export function ceilDiv(n: Dec, d: Dec): Dec {
  const q = n.divToInt(d);
  return n.minus(q.times(d)).isZero() ? q : q.plus(1);
}

/**
 * `n / d` rounded half-even to `dp` decimal places, computed exactly from the fraction (no
 * intermediate rounding), for `n ≥ 0` and `d > 0` integer or decimal. Also says whether it was exact.
 */
export function divideRoundHalfEven(n: Dec, d: Dec, dp: number): { value: Dec; exact: boolean } {
  if (n.isNeg() || !d.gt(0)) throw new RangeError('divideRoundHalfEven expects n >= 0 and d > 0');
  // Scale both to integers: N / Dn = n * 10^dp / d.
  const scale = Math.max(n.decimalPlaces(), d.decimalPlaces());
  const pow = new D(10).pow(scale);
  const N = n.times(pow).times(new D(10).pow(dp));
  const Dn = d.times(pow);
  let q = N.divToInt(Dn);
  const r = N.minus(q.times(Dn));
  const twice = r.times(2);
  const cmp = twice.cmp(Dn);
  if (cmp > 0 || (cmp === 0 && q.mod(2).eq(1))) q = q.plus(1);
  return { value: q.times(new D(10).pow(-dp)), exact: r.isZero() };
}

function argumentError(issues: PricingIssue[]): PricingError {
  return new PricingError(
    'INVALID_ARGUMENT',
    `Invalid argument: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
    issues,
  );
}

/** Parses a decimal argument of a public helper, throwing `PricingError('INVALID_ARGUMENT')`. */
export function parseArgument(value: unknown, field: string): Dec {
  const problem = decimalProblem(value);
  if (problem) throw argumentError([{ field, code: 'INVALID_DECIMAL', message: problem }]);
  return dec(value as string);
}

/**
 * Exact sum of decimal strings (negative values allowed), e.g. `sumDecimals(["0.1", "0.2"])` is `"0.3"`.
 * `[]` sums to `"0"`. Throws `PricingError('INVALID_ARGUMENT')` naming every bad element.
 */
export function sumDecimals(values: readonly DecimalString[]): DecimalString {
  const issues: PricingIssue[] = [];
  let total = ZERO;
  values.forEach((value, i) => {
    const problem = decimalProblem(value);
    if (problem) issues.push({ field: `values[${i}]`, code: 'INVALID_DECIMAL', message: problem });
    else total = total.plus(dec(value));
  });
  if (issues.length) throw argumentError(issues);
  return str(total);
}

/** Exact `a + b`. */
export function addDecimals(a: DecimalString, b: DecimalString): DecimalString {
  return str(parseArgument(a, 'a').plus(parseArgument(b, 'b')));
}

/** Exact `a × b`. */
export function multiplyDecimals(a: DecimalString, b: DecimalString): DecimalString {
  return str(parseArgument(a, 'a').times(parseArgument(b, 'b')));
}

/** `-1`, `0` or `1` as `a` is less than, equal to or greater than `b` (numerically: `"1.50"` equals `"1.5"`). */
export function compareDecimals(a: DecimalString, b: DecimalString): -1 | 0 | 1 {
  const c = parseArgument(a, 'a').cmp(parseArgument(b, 'b'));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/** Canonical form: `"007.50"` → `"7.5"`, `"-0"` → `"0"`. */
export function normalizeDecimal(value: DecimalString): DecimalString {
  return str(parseArgument(value, 'value'));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
