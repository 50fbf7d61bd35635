/**
 * What the roll-up tables hold and the pieces every roll-up builder shares. The roll-up builders
 * (`rollup-meter-query.ts`, `rollup-top-customers.ts`) return exactly the rows of the scan builders
 * over `events` (`meter-query.ts`, `top-customers.ts`: same columns, same text of values, same order)
 * for the series the roll-ups hold (`seriesUsesRollup`) and the ranges usage's `eligibility.ts` admits.
 * Every value goes through the quoting module; the only text written here is constant SQL.
 */
import { QUANTITY, type Series, type WindowSize } from '@tally/metering';
import { trimDecimalText } from './meter-sql-parts';
import { identifier, join, type SqlFragment, sql } from './quote';

/** Customer-first hourly roll-up (0003): one customer's range is a contiguous read. */
export const ROLLUP_TABLE = 'usage_hourly';
/** Daily roll-up and hour-first hourly roll-up (0006): questions about every customer at once. */
export const DAILY_TABLE = 'usage_daily';
export const BY_TIME_TABLE = 'usage_hourly_by_time';
export const ROLLUP_TABLES = [ROLLUP_TABLE, DAILY_TABLE, BY_TIME_TABLE] as const;
export type RollupTable = (typeof ROLLUP_TABLES)[number];

/**
 * Whether the roll-ups hold what this series aggregates (ignoring the request's range and zone): they
 * keep count, sum, min and max of `quantity` per (tenant, event type, customer, hour or day), so a
 * series that counts, or sums/mins/maxes/averages `quantity`, without filters.
 */
export function seriesUsesRollup(series: Series): boolean {
  if (series.filters.length > 0) return false;
  switch (series.aggregation) {
    case 'count':
      return true;
    case 'sum':
    case 'min':
    case 'max':
    case 'avg':
      return series.valueProperty === QUANTITY;
    default:
      return false;
  }
}

export interface RollupScope {
  /** The database holding `usage_hourly`. */
  database: string;
  tenant: string;
  series: Series;
  /** Whole UTC hours; `to` exclusive. */
  from: Date;
  to: Date;
  customers?: readonly string[];
}

export function assertRollupSeries(series: Series): void {
  // Callers decide with usage's eligibility.ts first; reaching this is a bug, not bad input.
  if (!seriesUsesRollup(series))
    throw new Error(`series '${series.key}' cannot be answered from the roll-up`);
}

/** The merged aggregate, unformatted (what ordering uses). Mirrors metering's `aggregateExpression`. */
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
  return trimDecimalText(sql`toString(${aggregate})`);
}

/** Window start over the `hour` column (the scan uses `ts`); the zone's offset is whole hours. */
export function rollupWindowStart(
  window: Exclude<WindowSize, 'none' | 'minute'>,
  timeZone: string,
): SqlFragment {
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

const DAY_MS = 86_400_000;

/** The whole UTC days inside `[from, to)` as `[start, end)`, or undefined when there is none. */
export function wholeUtcDays(from: Date, to: Date): { start: Date; end: Date } | undefined {
  const start = Math.ceil(from.getTime() / DAY_MS) * DAY_MS;
  const end = Math.floor(to.getTime() / DAY_MS) * DAY_MS;
  return start < end ? { start: new Date(start), end: new Date(end) } : undefined;
}

/** The state columns a series merges. */
function stateColumns(series: Series): SqlFragment {
  switch (series.aggregation) {
    case 'count':
      return sql`events`;
    case 'sum':
      return sql`quantity_sum`;
    case 'min':
      return sql`quantity_min`;
    case 'max':
      return sql`quantity_max`;
    default:
      return sql`quantity_sum, events`;
  }
}

/**
 * `(customer, <states>)` rows covering `[from, to)`: the whole UTC days from the daily roll-up, the
 * hours before the first and after the last of them from the hour-first roll-up (which reads just
 * those hours of every customer). Merging these states gives exactly what merging every hour gives.
 */
function tieredSource(scope: RollupScope, days: { start: Date; end: Date }): SqlFragment {
  const base = [sql`tenant = ${scope.tenant}`, sql`event_type IN (${join(scope.series.eventTypes)})`];
  if (scope.customers !== undefined) base.push(sql`customer IN (${join(scope.customers)})`);
  const columns = stateColumns(scope.series);
  const branches = [
    sql`SELECT customer, ${columns} FROM ${identifier(scope.database, DAILY_TABLE)} WHERE ${join([...base, sql`day >= ${days.start}`, sql`day < ${days.end}`], ' AND ')}`,
  ];
  const edges: SqlFragment[] = [];
  if (scope.from < days.start) edges.push(sql`(hour >= ${scope.from} AND hour < ${days.start})`);
  if (days.end < scope.to) edges.push(sql`(hour >= ${days.end} AND hour < ${scope.to})`);
  if (edges.length) {
    branches.push(
      sql`SELECT customer, ${columns} FROM ${identifier(scope.database, BY_TIME_TABLE)} WHERE ${join([...base, sql`(${join(edges, ' OR ')})`], ' AND ')}`,
    );
  }
  return join(branches, ' UNION ALL ');
}

/** FROM and WHERE of a roll-up query: the customer-first hourly table, or the tiered source. */
export function rollupSource(scope: RollupScope, tiered: boolean): SqlFragment[] {
  const days = tiered ? wholeUtcDays(scope.from, scope.to) : undefined;
  if (days) return [sql`FROM (${tieredSource(scope, days)})`];
  return [sql`FROM ${table(scope.database)}`, sql`WHERE ${conditions(scope)}`];
}

