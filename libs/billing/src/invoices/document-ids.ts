/**
 * Document ids and credit-note numbers: derived from what a document is (tenant, customer, period,
 * version or threshold), never drawn, so a retried write writes the same row and numbers never repeat.
 */
import { createHash } from 'node:crypto';
import type { InvoiceDocument } from '@tally/billing-contracts';

/** Deterministic document id from (tenant, customer, period, version): a retried write writes the same row. */
export function invoiceId(tenant: string, customer: string, period: string, version: number): string {
  const digest = createHash('sha256')
    .update(`${tenant}\u0000${customer}\u0000${period}\u0000${version}`)
    .digest('hex')
    .slice(0, 16);
  return `${version === 1 ? 'inv' : 'adj'}-${period}-${digest}-v${version}`;
}

/**
 * The id of the interim invoice issued when the period's accrued amount had reached `thresholdsCrossed`
 * thresholds: `int-<period>-<16 hex>-t<n>`. One id per threshold, so a retried or repeated issue of the
 * same crossing writes the same row.
 */
export function interimInvoiceId(
  tenant: string,
  customer: string,
  period: string,
  thresholdsCrossed: string,
): string {
  const digest = createHash('sha256')
    .update(`${tenant}\u0000${customer}\u0000${period}\u0000interim\u0000${thresholdsCrossed}`)
    .digest('hex')
    .slice(0, 16);
  return `int-${period}-${digest}-t${thresholdsCrossed}`;
}

export const INVOICE_ID_PATTERN =
  /^(?:(?:inv|adj)-\d{4}-\d{2}-[0-9a-f]{16}-v\d{1,9}|int-\d{4}-\d{2}-[0-9a-f]{16}-t\d{1,40})$/;

/**
 * The number of the credit note a downward adjustment is: `cn-<period>-<16 hex>-v<n>`, derived like
 * document ids (the same adjustment always gets the same number; numbers never repeat).
 */
export function creditNoteNumber(invoice: Pick<InvoiceDocument, 'invoiceId'>, version: number): string {
  return invoice.invoiceId.replace(/^inv-/, 'cn-').replace(/-v\d+$/, `-v${version}`);
}

/**
 * The id of a credit note issued on request at `version`: an adjustment id whose digest also covers
 * "credit-note", so it never collides with the rebill adjustment of the same version (both are kept).
 */
export function creditNoteDocumentId(
  tenant: string,
  customer: string,
  period: string,
  version: number,
): string {
  const digest = createHash('sha256')
    .update(`${tenant}\u0000${customer}\u0000${period}\u0000${version}\u0000credit-note`)
    .digest('hex')
    .slice(0, 16);
  return `adj-${period}-${digest}-v${version}`;
}
