import { join, sql, type SqlFragment } from './quote';

/**
 * Which documents of the invoice ledger a read selects (`invoices` and, with the same condition, their
 * `invoice_completeness` watermarks; migrations `0005_invoices` and `0007`): one document by id, one
 * customer's documents (of one period or all), or one period's documents of several customers.
 */
export type InvoiceSelection =
  | { tenant: string; invoiceId: string }
  | { tenant: string; customer: string; period?: string }
  | { tenant: string; period: string; customers: readonly string[] };

/** The WHERE condition of a selection (shared by `invoiceDocumentsQuery` and `invoiceWatermarksQuery`). */
export function invoiceSelectionWhere(s: InvoiceSelection): SqlFragment {
  if ('invoiceId' in s) return sql`tenant = ${s.tenant} AND invoice_id = ${s.invoiceId}`;
  if ('customers' in s) {
    if (s.customers.length === 0) throw new RangeError('select the documents of at least one customer');
    return sql`tenant = ${s.tenant} AND period = ${s.period} AND customer IN (${join(s.customers)})`;
  }
  return s.period === undefined
    ? sql`tenant = ${s.tenant} AND customer = ${s.customer}`
    : sql`tenant = ${s.tenant} AND customer = ${s.customer} AND period = ${s.period}`;
}
