import { identifier, sql, type SqlFragment } from './quote';
import { invoiceSelectionWhere, type InvoiceSelection } from './invoice-sql-parts';

/** Every column of a document (the row `@tally/billing`'s `documentOfRow` reads), times as epoch seconds. */
const DOCUMENT_COLUMNS = sql`tenant, customer, period, invoice_id, kind, version, references_invoice_id, currency,
  subtotal_minor, total_minor, cumulative_total_minor, lines, effective_lines, usage, pricing,
  usage_event_count, usage_checksum, late_event_count, timezone,
  toUInt32(period_start) AS period_start, toUInt32(period_end) AS period_end, issued_by, toUInt32(created_at) AS created_at`;

/**
 * The same without the two largest texts a recomputation does not need: the document's own lines (an
 * adjustment's changes; `effective_lines` stay) and its usage with the daily breakdown.
 */
const PRICING_COLUMNS = sql`tenant, customer, period, invoice_id, kind, version, references_invoice_id, currency,
  subtotal_minor, total_minor, cumulative_total_minor, '[]' AS lines, effective_lines, '{}' AS usage, pricing,
  usage_event_count, usage_checksum, late_event_count, timezone,
  toUInt32(period_start) AS period_start, toUInt32(period_end) AS period_end, issued_by, toUInt32(created_at) AS created_at`;

export interface InvoiceDocumentsParams {
  database: string;
  selection: InvoiceSelection;
  /** Without `lines` and `usage` (read as `'[]'` and `'{}'`), for readers that only re-price. */
  pricingOnly?: boolean;
}

/**
 * The invoice ledger's documents (`invoices`, a ReplacingMergeTree read with FINAL so a document
 * written twice is seen once), oldest period first, each period's invoice before its adjustments.
 */
export function invoiceDocumentsQuery(p: InvoiceDocumentsParams): SqlFragment {
  const columns = p.pricingOnly ? PRICING_COLUMNS : DOCUMENT_COLUMNS;
  return sql`SELECT ${columns} FROM ${identifier(p.database, 'invoices')} FINAL WHERE ${invoiceSelectionWhere(p.selection)} ORDER BY period, customer, version`;
}
