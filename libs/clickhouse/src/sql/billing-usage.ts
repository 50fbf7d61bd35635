/**
 * The two queries an invoice needs, for many customers of one tenant at once (the billing run prices
 * customers in batches; one query per batch instead of one per customer is what keeps 10,000 invoices
 * within minutes on small hardware). Built like the builders of
 * `libs/clickhouse/src/sql/`: every value goes through its `quote.ts`.
 */
import { join, sql, type SqlFragment } from './quote';
import { meterQuery } from './meter-query';
import type { MeterDefinition } from '@tally/metering';

/** One series a plan prices: a meter, or one of its profiles (`meter:profile`). */
export interface SeriesRef {
  key: string;
  meter: MeterDefinition;
  profile?: string;
  /** The meter's catalog version (queries of different versions are never shared). */
  version?: number;
}

export interface BillingUsageParams {
  database: string;
  tenant: string;
  customers: readonly string[];
  series: readonly SeriesRef[];
  /** Whole seconds; the same range for every customer of the query. */
  from: Date;
  to: Date;
  timezone: string;
}

/**
 * A row of `billingUsageQuery`: `bucket` `total` (one per customer and series that has events,
 * `day_start` 0) or `day` (one per local day with events, `day_start` = the day's first instant in
 * epoch seconds). `value` is exact decimal text.
 */
export interface BillingUsageRow {
  series: string;
  bucket: 'total' | 'day';
  customer: string;
  day_start: number;
  value: string;
}

/** Most days a period can have (a month), for the per-day branch's LIMIT. */
const MAX_DAYS = 32;

/**
 * Period totals and per-day usage of every series for many customers, in one round trip: for each
 * series the meter's own query (`meterQuery`, grouped by customer) once without windows and once per
 * local day, as UNION ALL. Totals are aggregated over the whole period, never summed from days, so
 * unique counts, maxima, latest values and averages are right.
 */
export function billingUsageQuery(p: BillingUsageParams): SqlFragment {
  const branches: SqlFragment[] = [];
  for (const s of p.series) {
    const base = {
      database: p.database,
      tenant: p.tenant,
      meter: s.meter,
      ...(s.profile !== undefined ? { profile: s.profile } : {}),
      from: p.from,
      to: p.to,
      timezone: p.timezone,
      customers: p.customers,
      groupByCustomer: true,
    };
    const total = meterQuery({ ...base, window: 'none', limit: p.customers.length });
    const days = meterQuery({ ...base, window: 'day', limit: p.customers.length * MAX_DAYS });
    branches.push(
      sql`SELECT ${s.key} AS series, 'total' AS bucket, customer, toUInt32(0) AS day_start, value FROM (${total})`,
      sql`SELECT ${s.key} AS series, 'day' AS bucket, customer, window_start AS day_start, value FROM (${days})`,
    );
  }
  return join(branches, '\nUNION ALL\n');
}
