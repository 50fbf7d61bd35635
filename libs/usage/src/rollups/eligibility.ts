/**
 * When the hourly roll-up (`usage_hourly`, migration 0003) gives exactly the answer of a scan of
 * `events`. It holds count, sum, min and max of `quantity` per (tenant, event type, customer, UTC
 * hour), so it can answer a series that
 *
 * - aggregates `count`, or `sum`/`min`/`max`/`avg` of `quantity` (`avg` = sum / count, as the scan),
 * - has no filters (its own, its meter's, or the request's) and no group-by property,
 * - over a range of whole UTC hours, with windows (hour, day, month; never minute) whose starts fall
 *   on UTC hours: true for every zone whose UTC offset is a whole number of hours over the range.
 *
 * Anything else (unique counts, latest values, property values, filters, half-hour zones such as
 * Asia/Kolkata) scans `events`.
 */
import { seriesUsesRollup } from '@tally/clickhouse';
import type { MeterDefinition, WindowSize } from '@tally/metering';
import { allSeries, utcOffsetSeconds } from '@tally/metering';

export type RollupAggregation = 'count' | 'sum' | 'min' | 'max' | 'avg';

/** Whether every series of the meter (itself and each profile) can use the roll-up. */
export function meterUsesRollup(meter: MeterDefinition): boolean {
  return allSeries(meter).every(seriesUsesRollup);
}

const HOUR = 3600;
const alignedYears = new Map<string, boolean>();

/** Whether the zone's UTC offset is a whole number of hours throughout one UTC year. */
function zoneAlignedInYear(timeZone: string, year: number): boolean {
  const key = `${timeZone}|${year}`;
  let aligned = alignedYears.get(key);
  if (aligned === undefined) {
    aligned = true;
    const start = Date.UTC(year, 0, 1) / 1000;
    const end = Date.UTC(year + 1, 0, 1) / 1000;
    // Offsets change at most a few times a year and never for less than a day: a 6-hour step sees them.
    for (let t = start; t <= end && aligned; t += 6 * HOUR)
      aligned = utcOffsetSeconds(t, timeZone) % HOUR === 0;
    if (alignedYears.size > 10_000) alignedYears.clear();
    alignedYears.set(key, aligned);
  }
  return aligned;
}

/**
 * Whether the range and windows can be answered from hourly buckets: `from` and `to` on whole UTC
 * hours, and (for hour, day and month windows) the zone's offset a whole number of hours over the range.
 */
export function rangeUsesRollup(from: Date, to: Date, window: WindowSize, timeZone: string): boolean {
  const f = from.getTime() / 1000;
  const t = to.getTime() / 1000;
  if (f % HOUR !== 0 || t % HOUR !== 0) return false;
  if (window === 'minute') return false;
  if (window === 'none') return true;
  const first = new Date(f * 1000).getUTCFullYear();
  const last = new Date(t * 1000).getUTCFullYear();
  for (let year = first; year <= last; year++) if (!zoneAlignedInYear(timeZone, year)) return false;
  return true;
}

/** `YYYYMM` (as ClickHouse's `toYYYYMM`, in UTC) of every month the range touches. */
export function monthsOf(from: Date, to: Date): number[] {
  const months: number[] = [];
  const last = new Date(to.getTime() - 1000);
  let year = from.getUTCFullYear();
  let month = from.getUTCMonth() + 1;
  const lastKey = last.getUTCFullYear() * 100 + last.getUTCMonth() + 1;
  for (let key = year * 100 + month; key <= lastKey; key = year * 100 + month) {
    months.push(key);
    month++;
    if (month > 12) {
      month = 1;
      year++;
    }
  }
  return months;
}
