/**
 * The SQL API against the real server (ClickHouse 18.16 in CI): data points written as the seeds'
 * Workers write them, then every query of the seeds run verbatim through parse -> rewrite (quoted by
 * @tally/clickhouse's audited quote module) -> ClickHouse, with exact counts on unsampled data.
 */
import {
  DATAPOINT_COLUMNS,
  EMITTED_FUNCTION_NAMES,
  EquitableSampler,
  normalizeDataPoints,
  seededRandom,
  toStorageRows,
  type DataPointInput,
} from '@tally/analytics-engine';
import { SEED_000_QUERIES, SEED_001_QUERIES } from '@tally/analytics-engine/testing';
import { createTestDatabase, type TestDatabase } from '../testing';
import { compileAnalyticsSql, type AnalyticsSqlPlan } from './analytics-query';
import { identifier, literal, raw } from './quote';

const DATASET = 'usage_indexed_by_customer_id';
const RECEIVED_AT = Date.UTC(2023, 3, 3); // early April 2023: March's points are within the lateness limit

let db: TestDatabase;
let ids = 0;

async function write(
  tenant: string,
  dataset: string,
  points: DataPointInput[],
  sampleWith?: EquitableSampler,
): Promise<number> {
  let rows = normalizeDataPoints(
    { points },
    { dataset, nowMs: RECEIVED_AT, generateId: () => `p-${tenant}-${++ids}` },
  );
  if (sampleWith) rows = sampleWith.sample(rows, RECEIVED_AT, `${tenant}/${dataset}`);
  await db.client.insert(
    db.client.table('datapoints'),
    toStorageRows(tenant, dataset, rows),
    DATAPOINT_COLUMNS,
  );
  return rows.reduce((sum, r) => sum + r.sampleInterval, 0);
}

/** `count` copies of the 001 Worker's call: `{ indexes: [customer_id], blobs: [pathname] }`. */
function seed001Points(customer: string, pathname: string, at: string, count: number): DataPointInput[] {
  return Array.from({ length: count }, () => ({
    indexes: [customer],
    blobs: [pathname],
    timestamp: Date.parse(at),
  }));
}

/** `count` copies of the 000 Worker's call: `{ indexes: [customer_id], blobs: { customer_id, request_endpoint } }`. */
function seed000Points(customer_id: string, request_endpoint: string, count: number): DataPointInput[] {
  return Array.from({ length: count }, () => ({
    indexes: [customer_id],
    blobs: { customer_id, request_endpoint },
    timestamp: Date.parse('2023-03-10T12:00:00Z'),
  }));
}

async function run(plan: AnalyticsSqlPlan): Promise<Array<Record<string, unknown>>> {
  if (plan.kind !== 'query') throw new Error('not a query');
  const result = await db.client.client.query({
    query: plan.sql,
    format: plan.format as 'JSON',
    clickhouse_settings: plan.settings,
  });
  const body = await result.json<Record<string, unknown>>();
  return body.data;
}

async function sqlApi(
  tenant: string,
  datasets: string[],
  query: string,
): Promise<Array<Record<string, unknown>>> {
  const plan = compileAnalyticsSql(query, {
    tenant,
    datasets,
    database: db.database,
  });
  return run(plan);
}

const byKeys = (a: Record<string, unknown>, b: Record<string, unknown>): number =>
  JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;

