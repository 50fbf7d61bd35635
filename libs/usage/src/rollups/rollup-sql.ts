/**
 * SQL over the hourly roll-up `usage_hourly` that returns exactly the rows of `@tally/metering`'s
 * builders over `events` (same columns, same text of values, same order), for the series and ranges
 * `eligibility.ts` admits. Every value goes through the quoting module; the only text written here is
 * constant SQL.
 */
import * as quote from '@tally/clickhouse';
import { identifier, join, type SqlFragment, sql } from '@tally/clickhouse';
import { type Series, trimDecimalText, type WindowSize } from '@tally/metering';
import { seriesUsesRollup } from './eligibility';

export const ROLLUP_TABLE = 'usage_hourly';

interface RollupScope {
  /** The database holding `usage_hourly`. */
  database: string;
  tenant: string;
  series: Series;
  /** Whole UTC hours; `to` exclusive. */
  from: Date;
  to: Date;
  customers?: readonly string[];
}

function assertRollupSeries(series: Series): void {
  // Callers decide with eligibility.ts first; reaching this is a bug, not bad input.
  if (!seriesUsesRollup(series)) throw new Error(`series '${series.key}' cannot be answered from the roll-up`);
}

/** The merged aggregate, unformatted (what ordering uses). Mirrors metering's `aggregateExpression`. */
export function rollupAggregate(series: Series): SqlFragment {
  switch (series.aggregation) {
    case 'count':
      return sql`countMerge(events)`;
    case 'sum':
      return sql`sumMerge(quantity_sum)`;
    case 'min':
      return sql`minMerge(quantity_min)`;
    case 'max':
      return sql`maxMerge(quantity_max)`;
    case 'avg':
      // Same expression and types as the scan: Decimal(38, 12) sum over the UInt64 count, truncated.
      return sql`sumMerge(quantity_sum) / greatest(countMerge(events), 1)`;
    default:
      throw new Error(`aggregation '${series.aggregation}' has no roll-up`);
  }
}

/** The aggregate as exact decimal text, trimmed exactly as the scan's `aggregateText`. */
export function rollupAggregateText(series: Series): SqlFragment {
  const aggregate = rollupAggregate(series);
  if (series.aggregation === 'count') return sql`toString(${aggregate})`;
  return trimDecimalText(quote, sql`toString(${aggregate})`);
}

/** Window start over the `hour` column (the scan uses `ts`); the zone's offset is whole hours. */
export function rollupWindowStart(window: Exclude<WindowSize, 'none' | 'minute'>, timeZone: string): SqlFragment {
  switch (window) {
    case 'hour':
      return sql`toUInt32(toStartOfHour(hour, ${timeZone}))`;
    case 'day':
      return sql`toUInt32(toStartOfDay(hour, ${timeZone}))`;
    case 'month':
      return sql`toUInt32(toDateTime(toStartOfMonth(hour, ${timeZone}), ${timeZone}))`;
  }
}

function conditions(scope: RollupScope): SqlFragment {
  const list = [
    sql`tenant = ${scope.tenant}`,
    sql`event_type IN (${join(scope.series.eventTypes)})`,
    sql`hour >= ${scope.from}`,
    sql`hour < ${scope.to}`,
  ];
  if (scope.customers !== undefined) list.push(sql`customer IN (${join(scope.customers)})`);
  return join(list, ' AND ');
}

function table(database: string): SqlFragment {
  return identifier(database, ROLLUP_TABLE);
}

export interface RollupMeterQueryParams extends RollupScope {
  window: Exclude<WindowSize, 'minute'>;
  timezone: string;
  groupByCustomer?: boolean;
  limit: number;
}

