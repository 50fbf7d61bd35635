import { AnalyticsSqlError } from './errors';
import { parseAnalyticsSql } from './parser';
import { tokenize } from './tokenizer';

function failure(sql: string): { code: string; message: string; line?: number; column?: number } {
  try {
    parseAnalyticsSql(sql);
  } catch (error) {
    if (!(error instanceof AnalyticsSqlError)) throw error;
    return {
      code: error.code,
      message: error.message,
      line: error.position?.line,
      column: error.position?.column,
    };
  }
  throw new Error(`parsed: ${sql}`);
}

describe('tokenize', () => {
  it('splits words, numbers, strings, quoted names and symbols with positions', () => {
    const tokens = tokenize("SELECT `a`, \"b\" , 'it''s' <= 1.5e3\n  FROM x;");
    expect(tokens.map((t) => [t.type, t.value, t.pos.line, t.pos.column])).toEqual([
      ['word', 'SELECT', 1, 1],
      ['quoted', 'a', 1, 8],
      ['symbol', ',', 1, 11],
      ['quoted', 'b', 1, 13],
      ['symbol', ',', 1, 17],
      ['string', "it's", 1, 19],
      ['symbol', '<=', 1, 27],
      ['number', '1.5e3', 1, 30],
      ['word', 'FROM', 2, 3],
      ['word', 'x', 2, 8],
      ['symbol', ';', 2, 9],
      ['eof', '', 2, 10],
    ]);
  });

  it('decodes the escapes of string literals', () => {
    const [t] = tokenize(String.raw`'a\'b\\c\nd\te\0f\x41''g'`);
    expect(t).toMatchObject({ type: 'string', value: "a'b\\c\nd\te\0fA'g" });
  });

  it('keeps Unicode and counts columns in code points', () => {
    const tokens = tokenize("'日本😀' x");
    expect(tokens[0].value).toBe('日本😀');
    expect(tokens[1].pos).toEqual({ offset: 7, line: 1, column: 7 });
  });

  it('drops comments of both kinds', () => {
    const tokens = tokenize('SELECT -- a comment ; DROP TABLE x\n1 /* ; DELETE */ + 2');
    expect(tokens.map((t) => t.value)).toEqual(['SELECT', '1', '+', '2', '']);
  });

  it.each([
    ["SELECT 'abc", 'SQL_SYNTAX', 'Unterminated string literal at line 1, column 8'],
    ['SELECT `abc', 'SQL_SYNTAX', 'Unterminated quoted identifier at line 1, column 8'],
    ['SELECT 1 /* never closed', 'SQL_SYNTAX', 'Unterminated comment /* ... */ at line 1, column 10'],
    ["SELECT\n  'a\\qb'", 'SQL_SYNTAX', "Unknown escape sequence '\\q' at line 2, column 5"],
    [
      "SELECT '\\xC3\\xA9'",
      'SQL_UNSUPPORTED',
      'Escape \\xC3 is not ASCII; write the character itself at line 1, column 9',
    ],
    ["SELECT '\\x4'", 'SQL_SYNTAX', 'Escape \\x needs two hex digits at line 1, column 9'],
    ['SELECT 1abc', 'SQL_SYNTAX', "Malformed number starting '1' at line 1, column 8"],
    ['SELECT 1.2.3', 'SQL_SYNTAX', "Malformed number starting '1.2' at line 1, column 8"],
    ['SELECT a ^ b', 'SQL_SYNTAX', "Unexpected character '^' (U+005E) at line 1, column 10"],
    [
      'SELECT {p:String}',
      'SQL_UNSUPPORTED',
      "Query parameters and placeholders ('{' (U+007B)) are not supported at line 1, column 8",
    ],
    ['SELECT [1, 2]', 'SQL_UNSUPPORTED', 'Arrays are not supported at line 1, column 8'],
    ['SELECT\u00a01', 'SQL_SYNTAX', 'Unexpected character U+00A0 at line 1, column 7'],
    ['SELECT \u0000', 'SQL_SYNTAX', 'Unexpected character U+0000 at line 1, column 8'],
    ["SELECT '\ud800'", 'SQL_SYNTAX', 'Unpaired UTF-16 surrogate U+D800 at line 1, column 9'],
  ])('refuses %j', (sql, code, message) => {
    expect(() => tokenize(sql)).toThrow(AnalyticsSqlError);
    try {
      tokenize(sql);
    } catch (error) {
      expect(error).toMatchObject({ code, message });
    }
  });
});

