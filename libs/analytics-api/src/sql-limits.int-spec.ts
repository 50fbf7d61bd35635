import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import type { TallyError } from '@tally/errors';
import { SqlApiService } from './sql-api.service';
import { ClickHouseAnalyticsRunner } from './sql-runner';

/**
 * The SQL API's resource limits on the real ClickHouse (18.16 here): the settings are accepted next to
 * `readonly`, the server stops a query that exceeds one, and Tally answers 400 SQL_LIMIT_EXCEEDED.
 */
describe('SQL API resource limits (real ClickHouse)', () => {
  let db: TestDatabase;
  const datasets = { listDatasets: () => [{ name: 'calls' }] };

  // 200,000 wide rows: about 1.3 s of ClickHouse CPU, but ClickHouse runs niced (tools/infra) and took
  // 18-43 s of wall time beside other work on this 2-core machine, past the default 30 s request timeout.
  beforeAll(async () => {
    db = await createTestDatabase(undefined, { requestTimeoutMs: 240_000 });
    await db.client.client.command({
      query: `INSERT INTO ${db.database}.datapoints (tenant, dataset, point_id, timestamp, blob1, index1)
              SELECT 'acme', 'calls', toString(number), now(), concat('b', toString(number)), toString(number % 10) FROM numbers(200000)`,
    });
    await db.client.client.command({
      query: `INSERT INTO ${db.database}.datapoints (tenant, dataset, point_id, timestamp, blob1, index1)
              SELECT 'small', 'calls', toString(number), now(), 'x', 'i' FROM numbers(10)`,
    });
  }, 300_000);
  afterAll(async () => {
    await db?.drop();
  });

  const service = (
    limits: ConstructorParameters<typeof SqlApiService>[2]['limits'],
    maxConcurrentPerTenant?: number,
    maxResponseBytes?: number,
  ) =>
    new SqlApiService(datasets, new ClickHouseAnalyticsRunner(db.client), {
      database: db.database,
      limits,
      maxConcurrentPerTenant,
      maxResponseBytes,
    });

  const refusal = async (p: Promise<unknown>): Promise<TallyError> => {
    try {
      await p;
    } catch (e) {
      return e as TallyError;
    }
    throw new Error('expected a refusal');
  };

  it.each([
    ['rows read', { max_rows_to_read: 50_000 }, 'SELECT count() AS n FROM calls'],
    ['memory (GROUP BY every blob)', { max_memory_usage: 8 * 1024 * 1024 }, 'SELECT blob1, count() AS n FROM calls GROUP BY blob1'],
    ['memory (uniqExact)', { max_memory_usage: 4 * 1024 * 1024 }, 'SELECT uniqExact(blob1) AS n FROM calls'],
    ['bytes read', { max_bytes_to_read: 100_000 }, 'SELECT count() AS n FROM calls WHERE blob1 = \'b7\''],
    ['result rows', { max_result_rows: 1_000 }, 'SELECT blob1 FROM calls LIMIT 5000'],
  ])('stops a query beyond its limit of %s: 400 SQL_LIMIT_EXCEEDED', async (_what, limits, query) => {
    const error = await refusal(service(limits).execute({ tenant: 'acme', body: query }));
    expect([error.httpStatus, error.code]).toEqual([400, 'SQL_LIMIT_EXCEEDED']);
  });

  it('reads an answer as a stream and stops at the byte cap: 400 SQL_RESULT_TOO_LARGE', async () => {
    // 10,000 rows of JSONEachRow are about 190 KB; the cap is 64 KiB. ClickHouse's own result limits
    // are far above, so only the stream's cap can refuse it.
    const query = 'SELECT blob1, index1 FROM calls LIMIT 10000 FORMAT JSONEachRow';
    const capped = service({}, undefined, 64 * 1024);
    const error = await refusal(capped.execute({ tenant: 'acme', body: query }));
    expect([error.httpStatus, error.code]).toEqual([400, 'SQL_RESULT_TOO_LARGE']);
    // The same query under a cap it fits in answers whole; the capped service still answers small ones.
    const whole = await service({}, undefined, 1024 * 1024).execute({ tenant: 'acme', body: query });
    expect(whole.body.trim().split('\n')).toHaveLength(10_000);
    const small = await capped.execute({ tenant: 'acme', body: 'SELECT count() AS n FROM calls' });
    expect(JSON.parse(small.body).data).toEqual([{ n: '200000' }]);
  });

  it("answers another tenant's small query in under a second while one tenant's 50 heavy queries get 429s", async () => {
    const api = service({}); // the default concurrency: 4 per tenant
    const heavy = Array.from({ length: 50 }, () =>
      api.execute({ tenant: 'acme', body: 'SELECT blob1, count() AS n FROM calls GROUP BY blob1 ORDER BY n DESC LIMIT 10' }).then(
        () => 200,
        (e: TallyError) => e.httpStatus,
      ),
    );
    const started = Date.now();
    const small = await api.execute({ tenant: 'small', body: 'SELECT count() AS n FROM calls' });
    const ms = Date.now() - started;
    expect(JSON.parse(small.body).data).toEqual([{ n: '10' }]);
    expect(ms).toBeLessThan(1_000);
    const statuses = await Promise.all(heavy);
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(46);
    process.stdout.write(`small query of another tenant during a burst: ${ms} ms\n`);
  });
});
