import { Decimal } from 'decimal.js';
import { canonicalDecimalNumber, canonicalDecimalString } from '@tally/event-schema';
import { decimalText } from '@tally/pricing';

/**
 * Scale of every numeric value a meter reads: the events table stores `quantity` as Decimal(38, 12),
 * and numeric property values are converted to the same type, so sums and comparisons are exact.
 */
export const VALUE_SCALE = 12;

/**
 * What counts as a number in a property value: plain decimal notation that fits Decimal(38, 12), at
 * most 26 integer and 12 fraction digits. The SQL uses the same pattern (RE2 syntax is identical), so
 * the in-memory reference and ClickHouse agree on which events carry a value. Anything else
 * ("1e3", "12 kg", a 13th fraction digit, an absent property) has no numeric value.
 */
export const NUMERIC_VALUE_SOURCE = '^-?[0-9]{1,26}(\\.[0-9]{1,12})?$';
export const NUMERIC_VALUE = new RegExp(NUMERIC_VALUE_SOURCE);

/**
 * This library's Decimal: a private clone with pinned settings, far more precision than any
 * Decimal(38, 12) sum needs, so `plus` and comparisons are exact.
 */
export const D = Decimal.clone({
  precision: 200,
  rounding: Decimal.ROUND_DOWN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});
export type Dec = InstanceType<typeof D>;


/** Plain decimal notation as filters take it: no sign "+", no exponent; "5." and ".5" are accepted. */
const PLAIN_DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)$/;

/**
 * The canonical decimal text of a filter value given as a JSON number or a decimal string, or
 * `undefined` when it is not a plain decimal that fits Decimal(38, 12). Strings are canonicalised by
 * @tally/event-schema's `canonicalDecimalString` (the one definition of canonical decimal text,
 * which ingestion applies to quantities), numbers as `numberToPropertyText`.
 */
export function toDecimalText(value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    const text = numberToPropertyText(value);
    return NUMERIC_VALUE.test(text) ? text : undefined;
  }
  if (typeof value !== 'string' || !PLAIN_DECIMAL.test(value)) return undefined;
  const text = canonicalDecimalString(value, 26, VALUE_SCALE);
  return typeof text === 'string' ? text : undefined;
}

/**
 * How a JSON number in a filter value compares with property strings: the canonical decimal text that
 * ingestion stores for numeric properties (`1.50` → `"1.5"`, `1e21` → `"1000000000000000000000"`).
 * That text is defined once, by @tally/event-schema's `canonicalDecimalNumber` (what ingestion
 * stores); numbers ingestion refuses (beyond ±(2^53 − 1), not finite) keep their decimal.js text, so
 * that a filter naming one still matches nothing rather than failing.
 */
export function numberToPropertyText(value: number): string {
  const text = canonicalDecimalNumber(value, Infinity, Infinity);
  return typeof text === 'string' ? text : decimalText(new D(String(value)));
}
