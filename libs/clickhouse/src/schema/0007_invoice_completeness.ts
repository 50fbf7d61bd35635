import { raw } from '../sql/quote';
import type { Migration } from './ddl';

/**
 * The completeness watermark each ledger document was computed at: every event of the tenant that the
 * gateway acknowledged before `complete_through` was stored when the document read its usage (see
 * `EventsCompleteness` in `@tally/nats`). A table of its own rather than a column of `invoices`, because
 * 18.16 has no `ADD COLUMN IF NOT EXISTS` and every migration statement must be idempotent. Same key
 * and sharding as `invoices`, so a document and its watermark meet on one shard; the ledger writes the
 * watermark row before the document, so a document that is visible always has one.
 */
export const migration0007: Migration = {
  version: 7,
  name: 'invoice_completeness',
  description: 'the completeness watermark each invoice and adjustment was computed at',
  statements: (ddl) =>
    ddl.createTable({
      name: 'invoice_completeness',
      columns: raw(`
        tenant String,
        customer String,
        period String,
        invoice_id String,
        complete_through DateTime('UTC')
      `),
      engine: 'ReplacingMergeTree',
      orderBy: raw('(tenant, customer, period, invoice_id)'),
      cluster: { shardingKey: raw('cityHash64(tenant, customer)') },
    }),
};
