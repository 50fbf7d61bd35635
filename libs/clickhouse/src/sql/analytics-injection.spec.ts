/**
 * The SQL API runs text from the internet against a ClickHouse holding every tenant's data. These
 * tests try to get out of the caller's tenant and dataset, out of SELECT, or out of a literal, and
 * check that each attempt is refused with the right code, or neutralised when it is just data.
 */
import { AnalyticsSqlError, seededRandom, tokenize } from '@tally/analytics-engine';
import { compileAnalyticsSql, type RewriteOptions } from './analytics-query';
import { identifier, literal } from './quote';

const OPTIONS: RewriteOptions = {
  tenant: 'acme',
  datasets: ['api_calls'],
  database: 'tally',
};
const SCOPE = "SELECT * FROM `tally`.`datapoints` WHERE tenant = 'acme' AND dataset = 'api_calls'";
const SOURCE = `(${SCOPE}) AS \`api_calls\``;

function codeOf(query: string, options: Partial<RewriteOptions> = {}): string {
  try {
    compileAnalyticsSql(query, { ...OPTIONS, ...options });
  } catch (error) {
    if (error instanceof AnalyticsSqlError) return error.code;
    throw error;
  }
  return 'ACCEPTED';
}

function sqlOf(query: string, options: Partial<RewriteOptions> = {}): string {
  const plan = compileAnalyticsSql(query, { ...OPTIONS, ...options });
  if (plan.kind !== 'query') throw new Error('not a query');
  return plan.sql;
}

const SCOPE_TOKENS = tokenize(SCOPE).slice(0, -1);

/**
 * Checks the shape of rewritten SQL: one SELECT whose FROM is the scoped subquery, which starts with
 * the tenant and dataset filter and may only add AND-ed conditions to it (no top-level OR that could
 * widen it), and no other FROM, SELECT, statement separator or qualified name anywhere.
 */
function assertScoped(sql: string): void {
  const tokens = tokenize(sql);
  const isWord = (i: number, ...words: string[]) =>
    tokens[i].type === 'word' && words.includes(tokens[i].value.toUpperCase());
  const isSymbol = (i: number, symbol: string) => tokens[i].type === 'symbol' && tokens[i].value === symbol;
  expect(isWord(0, 'SELECT')).toBe(true);
  let depth = 0;
  let from = 1;
  for (; !(depth === 0 && isWord(from, 'FROM')); from++) {
    expect(tokens[from].type).not.toBe('eof');
    expect(isWord(from, 'SELECT')).toBe(false);
    if (isSymbol(from, '(')) depth++;
    if (isSymbol(from, ')')) depth--;
  }
  expect(isSymbol(from + 1, '(')).toBe(true);
  SCOPE_TOKENS.forEach((t, k) =>
    expect([tokens[from + 2 + k].type, tokens[from + 2 + k].value]).toEqual([t.type, t.value]),
  );
  let i = from + 2 + SCOPE_TOKENS.length;
  depth = 1;
  if (!isSymbol(i, ')')) expect(isWord(i, 'AND')).toBe(true);
  for (; depth > 0; i++) {
    expect(tokens[i].type).not.toBe('eof');
    if (isSymbol(i, '(')) depth++;
    else if (isSymbol(i, ')')) depth--;
    else if (depth === 1) expect(isWord(i, 'OR')).toBe(false);
    expect(isWord(i, 'SELECT', 'FROM')).toBe(false);
  }
  expect(isWord(i, 'AS') && tokens[i + 1].type === 'quoted' && tokens[i + 1].value === 'api_calls').toBe(
    true,
  );
  for (const t of tokens.slice(i + 2)) {
    if (t.type === 'word')
      expect(['SELECT', 'FROM', 'SETTINGS', 'INTO', 'UNION', 'JOIN']).not.toContain(t.value.toUpperCase());
    if (t.type === 'symbol') expect(['.', ';']).not.toContain(t.value);
  }
}

