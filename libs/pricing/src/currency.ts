import { D, type Dec, dec, decimalProblem, parseArgument, str } from './decimal';
import { PricingError } from './errors';
import type { DecimalString } from './types';

/** Minor-unit exponent used for any well-formed currency code not listed in `CURRENCY_MINOR_UNITS`. */
export const DEFAULT_MINOR_UNIT_EXPONENT = 2;

/**
 * Minor-unit exponents (digits after the decimal point) per ISO 4217. Common two-decimal currencies are
 * listed for documentation; every code not listed also gets `DEFAULT_MINOR_UNIT_EXPONENT` (2).
 * Payment providers sometimes deviate from ISO for a few currencies; invoices here follow ISO.
 */
export const CURRENCY_MINOR_UNITS: Readonly<Record<string, number>> = Object.freeze({
  // Two decimals (the default), listed because they are the common ones.
  USD: 2,
  EUR: 2,
  GBP: 2,
  CHF: 2,
  CAD: 2,
  AUD: 2,
  CNY: 2,
  INR: 2,
  BRL: 2,
  MXN: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  // Zero decimals.
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  // Three decimals.
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  // Four decimals (units of account).
  CLF: 4,
  UYW: 4,
});

const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** `true` for a well-formed ISO 4217-style code: three upper-case ASCII letters. */
export function isCurrencyCode(value: unknown): value is string {
  return typeof value === 'string' && CURRENCY_PATTERN.test(value);
}

/** Digits after the decimal point of `currency`'s minor unit: USD 2, JPY 0, BHD 3; unknown codes 2. */
export function minorUnitExponent(currency: string): number {
  if (!isCurrencyCode(currency)) {
    throw new PricingError(
      'INVALID_ARGUMENT',
      `Currency '${String(currency)}' is not three upper-case letters`,
      [
        {
          field: 'currency',
          code: 'UNKNOWN_CURRENCY_FORMAT',
          message: 'must be three upper-case letters, e.g. "USD"',
        },
      ],
    );
  }
  return Object.prototype.hasOwnProperty.call(CURRENCY_MINOR_UNITS, currency)
    ? CURRENCY_MINOR_UNITS[currency]
    : DEFAULT_MINOR_UNIT_EXPONENT;
}

/** `10^exponent` as a Decimal. */
export function minorFactor(exponent: number): Dec {
  return new D(10).pow(exponent);
}

/** Exact major amount → minor units, ROUND_HALF_EVEN. Internal form of `toMinorUnits`. */
export function roundToMinor(amount: Dec, exponent: number): Dec {
  return amount.times(minorFactor(exponent)).toDecimalPlaces(0, D.ROUND_HALF_EVEN);
}

/**
 * Rounds an amount in major units to minor units with ROUND_HALF_EVEN (banker's rounding):
 * `toMinorUnits("0.125", "USD")` is `"12"`, `toMinorUnits("0.135", "USD")` is `"14"`,
 * `toMinorUnits("1234.5", "JPY")` is `"1234"`.
 */
export function toMinorUnits(amount: DecimalString, currency: string): string {
  const exponent = minorUnitExponent(currency);
  return str(roundToMinor(parseArgument(amount, 'amount'), exponent));
}

/**
 * Formats an integer amount of minor units as a plain major-unit string with exactly the currency's
 * decimals: `formatMinor("1234", "USD")` is `"12.34"`, `("-5", "EUR")` is `"-0.05"`, `("1234", "JPY")`
 * is `"1234"`, `("1234", "BHD")` is `"1.234"`. No symbol, no grouping: presentation is the caller's.
 */
export function formatMinor(amountMinor: string, currency: string): string {
  const exponent = minorUnitExponent(currency);
  const problem =
    decimalProblem(amountMinor) ?? (amountMinor.includes('.') ? 'must be an integer string' : undefined);
  if (problem) {
    throw new PricingError('INVALID_ARGUMENT', `amountMinor ${problem}`, [
      { field: 'amountMinor', code: 'INVALID_DECIMAL', message: problem },
    ]);
  }
  const major = dec(amountMinor).times(new D(10).pow(-exponent));
  return major.isZero() ? new D(0).toFixed(exponent) : major.toFixed(exponent);
}
