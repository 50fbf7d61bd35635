import Decimal from 'decimal.js';
import fc from 'fast-check';
import {
  canonicalDecimalNumber,
  canonicalDecimalString,
  canonicalQuantity,
  DECIMAL_IMPRECISE,
  DECIMAL_INVALID,
  DECIMAL_OUT_OF_RANGE,
} from './quantity-text';

const D = Decimal.clone({ precision: 200, toExpNeg: -1000, toExpPos: 1000 });

describe('canonicalQuantity table', () => {
  it.each<[unknown, string]>([
    ['1', '1'],
    ['1.50', '1.5'],
    ['007', '7'],
    ['-0', '0'],
    ['+0', '0'],
    ['0.000', '0'],
    ['-0.000', '0'],
    ['+3', '3'],
    ['0', '0'],
    ['00', '0'],
    ['0.5', '0.5'],
    ['.5', '0.5'],
    ['5.', '5'],
    ['10', '10'],
    ['100.000100', '100.0001'],
    ['1e3', '1000'],
    ['1E+3', '1000'],
    ['12.5e-1', '1.25'],
    ['1e-12', '0.000000000001'],
    ['0e999999999', '0'],
    ['0.000000000001', '0.000000000001'],
    ['1.000000000000000000', '1'],
    ['99999999999999999999999999.999999999999', '99999999999999999999999999.999999999999'],
    ['12345678901234567890.123456789012', '12345678901234567890.123456789012'],
    [0, '0'],
    [-0, '0'],
    [42, '42'],
    [1.5, '1.5'],
    [0.1, '0.1'],
    [0.2, '0.2'],
    [1e-7, '0.0000001'],
    [1e-12, '0.000000000001'],
    [1e15, '1000000000000000'],
    [9007199254740991, '9007199254740991'],
    [123.456, '123.456'],
  ])('%p → %p', (input, expected) => {
    expect(canonicalQuantity(input)).toEqual({ ok: true, value: expected });
  });

  it.each<[unknown, string]>([
    ['', 'QUANTITY_INVALID'],
    ['abc', 'QUANTITY_INVALID'],
    ['.', 'QUANTITY_INVALID'],
    ['-', 'QUANTITY_INVALID'],
    ['+', 'QUANTITY_INVALID'],
    ['1e', 'QUANTITY_INVALID'],
    ['e5', 'QUANTITY_INVALID'],
    ['1.2.3', 'QUANTITY_INVALID'],
    [' 1', 'QUANTITY_INVALID'],
    ['1 ', 'QUANTITY_INVALID'],
    ['1,5', 'QUANTITY_INVALID'],
    ['0x10', 'QUANTITY_INVALID'],
    ['NaN', 'QUANTITY_INVALID'],
    ['Infinity', 'QUANTITY_INVALID'],
    ['--1', 'QUANTITY_INVALID'],
    [NaN, 'QUANTITY_INVALID'],
    [Infinity, 'QUANTITY_INVALID'],
    [-Infinity, 'QUANTITY_INVALID'],
    [true, 'QUANTITY_INVALID'],
    [null, 'QUANTITY_INVALID'],
    [{}, 'QUANTITY_INVALID'],
    [[1], 'QUANTITY_INVALID'],
    ['-1', 'QUANTITY_NEGATIVE'],
    ['-0.5', 'QUANTITY_NEGATIVE'],
    [-3, 'QUANTITY_NEGATIVE'],
    [-1e-7, 'QUANTITY_NEGATIVE'],
    ['999999999999999999999999999', 'QUANTITY_OUT_OF_RANGE'], // 27 integer digits
    ['0.0000000000001', 'QUANTITY_OUT_OF_RANGE'], // 13 fractional digits
    ['1e26', 'QUANTITY_OUT_OF_RANGE'],
    ['1e-13', 'QUANTITY_OUT_OF_RANGE'],
    ['1e999999999999', 'QUANTITY_OUT_OF_RANGE'],
    [0.1 + 0.2, 'QUANTITY_OUT_OF_RANGE'], // 0.30000000000000004: a float artefact is refused, not rounded
    [1.5e-13, 'QUANTITY_OUT_OF_RANGE'],
    [1e21, 'QUANTITY_OUT_OF_RANGE'], // beyond 2^53: already rounded by JSON.parse
    [9007199254740992, 'QUANTITY_OUT_OF_RANGE'],
  ])('%p is rejected with %s', (input, code) => {
    const r = canonicalQuantity(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe(code);
  });
});

describe('canonicalDecimalString / canonicalDecimalNumber', () => {
  it('returns the input itself when it is already canonical', () => {
    const s = '123.45';
    expect(canonicalDecimalString(s, 26, 12)).toBe(s);
  });
  it('keeps negatives where allowed (property values) and reports error kinds', () => {
    expect(canonicalDecimalString('-001.10', 26, 12)).toBe('-1.1');
    expect(canonicalDecimalString('-1e2', 26, 12)).toBe('-100');
    expect(canonicalDecimalString('x', 26, 12)).toBe(DECIMAL_INVALID);
    expect(canonicalDecimalString('1234', 3, 0)).toBe(DECIMAL_OUT_OF_RANGE);
    expect(canonicalDecimalNumber(-12.25, 26, 12)).toBe('-12.25');
    expect(canonicalDecimalNumber(2 ** 60, 26, 12)).toBe(DECIMAL_IMPRECISE);
    expect(canonicalDecimalNumber(5e-324, 400, 400)).toBe('0.' + '0'.repeat(323) + '5');
  });
});

const digits = (min: number, max: number) =>
  fc
    .array(fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), {
      minLength: min,
      maxLength: max,
    })
    .map((a) => a.join(''));

