import { resolveSeries, validateMeterQueryParams, type MeterQueryParams } from '@tally/metering';
import { join, sql, identifier, type SqlFragment } from './quote';
import { aggregateText, eventsTable, propertyValue, seriesConditions, windowStart } from './meter-sql-parts';

/**
 * Usage of one meter (or profile) for a tenant over [from, to), optionally per window, per customer
 * and per group-by property, as rows of `MeterRow`, ordered by window, customer and groups.
 *
 * Without any grouping the query has no GROUP BY and always returns exactly one row (value "0" when
 * nothing matched); with grouping, only windows/groups that have events appear.
 */
export function meterQuery(params: MeterQueryParams): SqlFragment {
  validateMeterQueryParams(params);
  const series = resolveSeries(params.meter, params.profile);
  const select: SqlFragment[] = [];
  const keys: SqlFragment[] = [];
  if (params.window !== 'none') {
    select.push(sql`${windowStart(params.window, params.timezone)} AS window_start`);
    keys.push(sql`window_start`);
  }
  if (params.groupByCustomer) {
    select.push(sql`customer`);
    keys.push(sql`customer`);
  }
  (params.groupBy ?? []).forEach((property, i) => {
    // The alias is built from the position only: property names are values, never identifiers.
    const alias = identifier(`group_${i}`);
    select.push(sql`${propertyValue(property)} AS ${alias}`);
    keys.push(alias);
  });
  select.push(sql`${aggregateText(series)} AS value`);

  const clauses: SqlFragment[] = [
    sql`SELECT ${join(select)}`,
    sql`FROM ${eventsTable(params.database)}`,
    sql`WHERE ${join(seriesConditions(series, params), ' AND ')}`,
  ];
  if (keys.length) {
    clauses.push(sql`GROUP BY ${join(keys)}`);
    clauses.push(sql`ORDER BY ${join(keys)}`);
  }
  clauses.push(sql`LIMIT ${params.limit}`);
  return join(clauses, '\n');
}
