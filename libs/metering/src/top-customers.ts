import { type Filter, type MeterDefinition, resolveSeries } from './meter';
import type { Quoter, SqlText } from './quoter';
import { aggregateExpression, aggregateText, eventsTable, ParamIssues, seriesConditions } from './sql-parts';

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
export function topCustomers<F extends SqlText>(q: Quoter<F>, params: TopCustomersParams): F {
  const issues = new ParamIssues();
  issues.tenant(params.tenant);
  issues.range(params.from, params.to);
  issues.limit(params.limit);
  issues.filters(params.extraFilters);
  if (params.profile !== undefined && !params.meter.profiles.some((p) => p.key === params.profile)) {
    issues.add(
      'profile',
      'UNKNOWN_PROFILE',
      `meter '${params.meter.key}' has no profile '${params.profile}'`,
    );
  }
  issues.throwIfAny();

  const series = resolveSeries(params.meter, params.profile);
  return q.join(
    [
      q.sql`SELECT customer, ${aggregateText(q, series)} AS value`,
      q.sql`FROM ${eventsTable(q, params.database)}`,
      q.sql`WHERE ${q.join(seriesConditions(q, series, params), ' AND ')}`,
      q.sql`GROUP BY customer`,
      q.sql`ORDER BY ${aggregateExpression(q, series)} DESC, customer`,
      q.sql`LIMIT ${params.limit}`,
    ],
    '\n',
  );
}
