import { ParamIssues, allSeries, type MeterDefinition } from '@tally/metering';
import { join, sql, type SqlFragment } from './quote';
import { aggregateText, eventsTable, seriesConditions, windowStart } from './meter-sql-parts';

/** Most series (meters plus their profiles) one `customerPeriodUsage` query may compute. */
export const MAX_PERIOD_SERIES = 200;

export interface CustomerPeriodUsageParams {
  database: string;
  tenant: string;
  /** The customer's external id. */
  customer: string;
  /** Every meter to report; each contributes its own series and one per profile. */
  meters: readonly MeterDefinition[];
  /** Period start (inclusive) and end (exclusive), whole seconds. */
  from: Date;
  to: Date;
  /** Zone of the daily breakdown, normally the customer's (or its tenant's). */
  timezone: string;
}

/**
 * One result row of `customerPeriodUsage`. `series` is the meter key or `meter:profile` (the key
 * pricing reads usage under). `bucket` is `total` (one row per series, always present, `day_start`
 * 0) or `day` (one row per local day that has events, `day_start` = that day's first instant in
 * epoch seconds). `value` is exact decimal text.
 */
export interface PeriodUsageRow {
  series: string;
  bucket: 'total' | 'day';
  day_start: number;
  value: string;
}

/**
 * Total and per-day usage of every meter and profile for one customer over a billing period, in one
 * round trip. Totals are aggregated over the whole period (not summed from days) so that unique
 * counts, maxima, latest values and averages are right. Rows are ordered by series, bucket, day.
 */
export function customerPeriodUsage(params: CustomerPeriodUsageParams): SqlFragment {
  const issues = new ParamIssues();
  issues.tenant(params.tenant);
  issues.range(params.from, params.to);
  issues.timeZone(params.timezone);
  if (typeof params.customer !== 'string') issues.add('customer', 'REQUIRED', 'customer is required');
  const series = params.meters.flatMap(allSeries);
  if (series.length === 0) issues.add('meters', 'TOO_SHORT', 'name at least one meter');
  if (series.length > MAX_PERIOD_SERIES) {
    issues.add('meters', 'TOO_LONG', `at most ${MAX_PERIOD_SERIES} series (meters plus profiles) per query`);
  }
  const keys = series.map((s) => s.key);
  keys.forEach((k, i) => {
    if (keys.indexOf(k) !== i) issues.add('meters', 'DUPLICATE', `series '${k}' appears twice`);
  });
  issues.throwIfAny();

  const table = eventsTable(params.database);
  const scope = { tenant: params.tenant, from: params.from, to: params.to, customers: [params.customer] };
  const day = windowStart('day', params.timezone);
  const branches: SqlFragment[] = [];
  for (const s of series) {
    const where = join(seriesConditions(s, scope), ' AND ');
    const value = aggregateText(s);
    branches.push(
      sql`SELECT ${s.key} AS series, 'total' AS bucket, toUInt32(0) AS day_start, ${value} AS value FROM ${table} WHERE ${where}`,
      sql`SELECT ${s.key} AS series, 'day' AS bucket, ${day} AS day_start, ${value} AS value FROM ${table} WHERE ${where} GROUP BY day_start`,
    );
  }
  return join(
    [
      sql`SELECT series, bucket, day_start, value FROM (`,
      join(branches, '\nUNION ALL\n'),
      sql`)`,
      sql`ORDER BY series, bucket, day_start`,
    ],
    '\n',
  );
}
