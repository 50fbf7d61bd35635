import { canonicalNumber, canonicalRows, compareAnswers, isOrdered } from './compare';

const ordered = 'SELECT customer, value FROM t ORDER BY customer';
const unordered = 'SELECT customer, value FROM t';

describe('the parity comparer', () => {
  it('accepts the formatting differences it documents: decimal trailing zeros, row order without ORDER BY', () => {
    expect(
      compareAnswers(
        'x',
        unordered,
        { rows: '{"c":"a","v":1.500000000000}\n{"c":"b","v":100.000000000000}\n' },
        { rows: '{"c":"b","v":100}\n{"c":"a","v":1.5}\n' },
      ),
    ).toBeUndefined();
    expect(
      compareAnswers('x', ordered, { rows: '{"v":-0.000000000000}' }, { rows: '{"v":0}' }),
    ).toBeUndefined();
  });

  it('fails on a different value, even one a float would round away', () => {
    const d = compareAnswers(
      'sum',
      ordered,
      { rows: '{"c":"a","v":100000000000000000000.000000000001}' },
      { rows: '{"c":"a","v":100000000000000000000.000000000002}' },
    );
    expect(d?.reason).toMatch(/row 0 differs/);
  });

  it('fails on a different string: text Tally builds (toString, trimmed decimals) is compared byte for byte', () => {
    expect(compareAnswers('x', ordered, { rows: '{"v":"1.50"}' }, { rows: '{"v":"1.5"}' })?.reason).toMatch(
      /differs/,
    );
    expect(compareAnswers('x', ordered, { rows: '{"n":"5"}' }, { rows: '{"n":5}' })?.reason).toMatch(
      /differs/,
    );
  });

  it('fails on a different row order when the SQL orders its rows', () => {
    const a = '{"c":"a"}\n{"c":"b"}\n';
    const b = '{"c":"b"}\n{"c":"a"}\n';
    expect(compareAnswers('x', ordered, { rows: a }, { rows: b })?.reason).toMatch(/row 0 differs/);
    expect(compareAnswers('x', unordered, { rows: a }, { rows: b })).toBeUndefined();
  });

  it('fails on a missing or extra row, a different column name, and a refusal on either side', () => {
    expect(
      compareAnswers('x', unordered, { rows: '{"c":"a"}\n{"c":"a"}\n' }, { rows: '{"c":"a"}\n' })?.reason,
    ).toMatch(/row counts differ: 2 on 18.16, 1 on 26.7/);
    expect(
      compareAnswers('x', unordered, { rows: '{"c":"a"}' }, { rows: '{"customer":"a"}' })?.reason,
    ).toMatch(/differs/);
    expect(compareAnswers('x', unordered, { rows: '' }, { error: 'Unknown function' })?.reason).toBe(
      'only ClickHouse 26.7 refused it',
    );
    expect(compareAnswers('x', unordered, { error: 'Unknown function' }, { rows: '' })?.reason).toBe(
      'only ClickHouse 18.16 refused it',
    );
    expect(compareAnswers('x', unordered, { error: 'a' }, { error: 'b' })?.reason).toBe(
      'both engines refused the statement',
    );
  });

  it("counts a difference explained by 18.16's toString(Decimal128) defect apart, and only that one", () => {
    const legacy = { rows: '{"value":"1\\u000000000000000000000821.5"}' };
    const d = compareAnswers('x', ordered, legacy, { rows: '{"value":"1000000000000000000821.5"}' });
    expect(d?.explainedBy).toBe('toString-decimal128');
    // A NUL where 26.7 has another digit, or any other change besides, stays a plain difference.
    expect(
      compareAnswers('x', ordered, legacy, { rows: '{"value":"1700000000000000000821.5"}' })?.explainedBy,
    ).toBeUndefined();
    expect(
      compareAnswers('x', ordered, legacy, { rows: '{"value":"1000000000000000000821.6"}' })?.explainedBy,
    ).toBeUndefined();
  });

  it('normalises only bare numbers with a fraction', () => {
    expect(canonicalNumber('1.500000000000')).toBe('1.5');
    expect(canonicalNumber('100.000')).toBe('100');
    expect(canonicalNumber('-0.000')).toBe('0');
    expect(canonicalNumber('1000')).toBe('1000');
    expect(canonicalNumber('1e3')).toBe('1e3');
    expect(canonicalRows('{"s":"1.500","n":1.500,"k\\"e":[1.0,"2.0"]}')).toEqual([
      '{"s":"1.500","n":{"num":"1.5"},"k\\"e":[{"num":"1"},"2.0"]}',
    ]);
    expect(isOrdered('SELECT 1\nORDER BY x')).toBe(true);
    expect(isOrdered('SELECT border_by FROM t')).toBe(false);
    expect(isOrdered("SELECT a FROM (SELECT a FROM t ORDER BY a) UNION ALL SELECT 'ORDER BY' AS b")).toBe(
      false,
    );
    expect(isOrdered('SELECT a FROM (SELECT a FROM t)\nORDER BY a')).toBe(true);
  });
});