/** The string literals of a SQL text, decoded (quote.ts's escapes are a subset of the tokenizer's). */
function literalsOf(sql: string): string[] {
  return tokenize(sql)
    .filter((t) => t.type === 'string')
    .map((t) => t.value);
}

describe("reading outside the caller's tenant and dataset", () => {
  it.each([
    [
      "another tenant's dataset (not in the caller's list)",
      'SELECT blob1 FROM their_dataset',
      'SQL_UNKNOWN_TABLE',
    ],
    ['the raw table', 'SELECT blob1 FROM datapoints', 'SQL_UNKNOWN_TABLE'],
    ['a qualified table', 'SELECT blob1 FROM tally.datapoints', 'SQL_UNKNOWN_TABLE'],
    ['system.tables', 'SELECT name FROM system.tables', 'SQL_UNKNOWN_TABLE'],
    ['a backquoted dotted name', 'SELECT blob1 FROM `system.tables`', 'SQL_UNKNOWN_TABLE'],
    ['numbers(10)', 'SELECT number FROM numbers(10)', 'SQL_UNSUPPORTED'],
    [
      'url()',
      "SELECT * FROM url('http://169.254.169.254/latest/meta-data', CSV, 'a String')",
      'SQL_UNSUPPORTED',
    ],
    ['remote()', "SELECT blob1 FROM remote('127.0.0.1', system.tables)", 'SQL_UNSUPPORTED'],
    ['a subquery in FROM', 'SELECT blob1 FROM (SELECT * FROM tally.datapoints)', 'SQL_UNSUPPORTED'],
    [
      'a subquery in IN',
      'SELECT blob1 FROM api_calls WHERE index1 IN (SELECT index1 FROM tally.datapoints)',
      'SQL_UNSUPPORTED',
    ],
    [
      'IN with a table name (ClickHouse would read the table)',
      'SELECT blob1 FROM api_calls WHERE index1 IN (datapoints)',
      'SQL_UNSUPPORTED',
    ],
    [
      'IN with a column (read as a table by ClickHouse)',
      'SELECT blob1 FROM api_calls WHERE blob1 IN (index1)',
      'SQL_UNSUPPORTED',
    ],
    [
      'IN with a qualified table',
      'SELECT blob1 FROM api_calls WHERE blob1 IN (system.tables)',
      'SQL_UNSUPPORTED',
    ],
    ['a join', 'SELECT blob1 FROM api_calls JOIN their_dataset USING (index1)', 'SQL_UNSUPPORTED'],
    ['a comma join', 'SELECT blob1 FROM api_calls, system.tables', 'SQL_UNSUPPORTED'],
    ['UNION', 'SELECT blob1 FROM api_calls UNION ALL SELECT name FROM system.tables', 'SQL_UNSUPPORTED'],
    ['the tenant column', "SELECT blob1 FROM api_calls WHERE tenant = 'other'", 'SQL_UNKNOWN_COLUMN'],
    [
      'OR around the tenant filter',
      "SELECT blob1 FROM api_calls WHERE 1 = 1 OR tenant = 'other'",
      'SQL_UNKNOWN_COLUMN',
    ],
    ['table functions as functions', "SELECT file('/etc/passwd') FROM api_calls", 'SQL_UNKNOWN_FUNCTION'],
    ['dictionaries', "SELECT dictGetString('d', 'a', toUInt64(1)) FROM api_calls", 'SQL_UNKNOWN_FUNCTION'],
    ['server introspection', 'SELECT currentDatabase() FROM api_calls', 'SQL_UNKNOWN_FUNCTION'],
    ['joinGet', "SELECT joinGet('t', 'c', 1) FROM api_calls", 'SQL_UNKNOWN_FUNCTION'],
  ])('%s', (_what, query, code) => {
    expect(codeOf(query)).toBe(code);
  });
});

