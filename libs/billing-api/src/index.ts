/**
 * `@tally/billing-api`: the query app's billing endpoints. Invoices as JSON, HTML and PDF
 * (`/v1/customers/:id/invoices`, `/v1/invoices/:id`) and dead-letter replays (`/v1/dead-letters/replays`),
 * as `BillingApiModule`. Controllers only decode requests and map errors; reading is `InvoiceReadService`
 * over `@tally/billing`'s ledger, replays are started as `@tally/billing-contracts` workflows.
 */
export * from './documents/invoice-html';
export * from './documents/chromium-pdf';
export * from './documents/document-format';
export * from './invoice-read.service';
export * from './credit-balance.service';
export * from './payment-export.service';
export * from './dead-letter-replay.service';
export * from './simulation.service';
export * from './billing-api.controllers';
export * from './billing-api.module';