describe('parseAnalyticsSql', () => {
  it('parses a full SELECT', () => {
    const ast = parseAnalyticsSql(
      "SELECT DISTINCT blob1 AS path, count() n FROM ds WHERE NOT double1 > 2 AND index1 IN ('a', 'b') " +
        'GROUP BY path HAVING n >= 10 ORDER BY n DESC, path LIMIT 5 OFFSET 10 FORMAT JSONEachRow;',
    );
    expect(ast).toMatchObject({
      kind: 'select',
      distinct: true,
      items: [
        { expr: { kind: 'identifier', name: 'blob1' }, alias: { name: 'path' } },
        { expr: { kind: 'call', name: 'count', args: [] }, alias: { name: 'n' } },
      ],
      from: { parts: ['ds'] },
      where: {
        kind: 'binary',
        op: 'AND',
        left: { kind: 'unary', op: 'NOT', operand: { kind: 'binary', op: '>' } },
        right: { kind: 'in', negated: false, list: [{ value: 'a' }, { value: 'b' }] },
      },
      groupBy: [{ kind: 'identifier', name: 'path' }],
      having: { kind: 'binary', op: '>=' },
      orderBy: [
        { expr: { name: 'n' }, direction: 'DESC' },
        { expr: { name: 'path' }, direction: 'ASC' },
      ],
      limit: { count: 5, offset: 10 },
      format: 'JSONEachRow',
    });
  });

  it('gives arithmetic the usual precedence and associativity', () => {
    const ast = parseAnalyticsSql('SELECT 1 - 2 - 3 * -4 % 5 FROM d');
    expect(ast.kind === 'select' && ast.items[0].expr).toMatchObject({
      kind: 'binary',
      op: '-',
      left: { kind: 'binary', op: '-', left: { text: '1' }, right: { text: '2' } },
      right: {
        kind: 'binary',
        op: '%',
        left: { kind: 'binary', op: '*', left: { text: '3' }, right: { kind: 'unary', op: '-' } },
        right: { text: '5' },
      },
    });
  });

  it('parses BETWEEN, LIKE, IS NULL, their negations, INTERVAL and parametric calls', () => {
    const ast = parseAnalyticsSql(
      "SELECT quantileExactWeighted(0.9)(double1, _sample_interval) FROM d WHERE double1 NOT BETWEEN 1 AND 2 AND blob1 NOT LIKE '%a' AND blob2 IS NOT NULL AND timestamp > now() - INTERVAL '7' days",
    );
    expect(ast).toMatchObject({
      items: [
        {
          expr: {
            kind: 'call',
            params: [{ text: '0.9' }],
            args: [{ name: 'double1' }, { name: '_sample_interval' }],
          },
        },
      ],
      where: {
        op: 'AND',
        left: {
          op: 'AND',
          left: {
            op: 'AND',
            left: { kind: 'between', negated: true },
            right: { kind: 'like', negated: true },
          },
          right: { kind: 'is_null', negated: true },
        },
        right: { op: '>', right: { op: '-', right: { kind: 'interval', value: 7, unit: 'DAY' } } },
      },
    });
  });

  it('accepts count(*), count(DISTINCT x), LIMIT m, n, SHOW TABLES and a trailing semicolon', () => {
    expect(parseAnalyticsSql('select COUNT(*) from d limit 10, 20')).toMatchObject({
      items: [{ expr: { kind: 'call', name: 'COUNT', star: true } }],
      limit: { count: 20, offset: 10 },
    });
    expect(parseAnalyticsSql('SELECT count(DISTINCT blob1) FROM d')).toMatchObject({
      items: [{ expr: { kind: 'call', distinct: true, args: [{ name: 'blob1' }] } }],
    });
    expect(parseAnalyticsSql('SHOW TABLES;')).toEqual({ kind: 'show_tables', format: undefined });
    expect(parseAnalyticsSql('show tables format TabSeparated')).toEqual({
      kind: 'show_tables',
      format: 'TabSeparated',
    });
  });

  it.each([
    ['', 'SQL_SYNTAX', 'The query is empty at line 1, column 1'],
    ['SELECT', 'SQL_SYNTAX', 'Expected an expression, found the end of the query at line 1, column 7'],
    [
      'SELECT blob1',
      'SQL_SYNTAX',
      'Expected FROM <dataset>: every query reads one dataset at line 1, column 13',
    ],
    ['SELECT blob1,\nFROM d', 'SQL_SYNTAX', 'Expected an expression, found FROM at line 2, column 1'],
    ['SELECT (blob1 FROM d', 'SQL_SYNTAX', "Expected ')', found FROM at line 1, column 15"],
    [
      'SELECT blob1 FROM d WHERE',
      'SQL_SYNTAX',
      'Expected an expression, found the end of the query at line 1, column 26',
    ],
    ['SELECT blob1 FROM d GROUP blob1', 'SQL_SYNTAX', "Expected BY, found 'blob1' at line 1, column 27"],
    [
      'SELECT blob1 FROM d LIMIT -1',
      'SQL_SYNTAX',
      "Expected a non-negative integer, found '-' at line 1, column 27",
    ],
    [
      'SELECT blob1 FROM d LIMIT 1.5',
      'SQL_SYNTAX',
      'Expected a non-negative integer, found number 1.5 at line 1, column 27',
    ],
    [
      'SELECT blob1 FROM d WHERE x BETWEEN 1',
      'SQL_SYNTAX',
      'Expected AND, found the end of the query at line 1, column 38',
    ],
    [
      "SELECT INTERVAL 'x' DAY FROM d",
      'SQL_SYNTAX',
      "Expected a whole number after INTERVAL (INTERVAL '1' DAY), found a string literal at line 1, column 17",
    ],
    [
      'SELECT INTERVAL 1 fortnight FROM d',
      'SQL_SYNTAX',
      "Expected an interval unit (SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR), found 'fortnight' at line 1, column 19",
    ],
    ['SELECT blob1 FROM d WHERE blob1 = 1 blob2', 'SQL_SYNTAX', "Unexpected 'blob2' at line 1, column 37"],
    ['SELECT blob1 FROM d ORDER BY blob1 WHERE 1', 'SQL_SYNTAX', 'Unexpected WHERE at line 1, column 36'],
    ['SHOW DATABASES', 'SQL_SYNTAX', "Expected TABLES after SHOW, found 'DATABASES' at line 1, column 6"],
    [
      'SELECT * FROM d',
      'SQL_UNSUPPORTED',
      '`*` is only allowed in count(*); list the columns (timestamp, index1, blob1..blob20, double1..double20, _sample_interval, dataset) at line 1, column 8',
    ],
    [
      'SELECT blob1 FROM d FORMAT CSV',
      'SQL_UNSUPPORTED',
      "Output format 'CSV' is not supported; use JSON, JSONEachRow or TabSeparated at line 1, column 28",
    ],
    [
      'SELECT CASE WHEN 1 THEN 2 END FROM d',
      'SQL_UNSUPPORTED',
      'CASE is not supported; use if(cond, a, b) or multiIf(...) at line 1, column 8',
    ],
    [
      "SELECT blob1 FROM d WHERE blob1 ILIKE 'a'",
      'SQL_UNSUPPORTED',
      'ILIKE is not supported; compare lower(x) with LIKE at line 1, column 33',
    ],
    [
      'SELECT d.blob1 FROM d',
      'SQL_UNSUPPORTED',
      'Qualified names such as d.blob1 are not supported; name columns directly at line 1, column 8',
    ],
    [
      'SELECT blob1 FROM d AS x',
      'SQL_UNSUPPORTED',
      'Table aliases are not supported; name columns directly at line 1, column 21',
    ],
    [
      'SELECT blob1 FROM d x',
      'SQL_UNSUPPORTED',
      'Table aliases are not supported; name columns directly at line 1, column 21',
    ],
    ['SELECT (1, 2) FROM d', 'SQL_UNSUPPORTED', 'Tuples are not supported at line 1, column 10'],
    [
      "SELECT blob1 FROM d WHERE blob1 IN 'a'",
      'SQL_UNSUPPORTED',
      "IN needs a parenthesised list of values: x IN ('a', 'b') at line 1, column 36",
    ],
    [
      'SELECT blob1 FROM d GROUP BY blob1 WITH TOTALS',
      'SQL_UNSUPPORTED',
      'GROUP BY ... WITH TOTALS/ROLLUP/CUBE is not supported at line 1, column 36',
    ],
    [
      'SELECT blob1 FROM d LIMIT 1 BY blob1',
      'SQL_UNSUPPORTED',
      'LIMIT ... BY is not supported at line 1, column 29',
    ],
    [
      'SELECT blob1 FROM d ORDER BY blob1 NULLS FIRST',
      'SQL_UNSUPPORTED',
      'ORDER BY ... NULLS is not supported at line 1, column 36',
    ],
    [
      'SELECT blob1 FROM d PREWHERE 1',
      'SQL_UNSUPPORTED',
      'PREWHERE is not supported; use WHERE at line 1, column 21',
    ],
    [
      'SELECT blob1 FROM d SAMPLE 0.1',
      'SQL_UNSUPPORTED',
      'SAMPLE is not supported: the data is already sampled, see _sample_interval at line 1, column 21',
    ],
    ['SELECT blob1 FROM d FINAL', 'SQL_UNSUPPORTED', 'FINAL is not supported at line 1, column 21'],
    [
      'SELECT blob1 FROM d ARRAY JOIN x',
      'SQL_UNSUPPORTED',
      'ARRAY JOIN is not supported at line 1, column 21',
    ],
    [
      'INSERT INTO d VALUES (1)',
      'SQL_UNSUPPORTED',
      'Only SELECT and SHOW TABLES are supported, not INSERT at line 1, column 1',
    ],
    [
      'WITH 1 AS x SELECT x FROM d',
      'SQL_UNSUPPORTED',
      'WITH (common table expressions) is not supported at line 1, column 1',
    ],
    [
      '(SELECT 1 FROM d)',
      'SQL_UNSUPPORTED',
      'Subqueries are not supported: write one SELECT at line 1, column 1',
    ],
    ['hello', 'SQL_SYNTAX', "Expected SELECT or SHOW TABLES, found 'hello' at line 1, column 1"],
  ])('refuses %j', (sql, code, message) => {
    expect(failure(sql)).toMatchObject({ code, message });
  });

  it('reports line and column on multi-line queries', () => {
    expect(failure('SELECT\n  blob1,\n  sum(double1\nFROM d')).toEqual({
      code: 'SQL_SYNTAX',
      message: "Expected ')', found FROM at line 4, column 1",
      line: 4,
      column: 1,
    });
  });

  it('refuses queries that are too long or nested too deeply', () => {
    expect(() => parseAnalyticsSql('SELECT 1 FROM d' + ' '.repeat(100), { maxLength: 50 })).toThrow(
      'The query is longer than 50 characters',
    );
    expect(failure(`SELECT ${'('.repeat(200)}1${')'.repeat(200)} FROM d`)).toMatchObject({
      code: 'SQL_UNSUPPORTED',
      message: expect.stringMatching(
        /^The expression is nested more than 64 levels deep at line 1, column \d+$/,
      ),
    });
    expect(failure(`SELECT ${'- '.repeat(500)}1 FROM d`).code).toBe('SQL_UNSUPPORTED');
    expect(failure(`SELECT ${'NOT '.repeat(500)}1 FROM d`).code).toBe('SQL_UNSUPPORTED');
  });
});