describe('leaving SELECT', () => {
  it.each([
    ['two statements', 'SELECT blob1 FROM api_calls; DROP TABLE tally.datapoints', 'SQL_UNSUPPORTED'],
    ['two SELECTs', 'SELECT blob1 FROM api_calls; SELECT blob1 FROM api_calls', 'SQL_UNSUPPORTED'],
    ['two semicolons', 'SELECT blob1 FROM api_calls;;', 'SQL_UNSUPPORTED'],
    [
      'a statement after a block comment',
      'SELECT blob1 FROM api_calls /* hidden */; DROP TABLE x',
      'SQL_UNSUPPORTED',
    ],
    [
      'a statement after a line comment',
      'SELECT blob1 FROM api_calls -- hidden\n; DROP TABLE x',
      'SQL_UNSUPPORTED',
    ],
    ['a statement glued to a comment', 'SELECT blob1 FROM api_calls/**/;/**/DROP TABLE x', 'SQL_UNSUPPORTED'],
    ['INTO OUTFILE', "SELECT blob1 FROM api_calls INTO OUTFILE '/tmp/x'", 'SQL_UNSUPPORTED'],
    ['SETTINGS', 'SELECT blob1 FROM api_calls SETTINGS readonly = 0', 'SQL_UNSUPPORTED'],
    [
      'SETTINGS after FORMAT',
      'SELECT blob1 FROM api_calls FORMAT JSON SETTINGS max_threads = 64',
      'SQL_UNSUPPORTED',
    ],
    ['an unknown FORMAT', 'SELECT blob1 FROM api_calls FORMAT Native', 'SQL_UNSUPPORTED'],
    ['INSERT', 'INSERT INTO tally.datapoints SELECT * FROM tally.datapoints', 'SQL_UNSUPPORTED'],
    ['DROP', 'DROP TABLE tally.datapoints', 'SQL_UNSUPPORTED'],
    ['ALTER', 'ALTER TABLE tally.datapoints DELETE WHERE 1', 'SQL_UNSUPPORTED'],
    ['SET', 'SET readonly = 0', 'SQL_UNSUPPORTED'],
    ['SYSTEM', 'SYSTEM SHUTDOWN', 'SQL_UNSUPPORTED'],
    ['query parameters', 'SELECT blob1 FROM api_calls WHERE index1 = {id:String}', 'SQL_UNSUPPORTED'],
    ['a NUL between statements', 'SELECT blob1 FROM api_calls\u0000; DROP TABLE x', 'SQL_SYNTAX'],
    ['full-width letters', '\uff33\uff25\uff2c\uff25\uff23\uff34 1', 'SQL_SYNTAX'],
  ])('%s', (_what, query, code) => {
    expect(codeOf(query)).toBe(code);
  });

  it('drops what comments hide instead of passing it on', () => {
    const sql = sqlOf(
      "SELECT blob1 -- '; DROP TABLE x\nFROM api_calls /* UNION SELECT name FROM system.tables */",
    );
    expect(sql).toBe(`SELECT blob1 FROM ${SOURCE} LIMIT 10000`);
  });
});

