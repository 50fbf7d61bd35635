import { NotFoundError, ValidationFailedError } from '@tally/errors';
import { INVOICE_ID_PATTERN, type InvoiceDocument } from '@tally/billing';
import type { InvoiceLedger } from '@tally/billing';
import { parsePeriod } from '@tally/billing-periods';

/** One document as listed: what it is and what it amounts to; the full document is one GET away. */
export interface InvoiceSummary {
  invoiceId: string;
  kind: InvoiceDocument['kind'];
  version: number;
  customer: string;
  period: string;
  currency: string;
  totalMinor: string;
  cumulativeTotalMinor: string;
  referencesInvoiceId: string;
  lateEventCount: number;
  createdAt: string;
  links: { json: string; html: string; pdf: string };
}

export function summarize(doc: InvoiceDocument): InvoiceSummary {
  const self = `/v1/invoices/${encodeURIComponent(doc.invoiceId)}`;
  return {
    invoiceId: doc.invoiceId,
    kind: doc.kind,
    version: doc.version,
    customer: doc.customer,
    period: doc.period,
    currency: doc.currency,
    totalMinor: doc.totalMinor,
    cumulativeTotalMinor: doc.cumulativeTotalMinor,
    referencesInvoiceId: doc.referencesInvoiceId,
    lateEventCount: doc.lateEventCount,
    createdAt: doc.createdAt,
    links: { json: self, html: `${self}.html`, pdf: `${self}.pdf` },
  };
}

const DOCUMENT_KINDS: ReadonlyArray<InvoiceDocument['kind']> = ['invoice', 'adjustment', 'interim'];

/** Reads of the invoice ledger for the query API, always within one tenant (the caller's key's). */
export class InvoiceReadService {
  constructor(private readonly ledger: InvoiceLedger) {}

  /** `kind`: only documents of this kind (`interim`: a period's progressive-billing invoices). */
  async list(tenant: string, customer: string, period?: string, kind?: string): Promise<InvoiceSummary[]> {
    if (period !== undefined) parsePeriod(period);
    if (kind !== undefined && !DOCUMENT_KINDS.includes(kind as InvoiceDocument['kind']))
      throw new ValidationFailedError([
        {
          field: 'kind',
          code: 'INVALID_KIND',
          message: `'kind' must be one of ${DOCUMENT_KINDS.join(', ')}`,
        },
      ]);
    const docs = await this.ledger.listForCustomer(tenant, customer, period);
    return docs.filter((d) => kind === undefined || d.kind === kind).map(summarize);
  }

  async get(tenant: string, invoiceId: string): Promise<InvoiceDocument> {
    const doc = INVOICE_ID_PATTERN.test(invoiceId) ? await this.ledger.get(tenant, invoiceId) : undefined;
    if (!doc) throw new NotFoundError('Invoice', invoiceId);
    return doc;
  }
}