/** Non-negative decimal strings within Decimal(38,12), with optional "+", leading and trailing zeros. */
const quantityString = fc
  .record({
    plus: fc.boolean(),
    leadingZeros: fc.nat(3),
    int: digits(0, 26),
    frac: digits(0, 12),
    point: fc.boolean(),
    trailingZeros: fc.nat(3),
  })
  .filter((r) => r.int.length + r.frac.length > 0)
  .map((r) => {
    const frac = r.frac + (r.point || r.frac ? '0'.repeat(r.trailingZeros) : '');
    const point = r.point || frac.length > 0;
    return (r.plus ? '+' : '') + '0'.repeat(r.leadingZeros) + r.int + (point ? '.' + frac : '');
  });

describe('canonicalisation properties (fast-check)', () => {
  it('is exact: the canonical string has the same value as the input, as decimal.js reads it', () => {
    fc.assert(
      fc.property(quantityString, (s) => {
        const r = canonicalQuantity(s);
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value).toBe(new D(s).toFixed());
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent and round-trips', () => {
    fc.assert(
      fc.property(quantityString, (s) => {
        const r = canonicalQuantity(s);
        if (!r.ok) return false;
        const again = canonicalQuantity(r.value);
        return again.ok && again.value === r.value && new D(r.value).eq(new D(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('never goes through floats: 12-fractional-digit strings keep every digit', () => {
    fc.assert(
      fc.property(digits(1, 14), digits(12, 12), (int, frac) => {
        fc.pre(!frac.endsWith('0') && !(int.length > 1 && int.startsWith('0')));
        const s = `${int}.${frac}`;
        const r = canonicalQuantity(s);
        return r.ok && r.value === s;
      }),
      { numRuns: 2000 },
    );
    // A float would turn these into 0.30000000000000004 and 1.0000000000000002
    expect(canonicalQuantity('0.300000000000')).toEqual({ ok: true, value: '0.3' });
    expect(canonicalQuantity('12345678901234567890.000000000001')).toEqual({
      ok: true,
      value: '12345678901234567890.000000000001',
    });
    // JSON numbers 0.1 and 0.2 become "0.1" and "0.2", whose exact sum is 0.3
    const a = canonicalQuantity(0.1);
    const b = canonicalQuantity(0.2);
    expect(a.ok && b.ok && new D(a.value).plus(b.value).toFixed()).toBe('0.3');
  });

  it('reads JSON numbers through their shortest round-trip string', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e15, noNaN: true, noDefaultInfinity: true }), (n) => {
        const r = canonicalQuantity(n);
        if (!r.ok) {
          // only refused when more than 12 fractional digits would be needed
          return r.code === 'QUANTITY_OUT_OF_RANGE' && new D(String(n)).decimalPlaces() > 12;
        }
        return Number(r.value) === n && r.value === new D(String(n)).toFixed();
      }),
      { numRuns: 3000 },
    );
  });
});
