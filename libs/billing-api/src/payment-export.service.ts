import { INVOICE_ID_PATTERN, type PaymentExporter, type PaymentExportOutcome } from '@tally/billing';
import { NotFoundError, TallyError } from '@tally/errors';

/** `POST /v1/invoices/:id/payment-export`: the exporter of the configured provider, for one document. */
export class PaymentExportService {
  constructor(private readonly exporter: PaymentExporter | undefined) {}

  async export(tenant: string, documentId: string): Promise<PaymentExportOutcome> {
    if (!this.exporter)
      throw new TallyError(
        'PAYMENT_EXPORT_NOT_CONFIGURED',
        501,
        'No payment provider is configured (PAYMENT_EXPORT_PROVIDER, docs/documents.md#payment-export)',
      );
    if (!INVOICE_ID_PATTERN.test(documentId)) throw new NotFoundError('Invoice', documentId);
    return this.exporter.export(tenant, documentId);
  }
}
