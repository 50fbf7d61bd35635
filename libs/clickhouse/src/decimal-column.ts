/** Exact decimal text as `Decimal(38, scale)` columns take it: the one check behind every encoder. */

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

export interface DecimalText {
  negative: boolean;
  /** The integer digits without leading zeros ("0" for zero). */
  integer: string;
  /** The fraction digits as written ("" for none). */
  fraction: string;
}

/**
 * Splits `^-?\d+(\.\d+)?$` text into its parts, or says why it cannot be a `Decimal(38, scale)`
 * value: not decimal text, more than `38 - scale` integer digits or more than `scale` fraction digits.
 */
export function parseDecimalText(text: unknown, scale: number): DecimalText | string {
  const match = typeof text === 'string' ? DECIMAL_TEXT.exec(text) : null;
  if (!match) return `must be decimal text (^-?\\d+(\\.\\d+)?$), got ${JSON.stringify(text)}`;
  const [, sign, digits, fraction = ''] = match;
  const integer = digits.length > 1 && digits.charCodeAt(0) === 48 ? digits.replace(/^0+(?=\d)/, '') : digits;
  if (integer.length > 38 - scale) return `has more than ${38 - scale} integer digits`;
  if (fraction.length > scale) return `has more than ${scale} fraction digits`;
  return { negative: sign === '-', integer, fraction };
}
