/**
 * Exact decimal canonicalisation without floating point: strings are rewritten digit by digit, and a
 * JSON number is taken through its shortest round-trip string (`String(n)`), never through arithmetic.
 *
 * Canonical form: optional "-" (never for zero), no "+", no leading zeros ("0" alone before a point),
 * no trailing fractional zeros, no exponent, no lone "." — e.g. "1.50" → "1.5", "007" → "7",
 * "-0" → "0", "1e3" → "1000", ".5" → "0.5".
 *
 * The hot-path functions return the canonical string, or one of the numeric error constants below,
 * so that no result object is allocated per call; an already canonical input is returned as is.
 */

/** Not a decimal number at all. */
export const DECIMAL_INVALID = 1;
/** More integer or fractional digits than allowed. */
export const DECIMAL_OUT_OF_RANGE = 2;
/** A JSON number beyond ±(2^53 − 1): its digits were already rounded by the JSON parser. */
export const DECIMAL_IMPRECISE = 3;

export type DecimalError = typeof DECIMAL_INVALID | typeof DECIMAL_OUT_OF_RANGE | typeof DECIMAL_IMPRECISE;

/** Accepted grammar: `[+-]? digits? ("." digits?)? ([eE] [+-]? digits)?` with at least one mantissa digit. */
export function canonicalDecimalString(s: string, maxInt: number, maxFrac: number): string | DecimalError {
  const len = s.length;
  if (len === 0) return DECIMAL_INVALID;
  let i = 0;
  let c = s.charCodeAt(0);
  let neg = false;
  if (c === 43 /* + */ || c === 45 /* - */) {
    neg = c === 45;
    i = 1;
  }
  const intStart = i;
  while (i < len && (c = s.charCodeAt(i)) >= 48 && c <= 57) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  let hasPoint = false;
  if (i < len && s.charCodeAt(i) === 46 /* . */) {
    hasPoint = true;
    fracStart = ++i;
    while (i < len && (c = s.charCodeAt(i)) >= 48 && c <= 57) i++;
    fracEnd = i;
  }
  if (intEnd === intStart && fracEnd === fracStart) return DECIMAL_INVALID;
  let exp = 0;
  let hasExp = false;
  if (i < len) {
    c = s.charCodeAt(i);
    if (c !== 101 /* e */ && c !== 69 /* E */) return DECIMAL_INVALID;
    hasExp = true;
    i++;
    let expNeg = false;
    if (i < len) {
      c = s.charCodeAt(i);
      if (c === 43 || c === 45) {
        expNeg = c === 45;
        i++;
      }
    }
    const expStart = i;
    while (i < len && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      if (exp < 1e6) exp = exp * 10 + (c - 48); // saturate: anything this large is out of range anyway
      i++;
    }
    if (i === expStart || i !== len) return DECIMAL_INVALID;
    if (expNeg) exp = -exp;
  }

  if (!hasExp) {
    let a = intStart; // first significant integer digit
    while (a < intEnd && s.charCodeAt(a) === 48) a++;
    let b = fracEnd; // end of significant fraction digits
    while (b > fracStart && s.charCodeAt(b - 1) === 48) b--;
    const nInt = intEnd - a;
    const nFrac = b - fracStart;
    if (nInt === 0 && nFrac === 0) return '0';
    if (nInt > maxInt || nFrac > maxFrac) return DECIMAL_OUT_OF_RANGE;
    const canonical =
      (intStart === 0 || neg) &&
      (nInt > 0 ? a === intStart : intEnd - intStart === 1) &&
      (nFrac > 0 ? b === len : !hasPoint);
    if (canonical) return s;
    const intPart = nInt > 0 ? s.slice(a, intEnd) : '0';
    const body = nFrac > 0 ? intPart + '.' + s.slice(fracStart, b) : intPart;
    return neg ? '-' + body : body;
  }

  // Exponent form (rare): shift the decimal point over the digit string.
  let digits = s.slice(intStart, intEnd) + s.slice(fracStart, fracEnd);
  let point = intEnd - intStart + exp;
  let lead = 0;
  while (lead < digits.length && digits.charCodeAt(lead) === 48) lead++;
  if (lead === digits.length) return '0';
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(lead, end);
  point -= lead;
  const nInt = point > 0 ? point : 0;
  const nFrac = digits.length > point ? digits.length - point : 0;
  if (nInt > maxInt || nFrac > maxFrac) return DECIMAL_OUT_OF_RANGE;
  let body: string;
  if (point <= 0) body = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) body = digits + '0'.repeat(point - digits.length);
  else body = digits.slice(0, point) + '.' + digits.slice(point);
  return neg ? '-' + body : body;
}

