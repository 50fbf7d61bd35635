import { describeDifferences, totalDifferences } from './totals';

const map = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('totalDifferences', () => {
  it('compares every customer of both sides as decimals', () => {
    expect(totalDifferences(map({ a: '12.50', b: '3' }), map({ a: '12.5', b: '3.000' }))).toEqual([]);
    expect(totalDifferences(map({ a: '12.50', b: '3' }), map({ a: '12.51', b: '3' }))).toEqual([
      { customer: 'a', expected: '12.50', actual: '12.51' },
    ]);
  });

  it('reports a customer missing on either side, unless a missing total means a known value', () => {
    expect(totalDifferences(map({ a: '1', b: '2' }), map({ a: '1', c: '0' }))).toEqual([
      { customer: 'b', expected: '2', actual: undefined },
      { customer: 'c', expected: undefined, actual: '0' },
    ]);
    expect(totalDifferences(map({ a: '1', b: '2' }), map({ a: '1', c: '0' }), { missingAs: '0' })).toEqual([
      { customer: 'b', expected: '2', actual: undefined },
    ]);
  });
});

describe('describeDifferences', () => {
  it('names the customers, up to a limit', () => {
    const diffs = totalDifferences(map({ a: '1', b: '2', c: '3' }), map({ a: '9', c: '8' }));
    expect(describeDifferences('bench', diffs, 3, { actual: 'Tally', expected: 'PostgreSQL' }, 2)).toBe(
      'bench: 3 of 3 customers differ: a (Tally 9, PostgreSQL 1), b (Tally missing, PostgreSQL 2), and 1 more',
    );
  });
});
