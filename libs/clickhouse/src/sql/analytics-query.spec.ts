import { AnalyticsSqlError } from '@tally/analytics-engine';
import { SEED_000_QUERIES, SEED_001_QUERIES } from '@tally/analytics-engine/testing';
import { compileAnalyticsSql, type AnalyticsSqlPlan, type RewriteOptions } from './analytics-query';

const DATASET = 'usage_indexed_by_customer_id';
const OPTIONS: RewriteOptions = {
  tenant: 'acme',
  datasets: [DATASET, 'api_calls'],
  database: 'tally',
};
const SCOPE =
  "SELECT * FROM `tally`.`datapoints` WHERE tenant = 'acme' AND dataset = 'usage_indexed_by_customer_id'";
const SOURCE = `(${SCOPE}) AS \`usage_indexed_by_customer_id\``;
const MARCH =
  "timestamp >= toDateTime('2023-03-01 00:00:00', 'UTC') AND timestamp < toDateTime('2023-04-01 00:00:00', 'UTC')";

function sqlOf(query: string, options: Partial<RewriteOptions> = {}): string {
  const plan = compileAnalyticsSql(query, { ...OPTIONS, ...options });
  if (plan.kind !== 'query') throw new Error('not a query');
  return plan.sql;
}

/** The rewritten text of one expression, read back from `SELECT <expr> FROM api_calls`. */
function exprOf(expr: string): string {
  const sql = sqlOf(`SELECT ${expr} FROM api_calls`);
  const match =
    /^SELECT (.*) FROM \(SELECT \* FROM `tally`\.`datapoints` WHERE tenant = 'acme' AND dataset = 'api_calls'\) AS `api_calls` LIMIT 10000$/.exec(
      sql,
    );
  if (!match) throw new Error(sql);
  return match[1];
}