/** The rows of `meterQuery` (window_start?, customer?, value) without group-by properties or filters. */
export function rollupMeterQuery(params: RollupMeterQueryParams): SqlFragment {
  assertRollupSeries(params.series);
  const select: SqlFragment[] = [];
  const keys: SqlFragment[] = [];
  if (params.window !== 'none') {
    select.push(sql`${rollupWindowStart(params.window, params.timezone)} AS window_start`);
    keys.push(sql`window_start`);
  }
  if (params.groupByCustomer) {
    select.push(sql`customer`);
    keys.push(sql`customer`);
  }
  select.push(sql`${rollupAggregateText(params.series)} AS value`);
  const clauses = [
    sql`SELECT ${join(select)}`,
    sql`FROM ${table(params.database)}`,
    sql`WHERE ${conditions(params)}`,
  ];
  if (keys.length) {
    clauses.push(sql`GROUP BY ${join(keys)}`);
    clauses.push(sql`ORDER BY ${join(keys)}`);
  }
  clauses.push(sql`LIMIT ${params.limit}`);
  return join(clauses, '\n');
}

export interface RollupPeriodUsageParams {
  database: string;
  tenant: string;
  customer: string;
  series: readonly Series[];
  from: Date;
  to: Date;
  timezone: string;
}

/** The rows of `customerPeriodUsage` (series, bucket 'total' | 'day', day_start, value). */
export function rollupPeriodUsage(params: RollupPeriodUsageParams): SqlFragment {
  const day = rollupWindowStart('day', params.timezone);
  const branches: SqlFragment[] = [];
  for (const series of params.series) {
    assertRollupSeries(series);
    const where = conditions({ ...params, series, customers: [params.customer] });
    const value = rollupAggregateText(series);
    const from = table(params.database);
    branches.push(
      sql`SELECT ${series.key} AS series, 'total' AS bucket, toUInt32(0) AS day_start, ${value} AS value FROM ${from} WHERE ${where}`,
      sql`SELECT ${series.key} AS series, 'day' AS bucket, ${day} AS day_start, ${value} AS value FROM ${from} WHERE ${where} GROUP BY day_start`,
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

export interface RollupTopCustomersParams extends RollupScope {
  limit: number;
}

/** The rows of `topCustomers` (customer, value), highest first, ties by customer id. */
export function rollupTopCustomers(params: RollupTopCustomersParams): SqlFragment {
  assertRollupSeries(params.series);
  return join(
    [
      sql`SELECT customer, ${rollupAggregateText(params.series)} AS value`,
      sql`FROM ${table(params.database)}`,
      sql`WHERE ${conditions(params)}`,
      sql`GROUP BY customer`,
      sql`ORDER BY ${rollupAggregate(params.series)} DESC, customer`,
      sql`LIMIT ${params.limit}`,
    ],
    '\n',
  );
}

/**
 * Several one-row totals (each a complete `SELECT ... value`, from the scan or the roll-up) as one
 * query with rows `(series, value)`, so a customer's every meter costs one round trip.
 */
export function seriesTotals(parts: ReadonlyArray<{ key: string; query: SqlFragment }>): SqlFragment {
  return join(
    parts.map((p) => sql`SELECT ${p.key} AS series, value FROM (${p.query})`),
    '\nUNION ALL\n',
  );
}

/**
 * Monthly event counts of `events` and of the roll-up, side by side: a month whose counts agree is
 * fully covered by the roll-up (the materialized view saw every insert). Months missing from either
 * side read 0.
 */
export function rollupCoverage(database: string): SqlFragment {
  return join(
    [
      sql`SELECT month, sum(raw) AS raw, sum(rolled) AS rolled FROM (`,
      sql`SELECT toYYYYMM(ts) AS month, count() AS raw, toUInt64(0) AS rolled FROM ${identifier(database, 'events')} GROUP BY month`,
      sql`UNION ALL`,
      sql`SELECT toYYYYMM(hour) AS month, toUInt64(0) AS raw, countMerge(events) AS rolled FROM ${table(database)} GROUP BY month`,
      sql`)`,
      sql`GROUP BY month`,
      sql`ORDER BY month`,
    ],
    '\n',
  );
}
