/**
 * A roll-up series' value from one customer's buckets (`rollupBuckets` in @tally/clickhouse reads
 * them once for every series): exact decimal arithmetic on the partial aggregates.
 */
import { seriesUsesRollup, type BucketRow } from '@tally/clickhouse';
import { D, type Dec, type Series } from '@tally/metering';

// D is metering's Decimal (precision 200, rounding down): far more than a Decimal(38, 12) sum of any
// number of rows needs, so every step is exact.
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