/** A JSON number as an exact canonical decimal string (its shortest round-trip representation). */
export function canonicalDecimalNumber(n: number, maxInt: number, maxFrac: number): string | DecimalError {
  if (n !== n || n === Infinity || n === -Infinity) return DECIMAL_INVALID;
  if (Number.isInteger(n)) {
    if (n > Number.MAX_SAFE_INTEGER || n < -Number.MAX_SAFE_INTEGER) return DECIMAL_IMPRECISE;
    const s = String(n); // String(-0) === "0"
    if ((n < 0 ? s.length - 1 : s.length) > maxInt) return DECIMAL_OUT_OF_RANGE;
    return s;
  }
  return canonicalDecimalString(String(n), maxInt, maxFrac);
}

export type QuantityErrorCode = 'QUANTITY_INVALID' | 'QUANTITY_OUT_OF_RANGE' | 'QUANTITY_NEGATIVE';

export type CanonicalQuantityResult =
  { ok: true; value: string } | { ok: false; code: QuantityErrorCode; message: string };

const QUANTITY_MAX_INT = 26;
const QUANTITY_MAX_FRAC = 12;

/** Result of {@link quantityOrError} for a negative (non-zero) quantity. */
export const QUANTITY_NEGATIVE_RESULT = 4;

/**
 * Quantity check used on the hot path: the canonical string, or a numeric error
 * ({@link DECIMAL_INVALID}, {@link DECIMAL_OUT_OF_RANGE}, {@link DECIMAL_IMPRECISE}, {@link QUANTITY_NEGATIVE_RESULT}).
 */
export function quantityOrError(value: unknown): string | DecimalError | typeof QUANTITY_NEGATIVE_RESULT {
  let r: string | DecimalError;
  if (typeof value === 'string') r = canonicalDecimalString(value, QUANTITY_MAX_INT, QUANTITY_MAX_FRAC);
  else if (typeof value === 'number') r = canonicalDecimalNumber(value, QUANTITY_MAX_INT, QUANTITY_MAX_FRAC);
  else return DECIMAL_INVALID;
  if (typeof r === 'string' && r.charCodeAt(0) === 45 /* - */) return QUANTITY_NEGATIVE_RESULT;
  return r;
}

const QUANTITY_ERRORS: Record<number, { code: QuantityErrorCode; message: string }> = {
  [DECIMAL_INVALID]: {
    code: 'QUANTITY_INVALID',
    message: 'must be a JSON number or a decimal string such as "12.5"',
  },
  [DECIMAL_OUT_OF_RANGE]: {
    code: 'QUANTITY_OUT_OF_RANGE',
    message: 'must have at most 26 integer digits and 12 fractional digits (Decimal(38,12))',
  },
  [DECIMAL_IMPRECISE]: {
    code: 'QUANTITY_OUT_OF_RANGE',
    message:
      'is a JSON number beyond ±9007199254740991, whose digits the JSON parser has already rounded; send it as a decimal string',
  },
  [QUANTITY_NEGATIVE_RESULT]: {
    code: 'QUANTITY_NEGATIVE',
    message: 'must not be negative; record a correction as a new event instead (see docs/events.md)',
  },
};

/** Code and message (to follow the field name) for a numeric error returned by {@link quantityOrError}. */
export function quantityError(err: number): { code: QuantityErrorCode; message: string } {
  return QUANTITY_ERRORS[err] ?? QUANTITY_ERRORS[DECIMAL_INVALID];
}

/**
 * Canonicalise a quantity (a JSON number or a decimal string) exactly, checking the Decimal(38,12)
 * range and rejecting negatives. Convenience wrapper for callers off the hot path (SDK, tools, tests).
 */
export function canonicalQuantity(value: unknown): CanonicalQuantityResult {
  const r = quantityOrError(value);
  if (typeof r === 'string') return { ok: true, value: r };
  const e = quantityError(r);
  return { ok: false, code: e.code, message: 'quantity ' + e.message };
}
