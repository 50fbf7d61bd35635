import { identifier, raw, sql, type SqlFragment } from './quote';

export interface InvoicedCustomersParams {
  database: string;
  tenant: string;
  period: string;
  /** The page starts after this customer (exclusive); undefined: from the first. */
  after?: string;
  /** Page size (at least 1, whole). */
  limit: number;
}

/**
 * One page of the customers with a document in the ledger for a period, in sorted order (the closed
 * periods' customers). No FINAL: a duplicate row names the same customer, which DISTINCT collapses.
 */
export function invoicedCustomersQuery(p: InvoicedCustomersParams): SqlFragment {
  const from = p.after === undefined ? sql`` : sql` AND customer > ${p.after}`;
  // The line break and indentation are those of the statement before it moved here (same text).
  return sql`SELECT DISTINCT customer FROM ${identifier(p.database, 'invoices')} WHERE tenant = ${p.tenant} AND period = ${p.period}${from}
          ORDER BY customer LIMIT ${raw(String(Math.max(1, Math.floor(p.limit))))}`;
}
