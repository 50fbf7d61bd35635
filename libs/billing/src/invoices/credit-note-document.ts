/**
 * Credit notes on request: a new document of the period that gives back all, some lines or part of a
 * line of what the period billed, never more than is left after earlier credit notes.
 */
import type { InvoiceDocument } from '@tally/billing-contracts';
import { ValidationFailedError } from '@tally/errors';
import { computeCreditNote, type CreditNoteRequest, type FinalLine } from '@tally/pricing';
import { creditNoteDocumentId } from './document-ids';
import { lineIdOf } from './finance';

/** The invoice's final lines (after discounts, credits, taxes) as a credit note credits them. */
export function creditableLines(latest: InvoiceDocument): FinalLine[] {
  if (latest.finance) return latest.finance.lines;
  return latest.effectiveLines.map((l) => ({
    lineId: lineIdOf(l),
    chargeId: l.chargeId,
    plan: l.plan,
    name: l.name,
    amountMinor: l.amountMinor,
    discounts: [],
    discountMinor: '0',
    creditMinor: '0',
    taxableMinor: l.amountMinor,
    taxes: [],
    netMinor: l.amountMinor,
    totalMinor: l.amountMinor,
  }));
}

/**
 * A credit note on request against the invoice of a period (`docs`: every document of the period):
 * full (no `lines`), per line (a line without amount: its rest), or partial (an amount of a line),
 * never more than is left of a line after earlier credit notes (`@tally/pricing` `computeCreditNote`).
 * A new document, version n+1: it changes no line (`effectiveLines`, `finance`, usage as the newest
 * document has them) and owes minus what it gives back. Pure.
 */
export function computeCreditNoteDocument(
  docs: readonly InvoiceDocument[],
  request: CreditNoteRequest & { reason: string },
  meta: { issuedBy: string; createdAt: string },
): InvoiceDocument {
  const invoice = docs.find((d) => d.version === 1);
  if (!invoice)
    throw new ValidationFailedError([{ field: 'invoiceId', code: 'NOT_AN_INVOICE', message: 'no invoice' }]);
  const latest = docs.reduce((a, b) => (b.version > a.version ? b : a), invoice);
  const earlier = docs.flatMap((d) => (d.creditNote ? [{ lines: d.creditNote.lines }] : []));
  const amounts = computeCreditNote(creditableLines(latest), earlier, {
    ...(request.lines ? { lines: request.lines } : {}),
  });
  if (amounts.totalMinor === '0' && amounts.lines.length === 0)
    throw new ValidationFailedError([
      { field: 'lines', code: 'NOTHING_TO_CREDIT', message: 'everything asked for is already credited' },
    ]);
  const version = docs.reduce((m, d) => Math.max(m, d.version), 0) + 1;
  const id = creditNoteDocumentId(invoice.tenant, invoice.customer, invoice.period, version);
  const number = id.replace(/^adj-/, 'cn-');
  const billed = docs.reduce((s, d) => s + BigInt(d.totalMinor), 0n);
  const total = -BigInt(amounts.totalMinor);
  return {
    ...latest,
    invoiceId: id,
    kind: 'adjustment',
    version,
    referencesInvoiceId: invoice.invoiceId,
    lines: [],
    subtotalMinor: '0',
    totalMinor: total.toString(),
    cumulativeTotalMinor: (billed + total).toString(),
    creditNoteNumber: number,
    creditNote: { number, reason: request.reason, ...amounts },
    lateEventCount: 0,
    issuedBy: meta.issuedBy,
    createdAt: meta.createdAt,
    completeThrough: undefined,
  };
}
