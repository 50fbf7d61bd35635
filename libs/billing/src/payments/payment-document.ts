/**
 * What a payment provider receives for a document of the ledger (docs/documents.md#payment-export):
 * invoices, interim and supplementary invoices become provider invoices, credit notes and downward
 * adjustments become provider credit notes against the invoice they correct. Pure: the lines and their
 * amounts are the document's own, and they always add up to what the document bills (checked here), so
 * the provider's total equals Tally's to the minor unit.
 */
import type { AdjustmentLine, InvoiceDocument, InvoiceLine } from '@tally/billing-contracts';
import { BillingRejectedError } from '../errors';

export interface PaymentLine {
  description: string;
  /** Minor units; negative for what the document takes off (discounts, credits, interim invoices). */
  amountMinor: string;
}

export interface PaymentDocument {
  tenant: string;
  customer: string;
  /** The ledger document's id: the export's identity at the provider (metadata, idempotency keys). */
  documentId: string;
  kind: 'invoice' | 'credit_note';
  /** A credit note: the Tally invoice it credits (exported first). */
  creditsDocumentId?: string;
  /** Tally's number of a credit note (`cn-...`), or the document id. */
  number: string;
  period: string;
  currency: string;
  lines: PaymentLine[];
  /** Σ lines: what the invoice bills, or what the credit note gives back (positive). */
  totalMinor: string;
  memo: string;
}

/** The port of a payment provider (Stripe first): creates the document there, idempotently. */
export interface PaymentProvider {
  /** `stripe`: names the provider in the export ledger. */
  readonly name: string;
  /**
   * Creates `doc` at the provider and returns its id there. Must be safe to call again for the same
   * document after a crash (idempotency keys derived from `doc.documentId`). `creditedExternalId`: for a
   * credit note, the provider's id of the invoice it credits.
   */
  exportDocument(doc: PaymentDocument, creditedExternalId?: string): Promise<string>;
}

const sum = (lines: readonly PaymentLine[]) => lines.reduce((s, l) => s + BigInt(l.amountMinor), 0n);

function chargeLines(doc: InvoiceDocument): PaymentLine[] {
  return (doc.lines as InvoiceLine[]).map((l) => ({
    description: l.subscription ? `${l.name} (${l.subscription})` : l.name,
    amountMinor: l.amountMinor,
  }));
}

/** Discounts, credits and exclusive taxes as lines (inclusive taxes are inside the line amounts). */
function financeLines(doc: InvoiceDocument): PaymentLine[] {
  const f = doc.finance;
  if (!f) return [];
  const negative = (minor: string) => (-BigInt(minor)).toString();
  return [
    ...f.discounts.map((d) => ({ description: `Discount: ${d.name}`, amountMinor: negative(d.amountMinor) })),
    ...f.credits.map((c) => ({
      description: `Credit ${c.bucketId} (${c.date} to ${c.segmentTo})`,
      amountMinor: negative(c.amountMinor),
    })),
    ...f.taxes
      .filter((t) => !t.inclusive)
      .map((t) => ({ description: `${t.name} (${t.percent} %)`, amountMinor: t.amountMinor })),
  ].filter((l) => l.amountMinor !== '0');
}

function invoiceOf(doc: InvoiceDocument): PaymentDocument {
  const lines =
    doc.kind === 'adjustment'
      ? (doc.lines as AdjustmentLine[]).map((l) => ({
          description: `${l.name} (${l.subscription}): ${l.quantityBefore} → ${l.quantityAfter}`,
          amountMinor: l.amountMinor,
        }))
      : [...chargeLines(doc), ...financeLines(doc)];
  // An adjustment's discounts, credits and taxes change with its lines: one line carries that change.
  const rest = BigInt(doc.totalMinor) - sum(lines);
  if (doc.kind === 'adjustment' && rest !== 0n)
    lines.push({ description: 'Discounts, credits and taxes (change)', amountMinor: rest.toString() });
  return { ...base(doc), kind: 'invoice', lines, totalMinor: doc.totalMinor };
}

function creditNoteOf(doc: InvoiceDocument): PaymentDocument {
  const note = doc.creditNote;
  const lines = note
    ? note.lines.map((l) => ({ description: l.name, amountMinor: l.totalMinor }))
    : [
        {
          description: `Correction of ${doc.referencesInvoiceId} for ${doc.lateEventCount} late events`,
          amountMinor: (-BigInt(doc.totalMinor)).toString(),
        },
      ];
  return {
    ...base(doc),
    kind: 'credit_note',
    creditsDocumentId: doc.referencesInvoiceId,
    number: note?.number ?? doc.creditNoteNumber ?? doc.invoiceId,
    lines,
    totalMinor: (-BigInt(doc.totalMinor)).toString(),
    memo: note?.reason ?? `Correction of ${doc.referencesInvoiceId}`,
  };
}

function base(doc: InvoiceDocument) {
  const title =
    doc.kind === 'interim'
      ? 'Interim invoice'
      : doc.kind === 'adjustment'
        ? 'Supplementary invoice'
        : 'Invoice';
  return {
    tenant: doc.tenant,
    customer: doc.customer,
    documentId: doc.invoiceId,
    number: doc.invoiceId,
    period: doc.period,
    currency: doc.currency,
    memo: `${title} ${doc.invoiceId}, period ${doc.period}`,
  };
}

/**
 * The provider's document for a ledger document, or undefined when it bills nothing (an adjustment of
 * zero). Throws `PAYMENT_LINES_MISMATCH` if the lines do not add up to the document's total: a document
 * the provider would show with another total is never sent.
 */
export function paymentDocumentOf(doc: InvoiceDocument): PaymentDocument | undefined {
  const total = BigInt(doc.totalMinor);
  if (doc.kind === 'adjustment' && total === 0n && !doc.creditNote) return undefined;
  const out =
    doc.creditNote || (doc.kind === 'adjustment' && total < 0n) ? creditNoteOf(doc) : invoiceOf(doc);
  if (sum(out.lines) !== BigInt(out.totalMinor))
    throw new BillingRejectedError(
      'PAYMENT_LINES_MISMATCH',
      `The lines of ${doc.invoiceId} add up to ${sum(out.lines)}, not ${out.totalMinor} (minor units)`,
    );
  return out;
}
