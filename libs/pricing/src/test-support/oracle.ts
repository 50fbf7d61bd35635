/**
 * Test-only reference arithmetic on BigInt, independent of decimal.js: a decimal is `n / 10^scale`.
 * Used by the property tests as an oracle for the library's exact results. Not exported by index.ts.
 */
export interface Fixed {
  n: bigint;
  scale: number;
}

export function parseFixed(value: string): Fixed {
  const negative = value.startsWith('-');
  const [int, frac = ''] = (negative ? value.slice(1) : value).split('.');
  const n = BigInt(int + frac);
  return { n: negative ? -n : n, scale: frac.length };
}

/** Canonical plain string: no trailing fraction zeros, no `-0`. */
export function formatFixed({ n, scale }: Fixed): string {
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  const text = frac ? `${int}.${frac}` : int;
  return negative && text !== '0' ? `-${text}` : text;
}

function pow10(k: number): bigint {
  return 10n ** BigInt(k);
}

function align(a: Fixed, b: Fixed): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.n * pow10(scale - a.scale), b.n * pow10(scale - b.scale), scale];
}

export function addFixed(a: Fixed, b: Fixed): Fixed {
  const [x, y, scale] = align(a, b);
  return { n: x + y, scale };
}

export function subFixed(a: Fixed, b: Fixed): Fixed {
  const [x, y, scale] = align(a, b);
  return { n: x - y, scale };
}

export function mulFixed(a: Fixed, b: Fixed): Fixed {
  return { n: a.n * b.n, scale: a.scale + b.scale };
}

export function cmpFixed(a: Fixed, b: Fixed): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `num / den` rounded half-even to an integer, for `den > 0`. */
export function roundHalfEvenRatio(num: bigint, den: bigint): bigint {
  const negative = num < 0n;
  const a = negative ? -num : num;
  let q = a / den;
  const twice = 2n * (a % den);
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/** An exact decimal rounded half-even to `exponent` decimals, as an integer count of minor units. */
export function toMinorOracle(value: Fixed, exponent: number): bigint {
  if (value.scale <= exponent) return value.n * pow10(exponent - value.scale);
  return roundHalfEvenRatio(value.n, pow10(value.scale - exponent));
}

export function ceilDivFixed(a: Fixed, b: Fixed): bigint {
  const [x, y] = align(a, b);
  return (x + y - 1n) / y;
}

export const f = parseFixed;
