import { TallyError } from '@tally/errors';

/**
 * A billing rule refused to bill (unknown plan or meter, mixed currencies, no subscription): retrying
 * cannot help until the catalog changes. Activities turn it into a non-retryable failure.
 */
export class BillingRejectedError extends TallyError {
  constructor(code: string, message: string) {
    super(code, 422, message);
  }
}

/** A rebill found no invoice yet: the period is still being closed. Retried until the invoice exists. */
export class InvoiceNotYetIssuedError extends TallyError {
  constructor(tenant: string, customer: string, period: string) {
    super(
      'INVOICE_NOT_YET_ISSUED',
      409,
      `No invoice yet for customer '${customer}' of tenant '${tenant}' in ${period}`,
      { retryable: true },
    );
  }
}
