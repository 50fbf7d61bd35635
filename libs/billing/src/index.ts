/**
 * `@tally/billing`: invoices from usage, durably. Node-only; the workflows see only
 * `@tally/billing-contracts`.
 *
 * - `core/`: the services, one job each (due periods, period closer, invoice issuer, rebiller, usage
 *   loader, pricing snapshots), on the ports of `core/ports.ts`; in-memory ports in `@tally/billing/testing`.
 * - `invoices/`: the invoice and adjustment documents (pure computation with `@tally/pricing`).
 * - `adapters/`: the ports on ClickHouse (ledger, usage), NATS KV (closed periods), JetStream (watermark).
 * - `late-events/`: the rebill notices consumer (late events from the writer start rebills);
 *   `dead-letters/`: the replayer;
 *   `schedules/`: one Temporal schedule per tenant.
 * The query API's HTTP endpoints are `@tally/billing-api`.
 */
export * from './errors';
export * from './invoices/invoice';
export * from './invoices/period-pricing';
export * from './invoices/document-ids';
export * from './invoices/credit-note-document';
export * from './invoices/finance';
export * from './invoices/unit-credits';
export * from './invoices/progressive';
export * from './core/ports';
export * from './core/collections';
export * from './core/due-periods';
export * from './core/period-closer';
export * from './core/pricing-snapshots';
export * from './core/usage-loader';
export * from './core/invoice-issuer';
export * from './core/rebiller';
export * from './core/progressive-billing';
export * from './core/billing-services';
export * from './simulation/plan-change';
export * from './simulation/simulator';
export * from './simulation/simulation-csv';
export * from './adapters/invoice-ledger';
export { INVOICE_COLUMNS, serializeCompletenessRow, serializeInvoiceRow } from './adapters/invoice-rows';
export * from './adapters/closed-periods';
export * from './adapters/writer-watermark';
export * from './adapters/clickhouse-usage-source';
export * from './adapters/nats-invoice-notices';
export * from './adapters/simulation-results';
export * from './adapters/billing-adapters';
export * from './adapters/stripe-payment-provider';
export * from './adapters/kv-payment-exports';
export * from './adapters/payment-export-config';
export * from './payments/payment-document';
export * from './payments/payment-exporter';
export * from './late-events/rebill-notices';
export * from './progressive/progressive-monitor';
export * from './credits/credit-timers';
export * from './credits/credit-grant-starter';
export * from './dead-letters/dead-letter-replayer';
export * from './schedules/billing-schedules';