describe('leaving a literal', () => {
  it.each([
    ['a quote doubled', "'x'' OR 1 = 1 --'", "x' OR 1 = 1 --"],
    ['a backslash-escaped quote', "'x\\' OR tenant != \\'acme'", "x' OR tenant != 'acme"],
    ['a trailing backslash', "'x\\\\'", 'x\\'],
    ['a NUL', "'a\\0b'", 'a\0b'],
    ['a raw NUL', "'a\u0000b'", 'a\0b'],
    ['control characters', "'\\x01\\x1f\\x7f\\n\\r\\t\\b\\f\\a\\v'", '\x01\x1f\x7f\n\r\t\b\f\x07\v'],
    ['Unicode', "'日本語 😀 \u202e \u2028'", '日本語 😀 \u202e \u2028'],
    ['a semicolon and comment markers', "'; DROP TABLE x; -- /* */'", '; DROP TABLE x; -- /* */'],
    ['a backquote and a double quote', "'`\"'", '`"'],
  ])('%s is re-quoted as one literal', (_what, source, value) => {
    const sql = sqlOf(`SELECT blob1 FROM api_calls WHERE blob1 = ${source}`);
    assertScoped(sql);
    expect(literalsOf(sql)).toEqual(['acme', 'api_calls', value, value]);
    const quoted = literal(value).text;
    expect(sql).toBe(
      `SELECT blob1 FROM (${SCOPE} AND blob1 = ${quoted}) AS \`api_calls\` WHERE blob1 = ${quoted} LIMIT 10000`,
    );
  });

  it('quotes a hostile tenant through the quoter', () => {
    const sql = sqlOf('SELECT blob1 FROM api_calls', { tenant: "acme' OR '1' = '1" });
    expect(literalsOf(sql)).toEqual(["acme' OR '1' = '1", 'api_calls']);
    expect(sql).toContain("WHERE tenant = 'acme\\' OR \\'1\\' = \\'1' AND dataset = 'api_calls'");
  });

  it('round-trips random strings through the tokenizer, the rewriter and back', () => {
    const random = seededRandom(7);
    const alphabet = [
      "'",
      '\\',
      '"',
      '`',
      ';',
      '-',
      '/',
      '*',
      '\0',
      '\n',
      '\r',
      '\t',
      '\x01',
      '\x7f',
      'a',
      ' ',
      'é',
      '😀',
      '\u2028',
      '{',
      '}',
      '?',
    ];
    for (let n = 0; n < 2000; n++) {
      let value = '';
      const length = Math.floor(random() * 12);
      for (let i = 0; i < length; i++) value += alphabet[Math.floor(random() * alphabet.length)];
      const source = literal(value).text; // a correctly quoted literal in the query...
      const sql = sqlOf(`SELECT blob1 FROM api_calls WHERE blob1 = ${source} OR blob2 = ${source}`);
      // ...comes out as exactly two literals holding exactly the same value, and the scope is intact.
      // (the condition is repeated inside the scoped subquery, hence each value twice)
      expect(literalsOf(sql)).toEqual(['acme', 'api_calls', value, value, value, value]);
      assertScoped(sql);
    }
  });
});

describe('aliases and names', () => {
  it.each([
    ['an alias that is not a plain name', 'SELECT blob1 AS `x` FROM api_calls', 'ACCEPTED'],
    ['an alias with a backquote', 'SELECT blob1 AS `x``y` FROM api_calls', 'SQL_UNSUPPORTED'],
    ['an alias with a dot', 'SELECT blob1 AS `system.tables` FROM api_calls', 'SQL_UNSUPPORTED'],
    ['an alias with a space', 'SELECT blob1 AS "a b" FROM api_calls', 'SQL_UNSUPPORTED'],
    [
      'a column name with a backquote',
      'SELECT `blob1`` FROM system.tables --` FROM api_calls',
      'SQL_UNKNOWN_COLUMN',
    ],
    ['a function name in backquotes', 'SELECT `sleep`(3) FROM api_calls', 'SQL_UNKNOWN_FUNCTION'],
  ])('%s', (_what, query, code) => {
    expect(codeOf(query)).toBe(code);
  });

  it('refuses a dataset list entry that is not a plain name, even if the caller passed one', () => {
    expect(codeOf('SELECT blob1 FROM `a b`', { datasets: ['a b'] })).toBe('SQL_UNKNOWN_TABLE');
  });
});

