import { join, type SqlFragment, sql } from './quote';
import { assertRollupSeries, rollupAggregate, rollupAggregateText, rollupSource, type RollupScope } from './rollup-sql-parts';

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
      ...rollupSource(params, params.tiered === true),
      sql`GROUP BY customer`,
      sql`ORDER BY ${rollupAggregate(params.series)} DESC, customer`,
      sql`LIMIT ${params.limit}`,
    ],
    '\n',
  );
}

