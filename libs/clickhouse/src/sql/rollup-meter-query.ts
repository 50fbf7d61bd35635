import type { WindowSize } from '@tally/metering';
import { join, type SqlFragment, sql } from './quote';
import { assertRollupSeries, rollupAggregateText, rollupSource, rollupWindowStart, type RollupScope } from './rollup-sql-parts';

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
    ...rollupSource(params, params.window === 'none' && params.tiered === true),
  ];
  if (keys.length) {
    clauses.push(sql`GROUP BY ${join(keys)}`);
    clauses.push(sql`ORDER BY ${join(keys)}`);
  }
  clauses.push(sql`LIMIT ${params.limit}`);
  return join(clauses, '\n');
}