describe('fuzz: random token soup', () => {
  const vocabulary = [
    'SELECT',
    'FROM',
    'WHERE',
    'GROUP',
    'BY',
    'ORDER',
    'LIMIT',
    'OFFSET',
    'HAVING',
    'AS',
    'AND',
    'OR',
    'NOT',
    'IN',
    'BETWEEN',
    'LIKE',
    'IS',
    'NULL',
    'INTERVAL',
    'DAY',
    'FORMAT',
    'JSON',
    'SETTINGS',
    'INTO',
    'UNION',
    'JOIN',
    'system',
    '.',
    'tables',
    'api_calls',
    'datapoints',
    'tenant',
    'blob1',
    'index1',
    'double1',
    'timestamp',
    '_sample_interval',
    'count',
    'sum',
    'toStartOfInterval',
    'numbers',
    'x',
    '(',
    ')',
    ',',
    ';',
    '*',
    '+',
    '-',
    '/',
    '=',
    '<',
    '>=',
    '!=',
    "'a'",
    "'b''c'",
    "'\\''",
    '1',
    '2.5',
    '0',
    '--',
    '/*',
    '*/',
    '`',
    '"',
    "'",
    '\n',
    'DISTINCT',
    'ASC',
    'DESC',
    'quantileExactWeighted',
  ];

  /** Checks one query: refused with an AnalyticsSqlError, or rewritten into SQL that stays in scope. */
  function check(query: string): boolean {
    let sql: string;
    try {
      const plan = compileAnalyticsSql(query, OPTIONS);
      if (plan.kind !== 'query') return false;
      sql = plan.sql;
    } catch (error) {
      if (!(error instanceof AnalyticsSqlError)) throw new Error(`${query}: ${String(error)}`);
      return false;
    }
    assertScoped(sql);
    return true;
  }

  it('token soup: either refused with an AnalyticsSqlError or rewritten into SQL that stays in scope', () => {
    const random = seededRandom(42);
    let accepted = 0;
    for (let n = 0; n < 5000; n++) {
      const words = ['SELECT'];
      const length = 1 + Math.floor(random() * 14);
      for (let i = 0; i < length; i++) words.push(vocabulary[Math.floor(random() * vocabulary.length)]);
      if (random() < 0.7) words.splice(2 + Math.floor(random() * 3), 0, 'FROM', 'api_calls');
      if (check(words.join(' '))) accepted++;
    }
    expect(accepted).toBeGreaterThan(30);
  });

  it('grammar: random well-formed queries with hostile atoms stay in scope', () => {
    const random = seededRandom(1234);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const atoms = [
      'blob1',
      'index1',
      'double1',
      'timestamp',
      '_sample_interval',
      'dataset',
      'tenant',
      'system.tables',
      "'x'",
      "'a''; DROP TABLE t; --'",
      "'\\'",
      "'/* */'",
      '1',
      '-2',
      '3.5',
      'NULL',
      'now()',
      'count(*)',
      "INTERVAL '1' DAY",
      'numbers(1)',
      'sum(_sample_interval)',
      'n',
    ];
    const expr = (depth: number): string => {
      if (depth <= 0 || random() < 0.3) return pick(atoms);
      switch (Math.floor(random() * 7)) {
        case 0:
          return `${expr(depth - 1)} ${pick(['+', '-', '*', '/', '%', '=', '!=', '<', '>=', 'AND', 'OR'])} ${expr(depth - 1)}`;
        case 1:
          return `(${expr(depth - 1)})`;
        case 2:
          return `NOT ${expr(depth - 1)}`;
        case 3:
          return `${pick(['lower', 'toString', 'toStartOfInterval', 'if', 'sum', 'concat'])}(${expr(depth - 1)}, ${expr(depth - 1)})`;
        case 4:
          return `${expr(depth - 1)} IN (${pick(atoms)}, ${pick(atoms)})`;
        case 5:
          return `${expr(depth - 1)} BETWEEN ${expr(depth - 1)} AND ${expr(depth - 1)}`;
        default:
          return `- ${expr(depth - 1)}`;
      }
    };
    let accepted = 0;
    for (let n = 0; n < 3000; n++) {
      let query = `SELECT ${expr(3)} AS n, ${expr(2)} FROM api_calls`;
      if (random() < 0.6) query += ` WHERE ${expr(3)}`;
      if (random() < 0.4) query += ` GROUP BY ${expr(1)}`;
      if (random() < 0.3) query += ` ORDER BY ${expr(1)} DESC`;
      if (random() < 0.3) query += ` LIMIT ${Math.floor(random() * 100_000)}`;
      if (check(query)) accepted++;
    }
    expect(accepted).toBeGreaterThan(200);
  });
});
