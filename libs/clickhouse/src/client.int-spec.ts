import { ClickHouseHealth, createClickHouse } from './client';
import { ClickHouseError, isTransient } from './errors';
import { join, literal, sql } from './sql/quote';
import { createTestDatabase, type TestDatabase } from './testing';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

describe('ClickHouse handle on the real server', () => {
  it('pings and passes the health check', async () => {
    await expect(db.client.ping()).resolves.toBeUndefined();
    await expect(new ClickHouseHealth(db.client).check()).resolves.toBeUndefined();
    expect(await db.client.serverVersion()).toMatch(/^\d+\.\d+/);
  });

  it('reports a server that is not there as CLICKHOUSE_UNAVAILABLE, transient', async () => {
    const nowhere = createClickHouse({
      url: 'http://127.0.0.1:1',
      username: 'default',
      password: '',
      requestTimeoutMs: 2_000,
    });
    try {
      const error = await nowhere.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ClickHouseError);
      expect(error).toMatchObject({ code: 'CLICKHOUSE_UNAVAILABLE', transient: true, httpStatus: 503 });
      await expect(new ClickHouseHealth(nowhere).check()).rejects.toBeInstanceOf(ClickHouseError);
    } finally {
      await nowhere.close();
    }
  });

  it('reports a syntax error as CLICKHOUSE_QUERY_FAILED, not transient, with the server code', async () => {
    const error = await db.client.query(sql`SELEKT 1`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'CLICKHOUSE_QUERY_FAILED', serverCode: 62, transient: false });
    expect(isTransient(error)).toBe(false);
  });

  it('runs queries above the 256 KiB default max_query_size', async () => {
    const values = Array.from({ length: 6_000 }, (_, i) => `value-${i}-${'x'.repeat(40)}`);
    const query = sql`SELECT length([${join(values.map((v) => literal(v)))}]) AS n`;
    expect(Buffer.byteLength(query.text)).toBeGreaterThan(262_144);
    const [row] = await db.client.query<{ n: string }>(query); // UInt64 arrives quoted
    expect(row.n).toBe('6000');
  });

  it('reads numbers exactly on request', async () => {
    const [row] = await db.client.query<{ a: string; b: string }>(
      sql`SELECT toUInt64('18446744073709551615') AS a, toDecimal128('100000000000000000000000.5', 12) AS b`,
      { exactNumbers: true },
    );
    expect(row).toEqual({ a: '18446744073709551615', b: '100000000000000000000000.500000000000' });
  });
});
