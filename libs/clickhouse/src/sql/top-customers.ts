import { ParamIssues, resolveSeries, type Filter, type MeterDefinition } from '@tally/metering';
import { join, sql, type SqlFragment } from './quote';
import { aggregateExpression, aggregateText, eventsTable, seriesConditions } from './meter-sql-parts';

export interface TopCustomersParams {
  database: string;
  tenant: string;
  meter: MeterDefinition;
  profile?: string;
  from: Date;
  to: Date;
  extraFilters?: readonly Filter[];
  /** How many customers to return. */
  limit: number;
}

/** One row of `topCustomers`: the customer's external id and its usage as exact decimal text. */
export interface TopCustomerRow {
  customer: string;
  value: string;
}

/**
 * The customers with the highest usage of a meter (or profile) over [from, to), highest first; ties
 * are ordered by customer id so that pages are stable. Ordering uses the numeric aggregate, not its text.
 */
export function topCustomers(params: TopCustomersParams): SqlFragment {
  const issues = new ParamIssues();
  issues.tenant(params.tenant);
  issues.range(params.from, params.to);
  issues.limit(params.limit);
  issues.filters(params.extraFilters);
  issues.profile(params.meter, params.profile);
  issues.throwIfAny();

  const series = resolveSeries(params.meter, params.profile);
  return join(
    [
      sql`SELECT customer, ${aggregateText(series)} AS value`,
      sql`FROM ${eventsTable(params.database)}`,
      sql`WHERE ${join(seriesConditions(series, params), ' AND ')}`,
      sql`GROUP BY customer`,
      sql`ORDER BY ${aggregateExpression(series)} DESC, customer`,
      sql`LIMIT ${params.limit}`,
    ],
    '\n',
  );
}
