import type { Filter, MeterDefinition } from './meter';
import { resolveSeries } from './meter';
import type { Quoter, SqlText } from './quoter';
import {
  aggregateText,
  eventsTable,
  ParamIssues,
  propertyValue,
  seriesConditions,
  windowStart,
  WINDOW_SIZES,
  type WindowSize,
} from './sql-parts';

export interface MeterQueryParams {
  /** The ClickHouse database holding `events` (validated by the quoter's `identifier`). */
  database: string;
  tenant: string;
  meter: MeterDefinition;
  /** Aggregate one of the meter's profiles instead of the meter itself. */
  profile?: string;
  /** Inclusive start, whole seconds. */
  from: Date;
  /** Exclusive end, whole seconds. */
  to: Date;
  window: WindowSize;
  /** IANA zone in which hour, day and month windows start. */
  timezone: string;
  /** Only these customers (external ids). */
  customers?: readonly string[];
  /** One row per customer (`customer` column). */
  groupByCustomer?: boolean;
  /** Properties to group by; each must be listed in the meter's `groupBy`. */
  groupBy?: readonly string[];
  /** Filters applied on top of the meter's (and the profile's), e.g. from a query string. */
  extraFilters?: readonly Filter[];
  limit: number;
}

/**
 * One result row of `meterQuery`. Columns present depend on the parameters: `window_start` (epoch
 * seconds, UInt32) unless `window` is `none`; `customer` with `groupByCustomer`; `group_<i>` holds the
 * value of `groupBy[i]` ('' for events without it). `value` is always exact decimal text.
 */
export interface MeterRow {
  window_start?: number;
  customer?: string;
  value: string;
  [group: `group_${number}`]: string;
}

/** Checks the parameters of `meterQuery` (also used by the in-memory reference). */
export function validateMeterQueryParams(params: Omit<MeterQueryParams, 'database'>): void {
  const issues = new ParamIssues();
  issues.tenant(params.tenant);
  issues.range(params.from, params.to);
  if (!(WINDOW_SIZES as readonly string[]).includes(params.window)) {
    issues.add('window', 'INVALID_VALUE', `window must be one of ${WINDOW_SIZES.join(', ')}`);
  }
  issues.timeZone(params.timezone);
  issues.customers(params.customers);
  issues.limit(params.limit);
  issues.filters(params.extraFilters);
  const allowed = new Set(params.meter.groupBy);
  (params.groupBy ?? []).forEach((g, i) => {
    if (!allowed.has(g)) {
      issues.add(
        `groupBy[${i}]`,
        'GROUP_BY_NOT_IN_METER',
        `meter '${params.meter.key}' cannot be grouped by '${g}'; it allows: ${params.meter.groupBy.join(', ') || '(none)'}`,
      );
    }
    if ((params.groupBy ?? []).indexOf(g) !== i)
      issues.add(`groupBy[${i}]`, 'DUPLICATE', `'${g}' appears twice`);
  });
  if (params.profile !== undefined && !params.meter.profiles.some((p) => p.key === params.profile)) {
    issues.add(
      'profile',
      'UNKNOWN_PROFILE',
      `meter '${params.meter.key}' has no profile '${params.profile}'`,
    );
  }
  issues.throwIfAny();
}

/**
 * Usage of one meter (or profile) for a tenant over [from, to), optionally per window, per customer
 * and per group-by property, as rows of `MeterRow`, ordered by window, customer and groups.
 *
 * Without any grouping the query has no GROUP BY and always returns exactly one row (value "0" when
 * nothing matched); with grouping, only windows/groups that have events appear.
 */
export function meterQuery<F extends SqlText>(q: Quoter<F>, params: MeterQueryParams): F {
  validateMeterQueryParams(params);
  const series = resolveSeries(params.meter, params.profile);
  const select: F[] = [];
  const keys: F[] = [];
  if (params.window !== 'none') {
    select.push(q.sql`${windowStart(q, params.window, params.timezone)} AS window_start`);
    keys.push(q.sql`window_start`);
  }
  if (params.groupByCustomer) {
    select.push(q.sql`customer`);
    keys.push(q.sql`customer`);
  }
  (params.groupBy ?? []).forEach((property, i) => {
    // The alias is built from the position only: property names are values, never identifiers.
    const alias = q.identifier(`group_${i}`);
    select.push(q.sql`${propertyValue(q, property)} AS ${alias}`);
    keys.push(alias);
  });
  select.push(q.sql`${aggregateText(q, series)} AS value`);

  const clauses: F[] = [
    q.sql`SELECT ${q.join(select)}`,
    q.sql`FROM ${eventsTable(q, params.database)}`,
    q.sql`WHERE ${q.join(seriesConditions(q, series, params), ' AND ')}`,
  ];
  if (keys.length) {
    clauses.push(q.sql`GROUP BY ${q.join(keys)}`);
    clauses.push(q.sql`ORDER BY ${q.join(keys)}`);
  }
  clauses.push(q.sql`LIMIT ${params.limit}`);
  return q.join(clauses, '\n');
}
