import fc from 'fast-check';
import { parseDecimalText } from '../decimal-column';
import {
  SqlFragment,
  SqlQuoteError,
  decimal,
  identifier,
  isValidIdentifier,
  join,
  literal,
  raw,
  sql,
  type SqlValue,
} from './quote';

describe('literal', () => {
  const cases: Array<[string, SqlValue, string]> = [
    ['plain string', 'abc', "'abc'"],
    ['empty string', '', "''"],
    ['single quote', "O'Brien", "'O\\'Brien'"],
    ['doubled quotes', "''", "'\\'\\''"],
    ['backslash', 'a\\b', "'a\\\\b'"],
    ['backslash before quote', "\\'", "'\\\\\\''"],
    ['trailing backslash', 'x\\', "'x\\\\'"],
    ['NUL', 'a\0b', "'a\\0b'"],
    ['NUL then a digit stays two characters', '\u00001', "'\\01'"],
    ['newline, CR, tab', 'a\nb\rc\td', "'a\\nb\\rc\\td'"],
    [
      'other control bytes as \\xHH',
      '\u0001\u001f\u001b\u0008\u000c\u000b',
      "'\\x01\\x1F\\x1B\\x08\\x0C\\x0B'",
    ],
    ['DEL', '\u007f', "'\\x7F'"],
    [
      'comment openers are inert inside the literal',
      '--x /* y */ ; DROP TABLE t',
      "'--x /* y */ ; DROP TABLE t'",
    ],
    ['quote then comment', "'; --", "'\\'; --'"],
    ['unicode untouched', 'é😀中\u2028\u00a0', "'é😀中\u2028\u00a0'"],
    ['backquote and double quote untouched', '`"', "'`\"'"],
    ['zero', 0, '0'],
    ['negative zero', -0, '0'],
    ['positive integer', 42, '42'],
    ['negative integer is parenthesised', -5, '(-5)'],
    ['max safe integer', Number.MAX_SAFE_INTEGER, '9007199254740991'],
    ['bigint', 18446744073709551615n, '18446744073709551615'],
    ['negative bigint', -9223372036854775808n, '(-9223372036854775808)'],
    ['true', true, '1'],
    ['false', false, '0'],
    ['null', null, 'NULL'],
    ['date', new Date('2024-03-01T12:34:56Z'), "toDateTime('2024-03-01 12:34:56', 'UTC')"],
    [
      'date milliseconds are dropped',
      new Date('2024-03-01T12:34:56.999Z'),
      "toDateTime('2024-03-01 12:34:56', 'UTC')",
    ],
    ['epoch', new Date(0), "toDateTime('1970-01-01 00:00:00', 'UTC')"],
    [
      'last second 18.16 parses',
      new Date('2105-12-31T23:59:59Z'),
      "toDateTime('2105-12-31 23:59:59', 'UTC')",
    ],
    ['string array', ['a', "b'c"], "['a', 'b\\'c']"],
    ['empty array', [], '[]'],
    ['nested array', [[1, -2], []], '[[1, (-2)], []]'],
    ['mixed array with null', ['x', null], "['x', NULL]"],
  ];

  it.each(cases)('%s', (_name, value, expected) => {
    expect(literal(value).text).toBe(expected);
  });

  const rejected: Array<[string, unknown]> = [
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['fraction (must go through decimal())', 1.5],
    ['unsafe integer', 2 ** 53],
    ['undefined', undefined],
    ['plain object', { a: 1 }],
    ['symbol', Symbol('x')],
    ['function', () => 1],
    ['invalid date', new Date('nope')],
    ['date before 1970', new Date('1969-12-31T23:59:59Z')],
    ['date after 2105', new Date('2106-01-01T00:00:00Z')],
    ['lone high surrogate', 'a\uD800b'],
    ['lone low surrogate', '\uDC00'],
    ['array with undefined', ['a', undefined]],
    ['array with NaN', [1, NaN]],
    ['fragment inside an array', [raw('1')]],
  ];

  it.each(rejected)('rejects %s', (_name, value) => {
    expect(() => literal(value as SqlValue)).toThrow(SqlQuoteError);
  });

  it('rejects absurdly deep arrays', () => {
    let v: SqlValue = [];
    for (let i = 0; i < 40; i++) v = [v];
    expect(() => literal(v)).toThrow(SqlQuoteError);
  });

  it('gives a typed error with a stable code', () => {
    try {
      literal(NaN);
      throw new Error('unreachable');
    } catch (e) {
      expect(e).toBeInstanceOf(SqlQuoteError);
      expect((e as SqlQuoteError).code).toBe('SQL_QUOTE_INVALID');
      expect((e as SqlQuoteError).name).toBe('SqlQuoteError');
    }
  });

  // The server-side round trip is in quote.int-spec.ts; here: the shape that makes breaking out impossible.
  it('keeps every string inside one literal (property)', () => {
    const tricky = fc.constantFrom(
      "'",
      '\\',
      '\0',
      '\n',
      '\r',
      '--',
      '/*',
      '*/',
      ';',
      '`',
      '"',
      '\u2028',
      '\x1a',
    );
    const str = fc.oneof(
      fc.fullUnicodeString({ maxLength: 40 }),
      fc
        .array(fc.oneof(tricky, fc.fullUnicodeString({ maxLength: 3 })), { maxLength: 20 })
        .map((a) => a.join('')),
    );
    fc.assert(
      fc.property(str, (s) => {
        const text = literal(s).text;
        expect(text.startsWith("'") && text.endsWith("'")).toBe(true);
        const body = text.slice(1, -1);
        // Inside the quotes: no raw quote, no raw control byte, and every backslash starts a known escape.
        expect([...body].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)).toBe(false);
        expect(body.replace(/\\(?:[\\'0nrt]|x[0-9A-F]{2})/g, '')).not.toMatch(/['\\]/);
        // Decoding our own escapes gives the input back.
        const decoded = body.replace(/\\(x[0-9A-F]{2}|.)/g, (_m, e: string) =>
          e.startsWith('x') && e.length === 3
            ? String.fromCharCode(parseInt(e.slice(1), 16))
            : (({ '0': '\0', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e),
        );
        expect(decoded).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decimal', () => {
  it.each([
    ['12.345678901234', 12, "toDecimal128('12.345678901234', 12)"],
    ['-0.5', 12, "toDecimal128('-0.5', 12)"],
    ['100000000000000000000000.5', 12, "toDecimal128('100000000000000000000000.5', 12)"],
    ['7', 0, "toDecimal128('7', 0)"],
    ['00012.5', 2, "toDecimal128('00012.5', 2)"],
  ])('%s scale %d', (value, scale, expected) => {
    expect(decimal(value, scale).text).toBe(expected);
  });

  it.each([
    ['exponent', '1e5', 2],
    ['leading plus', '+1', 2],
    ['leading dot', '.5', 2],
    ['trailing dot', '5.', 2],
    ['spaces', ' 1', 2],
    ['quote injection', "1') OR 1=1 --", 2],
    ['too many fraction digits', '1.234', 2],
    ['too many digits for Decimal(38, 12)', '1' + '0'.repeat(26), 12],
    ['scale above 38', '1', 39],
    ['negative scale', '1', -1],
    ['fractional scale', '1', 1.5],
    ['empty', '', 2],
    ['number instead of string', 1.5 as unknown as string, 2],
  ])('rejects %s', (_name, value, scale) => {
    expect(() => decimal(value, scale)).toThrow(SqlQuoteError);
  });

  it('accepts exactly what parseDecimalText (decimal-column.ts) accepts, the one check of Decimal(38, s) text', () => {
    const values = ['1', '-0.5', '007.25', '1.234', '1e5', '', '.5', '5.', '+1', '9'.repeat(26), '9'.repeat(27), '1.' + '0'.repeat(12), '1.' + '0'.repeat(13)];
    for (const scale of [0, 2, 12, 38])
      for (const value of values) {
        const accepted = typeof parseDecimalText(value, scale) !== 'string';
        if (accepted) expect(decimal(value, scale).text).toBe(`toDecimal128('${value}', ${scale})`);
        else expect(() => decimal(value, scale)).toThrow(SqlQuoteError);
      }
  });

  it('accepts the widest value of Decimal(38, 12)', () => {
    expect(decimal('9'.repeat(26) + '.' + '9'.repeat(12), 12).text).toBe(
      `toDecimal128('${'9'.repeat(26)}.${'9'.repeat(12)}', 12)`,
    );
  });
});

describe('identifier', () => {
  it.each([
    [['events'], '`events`'],
    [['_x1'], '`_x1`'],
    [['t_ab12', 'events'], '`t_ab12`.`events`'],
  ])('%j', (parts, expected) => {
    expect(identifier(...parts).text).toBe(expected);
  });

  it.each(['', '1abc', 'a-b', 'a b', 'a`b', 'a.b', 'é', 'a;', "a'", 'a\0'])('rejects %j', (name) => {
    expect(() => identifier(name)).toThrow(SqlQuoteError);
    expect(isValidIdentifier(name)).toBe(false);
  });

  it('rejects no parts at all', () => {
    expect(() => identifier()).toThrow(SqlQuoteError);
  });
});

describe('sql template', () => {
  it('quotes values and inlines fragments', () => {
    const q = sql`SELECT count() FROM ${identifier('db', 'events')} WHERE tenant = ${"a'b"} AND n > ${-1} AND q = ${decimal('1.5', 12)} AND ok = ${true} LIMIT ${10}`;
    expect(q).toBeInstanceOf(SqlFragment);
    expect(q.text).toBe(
      "SELECT count() FROM `db`.`events` WHERE tenant = 'a\\'b' AND n > (-1) AND q = toDecimal128('1.5', 12) AND ok = 1 LIMIT 10",
    );
  });

  it('nests', () => {
    const where = sql`tenant = ${'t1'}`;
    expect(sql`SELECT 1 WHERE ${where} AND ${raw('1 = 1')}`.text).toBe(
      "SELECT 1 WHERE tenant = 't1' AND 1 = 1",
    );
  });

  it('quotes arrays and joins lists', () => {
    expect(sql`has(${['a', 'b']}, x)`.text).toBe("has(['a', 'b'], x)");
    expect(sql`x IN (${join(['a', 'b'])})`.text).toBe("x IN ('a', 'b')");
    expect(sql`${join([identifier('a'), identifier('b')], ' AND ')}`.text).toBe('`a` AND `b`');
  });

  it('treats a string that looks like SQL as a value', () => {
    expect(sql`SELECT ${'1; DROP TABLE x'}`.text).toBe("SELECT '1; DROP TABLE x'");
  });

  it('never turns a subtraction into a comment', () => {
    expect(sql`SELECT 1-${-5}`.text).toBe('SELECT 1-(-5)');
  });

  it('does not accept an object that only looks like a fragment', () => {
    const fake = { text: '1; DROP TABLE x' } as unknown as SqlFragment;
    expect(() => sql`SELECT ${fake}`).toThrow(SqlQuoteError);
    expect(() => new SqlFragment('x', Symbol('SqlFragment') as never)).toThrow(SqlQuoteError);
  });

  it('stringifies to its text', () => {
    expect(`${sql`SELECT ${1}`}`).toBe('SELECT 1');
  });
});
