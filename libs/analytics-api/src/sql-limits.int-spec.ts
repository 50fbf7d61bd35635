import { createTestDatabase, type TestDatabase } from '@tally/clickhouse/testing';
import type { TallyError } from '@tally/errors';
import { waitFor } from '@tally/testing';
import { SQL_DEFAULT_LIMITS, SqlApiService } from './sql-api.service';
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

  /**
   * ClickHouse over its HTTP interface on a connection of its own (not the client under test), as
   * `user`; one JSON object per row.
   */
  const clickhouse = async (
    query: string,
    user = process.env.CLICKHOUSE_USER ?? 'default',
    password = process.env.CLICKHOUSE_PASSWORD ?? '',
  ): Promise<Array<Record<string, string>>> => {
    const response = await fetch(process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123', {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      body: `${query} FORMAT JSONEachRow`,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${response.status} ${text}`);
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, string>);
  };

  /**
   * The limits of the reader's settings profile (tools/infra/clickhouse/users.xml.tmpl,
   * `tally_reader`), read from the server as the reader sees them. Without the reader's credentials
   * (CLICKHOUSE_READER_USER/PASSWORD, printed by `infra.sh env`), the SQL API's own per-query
   * setting, which the profile must not be below, and no all-queries limit.
   */
  const readerProfile = async (): Promise<{ perQuery: number; forUser?: number; from: string }> => {
    const user = process.env.CLICKHOUSE_READER_USER;
    if (!user) return { perQuery: SQL_DEFAULT_LIMITS.max_memory_usage, from: 'the SQL API setting' };
    const rows = await clickhouse(
      "SELECT name, value FROM system.settings WHERE name IN ('max_memory_usage', 'max_memory_usage_for_user')",
      user,
      process.env.CLICKHOUSE_READER_PASSWORD ?? '',
    );
    const value = (name: string) => Number(rows.find((r) => r.name === name)?.value ?? 0);
    return {
      perQuery: value('max_memory_usage'),
      forUser: value('max_memory_usage_for_user') || undefined,
      from: `the ${user} profile`,
    };
  };

  it("answers another tenant's small query in under a second while one tenant's 50 heavy queries get 429s", async () => {
    const api = service({}); // the default concurrency: 4 per tenant
    const profile = await readerProfile();
    // What the server's memory may reach during the burst, by the reader's profile. Its
    // max_memory_usage is per query; the SQL API lets 4 queries of one tenant run at once (the other
    // 46 are answered 429 before reaching ClickHouse) plus the other tenant's one: 5 x 1 GiB. The
    // profile's max_memory_usage_for_user (4 GB: all the reader's queries together) is the lower of
    // the two, so it is the bound. This test's queries run as the operator's user with the SQL API's
    // settings (max_memory_usage 1 GiB per query, not above the profile's), as the query service
    // sends them with each query as the reader.
    const concurrency = 4;
    const bound = Math.min((concurrency + 1) * profile.perQuery, profile.forUser ?? Infinity);
    expect(SQL_DEFAULT_LIMITS.max_memory_usage).toBeLessThanOrEqual(profile.perQuery);
    // Sampled every ~50 ms on a connection of its own: MemoryTracking (18.16: the memory of all
    // queries running on the server, whoever sent them) and, from system.processes, how many of the
    // burst's queries run and the largest peak of one of them.
    const ours = `position(query, '${db.database}') > 0 AND position(query, '\\'acme\\'') > 0 AND position(query, 'system.processes') = 0`;
    const samples: Array<{ tracked: number; running: number; queryPeak: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await clickhouse(
          `SELECT (SELECT value FROM system.metrics WHERE metric = 'MemoryTracking') AS tracked,
                  (SELECT count() FROM system.processes WHERE ${ours}) AS running,
                  (SELECT max(peak_memory_usage) FROM system.processes WHERE ${ours}) AS queryPeak`,
        );
        samples.push({ tracked: Number(row.tracked), running: Number(row.running), queryPeak: Number(row.queryPeak) });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await waitFor(async () => samples.length > 0, { what: 'a first memory sample' });

    const heavy = Array.from({ length: 50 }, () =>
      api.execute({ tenant: 'acme', body: 'SELECT blob1, count() AS n FROM calls GROUP BY blob1 ORDER BY n DESC LIMIT 10' }).then(
        () => 200,
        (e: TallyError) => e.httpStatus,
      ),
    );
    const started = Date.now();
    const small = await api.execute({ tenant: 'small', body: 'SELECT count() AS n FROM calls' });
    const ms = Date.now() - started;
    const statuses = await Promise.all(heavy).finally(() => (sampling = false));
    await sampler;
    expect(JSON.parse(small.body).data).toEqual([{ n: '10' }]);
    expect(ms).toBeLessThan(1_000);
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(46);
    process.stdout.write(`small query of another tenant during a burst: ${ms} ms\n`);

    const peak = Math.max(...samples.map((s) => s.tracked));
    const queryPeak = Math.max(...samples.map((s) => s.queryPeak));
    const running = Math.max(...samples.map((s) => s.running));
    const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
    console.log(
      `ClickHouse memory during the burst (${samples.length} samples): peak MemoryTracking ${mib(peak)} (${peak} bytes), ` +
        `largest burst query ${mib(queryPeak)}, at most ${running} burst queries running at once; ` +
        `bound ${mib(bound)} (${bound} bytes, from ${profile.from}: max_memory_usage ${profile.perQuery}, ` +
        `max_memory_usage_for_user ${profile.forUser ?? 'unknown'})`,
    );
    // The sampler saw the burst in ClickHouse, and never more of it at once than the SQL API allows.
    expect(running).toBeGreaterThan(0);
    expect(running).toBeLessThanOrEqual(concurrency);
    expect(queryPeak).toBeLessThanOrEqual(profile.perQuery);
    expect(peak).toBeLessThan(bound);
  });
});
