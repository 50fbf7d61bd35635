/**
 * The Stripe adapter of the payment-provider port (docs/documents.md#payment-export): a Tally invoice
 * becomes a Stripe invoice with one invoice item per line, finalized; a credit note becomes a Stripe
 * credit note with custom lines against the Stripe invoice it credits. Every request carries an
 * Idempotency-Key derived from the tenant and the document (`tally/<tenant>/<document>/<step>`), and
 * every object the document's id in its metadata (`tally_document_id`), so a retried step returns the
 * object the first attempt created and an operator finds Tally's documents in Stripe's dashboard.
 *
 * A Tally customer is a Stripe customer created once (metadata `tally_customer`); the mapping is kept
 * in the export ledger's payer records, so it survives Stripe's 24-hour idempotency window.
 */
import Stripe from 'stripe';
import { TallyError } from '@tally/errors';
import { BillingRejectedError } from '../errors';
import type { PaymentDocument, PaymentProvider } from '../payments/payment-document';

/** Where the Stripe customer of a Tally customer is remembered (the billing KV bucket in production). */
export interface PayerMapPort {
  get(tenant: string, provider: string, customer: string): Promise<string | undefined>;
  /** Keeps the first mapping written; returns the one stored. */
  put(tenant: string, provider: string, customer: string, externalId: string): Promise<string>;
}

export interface StripeProviderOptions {
  apiKey: string;
  /** Another API base (stripe-mock in tests): `http://127.0.0.1:12111`. */
  apiBase?: string;
  /** `send_invoice` (default, due after `daysUntilDue`) or `charge_automatically`. */
  collectionMethod?: 'send_invoice' | 'charge_automatically';
  daysUntilDue?: number;
  timeoutMs?: number;
}

/**
 * Currencies whose amounts Stripe counts in other units than ISO 4217's minor unit (Stripe's
 * "special cases"): refused rather than sent off by a factor of 100.
 */
const STRIPE_SPECIAL_CURRENCIES = new Set(['ISK', 'HUF', 'TWD', 'UGX']);

function integerAmount(minor: string, documentId: string): number {
  const value = BigInt(minor);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new BillingRejectedError(
      'PAYMENT_AMOUNT_TOO_LARGE',
      `An amount of ${documentId} is too large for Stripe`,
    );
  return Number(value);
}

/**
 * Stripe's refusals and failures as `PAYMENT_PROVIDER_ERROR` (502): retryable when Stripe was unreachable,
 * rate-limited or failed itself (the same request, with the same keys, can succeed), not when it refused
 * the request (4xx). Tally's own refusals pass unchanged.
 */
function providerError(error: unknown, doc: PaymentDocument): unknown {
  if (!(error instanceof Stripe.errors.StripeError)) return error;
  const status = error.statusCode;
  const retryable = status === undefined || status === 429 || status >= 500;
  return new TallyError(
    'PAYMENT_PROVIDER_ERROR',
    502,
    `Stripe did not take ${doc.documentId}: ${error.type}${status ? ` (HTTP ${status})` : ''}: ${error.message}`,
    { cause: error, retryable },
  );
}

export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe';
  private readonly stripe: Stripe;

  constructor(
    private readonly options: StripeProviderOptions,
    private readonly payers: PayerMapPort,
  ) {
    const base = options.apiBase ? new URL(options.apiBase) : undefined;
    this.stripe = new Stripe(options.apiKey, {
      maxNetworkRetries: 2,
      timeout: options.timeoutMs ?? 30_000,
      ...(base
        ? {
            host: base.hostname,
            port: base.port || (base.protocol === 'http:' ? 80 : 443),
            protocol: base.protocol === 'http:' ? 'http' : 'https',
          }
        : {}),
    });
  }

  async exportDocument(doc: PaymentDocument, creditedExternalId?: string): Promise<string> {
    try {
      return await this.create(doc, creditedExternalId);
    } catch (error) {
      throw providerError(error, doc);
    }
  }

  private async create(doc: PaymentDocument, creditedExternalId?: string): Promise<string> {
    if (STRIPE_SPECIAL_CURRENCIES.has(doc.currency))
      throw new BillingRejectedError(
        'PAYMENT_CURRENCY_UNSUPPORTED',
        `Stripe counts ${doc.currency} in other units than ISO 4217; ${doc.documentId} is not exported`,
      );
    if (doc.kind === 'credit_note') {
      if (!creditedExternalId)
        throw new BillingRejectedError(
          'PAYMENT_CREDITED_INVOICE_MISSING',
          `${doc.documentId} credits no exported invoice`,
        );
      return this.creditNote(doc, creditedExternalId);
    }
    return this.invoice(doc);
  }

  private key(doc: Pick<PaymentDocument, 'tenant' | 'documentId'>, step: string): { idempotencyKey: string } {
    return { idempotencyKey: `tally/${doc.tenant}/${doc.documentId}/${step}` };
  }

  private metadata(doc: PaymentDocument): Record<string, string> {
    return {
      tally_tenant: doc.tenant,
      tally_customer: doc.customer,
      tally_document_id: doc.documentId,
      tally_period: doc.period,
    };
  }

  private async customer(doc: PaymentDocument): Promise<string> {
    const known = await this.payers.get(doc.tenant, this.name, doc.customer);
    if (known) return known;
    const created = await this.stripe.customers.create(
      { name: doc.customer, metadata: { tally_tenant: doc.tenant, tally_customer: doc.customer } },
      { idempotencyKey: `tally/${doc.tenant}/customer/${doc.customer}` },
    );
    return this.payers.put(doc.tenant, this.name, doc.customer, created.id);
  }

  private async invoice(doc: PaymentDocument): Promise<string> {
    const customer = await this.customer(doc);
    const currency = doc.currency.toLowerCase();
    const collection = this.options.collectionMethod ?? 'send_invoice';
    const invoice = await this.stripe.invoices.create(
      {
        customer,
        currency,
        collection_method: collection,
        ...(collection === 'send_invoice' ? { days_until_due: this.options.daysUntilDue ?? 30 } : {}),
        auto_advance: false,
        pending_invoice_items_behavior: 'exclude',
        description: doc.memo,
        metadata: this.metadata(doc),
      },
      this.key(doc, 'invoice'),
    );
    if (!invoice.id) throw new Error(`Stripe answered an invoice without an id for ${doc.documentId}`);
    for (const [n, line] of doc.lines.entries()) {
      await this.stripe.invoiceItems.create(
        {
          customer,
          invoice: invoice.id,
          currency,
          amount: integerAmount(line.amountMinor, doc.documentId),
          description: line.description,
          metadata: { tally_document_id: doc.documentId, tally_line: String(n) },
        },
        this.key(doc, `item/${n}`),
      );
    }
    await this.stripe.invoices.finalizeInvoice(
      invoice.id,
      { auto_advance: false },
      this.key(doc, 'finalize'),
    );
    return invoice.id;
  }

  private async creditNote(doc: PaymentDocument, invoice: string): Promise<string> {
    const note = await this.stripe.creditNotes.create(
      {
        invoice,
        memo: doc.memo,
        metadata: { ...this.metadata(doc), tally_credit_note_number: doc.number },
        lines: doc.lines.map((l) => ({
          type: 'custom_line_item' as const,
          description: l.description,
          quantity: 1,
          unit_amount: integerAmount(l.amountMinor, doc.documentId),
        })),
      },
      this.key(doc, 'credit-note'),
    );
    return note.id;
  }
}
