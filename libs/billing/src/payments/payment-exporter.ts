/**
 * Pushes ledger documents to a payment provider once each (docs/documents.md#payment-export).
 *
 * Exactly once, at least once: the export ledger (NATS KV in production) is read first and written
 * after the provider answered. A crash between the two leaves no record: the next attempt calls the
 * provider again with the same idempotency keys, which returns the objects it already created (Stripe
 * keeps keys 24 hours; the billing worker retries within minutes). A record, once written, is never
 * replaced, so a re-run of an export creates nothing new at the provider.
 */
import { NotFoundError } from '@tally/errors';
import type { InvoiceDocument } from '../invoices/invoice';
import { paymentDocumentOf, type PaymentProvider } from './payment-document';

export interface PaymentExportRecord {
  tenant: string;
  provider: string;
  documentId: string;
  kind: 'invoice' | 'credit_note' | 'nothing';
  /** The provider's id ('' when the document billed nothing). */
  externalId: string;
  exportedAt: string;
}

/** What was exported where: one record per (tenant, provider, document), never replaced. */
export interface PaymentExportLedgerPort {
  get(tenant: string, provider: string, documentId: string): Promise<PaymentExportRecord | undefined>;
  /** Writes the record unless one exists; returns the record that is stored. */
  put(record: PaymentExportRecord): Promise<PaymentExportRecord>;
}

export interface PaymentExporterDependencies {
  documents: { get(tenant: string, invoiceId: string): Promise<InvoiceDocument | undefined> };
  exports: PaymentExportLedgerPort;
  provider: PaymentProvider;
  clock?: () => number;
}

export interface PaymentExportOutcome {
  status: 'exported' | 'already_exported' | 'nothing_to_export';
  record: PaymentExportRecord;
}

export class PaymentExporter {
  constructor(private readonly deps: PaymentExporterDependencies) {}

  /** Exports one document (a credit note after the invoice it credits). */
  async export(tenant: string, documentId: string): Promise<PaymentExportOutcome> {
    const provider = this.deps.provider.name;
    const existing = await this.deps.exports.get(tenant, provider, documentId);
    if (existing) return { status: 'already_exported', record: existing };
    const doc = await this.deps.documents.get(tenant, documentId);
    if (!doc) throw new NotFoundError('Invoice', documentId);
    const payment = paymentDocumentOf(doc);
    let kind: PaymentExportRecord['kind'] = 'nothing';
    let externalId = '';
    if (payment) {
      const credited = payment.creditsDocumentId
        ? (await this.export(tenant, payment.creditsDocumentId)).record.externalId
        : undefined;
      externalId = await this.deps.provider.exportDocument(payment, credited || undefined);
      kind = payment.kind;
    }
    const record = await this.deps.exports.put({
      tenant,
      provider,
      documentId,
      kind,
      externalId,
      exportedAt: new Date((this.deps.clock ?? Date.now)()).toISOString(),
    });
    return { status: payment ? 'exported' : 'nothing_to_export', record };
  }
}
