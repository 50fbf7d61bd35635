import {
  computeCreditNoteDocument,
  INVOICE_ID_PATTERN,
  type InvoiceDocument,
  type InvoiceLedger,
} from '@tally/billing';
import { NotFoundError, ValidationFailedError } from '@tally/errors';
import { fieldIssuesFromZod } from '@tally/metering';
import { z } from 'zod';

const requestSchema = z
  .object({
    reason: z.string().min(1).max(1024),
    /** Absent: the whole invoice. A line without `amountMinor`: the rest of that line. */
    lines: z
      .array(
        z
          .object({
            lineId: z.string().min(1).max(300),
            amountMinor: z
              .string()
              .regex(/^\d{1,30}$/, 'must be an integer string of minor units')
              .optional(),
          })
          .strict(),
      )
      .min(1)
      .max(1000)
      .optional(),
  })
  .strict();

/**
 * Credit notes on request against an invoice (docs/finance.md#credit-notes): computes the document
 * from every document of the period (`computeCreditNoteDocument`) and appends it to the ledger.
 *
 * Writers: the rebiller appends adjustments of a period; this service appends credit notes. A credit
 * note's id differs from the adjustment of the same version, and every later recomputation sums all
 * documents of the period (credit notes included), so a credit note written beside an adjustment is
 * neither lost nor undone. Two credit notes of one invoice are serialised in this process; two query
 * instances issuing credit notes for the same invoice at the same instant could compute the same
 * version, and the second row would replace the first (one query instance is the supported setup).
 * A retry after a crash before the insert computes the same document; after it, a second credit note.
 */
export class CreditNoteService {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ledger: Pick<InvoiceLedger, 'get' | 'documentsOf' | 'insert'>,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(tenant: string, invoiceId: string, body: unknown): Promise<InvoiceDocument> {
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) throw new ValidationFailedError(fieldIssuesFromZod(parsed.error));
    const key = `${tenant}\u0000${invoiceId}`;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.issueNow(tenant, invoiceId, parsed.data));
    this.queues.set(key, run);
    try {
      return await run;
    } finally {
      if (this.queues.get(key) === run) this.queues.delete(key);
    }
  }

  private async issueNow(
    tenant: string,
    invoiceId: string,
    request: z.infer<typeof requestSchema>,
  ): Promise<InvoiceDocument> {
    const invoice = INVOICE_ID_PATTERN.test(invoiceId) ? await this.ledger.get(tenant, invoiceId) : undefined;
    if (!invoice) throw new NotFoundError('Invoice', invoiceId);
    if (invoice.kind !== 'invoice')
      throw new ValidationFailedError([
        {
          field: 'invoiceId',
          code: 'NOT_AN_INVOICE',
          message: `'${invoiceId}' is an adjustment: credit its invoice '${invoice.referencesInvoiceId}'`,
        },
      ]);
    const docs =
      (await this.ledger.documentsOf(tenant, invoice.period, [invoice.customer])).get(invoice.customer) ?? [];
    const createdAt = new Date(this.now()).toISOString();
    const doc = computeCreditNoteDocument(docs, request, {
      issuedBy: `credit-note/${tenant}/${invoiceId}`,
      createdAt,
    });
    await this.ledger.insert([doc]);
    return doc;
  }
}