function failure(query: string, options: Partial<RewriteOptions> = {}): { code: string; message: string } {
  try {
    compileAnalyticsSql(query, { ...OPTIONS, ...options });
  } catch (error) {
    if (error instanceof AnalyticsSqlError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`accepted: ${query}`);
}

describe('rewriteAnalyticsSql: the seeds, exactly', () => {
  it.each<[string, string, string]>([
    [
      '000 usage by customer',
      SEED_000_QUERIES.usageByCustomer,
      `SELECT blob1 AS \`customer_id\`, sum(_sample_interval) AS \`count\` FROM ${SOURCE} GROUP BY \`customer_id\` LIMIT 10000`,
    ],
    [
      '000 usage by customer and endpoint',
      SEED_000_QUERIES.usageByCustomerAndEndpoint,
      `SELECT blob1 AS \`customer_id\`, blob2 AS \`request_endpoint\`, sum(_sample_interval) AS \`count\` FROM ${SOURCE} GROUP BY \`customer_id\`, \`request_endpoint\` LIMIT 10000`,
    ],
    [
      '001 usage by customer',
      SEED_001_QUERIES.usageByCustomer,
      `SELECT index1 AS \`customer_id\`, sum(_sample_interval) AS \`count\` FROM ${SOURCE} GROUP BY \`customer_id\` LIMIT 10000`,
    ],
    [
      '001 usage by customer and endpoint',
      SEED_001_QUERIES.usageByCustomerAndEndpoint,
      `SELECT index1 AS \`customer_id\`, blob1 AS \`request_endpoint\`, sum(_sample_interval) AS \`count\` FROM ${SOURCE} GROUP BY \`customer_id\`, \`request_endpoint\` LIMIT 10000`,
    ],
    [
      '001 monthly bill for one customer',
      SEED_001_QUERIES.monthlyBillForCustomer,
      'SELECT index1 AS `customer_id`, blob1 AS `request_endpoint`, sum(_sample_interval) AS `usage_count` ' +
        `FROM (${SCOPE} AND index1 = 'substitute_customer_id_here' AND ${MARCH}) AS \`usage_indexed_by_customer_id\` ` +
        `WHERE \`customer_id\` = 'substitute_customer_id_here' AND ${MARCH} ` +
        'GROUP BY `customer_id`, `request_endpoint` LIMIT 10000',
    ],
    [
      '001 daily bill for one customer',
      SEED_001_QUERIES.dailyBillForCustomer,
      'SELECT index1 AS `customer_id`, toStartOfDay(timestamp) AS `date`, blob1 AS `request_endpoint`, sum(_sample_interval) AS `request_count` ' +
        `FROM (${SCOPE} AND index1 = 'x' AND ${MARCH}) AS \`usage_indexed_by_customer_id\` ` +
        `WHERE \`customer_id\` = 'x' AND ${MARCH} ` +
        'GROUP BY `customer_id`, `date`, `request_endpoint` LIMIT 10000',
    ],
  ])('%s', (_name, query, expected) => {
    expect(compileAnalyticsSql(query, OPTIONS)).toEqual<AnalyticsSqlPlan>({
      kind: 'query',
      sql: expected,
      format: 'JSON',
      settings: { readonly: '1', max_execution_time: 30 },
      limit: 10_000,
      limitClamped: true,
      dataset: DATASET,
    });
  });
});

describe('rewriteAnalyticsSql: toStartOfInterval and the functions 18.16 lacks', () => {
  it.each([
    [
      "toStartOfInterval(timestamp, INTERVAL '1' SECOND)",
      "toDateTime(intDiv(toUInt32(timestamp), 1) * 1, 'UTC')",
    ],
    [
      'toStartOfInterval(timestamp, INTERVAL 10 SECOND)',
      "toDateTime(intDiv(toUInt32(timestamp), 10) * 10, 'UTC')",
    ],
    ['toStartOfInterval(timestamp, INTERVAL 1 MINUTE)', 'toStartOfMinute(timestamp)'],
    ['toStartOfInterval(timestamp, INTERVAL 5 MINUTE)', 'toStartOfFiveMinute(timestamp)'],
    [
      'toStartOfInterval(timestamp, INTERVAL 15 MINUTE)',
      "toDateTime(intDiv(toUInt32(timestamp), 900) * 900, 'UTC')",
    ],
    ['toStartOfInterval(timestamp, INTERVAL 1 HOUR)', 'toStartOfHour(timestamp)'],
    [
      'toStartOfInterval(timestamp, INTERVAL 6 HOUR)',
      "toDateTime(toUInt32(toStartOfDay(timestamp)) + intDiv(toHour(timestamp), 6) * 21600, 'UTC')",
    ],
    ["toStartOfInterval(timestamp, INTERVAL '1' DAY)", 'toStartOfDay(timestamp)'],
    [
      'toStartOfInterval(timestamp, INTERVAL 7 DAY)',
      "toDateTime(intDiv(toUInt32(timestamp), 604800) * 604800, 'UTC')",
    ],
    ['toStartOfInterval(timestamp, INTERVAL 1 WEEK)', 'toMonday(timestamp)'],
    [
      'toStartOfInterval(timestamp, INTERVAL 2 WEEK)',
      "(toDate('1970-01-05') + intDiv(toRelativeDayNum(timestamp) - 4, 14) * 14)",
    ],
    ['toStartOfInterval(timestamp, INTERVAL 1 MONTH)', 'toStartOfMonth(timestamp)'],
    [
      'toStartOfInterval(timestamp, INTERVAL 3 MONTH)',
      'addMonths(toStartOfYear(timestamp), intDiv(toMonth(timestamp) - 1, 3) * 3)',
    ],
    ['toStartOfInterval(timestamp, INTERVAL 1 QUARTER)', 'toStartOfQuarter(timestamp)'],
    [
      'toStartOfInterval(timestamp, INTERVAL 2 QUARTER)',
      'addMonths(toStartOfYear(timestamp), intDiv(toMonth(timestamp) - 1, 6) * 6)',
    ],
    ['toStartOfInterval(timestamp, INTERVAL 1 YEAR)', 'toStartOfYear(timestamp)'],
    [
      'toStartOfInterval(timestamp, INTERVAL 10 YEAR)',
      'addYears(toStartOfYear(timestamp), 0 - toYear(timestamp) % 10)',
    ],
    ['toStartOfFifteenMinute(timestamp)', "toDateTime(intDiv(toUInt32(timestamp), 900) * 900, 'UTC')"],
    ['toStartOfTenMinutes(timestamp)', "toDateTime(intDiv(toUInt32(timestamp), 600) * 600, 'UTC')"],
    ['toStartOfWeek(timestamp)', '(toMonday(toDate(timestamp) + 1) - 1)'],
    ['toStartOfWeek(timestamp, 1)', 'toMonday(timestamp)'],
    ['toStartOfWeek(timestamp) + 7', '(toMonday(toDate(timestamp) + 1) - 1) + 7'],
    ["toDateTime('2023-03-01 00:00:00')", "toDateTime('2023-03-01 00:00:00', 'UTC')"],
    ["toDateTime(1677628800, 'Europe/Paris')", "toDateTime(1677628800, 'Europe/Paris')"],
    ["toStartOfDay(timestamp, 'America/New_York')", "toStartOfDay(timestamp, 'America/New_York')"],
    ["formatDateTime(timestamp, '%Y-%m')", "formatDateTime(timestamp, '%Y-%m')"],
  ])('%s', (input, output) => {
    expect(exprOf(input)).toBe(output);
  });

  it("emits the native functions for target: 'modern', after the same checks", () => {
    const modern = (expr: string) =>
      sqlOf(`SELECT ${expr} AS t FROM api_calls`, { target: 'modern' }).split(' AS `t`')[0];
    expect(modern("toStartOfInterval(timestamp, INTERVAL '15' MINUTE)")).toBe(
      'SELECT toStartOfInterval(timestamp, INTERVAL 15 MINUTE)',
    );
    expect(modern('toStartOfWeek(timestamp, 3)')).toBe('SELECT toStartOfWeek(timestamp, 3)');
    expect(modern('toStartOfTenMinutes(timestamp)')).toBe('SELECT toStartOfTenMinutes(timestamp)');
    expect(modern('toStartOfFifteenMinute(timestamp)')).toBe('SELECT toStartOfFifteenMinutes(timestamp)');
    expect(
      failure('SELECT toStartOfInterval(timestamp, INTERVAL 5 MONTH) FROM api_calls', { target: 'modern' })
        .code,
    ).toBe('SQL_UNSUPPORTED');
  });

  it('refuses intervals it cannot express exactly', () => {
    expect(failure('SELECT toStartOfInterval(timestamp, INTERVAL 5 MONTH) FROM api_calls')).toEqual({
      code: 'SQL_UNSUPPORTED',
      message:
        'INTERVAL 5 MONTH does not divide a year; use 1, 2, 3, 4, 6 or 12 months (1, 2 or 4 quarters) at line 1, column 37',
    });
    expect(failure('SELECT toStartOfInterval(timestamp, 3600) FROM api_calls')).toEqual({
      code: 'SQL_UNSUPPORTED',
      message:
        "toStartOfInterval's second argument must be an interval: INTERVAL '1' DAY at line 1, column 37",
    });
    expect(failure('SELECT toStartOfInterval(timestamp, INTERVAL 0 DAY) FROM api_calls').code).toBe(
      'SQL_UNSUPPORTED',
    );
  });
});

describe('rewriteAnalyticsSql: expressions', () => {
  it.each([
    ['count(*)', 'count()'],
    ['COUNT()', 'count()'],
    ['count(DISTINCT blob1)', 'uniqExact(blob1)'],
    [
      'QuantileExactWeighted(0.5)(double1, _sample_interval)',
      'quantileExactWeighted(0.5)(double1, _sample_interval)',
    ],
    ['sumIf(_sample_interval, double1 > 0)', 'sumIf(_sample_interval, double1 > 0)'],
    ['1.5', "toFloat64('1.5')"],
    ['-2.5e3', "toFloat64('-2500')"],
    ['-5', '(-5)'],
    ['- -5', '-((-5))'],
    ['-double1', '-(double1)'],
    ['18446744073709551615', '18446744073709551615'],
    ['007', '7'],
    ['NULL', 'NULL'],
    ["'it''s'", "'it\\'s'"],
    ['double1 - (double2 - double3)', 'double1 - (double2 - double3)'],
    ['(double1 - double2) - double3', 'double1 - double2 - double3'],
    ['(double1 + double2) * double3', '(double1 + double2) * double3'],
    ['double1 + double2 * double3', 'double1 + double2 * double3'],
    ['(double1 > 1) = (double2 > 2)', '(double1 > 1) = (double2 > 2)'],
    ["NOT (blob1 = 'a' AND blob2 = 'b')", "NOT (blob1 = 'a' AND blob2 = 'b')"],
    ["NOT blob1 = 'a'", "NOT blob1 = 'a'"],
    ["(blob1 = 'a' OR blob2 = 'b') AND blob3 = 'c'", "(blob1 = 'a' OR blob2 = 'b') AND blob3 = 'c'"],
    ["blob1 = 'a' OR blob2 = 'b' AND blob3 = 'c'", "blob1 = 'a' OR blob2 = 'b' AND blob3 = 'c'"],
    ["blob1 NOT IN ('a', 'b', NULL, -1, 2.5)", "blob1 NOT IN ('a', 'b', NULL, (-1), toFloat64('2.5'))"],
    ['double1 BETWEEN 1 AND 2 + 3', 'double1 BETWEEN 1 AND 2 + 3'],
    ["blob1 LIKE '%/api/%'", "blob1 LIKE '%/api/%'"],
    ['blob1 IS NOT NULL', 'blob1 IS NOT NULL'],
    ["now() - INTERVAL '7' DAY", 'now() - INTERVAL 7 DAY'],
    ['if(double1 > 0, 1, 0)', 'if(double1 > 0, 1, 0)'],
    [
      "multiIf(double1 > 10, 'big', double1 > 1, 'small', 'zero')",
      "multiIf(double1 > 10, 'big', double1 > 1, 'small', 'zero')",
    ],
    ['`blob1`', 'blob1'],
    ['"index1"', 'index1'],
  ])('%s', (input, output) => {
    expect(exprOf(input)).toBe(output);
  });

  it('resolves aliases anywhere, including an alias that shadows its own column', () => {
    expect(
      sqlOf(
        'SELECT toStartOfHour(timestamp) AS timestamp, sum(_sample_interval) AS n, n * 2 AS twice FROM api_calls ' +
          'WHERE timestamp > now() - INTERVAL 1 DAY GROUP BY timestamp HAVING n > 10 ORDER BY timestamp DESC, twice',
      ),
    ).toBe(
      'SELECT toStartOfHour(timestamp) AS `timestamp`, sum(_sample_interval) AS `n`, `n` * 2 AS `twice` ' +
        "FROM (SELECT * FROM `tally`.`datapoints` WHERE tenant = 'acme' AND dataset = 'api_calls' AND toStartOfHour(timestamp) > now() - INTERVAL 1 DAY) AS `api_calls` " +
        'WHERE `timestamp` > now() - INTERVAL 1 DAY GROUP BY `timestamp` HAVING `n` > 10 ORDER BY `timestamp` DESC, `twice` ASC LIMIT 10000',
    );
  });

  it('clamps or adds the LIMIT and keeps OFFSET', () => {
    const plan = (q: string, maxRows?: number) => compileAnalyticsSql(q, { ...OPTIONS, maxRows });
    expect(plan('SELECT blob1 FROM api_calls LIMIT 5 OFFSET 20')).toMatchObject({
      sql: expect.stringMatching(/ LIMIT 5 OFFSET 20$/),
      limit: 5,
      limitClamped: false,
    });
    expect(plan('SELECT blob1 FROM api_calls LIMIT 20, 5')).toMatchObject({
      sql: expect.stringMatching(/ LIMIT 5 OFFSET 20$/),
    });
    expect(plan('SELECT blob1 FROM api_calls LIMIT 500', 100)).toMatchObject({
      sql: expect.stringMatching(/ LIMIT 100$/),
      limit: 100,
      limitClamped: true,
    });
    expect(plan('SELECT blob1 FROM api_calls', 100)).toMatchObject({
      sql: expect.stringMatching(/ LIMIT 100$/),
      limitClamped: true,
    });
  });

  it('returns the format and the settings the caller applies', () => {
    expect(
      compileAnalyticsSql('SELECT DISTINCT blob1 FROM api_calls FORMAT JSONEachRow', {
        ...OPTIONS,
        maxExecutionTimeSeconds: 5,
      }),
    ).toMatchObject({
      sql: expect.stringMatching(/^SELECT DISTINCT blob1 FROM /),
      format: 'JSONEachRow',
      settings: { readonly: '1', max_execution_time: 5 },
    });
  });

  it("answers SHOW TABLES with the caller's datasets, without SQL", () => {
    expect(compileAnalyticsSql('SHOW TABLES', OPTIONS)).toEqual({
      kind: 'show_tables',
      format: 'JSON',
      datasets: ['api_calls', DATASET],
    });
  });
});

describe('rewriteAnalyticsSql: WHERE repeated inside the scoped subquery', () => {
  const inner = (query: string): string => {
    const match =
      /^SELECT .* FROM \(SELECT \* FROM `tally`\.`datapoints` WHERE tenant = 'acme' AND dataset = 'api_calls'(.*?)\) AS `api_calls`/.exec(
        sqlOf(query),
      );
    if (!match) throw new Error(sqlOf(query));
    return match[1];
  };

  it.each([
    ["SELECT blob1 FROM api_calls WHERE index1 = 'c'", " AND index1 = 'c'"],
    ["SELECT index1 AS c FROM api_calls WHERE c = 'c'", " AND index1 = 'c'"],
    ["SELECT lower(blob1) AS p, p AS q FROM api_calls WHERE q LIKE '/a%'", " AND lower(blob1) LIKE '/a%'"],
    ["SELECT blob1 FROM api_calls WHERE index1 = 'a' OR index1 = 'b'", " AND (index1 = 'a' OR index1 = 'b')"],
    [
      "SELECT blob1 FROM api_calls WHERE NOT (index1 = 'a' OR index1 = 'b') AND double1 > 1",
      " AND NOT (index1 = 'a' OR index1 = 'b') AND double1 > 1",
    ],
    ['SELECT double1 + double2 AS d FROM api_calls WHERE d * 2 > 3', ' AND (double1 + double2) * 2 > 3'],
    [
      'SELECT toStartOfHour(timestamp) AS timestamp FROM api_calls WHERE timestamp > now()',
      ' AND toStartOfHour(timestamp) > now()',
    ],
    // aggregates only make sense after grouping: never pushed (ClickHouse refuses them in WHERE anyway)
    ['SELECT sum(double1) AS s FROM api_calls WHERE s > 1 AND double2 > 0', ' AND double2 > 0'],
    ['SELECT blob1 FROM api_calls WHERE count() > 1', ''],
    ['SELECT blob1 FROM api_calls', ''],
  ])('%s', (query, pushed) => {
    expect(inner(query)).toBe(pushed);
  });
});

describe('rewriteAnalyticsSql: refusals', () => {
  it.each([
    [
      'SELECT tenant FROM api_calls',
      'SQL_UNKNOWN_COLUMN',
      "Unknown column 'tenant': a dataset has timestamp, index1, blob1..blob20, double1..double20, _sample_interval and dataset, plus the aliases of the SELECT list at line 1, column 8",
    ],
    [
      'SELECT point_id FROM api_calls',
      'SQL_UNKNOWN_COLUMN',
      expect.stringMatching(/^Unknown column 'point_id'/),
    ],
    ['SELECT blob21 FROM api_calls', 'SQL_UNKNOWN_COLUMN', expect.stringMatching(/^Unknown column 'blob21'/)],
    [
      'SELECT Blob1 FROM api_calls',
      'SQL_UNKNOWN_COLUMN',
      expect.stringMatching(/^Unknown column 'Blob1' \(did you mean blob1\?\)/),
    ],
    [
      "SELECT blob1 FROM api_calls WHERE customer = 'x'",
      'SQL_UNKNOWN_COLUMN',
      expect.stringMatching(/^Unknown column 'customer'.* at line 1, column 35$/),
    ],
    [
      'SELECT sleep(3) FROM api_calls',
      'SQL_UNKNOWN_FUNCTION',
      "Unknown function 'sleep' (see docs/analytics-engine.md for the supported ones) at line 1, column 8",
    ],
    [
      "SELECT file('/etc/passwd') FROM api_calls",
      'SQL_UNKNOWN_FUNCTION',
      expect.stringMatching(/^Unknown function 'file'/),
    ],
    [
      "SELECT dictGet('d', 'a', 1) FROM api_calls",
      'SQL_UNKNOWN_FUNCTION',
      expect.stringMatching(/^Unknown function 'dictGet'/),
    ],
    [
      'SELECT sum(*) FROM api_calls',
      'SQL_UNSUPPORTED',
      '`*` is only allowed in count(*) at line 1, column 8',
    ],
    [
      'SELECT sum(DISTINCT double1) FROM api_calls',
      'SQL_UNSUPPORTED',
      'DISTINCT is only supported as count(DISTINCT x) at line 1, column 8',
    ],
    [
      'SELECT sum(1)(double1) FROM api_calls',
      'SQL_UNSUPPORTED',
      'sum takes no parameters: sum(...)(...) at line 1, column 8',
    ],
    [
      'SELECT quantileExactWeighted(2)(double1, _sample_interval) FROM api_calls',
      'SQL_UNSUPPORTED',
      expect.stringMatching(/^quantileExactWeighted needs one level between 0 and 1/),
    ],
    [
      'SELECT quantileExactWeighted(double1, _sample_interval) FROM api_calls',
      'SQL_UNSUPPORTED',
      expect.stringMatching(/^quantileExactWeighted needs one level/),
    ],
    [
      'SELECT sum(double1, double2) FROM api_calls',
      'SQL_SYNTAX',
      'sum takes 1 argument, got 2 at line 1, column 8',
    ],
    [
      'SELECT concat(blob1) FROM api_calls',
      'SQL_SYNTAX',
      'concat takes at least 2 arguments, got 1 at line 1, column 8',
    ],
    [
      'SELECT round() FROM api_calls',
      'SQL_SYNTAX',
      'round takes 1 to 2 arguments, got 0 at line 1, column 8',
    ],
    [
      'SELECT blob1 FROM api_calls GROUP BY 1',
      'SQL_UNSUPPORTED',
      'GROUP BY 1: positions are not supported (ClickHouse 18.16 would use the constant); name the column or its alias at line 1, column 38',
    ],
    [
      'SELECT blob1 FROM api_calls ORDER BY 1 DESC',
      'SQL_UNSUPPORTED',
      expect.stringMatching(/^ORDER BY 1: positions are not supported/),
    ],
    [
      'SELECT blob1 AS a, blob2 AS a FROM api_calls',
      'SQL_UNSUPPORTED',
      "Alias 'a' is defined twice at line 1, column 29",
    ],
    [
      'SELECT blob1 AS `a b` FROM api_calls',
      'SQL_UNSUPPORTED',
      "Alias 'a b' must be letters, digits and underscores, not starting with a digit at line 1, column 17",
    ],
    [
      'SELECT blob1 AS index1, index1 AS blob1 FROM api_calls',
      'SQL_UNSUPPORTED',
      'Aliases refer to each other in a cycle: index1 -> blob1 -> index1 at line 1, column 17',
    ],
    [
      'SELECT b + 1 AS a, a + 1 AS b FROM api_calls',
      'SQL_UNSUPPORTED',
      expect.stringMatching(/^Aliases refer to each other in a cycle: a -> b -> a/),
    ],
    ['SELECT x + 1 AS x FROM api_calls', 'SQL_UNKNOWN_COLUMN', expect.stringMatching(/^Unknown column 'x'/)],
    [
      'SELECT 99999999999999999999 FROM api_calls',
      'SQL_SYNTAX',
      'Integer 99999999999999999999 is out of range (UInt64) at line 1, column 8',
    ],
    [
      'SELECT 1e999 FROM api_calls',
      'SQL_SYNTAX',
      'Number 1e999 is out of range (Float64) at line 1, column 8',
    ],
    [
      'SELECT toStartOfWeek(timestamp, 12) FROM api_calls',
      'SQL_UNSUPPORTED',
      'toStartOfWeek mode must be an integer 0-9 at line 1, column 33',
    ],
  ])('%s', (query, code, message) => {
    expect(failure(query)).toEqual({ code, message });
  });
});
