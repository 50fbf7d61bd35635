import { ClickHouseError } from '@tally/clickhouse';
import { TallyError } from '@tally/errors';
import { RateLimitedError } from '@tally/errors';
import { SQL_DEFAULT_LIMITS, SQL_DEFAULT_MAX_RESPONSE_BYTES, SqlApiService } from './sql-api.service';
import { SqlRefusedError } from './sql-errors';
import { readCapped, type AnalyticsQueryRunner, type CompiledQuery } from './sql-runner';
import { Readable } from 'node:stream';

class FakeRunner implements AnalyticsQueryRunner {
  readonly queries: CompiledQuery[] = [];
  output = '';
  failure?: unknown;
  async run(query: CompiledQuery): Promise<string> {
    this.queries.push(query);
    if (this.failure) throw this.failure;
    return this.output;
  }
}

const datasets: Record<string, string[]> = {
  acme: ['usage_indexed_by_customer_id', 'api_calls'],
  globex: ['secret'],
};

function setup() {
  const runner = new FakeRunner();
  const service = new SqlApiService(
    { listDatasets: (t) => (datasets[t] ?? []).map((name) => ({ name })) },
    runner,
    {
      database: 'tally',
      maxRows: 100,
    },
  );
  return { runner, service };
}

async function refusal(promise: Promise<unknown>): Promise<TallyError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(TallyError);
    return e as TallyError;
  }
  throw new Error('expected a refusal');
}