beforeAll(async () => {
  db = await createTestDatabase();
  // Seed 001's layout: index1 = customer, blob1 = path. Rows outside March 2023 check the date range.
  await write('seed001', DATASET, [
    ...seed001Points('substitute_customer_id_here', '/a', '2023-03-01T00:00:00Z', 3),
    ...seed001Points('substitute_customer_id_here', '/a', '2023-03-15T08:30:00Z', 2),
    ...seed001Points('substitute_customer_id_here', '/b', '2023-03-31T23:59:59Z', 4),
    ...seed001Points('substitute_customer_id_here', '/a', '2023-02-28T23:59:59Z', 5),
    ...seed001Points('substitute_customer_id_here', '/b', '2023-04-01T00:00:00Z', 6),
    ...seed001Points('x', '/a', '2023-03-02T10:00:00Z', 1),
    ...seed001Points('x', '/a', '2023-03-02T23:00:00Z', 2),
    ...seed001Points('x', '/b', '2023-03-03T00:30:00Z', 3),
    ...seed001Points('x', '/a', '2023-04-02T00:00:00Z', 7),
    ...seed001Points('cust_other', '/c', '2023-03-05T00:00:00Z', 8),
  ]);
  // The same tenant's other dataset, and another tenant's dataset of the same name: never counted.
  await write('seed001', 'other_dataset', seed001Points('x', '/a', '2023-03-02T10:00:00Z', 50));
  await write('intruder', DATASET, [
    ...seed001Points('x', '/a', '2023-03-02T10:00:00Z', 100),
    ...seed001Points('substitute_customer_id_here', '/a', '2023-03-02T10:00:00Z', 100),
  ]);
  // Seed 000's layout: blobs written as an object, blob1 = customer, blob2 = endpoint.
  await write('seed000', DATASET, [
    ...seed000Points('alpha', '/x', 3),
    ...seed000Points('alpha', '/y', 1),
    ...seed000Points('beta', '/x', 2),
  ]);
});

afterAll(async () => {
  await db?.drop();
});

describe("the seeds' queries, verbatim, on the real server", () => {
  const as001 = (query: string) => sqlApi('seed001', [DATASET, 'other_dataset'], query);
  const as000 = (query: string) => sqlApi('seed000', [DATASET], query);

  it('000: usage by customer (blob1 AS customer_id)', async () => {
    expect((await as000(SEED_000_QUERIES.usageByCustomer)).sort(byKeys)).toEqual([
      { customer_id: 'alpha', count: '4' },
      { customer_id: 'beta', count: '2' },
    ]);
  });

  it('000: usage by customer and endpoint', async () => {
    expect((await as000(SEED_000_QUERIES.usageByCustomerAndEndpoint)).sort(byKeys)).toEqual([
      { customer_id: 'alpha', request_endpoint: '/x', count: '3' },
      { customer_id: 'alpha', request_endpoint: '/y', count: '1' },
      { customer_id: 'beta', request_endpoint: '/x', count: '2' },
    ]);
  });

  it('001: usage by customer (index1 AS customer_id)', async () => {
    expect((await as001(SEED_001_QUERIES.usageByCustomer)).sort(byKeys)).toEqual([
      { customer_id: 'cust_other', count: '8' },
      { customer_id: 'substitute_customer_id_here', count: '20' },
      { customer_id: 'x', count: '13' },
    ]);
  });

  it('001: usage by customer and endpoint', async () => {
    expect((await as001(SEED_001_QUERIES.usageByCustomerAndEndpoint)).sort(byKeys)).toEqual([
      { customer_id: 'cust_other', request_endpoint: '/c', count: '8' },
      { customer_id: 'substitute_customer_id_here', request_endpoint: '/a', count: '10' },
      { customer_id: 'substitute_customer_id_here', request_endpoint: '/b', count: '10' },
      { customer_id: 'x', request_endpoint: '/a', count: '10' },
      { customer_id: 'x', request_endpoint: '/b', count: '3' },
    ]);
  });

  it("001: one customer's month, with the alias customer_id in WHERE (resolved by 18.16)", async () => {
    expect((await as001(SEED_001_QUERIES.monthlyBillForCustomer)).sort(byKeys)).toEqual([
      { customer_id: 'substitute_customer_id_here', request_endpoint: '/a', usage_count: '5' },
      { customer_id: 'substitute_customer_id_here', request_endpoint: '/b', usage_count: '4' },
    ]);
  });

  it("001: one customer's days, toStartOfInterval(timestamp, INTERVAL '1' DAY) on a server without it", async () => {
    expect((await as001(SEED_001_QUERIES.dailyBillForCustomer)).sort(byKeys)).toEqual([
      { customer_id: 'x', date: '2023-03-02 00:00:00', request_endpoint: '/a', request_count: '3' },
      { customer_id: 'x', date: '2023-03-03 00:00:00', request_endpoint: '/b', request_count: '3' },
    ]);
  });

  it('answers SHOW TABLES without touching the server', () => {
    expect(
      compileAnalyticsSql('SHOW TABLES', {
        tenant: 'seed001',
        datasets: [DATASET, 'other_dataset'],
        database: db.database,
      }),
    ).toEqual({ kind: 'show_tables', format: 'JSON', datasets: ['other_dataset', DATASET] });
  });
});

