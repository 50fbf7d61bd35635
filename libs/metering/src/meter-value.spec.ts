import fc from 'fast-check';
import { canonicalDecimalNumber } from '@tally/event-schema';
import { decimalText } from '@tally/pricing';
import { D, NUMERIC_VALUE, numberToPropertyText, toDecimalText } from './meter-value';

/** What numberToPropertyText computed before it took ingestion's definition: decimal.js text. */
const decimalJsText = (value: number): string => decimalText(new D(String(value)));

describe('numberToPropertyText', () => {
  it("is the text ingestion stores for a numeric property (event-schema's canonicalDecimalNumber)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.maxSafeInteger()), (value) => {
        const stored = canonicalDecimalNumber(value, 400, 400);
        if (typeof stored === 'string') expect(numberToPropertyText(value)).toBe(stored);
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives the same text as its former decimal.js formatting, for every number (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), fc.constant(1e21), fc.constant(-0), fc.constant(5e-324)), (value) => {
        expect(numberToPropertyText(value)).toBe(decimalJsText(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([
    [1.5, '1.5'],
    [1e21, '1000000000000000000000'],
    [-0, '0'],
    [1.5e-7, '0.00000015'],
    [Number.MAX_SAFE_INTEGER + 2, '9007199254740992'],
  ])('%p → %s', (value, text) => {
    expect(numberToPropertyText(value)).toBe(text);
  });
});

/** toDecimalText as it was before it took event-schema's canonical text: decimal.js. */
function formerToDecimalText(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    text = String(value);
  } else if (typeof value === 'string') {
    if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(value)) return undefined;
    text = value;
  } else {
    return undefined;
  }
  let d;
  try {
    d = new D(text);
  } catch {
    return undefined;
  }
  const canonical = decimalText(d);
  return NUMERIC_VALUE.test(canonical) ? canonical : undefined;
}

describe('toDecimalText', () => {
  const decimalString = fc
    .tuple(
      fc.constantFrom('', '-', '+'),
      fc.stringMatching(/^[0-9]{0,30}$/),
      fc.constantFrom('', '.'),
      fc.stringMatching(/^[0-9]{0,15}$/),
      fc.constantFrom('', 'e3', 'e-2', ' '),
    )
    .map((parts) => parts.join(''));

  it('gives the same answer as its former decimal.js canonicalisation, for strings and numbers (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(decimalString, fc.double(), fc.integer(), fc.string({ maxLength: 6 }), fc.constant(null)), (value) => {
        expect(toDecimalText(value)).toBe(formerToDecimalText(value));
      }),
      { numRuns: 30_000 },
    );
  });

  it.each([
    ['000123.4500', '123.45'],
    ['-.5', '-0.5'],
    ['5.', '5'],
    ['-0.000', '0'],
    ['1' + '0'.repeat(26), undefined],
    ['0.' + '0'.repeat(12) + '1', undefined],
    ['1e3', undefined],
    [1e21, '1000000000000000000000'],
    [Number.POSITIVE_INFINITY, undefined],
  ])('%p → %p', (value, text) => {
    expect(toDecimalText(value)).toBe(text);
  });
});
