import {
  CURRENCY_MINOR_UNITS,
  PricingError,
  addDecimals,
  compareDecimals,
  formatMinor,
  isDecimalString,
  minorUnitExponent,
  multiplyDecimals,
  normalizeDecimal,
  sumDecimals,
  toMinorUnits,
} from './index';
import { Decimal } from 'decimal.js';
import { D, ceilDiv, divideRoundHalfEven } from './decimal';

describe('decimal helpers', () => {
  it('sums exactly: 0.1 + 0.2 = 0.3', () => {
    expect(sumDecimals(['0.1', '0.2'])).toBe('0.3');
    expect(sumDecimals([])).toBe('0');
    expect(sumDecimals(['-1.5', '1.5'])).toBe('0');
    expect(sumDecimals(['999999999999999999999999999999', '0.000000000000000000000000000001'])).toBe(
      '999999999999999999999999999999.000000000000000000000000000001',
    );
  });

  it('names every bad element', () => {
    expect.assertions(3);
    try {
      sumDecimals(['1', 'x', '2', 0.5 as unknown as string]);
    } catch (e) {
      expect(e).toBeInstanceOf(PricingError);
      expect((e as PricingError).code).toBe('INVALID_ARGUMENT');
      expect((e as PricingError).details.map((d) => d.field)).toEqual(['values[1]', 'values[3]']);
    }
  });

  it('adds, multiplies, compares and normalizes', () => {
    expect(addDecimals('0.1', '0.2')).toBe('0.3');
    expect(multiplyDecimals('0.1', '3')).toBe('0.3');
    expect(compareDecimals('1.50', '1.5')).toBe(0);
    expect(compareDecimals('2', '10')).toBe(-1);
    expect(compareDecimals('-0', '0')).toBe(0);
    expect(normalizeDecimal('007.500')).toBe('7.5');
    expect(normalizeDecimal('-0.0')).toBe('0');
    expect(normalizeDecimal('100000000000000000000000000000')).toBe('100000000000000000000000000000');
    expect(normalizeDecimal('0.0000000001')).toBe('0.0000000001'); // never exponent notation
  });

  it('recognizes decimal strings', () => {
    expect(['0', '-1', '12.5', '0.0001', '1000'].every(isDecimalString)).toBe(true);
    expect([1, '1e3', '', '-', '1.', '.1', 'abc', null].some(isDecimalString)).toBe(false);
  });

  it('ceilDiv counts started packages exactly', () => {
    expect(ceilDiv(new D('8'), new D('5')).toFixed()).toBe('2');
    expect(ceilDiv(new D('10'), new D('5')).toFixed()).toBe('2');
    expect(ceilDiv(new D('0'), new D('5')).toFixed()).toBe('0');
    expect(ceilDiv(new D('0.3'), new D('0.1')).toFixed()).toBe('3'); // 0.3 / 0.1 in floats is 2.9999999999999996
    expect(ceilDiv(new D('0.31'), new D('0.1')).toFixed()).toBe('4');
  });

  it('divideRoundHalfEven rounds the exact fraction', () => {
    expect(divideRoundHalfEven(new D(300), new D(31), 2)).toEqual({ value: new D('9.68'), exact: false });
    expect(divideRoundHalfEven(new D(5), new D(2), 0).value.toFixed()).toBe('2'); // 2.5 → 2
    expect(divideRoundHalfEven(new D(7), new D(2), 0).value.toFixed()).toBe('4'); // 3.5 → 4
    expect(divideRoundHalfEven(new D('0.25'), new D(1), 1).value.toFixed()).toBe('0.2');
    expect(divideRoundHalfEven(new D(10), new D(4), 12)).toEqual({ value: new D('2.5'), exact: true });
    expect(() => divideRoundHalfEven(new D(-1), new D(2), 0)).toThrow(RangeError);
  });

  it('is not affected by the global decimal.js configuration', () => {
    const saved = { precision: Decimal.precision, rounding: Decimal.rounding };
    Decimal.set({ precision: 5, rounding: Decimal.ROUND_UP });
    try {
      expect(multiplyDecimals('1.23456789', '1.23456789')).toBe('1.5241578750190521');
      expect(toMinorUnits('0.125', 'USD')).toBe('12');
    } finally {
      Decimal.set(saved);
    }
  });
});

describe('currencies', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['GBP', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['BHD', 3],
    ['KWD', 3],
    ['CLF', 4],
    ['XYZ', 2], // unknown but well-formed: default 2
  ])('%s has %i decimals', (currency, exponent) => {
    expect(minorUnitExponent(currency)).toBe(exponent);
  });

  it('rejects malformed codes and inherited keys', () => {
    expect(() => minorUnitExponent('usd')).toThrow(PricingError);
    expect(minorUnitExponent('TOS')).toBe(2);
    expect(Object.isFrozen(CURRENCY_MINOR_UNITS)).toBe(true);
  });

  it.each([
    ['0.125', 'USD', '12'],
    ['0.135', 'USD', '14'],
    ['-0.125', 'USD', '-12'],
    ['-0.135', 'USD', '-14'],
    ['12.5', 'JPY', '12'],
    ['13.5', 'JPY', '14'],
    ['1.2345', 'BHD', '1234'],
    ['1.2355', 'BHD', '1236'],
    ['10', 'USD', '1000'],
  ])('toMinorUnits(%s, %s) = %s (half-even)', (amount, currency, minor) => {
    expect(toMinorUnits(amount, currency)).toBe(minor);
  });

  it.each([
    ['1234', 'USD', '12.34'],
    ['5', 'USD', '0.05'],
    ['-5', 'EUR', '-0.05'],
    ['0', 'USD', '0.00'],
    ['-0', 'USD', '0.00'],
    ['100', 'USD', '1.00'],
    ['1234', 'JPY', '1234'],
    ['1234', 'BHD', '1.234'],
    ['123456789012345678901234567890', 'USD', '1234567890123456789012345678.90'],
  ])('formatMinor(%s, %s) = %s', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });

  it('formatMinor rejects non-integers', () => {
    expect(() => formatMinor('12.5', 'USD')).toThrow(PricingError);
    expect(() => formatMinor('abc', 'USD')).toThrow(PricingError);
  });
});