describe('the dialect on the real server', () => {
  it('runs every function the rewriter can emit (all exist on this server)', async () => {
    const names = await db.client.query<{ name: string }>(raw(`SELECT name FROM system.functions`));
    const known = new Set(names.map((r) => r.name));
    expect(EMITTED_FUNCTION_NAMES.filter((name) => !known.has(name))).toEqual([]);
  });

  it("expands toStartOfInterval & co. to ClickHouse's own anchors", async () => {
    await write('times', 'ts', [{ timestamp: Date.parse('2023-03-15T13:47:29Z') }]);
    const [row] = await sqlApi(
      'times',
      ['ts'],
      `SELECT
         toString(toStartOfInterval(timestamp, INTERVAL 10 SECOND)) AS s10,
         toString(toStartOfInterval(timestamp, INTERVAL 1 MINUTE)) AS m1,
         toString(toStartOfInterval(timestamp, INTERVAL 5 MINUTE)) AS m5,
         toString(toStartOfInterval(timestamp, INTERVAL 15 MINUTE)) AS m15,
         toString(toStartOfFifteenMinute(timestamp)) AS f15,
         toString(toStartOfTenMinutes(timestamp)) AS t10,
         toString(toStartOfInterval(timestamp, INTERVAL 1 HOUR)) AS h1,
         toString(toStartOfInterval(timestamp, INTERVAL 5 HOUR)) AS h5,
         toString(toStartOfInterval(timestamp, INTERVAL '1' DAY)) AS d1,
         toString(toStartOfInterval(timestamp, INTERVAL 7 DAY)) AS d7,
         toString(toStartOfInterval(timestamp, INTERVAL 1 WEEK)) AS w1,
         toString(toStartOfInterval(timestamp, INTERVAL 2 WEEK)) AS w2,
         toString(toStartOfWeek(timestamp)) AS sw0,
         toString(toStartOfWeek(timestamp, 1)) AS sw1,
         toString(toStartOfInterval(timestamp, INTERVAL 1 MONTH)) AS mo1,
         toString(toStartOfInterval(timestamp, INTERVAL 2 MONTH)) AS mo2,
         toString(toStartOfInterval(timestamp, INTERVAL 1 QUARTER)) AS q1,
         toString(toStartOfInterval(timestamp, INTERVAL 2 QUARTER)) AS q2,
         toString(toStartOfInterval(timestamp, INTERVAL 1 YEAR)) AS y1,
         toString(toStartOfInterval(timestamp, INTERVAL 5 YEAR)) AS y5
       FROM ts`,
    );
    expect(row).toEqual({
      s10: '2023-03-15 13:47:20',
      m1: '2023-03-15 13:47:00',
      m5: '2023-03-15 13:45:00',
      m15: '2023-03-15 13:45:00',
      f15: '2023-03-15 13:45:00',
      t10: '2023-03-15 13:40:00',
      h1: '2023-03-15 13:00:00',
      h5: '2023-03-15 10:00:00', // hours count from midnight: 00, 05, 10, 15, 20
      d1: '2023-03-15 00:00:00',
      d7: '2023-03-09 00:00:00', // days count from 1970-01-01, a Thursday
      w1: '2023-03-13', // Monday
      w2: '2023-03-06', // fortnights count from Monday 1970-01-05 (day 4): 4 + floor((19429 - 4) / 14) * 14
      sw0: '2023-03-12', // Sunday
      sw1: '2023-03-13',
      mo1: '2023-03-01',
      mo2: '2023-03-01',
      q1: '2023-01-01',
      q2: '2023-01-01',
      y1: '2023-01-01',
      y5: '2020-01-01',
    });
  });

  it('sends hostile literals back byte for byte (NUL, quotes, backslashes, Unicode)', async () => {
    const nasty = 'a\'b\\c"d`e;--f/*g*/\u0000h\n\t日本😀\u2028';
    const [row] = await sqlApi(
      'seed001',
      [DATASET],
      `SELECT ${literal(nasty).text} AS v FROM ${DATASET} LIMIT 1`,
    );
    expect(row).toEqual({ v: nasty });
  });

  it('filters on a stored hostile blob exactly', async () => {
    const nasty = "it's \\ \"quoted\" ' OR '1'='1";
    await write('hostile', 'hd', [{ blobs: [nasty] }, { blobs: ['plain'] }]);
    const rows = await sqlApi(
      'hostile',
      ['hd'],
      `SELECT blob1, count() AS n FROM hd WHERE blob1 = ${literal(nasty).text} GROUP BY blob1`,
    );
    expect(rows).toEqual([{ blob1: nasty, n: '1' }]);
  });

  it('applies the returned settings (readonly, max_execution_time) on this server', async () => {
    const plan = compileAnalyticsSql('SELECT count() AS n FROM other_dataset', {
      tenant: 'seed001',
      datasets: ['other_dataset'],
      database: db.database,
      maxExecutionTimeSeconds: 5,
    });
    expect(plan).toMatchObject({ settings: { readonly: '1', max_execution_time: 5 } });
    expect(await run(plan)).toEqual([{ n: '50' }]);
    // readonly really is on: the same settings refuse a write.
    if (plan.kind !== 'query') throw new Error('not a query');
    await expect(
      db.client.client.command({
        query: `INSERT INTO ${identifier(db.database, 'datapoints').text} (tenant) VALUES ('x')`,
        clickhouse_settings: plan.settings,
      }),
    ).rejects.toThrow(/readonly/i);
  });

  it('returns JSONEachRow and TabSeparated when asked, and clamps the LIMIT', async () => {
    const plan = compileAnalyticsSql(
      'SELECT index1, count() AS n FROM usage_indexed_by_customer_id GROUP BY index1 ORDER BY index1 LIMIT 100 FORMAT TabSeparated',
      {
        tenant: 'seed001',
        datasets: [DATASET],
        database: db.database,
        maxRows: 2,
      },
    );
    if (plan.kind !== 'query') throw new Error('not a query');
    expect(plan).toMatchObject({ format: 'TabSeparated', limit: 2, limitClamped: true });
    const result = await db.client.client.query({
      query: plan.sql,
      format: 'TabSeparated',
      clickhouse_settings: plan.settings,
    });
    expect(await result.text()).toBe('cust_other\t8\nsubstitute_customer_id_here\t20\n');
  });

  it('stores sampled points whose sum(_sample_interval) is what the sampler kept', async () => {
    const sampler = new EquitableSampler({
      budgetPerIndexPerWindow: 20,
      windowMs: 60_000,
      random: seededRandom(3),
    });
    let kept = 0;
    for (let batch = 0; batch < 4; batch++) {
      kept += await write(
        'sampled',
        'events',
        Array.from({ length: 250 }, () => ({
          indexes: ['loud'],
          timestamp: Date.parse('2023-03-20T00:00:00Z'),
        })),
        sampler,
      );
    }
    const [row] = await sqlApi(
      'sampled',
      ['events'],
      'SELECT count() AS rows, sum(_sample_interval) AS estimate FROM events',
    );
    expect(Number(row.rows)).toBeLessThan(1000);
    expect(Number(row.estimate)).toBe(kept);
  });

  it('collapses a retried batch (same point ids) when parts merge', async () => {
    const points = [
      { id: 'retry-1', indexes: ['c'] },
      { id: 'retry-2', indexes: ['c'] },
    ];
    await write('retry', 'r', points);
    await write('retry', 'r', points);
    await db.client.command(raw(`OPTIMIZE TABLE ${identifier(db.database, 'datapoints').text} FINAL`));
    expect(await sqlApi('retry', ['r'], 'SELECT count() AS n FROM r')).toEqual([{ n: '2' }]);
  });
});
