import fc from 'fast-check';
import { parseJsonEachRowExact, parseJsonExact } from './exact-json';

describe('parseJsonExact', () => {
  it('keeps every digit of numbers as strings', () => {
    expect(
      parseJsonExact(
        '{"q":100000000000000000000000.500000000000,"n":-3,"e":1.5e-7,"z":0,"s":"12.5","a":[1,2.25]}',
      ),
    ).toEqual({
      q: '100000000000000000000000.500000000000',
      n: '-3',
      e: '1.5e-7',
      z: '0',
      s: '12.5',
      a: ['1', '2.25'],
    });
  });

  it('does not touch digits inside strings, escaped quotes included', () => {
    expect(parseJsonExact('{"k\\"1":"a\\"2\\\\","v":[true,null,false,"3"]}')).toEqual({
      'k"1': 'a"2\\',
      v: [true, null, false, '3'],
    });
  });

  it('agrees with JSON.parse except that each number is its own source text (property)', () => {
    const numbersToText = (v: unknown): unknown =>
      typeof v === 'number'
        ? JSON.stringify(v)
        : Array.isArray(v)
          ? v.map(numbersToText)
          : v !== null && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, numbersToText(x)]))
            : v;
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(parseJsonExact(text)).toEqual(numbersToText(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('parses JSONEachRow text', () => {
    expect(parseJsonEachRowExact('{"a":1}\n{"a":2.5}\n')).toEqual([{ a: '1' }, { a: '2.5' }]);
    expect(parseJsonEachRowExact('')).toEqual([]);
  });
});
