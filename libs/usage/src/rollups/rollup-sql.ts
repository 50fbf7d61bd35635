/**
 * SQL over the hourly roll-up `usage_hourly` that returns exactly the rows of the meter query
 * builders (`libs/clickhouse/src/sql/`) over `events` (same columns, same text of values, same
 * order), for the series and ranges `eligibility.ts` admits. Every value goes through the quoting module; the only text written here is
 * constant SQL.
 */
import { identifier, join, type SqlFragment, sql, trimDecimalText } from '@tally/clickhouse';
import type { Series, WindowSize } from '@tally/metering';
import { seriesUsesRollup } from './eligibility';

/** Customer-first hourly roll-up (0003): one customer's range is a contiguous read. */
export const ROLLUP_TABLE = 'usage_hourly';
/** Daily roll-up and hour-first hourly roll-up (0006): questions about every customer at once. */
export const DAILY_TABLE = 'usage_daily';
export const BY_TIME_TABLE = 'usage_hourly_by_time';
export const ROLLUP_TABLES = [ROLLUP_TABLE, DAILY_TABLE, BY_TIME_TABLE] as const;
export type RollupTable = (typeof ROLLUP_TABLES)[number];

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
  if (!seriesUsesRollup(series))
    throw new Error(`series '${series.key}' cannot be answered from the roll-up`);
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
function source(scope: RollupScope, tiered: boolean): SqlFragment[] {
  const days = tiered ? wholeUtcDays(scope.from, scope.to) : undefined;
  if (days) return [sql`FROM (${tieredSource(scope, days)})`];
  return [sql`FROM ${table(scope.database)}`, sql`WHERE ${conditions(scope)}`];
}

export interface RollupMeterQueryParams extends RollupScope {
  window: Exclude<WindowSize, 'minute'>;
  timezone: string;
  groupByCustomer?: boolean;
  limit: number;
  /**
   * Read whole UTC days from the daily roll-up and only the hours at the ends from the hour-first one
   * (window `none` only): for questions about many customers. Ignored for windows.
   */
  tiered?: boolean;
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
    ...source(params, params.window === 'none' && params.tiered === true),
  ];
  if (keys.length) {
    clauses.push(sql`GROUP BY ${join(keys)}`);
    clauses.push(sql`ORDER BY ${join(keys)}`);
  }
  clauses.push(sql`LIMIT ${params.limit}`);
  return join(clauses, '\n');
}

export interface RollupTopCustomersParams extends RollupScope {
  limit: number;
  /** See `RollupMeterQueryParams.tiered`. */
  tiered?: boolean;
}

/** The rows of `topCustomers` (customer, value), highest first, ties by customer id. */
export function rollupTopCustomers(params: RollupTopCustomersParams): SqlFragment {
  assertRollupSeries(params.series);
  return join(
    [
      sql`SELECT customer, ${rollupAggregateText(params.series)} AS value`,
      ...source(params, params.tiered === true),
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
 * Monthly event counts of `events` and of each roll-up table in `tables`, as rows (month, source, n):
 * a month whose counts agree is fully covered by that roll-up (its view saw every insert). With
 * `eventCounts: 'parts'` the counts of `events` come from `system.parts` (exact for a local MergeTree,
 * and free: no scan of billions of rows every minute); a Distributed `events` (cluster mode) is
 * counted with a scan.
 */
export function rollupCoverage(
  database: string,
  eventCounts: 'parts' | 'scan',
  tables: readonly RollupTable[],
): SqlFragment {
  const branches = [
    eventCounts === 'parts'
      ? sql`SELECT toUInt32(partition) AS month, 'events' AS source, sum(rows) AS n FROM system.parts WHERE database = ${database} AND table = 'events' AND active GROUP BY month`
      : sql`SELECT toYYYYMM(ts) AS month, 'events' AS source, count() AS n FROM ${identifier(database, 'events')} GROUP BY month`,
  ];
  for (const name of tables) {
    const time = name === DAILY_TABLE ? sql`day` : sql`hour`;
    branches.push(
      sql`SELECT toYYYYMM(${time}) AS month, ${name} AS source, countMerge(events) AS n FROM ${identifier(database, name)} GROUP BY month`,
    );
  }
  return join(
    [
      sql`SELECT month, source, sum(n) AS n FROM (`,
      join(branches, '\nUNION ALL\n'),
      sql`)`,
      sql`GROUP BY month, source`,
    ],
    '\n',
  );
}

/** The engine of `events` and which roll-up tables exist (a database may predate a migration). */
export function rollupTables(database: string): SqlFragment {
  return sql`SELECT name, engine FROM system.tables WHERE database = ${database} AND name IN (${join(['events', ...ROLLUP_TABLES])})`;
}
