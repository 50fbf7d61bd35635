import fc from 'fast-check';
import { canonicalDecimalNumber } from '@tally/event-schema';
import { decimalText } from '@tally/pricing';
import { D, numberToPropertyText } from './meter-value';

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
