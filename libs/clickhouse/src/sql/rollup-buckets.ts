/**
 * One customer's roll-up, read once: count, sum, min and max of `quantity` per event type (and per
 * local day), from which every roll-up series of every meter is computed here, exactly, instead of
 * one scan per series (usage's `seriesValue` does that). A customer with ten meters then costs one
 * small query, not ten (or twenty with daily breakdowns): what keeps the per-customer endpoints within
 * milliseconds on a busy server.
 */
import { identifier, join, type SqlFragment, sql } from './quote';
import { ROLLUP_TABLE, rollupWindowStart } from './rollup-sql-parts';

/** One row of `rollupBuckets`; numbers are exact text (`exactNumbers`). */
export interface BucketRow {
  event_type: string;
  /** Epoch seconds of the local day start, with `byDay`. */
  day_start?: string;
  events: string;
  quantity_sum: string;
  quantity_min: string;
  quantity_max: string;
}

export interface RollupBucketsParams {
  database: string;
  tenant: string;
  customer: string;
  eventTypes: readonly string[];
  /** Whole UTC hours. */
  from: Date;
  to: Date;
  /** Group by local day in this zone (whose offset is whole hours over the range). */
  byDayIn?: string;
}

export function rollupBuckets(params: RollupBucketsParams): SqlFragment {
  const select = [sql`event_type`];
  const keys = [sql`event_type`];
  if (params.byDayIn !== undefined) {
    select.push(sql`${rollupWindowStart('day', params.byDayIn)} AS day_start`);
    keys.push(sql`day_start`);
  }
  select.push(
    sql`countMerge(events) AS events`,
    sql`sumMerge(quantity_sum) AS quantity_sum`,
    sql`minMerge(quantity_min) AS quantity_min`,
    sql`maxMerge(quantity_max) AS quantity_max`,
  );
  return join(
    [
      sql`SELECT ${join(select)}`,
      sql`FROM ${identifier(params.database, ROLLUP_TABLE)}`,
      sql`WHERE tenant = ${params.tenant} AND customer = ${params.customer} AND event_type IN (${join(params.eventTypes)}) AND hour >= ${params.from} AND hour < ${params.to}`,
      sql`GROUP BY ${join(keys)}`,
    ],
    '\n',
  );
}
