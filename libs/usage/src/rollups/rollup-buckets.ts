/**
 * One customer's roll-up, read once: count, sum, min and max of `quantity` per event type (and per
 * local day), from which every roll-up series of every meter is computed here, exactly, instead of
 * one scan per series. A customer with ten meters then costs one small query, not ten (or twenty
 * with daily breakdowns): what keeps the per-customer endpoints within milliseconds on a busy server.
 */
import { identifier, join, ROLLUP_TABLE, rollupWindowStart, seriesUsesRollup, type SqlFragment, sql } from '@tally/clickhouse';
import type { Series } from '@tally/metering';
import { Decimal } from 'decimal.js';

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

// Far more precision than a Decimal(38, 12) sum of any number of rows needs: every step is exact.
const D = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_DOWN, toExpNeg: -9e15, toExpPos: 9e15 });
type Dec = InstanceType<typeof D>;
const SCALE = new D(10).pow(12);

/** Canonical decimal text, as the scan's trimmed `toString` prints it. */
function text(d: Dec): string {
  return d.isZero() ? '0' : d.toFixed();
}

/**
 * The value of a roll-up series over the given bucket rows (already narrowed to one day, or all of
 * the period): the same text the scan of `events` gives. Rows of event types the series does not
 * read are ignored. No rows: "0", like an empty aggregate in ClickHouse.
 */
export function seriesValue(series: Series, rows: readonly BucketRow[]): string {
  if (!seriesUsesRollup(series))
    throw new Error(`series '${series.key}' cannot be answered from the roll-up`);
  const types = new Set(series.eventTypes);
  let count = new D(0);
  let sum = new D(0);
  let min: Dec | undefined;
  let max: Dec | undefined;
  for (const row of rows) {
    if (!types.has(row.event_type)) continue;
    count = count.plus(row.events);
    sum = sum.plus(row.quantity_sum);
    const lo = new D(row.quantity_min);
    const hi = new D(row.quantity_max);
    if (min === undefined || lo.lt(min)) min = lo;
    if (max === undefined || hi.gt(max)) max = hi;
  }
  switch (series.aggregation) {
    case 'count':
      return count.toFixed(0);
    case 'sum':
      return text(sum);
    case 'min':
      return text(min ?? new D(0));
    case 'max':
      return text(max ?? new D(0));
    case 'avg':
      // ClickHouse divides the scaled Decimal by the UInt64 count and truncates toward zero.
      return text(
        sum
          .times(SCALE)
          .divToInt(count.isZero() ? 1 : count)
          .div(SCALE),
      );
    default:
      throw new Error(`aggregation '${series.aggregation}' has no roll-up`);
  }
}