describe('SqlApiService', () => {
  it("runs the caller's query scoped to its tenant and dataset, read-only, and answers in Cloudflare's JSON shape", async () => {
    const { service, runner } = setup();
    runner.output = JSON.stringify({
      meta: [
        { name: 'customer_id', type: 'String' },
        { name: 'count', type: 'UInt64' },
      ],
      data: [{ customer_id: 'c1', count: '3' }],
      rows: 1,
      rows_before_limit_at_least: 1,
      statistics: { elapsed: 0.001, rows_read: 3, bytes_read: 30 },
    });
    const result = await service.execute({
      tenant: 'acme',
      body: Buffer.from(
        'SELECT index1 AS customer_id, sum(_sample_interval) AS count FROM usage_indexed_by_customer_id GROUP BY customer_id',
      ),
    });
    expect(result.contentType).toBe('application/json; charset=utf-8');
    expect(JSON.parse(result.body)).toEqual({
      meta: [
        { name: 'customer_id', type: 'String' },
        { name: 'count', type: 'UInt64' },
      ],
      data: [{ customer_id: 'c1', count: '3' }],
      rows: 1,
      rows_before_limit_at_least: 1,
    });
    expect(runner.queries).toEqual([
      {
        kind: 'query',
        sql: "SELECT index1 AS `customer_id`, sum(_sample_interval) AS `count` FROM (SELECT * FROM `tally`.`datapoints` WHERE tenant = 'acme' AND dataset = 'usage_indexed_by_customer_id') AS `usage_indexed_by_customer_id` GROUP BY `customer_id` LIMIT 100",
        format: 'JSON',
        settings: { readonly: '1', max_execution_time: 25, ...SQL_DEFAULT_LIMITS },
        limit: 100,
        limitClamped: true,
        dataset: 'usage_indexed_by_customer_id',
        maxResponseBytes: SQL_DEFAULT_MAX_RESPONSE_BYTES,
      },
    ]);
  });

  it('takes FORMAT from the query or ?format=, passing JSONEachRow and TabSeparated through', async () => {
    const { service, runner } = setup();
    runner.output = 'c1\t3\n';
    const tsv = await service.execute({ tenant: 'acme', body: 'SELECT index1 FROM api_calls FORMAT TSV' });
    expect(tsv).toEqual({ contentType: 'text/tab-separated-values; charset=utf-8', body: 'c1\t3\n' });
    runner.output = '{"index1":"c1"}\n';
    const ndjson = await service.execute({
      tenant: 'acme',
      body: 'SELECT index1 FROM api_calls',
      format: 'jsoneachrow',
    });
    expect(ndjson.contentType).toBe('application/x-ndjson; charset=utf-8');
    expect(runner.queries.map((q) => q.format)).toEqual(['TabSeparated', 'JSONEachRow']);
    expect(
      (
        await refusal(
          service.execute({ tenant: 'acme', body: 'SELECT index1 FROM api_calls', format: 'CSV' }),
        )
      ).code,
    ).toBe('SQL_UNSUPPORTED');
    expect(
      (
        await refusal(
          service.execute({
            tenant: 'acme',
            body: 'SELECT index1 FROM api_calls FORMAT JSON',
            format: 'tsv',
          }),
        )
      ).code,
    ).toBe('SQL_UNSUPPORTED');
  });

  it("answers SHOW TABLES from the caller's datasets only, without the server", async () => {
    const { service, runner } = setup();
    expect(JSON.parse((await service.execute({ tenant: 'acme', body: 'SHOW TABLES' })).body)).toEqual({
      meta: [{ name: 'dataset', type: 'String' }],
      data: [{ dataset: 'api_calls' }, { dataset: 'usage_indexed_by_customer_id' }],
      rows: 2,
      rows_before_limit_at_least: 2,
    });
    expect((await service.execute({ tenant: 'acme', body: 'show tables format JSONEachRow' })).body).toBe(
      '{"dataset":"api_calls"}\n{"dataset":"usage_indexed_by_customer_id"}\n',
    );
    expect(
      (await service.execute({ tenant: 'nobody', body: 'SHOW TABLES', format: 'TabSeparated' })).body,
    ).toBe('');
    expect(runner.queries).toEqual([]);
  });

  it.each([
    ["another tenant's dataset", 'SELECT blob1 FROM secret', 'SQL_UNKNOWN_TABLE', 1, 19],
    ['a system table', 'SELECT name FROM system.tables', 'SQL_UNKNOWN_TABLE', 1, 18],
    ['the raw table', 'SELECT tenant FROM tally.datapoints', 'SQL_UNKNOWN_TABLE', 1, 20],
    ['two statements', 'SELECT index1 FROM api_calls; DROP TABLE tally.events', 'SQL_UNSUPPORTED', 1, 29],
    ['INTO OUTFILE', "SELECT index1 FROM api_calls INTO OUTFILE '/tmp/x'", 'SQL_UNSUPPORTED', 1, 30],
    ['a table function', 'SELECT number FROM numbers(10)', 'SQL_UNSUPPORTED', 1, 20],
    ['url()', "SELECT * FROM url('http://169.254.169.254/', CSV, 'a String')", 'SQL_UNSUPPORTED', 1, 8],
    [
      'a subquery in IN',
      'SELECT index1 FROM api_calls WHERE index1 IN (SELECT blob1 FROM secret)',
      'SQL_UNSUPPORTED',
      1,
      47,
    ],
    ['SETTINGS', 'SELECT index1 FROM api_calls SETTINGS readonly = 0', 'SQL_UNSUPPORTED', 1, 30],
    ['an unknown function', 'SELECT file(index1) FROM api_calls', 'SQL_UNKNOWN_FUNCTION', 1, 8],
    ['a column of the raw table', 'SELECT tenant FROM api_calls', 'SQL_UNKNOWN_COLUMN', 1, 8],
  ])('refuses %s with a 400, a code and the position', async (_what, sql, code, line, column) => {
    const { service, runner } = setup();
    const error = await refusal(service.execute({ tenant: 'acme', body: sql }));
    expect(error).toBeInstanceOf(SqlRefusedError);
    expect([error.httpStatus, error.code]).toEqual([400, code]);
    expect(error.message).toMatch(new RegExp(`at line ${line}, column ${column}$`));
    expect(error.toBody().error).toMatchObject({ code, position: { line, column } });
    expect(runner.queries).toEqual([]);
  });

  it('reads the SQL from a raw body, a JSON string or {"query"}, and refuses an empty or non-UTF-8 one', async () => {
    const { service, runner } = setup();
    runner.output = '';
    await service.execute({ tenant: 'acme', body: 'SELECT index1 FROM api_calls FORMAT TSV' });
    await service.execute({ tenant: 'acme', body: { query: 'SELECT blob1 FROM api_calls FORMAT TSV' } });
    expect(runner.queries).toHaveLength(2);
    for (const body of [undefined, '', '  \n', Buffer.from([0xff, 0xfe]), { sql: 'x' }]) {
      const error = await refusal(service.execute({ tenant: 'acme', body }));
      expect([error.httpStatus, error.code]).toEqual([400, 'SQL_SYNTAX']);
    }
  });

  it("maps the server's refusals to 400 and leaves an unavailable server a 503", async () => {
    const { service, runner } = setup();
    const query = { tenant: 'acme', body: 'SELECT index1 FROM api_calls WHERE sum(double1) > 1' };
    runner.failure = new ClickHouseError(
      'CLICKHOUSE_QUERY_FAILED',
      'ClickHouse request failed (server code 184)',
      false,
      {
        serverCode: 184,
        serverMessage:
          'Code: 184, e.displayText() = DB::Exception: Aggregate function sum(double1) is found in WHERE or PREWHERE in query, e.what() = DB::Exception\n',
      },
    );
    const failed = await refusal(service.execute(query));
    expect([failed.httpStatus, failed.code, failed.message]).toEqual([
      400,
      'SQL_QUERY_FAILED',
      'ClickHouse refused the query: Aggregate function sum(double1) is found in WHERE or PREWHERE in query',
    ]);
    runner.failure = new ClickHouseError('CLICKHOUSE_UNAVAILABLE', 'ClickHouse is overloaded', true, {
      serverCode: 159,
    });
    expect((await refusal(service.execute(query))).code).toBe('SQL_TIMEOUT');
    runner.failure = new ClickHouseError('CLICKHOUSE_UNAVAILABLE', 'ClickHouse is unavailable', true);
    expect((await refusal(service.execute(query))).httpStatus).toBe(503);
  });

  it('answers a query that exceeds a resource limit 400 SQL_LIMIT_EXCEEDED', async () => {
    const { service, runner } = setup();
    runner.failure = new ClickHouseError('CLICKHOUSE_QUERY_FAILED', 'ClickHouse request failed (server code 241)', false, {
      serverCode: 241,
      serverMessage: 'Code: 241, e.displayText() = DB::Exception: Memory limit (for query) exceeded: would use 1.00 GiB, e.what() = DB::Exception\n',
    });
    const failed = await refusal(service.execute({ tenant: 'acme', body: 'SELECT uniqExact(blob1) AS n FROM api_calls' }));
    expect([failed.httpStatus, failed.code]).toEqual([400, 'SQL_LIMIT_EXCEEDED']);
    expect(failed.message).toContain('Memory limit (for query) exceeded');
  });

  it("limits the queries one tenant runs at once (429 with Retry-After), not another tenant's", async () => {
    const release: Array<() => void> = [];
    const blocking: AnalyticsQueryRunner = {
      run: () => new Promise<string>((resolve) => release.push(() => resolve('{"meta":[],"data":[],"rows":0}'))),
    };
    const service = new SqlApiService(
      { listDatasets: (t) => (datasets[t] ?? []).map((name) => ({ name })) },
      blocking,
      { database: 'tally', maxConcurrentPerTenant: 2, limits: { max_memory_usage: 1000 } },
    );
    const heavy = { tenant: 'acme', body: 'SELECT count() AS n FROM api_calls' };
    const first = [service.execute(heavy), service.execute(heavy)];
    const third = await refusal(service.execute(heavy));
    expect(third).toBeInstanceOf(RateLimitedError);
    expect([third.httpStatus, third.retryAfterSeconds]).toEqual([429, 1]);
    // Another tenant is not affected by acme's share.
    const other = service.execute({ tenant: 'globex', body: 'SELECT count() AS n FROM secret' });
    expect(release).toHaveLength(3);
    release.forEach((r) => r());
    await Promise.all([...first, other]);
    // Finished queries give their slots back.
    const again = service.execute(heavy);
    release[3]();
    await expect(again).resolves.toMatchObject({ contentType: expect.stringContaining('json') });
  });

  it('sends the resource limits with every query, the configured ones over the defaults', async () => {
    const runner = new FakeRunner();
    runner.output = '{"meta":[],"data":[],"rows":0}';
    const service = new SqlApiService({ listDatasets: () => [{ name: 'api_calls' }] }, runner, {
      database: 'tally',
      limits: { max_rows_to_read: 1000 },
    });
    await service.execute({ tenant: 'acme', body: 'SELECT count() AS n FROM api_calls' });
    expect(runner.queries[0].settings).toEqual({ readonly: '1', max_execution_time: 25, ...SQL_DEFAULT_LIMITS, max_rows_to_read: 1000 });
  });
});

describe('readCapped', () => {
  it('returns the whole text up to the cap and undefined (stream destroyed) beyond it', async () => {
    expect(await readCapped(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4)).toBe('abcd');
    const over = Readable.from([Buffer.from('ab'), Buffer.from('cde'), Buffer.from('never read')]);
    expect(await readCapped(over, 4)).toBeUndefined();
    expect(over.destroyed).toBe(true);
    // A multi-byte character split across chunks is decoded whole.
    const euro = Buffer.from('€');
    expect(await readCapped(Readable.from([euro.subarray(0, 1), euro.subarray(1)]), 3)).toBe('€');
  });
});
