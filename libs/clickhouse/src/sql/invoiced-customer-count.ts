import { identifier, sql, type SqlFragment } from './quote';

/** How many customers have a document in the ledger for a period: one row, `n` as decimal text. */
export function invoicedCustomerCountQuery(database: string, tenant: string, period: string): SqlFragment {
  return sql`SELECT toString(uniqExact(customer)) AS n FROM ${identifier(database, 'invoices')} WHERE tenant = ${tenant} AND period = ${period}`;
}
