import { identifier, sql, type SqlFragment } from './quote';
import { invoiceSelectionWhere, type InvoiceSelection } from './invoice-sql-parts';

/** A row of `invoiceWatermarksQuery`: `complete_through` in epoch seconds. */
export interface InvoiceWatermarkRow {
  invoice_id: string;
  complete_through: string;
}

/**
 * The completeness watermarks (`invoice_completeness`, migration `0007`, read with FINAL) of the
 * documents a selection reads: the same condition as `invoiceDocumentsQuery`.
 */
export function invoiceWatermarksQuery(database: string, selection: InvoiceSelection): SqlFragment {
  return sql`SELECT invoice_id, toUInt32(complete_through) AS complete_through FROM ${identifier(database, 'invoice_completeness')} FINAL WHERE ${invoiceSelectionWhere(selection)}`;
}
