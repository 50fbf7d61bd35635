/**
 * The proof behind quote.ts: whatever string goes into `literal()`, the real server gives back the
 * same bytes, so no value can leave its literal. Runs against CLICKHOUSE_URL (default 127.0.0.1:8123).
 */
import fc from 'fast-check';
import type { ClickHouse } from '../client';
import { decimal, identifier, join, literal, raw, sql, type SqlValue } from './quote';
import { createTestDatabase, type TestDatabase } from '../testing';

let db: TestDatabase;
let ch: ClickHouse;

beforeAll(async () => {
  db = await createTestDatabase();
  ch = db.client;
});

afterAll(async () => {
  await db?.drop();
});

const hexOf = (s: string) => Buffer.from(s, 'utf8').toString('hex').toUpperCase();

/** Sends all strings in one query and checks text and bytes of each, plus a sentinel after them. */
async function roundTrip(strings: readonly string[]): Promise<void> {
  const values = join(strings.map((s) => literal(s)));
  const hexes = join(strings.map((s) => sql`hex(${s})`));
  const [row] = await ch.query<{ v: string[]; h: string[]; n: string; sentinel: string }>(
    sql`SELECT [${values}] AS v, [${hexes}] AS h, toString(length(v)) AS n, 'end' AS sentinel`,
  );
  expect(row.sentinel).toBe('end');
  expect(Number(row.n)).toBe(strings.length);
  expect(row.v).toEqual(strings);
  expect(row.h).toEqual(strings.map(hexOf));
}

const TRICKY = [
  "'",
  "''",
  '\\',
  "\\'",
  "'\\",
  '\0',
  '\u00001',
  '\n',
  '\r\n',
  '\t',
  '\x1b[31m',
  '\x7f',
  '--',
  '-- comment',
  '/*',
  '*/',
  '/* x */',
  ';',
  "'; DROP DATABASE default; --",
  "') OR 1=1 --",
  '\\x41',
  '\\0',
  '\\n',
  '`',
  '"',
  '{name:String}',
  '?',
  '$1',
  '%s',
  'é',
  '😀',
  '\u2028\u2029',
  '\ufeff',
  '\uffff',
  '𝕏',
  '中文',
  '',
  ' ',
];

describe('literal() on the real server', () => {
  it('round-trips a table of tricky strings', async () => {
    await roundTrip(TRICKY);
  });

  it('round-trips every ASCII and Latin-1 character, one per literal and all in one', async () => {
    const chars = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i));
    await roundTrip([...chars, chars.join('')]);
  });

  it('round-trips random strings: 3 queries x 100 literals (fuzz)', async () => {
    const tricky = fc.constantFrom(...TRICKY);
    const ascii = fc.stringOf(
      fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
      { maxLength: 30 },
    );
    const mixed = fc
      .array(fc.oneof(tricky, fc.fullUnicodeString({ maxLength: 4 }), ascii), { maxLength: 12 })
      .map((parts) => parts.join(''));
    const str = fc.oneof(fc.fullUnicodeString({ maxLength: 64 }), ascii, mixed);
    await fc.assert(
      fc.asyncProperty(fc.array(str, { minLength: 100, maxLength: 100 }), async (strings) => {
        await roundTrip(strings);
      }),
      { numRuns: 3 },
    );
  });

  it('round-trips numbers, booleans, null, dates and arrays', async () => {
    const values: Record<string, SqlValue> = {
      neg: -5,
      big: 9007199254740991,
      u64: 18446744073709551615n,
      i64min: -9223372036854775808n,
      t: true,
      f: false,
      nul: null,
      arr: ['a', "b'c"],
      nested: [[1, -2], [3]],
    };
    const columns = join(Object.entries(values).map(([k, v]) => sql`toString(${v}) AS ${identifier(k)}`));
    const [row] = await ch.query<Record<string, string | null>>(sql`SELECT ${columns}`);
    expect(row).toEqual({
      neg: '-5',
      big: '9007199254740991',
      u64: '18446744073709551615',
      i64min: '-9223372036854775808',
      t: '1',
      f: '0',
      nul: null,
      arr: "['a','b\\'c']",
      nested: '[[1,-2],[3]]',
    });
    const [d] = await ch.query<{ s: string; n: number }>(
      sql`SELECT toString(${new Date('2024-02-29T23:59:58.999Z')}) AS s, toUInt32(${new Date('2105-12-31T23:59:59Z')}) AS n`,
    );
    expect(d).toEqual({ s: '2024-02-29 23:59:58', n: Date.UTC(2105, 11, 31, 23, 59, 59) / 1000 });
  });

  it('never lets a negative number start a comment', async () => {
    const [row] = await ch.query<{ x: number }>(sql`SELECT 1-${-5} AS x`);
    expect(row.x).toBe(6);
  });

  it('sends exact decimals', async () => {
    const [row] = await ch.query<{ a: string; b: string; c: string }>(
      sql`SELECT ${decimal('100000000000000000000000.5', 12)} AS a, ${decimal('-0.000000000001', 12)} AS b, ${decimal('12.345678901234', 12)} + ${decimal('0.000000000001', 12)} AS c`,
      { exactNumbers: true },
    );
    expect(row).toEqual({
      a: '100000000000000000000000.500000000000',
      b: '-0.000000000001',
      c: '12.345678901235',
    });
  });

  it('quotes identifiers the server accepts', async () => {
    const [row] = await ch.query<{ n: string }>(
      sql`SELECT toString(count()) AS ${identifier('n')} FROM ${identifier('system', 'one')} WHERE ${raw('1 = 1')}`,
    );
    expect(row.n).toBe('1');
  });
});
