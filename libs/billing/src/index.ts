/**
 * `@tally/billing`: invoices from usage, durably. The invoice ledger (ClickHouse), closed-period markers
 * (NATS KV), the invoicing service the Temporal activities call, the writer's late-event observer, the
 * dead-letter replayer, and the query API's invoice and replay endpoints (`BillingApiModule`).
 * Node-only; workflows see its contracts as types through `@tally/activities`.
 */
export * from './invoice';
export * from './invoice-ledger';
export * from './usage-queries';
export * from './closed-periods';
export * from './writer-watermark';
export * from './errors';
export * from './invoicing.service';
export * from './rebill-notices';
export * from './dead-letter-replay';
export * from './billing-schedules';
export * from './invoice-html';
export * from './invoice-read.service';
export * from './dead-letter-replay.service';
export * from './billing-api.controllers';
export * from './billing-api.module';
