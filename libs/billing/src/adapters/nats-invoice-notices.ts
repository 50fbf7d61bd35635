import type { NatsConnection, NatsNames } from '@tally/nats';
import type { InvoiceNoticesPort } from '../core/ports';
import type { InvoiceDocument } from '../invoices/invoice';

/** What `published` messages on `tally.invoices.<tenant>` carry. */
export interface InvoiceNotice {
  type: 'invoice.issued' | 'invoice.adjusted';
  tenant: string;
  customer: string;
  period: string;
  invoiceId: string;
  version: number;
  referencesInvoiceId: string;
  currency: string;
  totalMinor: string;
  cumulativeTotalMinor: string;
  lateEventCount: number;
}

/**
 * Announces invoices and adjustments on core NATS: a notification for subscribers that are listening;
 * the ledger is the record (a notice lost in a crash is not redelivered, the invoice is still there).
 */
export class NatsInvoiceNotices implements InvoiceNoticesPort {
  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
  ) {}

  published(doc: InvoiceDocument): void {
    const notice: InvoiceNotice = {
      type: doc.kind === 'invoice' ? 'invoice.issued' : 'invoice.adjusted',
      tenant: doc.tenant,
      customer: doc.customer,
      period: doc.period,
      invoiceId: doc.invoiceId,
      version: doc.version,
      referencesInvoiceId: doc.referencesInvoiceId,
      currency: doc.currency,
      totalMinor: doc.totalMinor,
      cumulativeTotalMinor: doc.cumulativeTotalMinor,
      lateEventCount: doc.lateEventCount,
    };
    this.nc.publish(this.names.invoicesSubject(doc.tenant), JSON.stringify(notice));
  }
}
