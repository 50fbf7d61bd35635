import { raw } from '../sql/quote';
import type { Migration } from './ddl';

/**
 * The invoice ledger: one row per document (an invoice, or an adjustment that corrects it), immutable.
 *
 * A document id is derived from (tenant, customer, period, version), so writing a document again (a
 * retried activity, a worker killed after the insert) writes the same row; ReplacingMergeTree keyed on
 * the id collapses the copies and readers use FINAL. Money is Decimal(38, 0) in minor units; lines,
 * usage and the pricing snapshot are JSON text (18.16 has no JSON type). The usage fingerprint (event
 * count and the UInt64 sum of cityHash64(event_id)) lets anyone recount an invoice from raw events.
 * Not partitioned: a ledger is small next to `events`, and every copy of a row must meet in one part
 * to collapse. Sharded by (tenant, customer) so that a customer's documents stay on one shard.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'invoices',
  description: 'invoice ledger: immutable invoices and adjustments with usage fingerprints',
  statements: (ddl) =>
    ddl.createTable({
      name: 'invoices',
      columns: raw(`
        tenant String,
        customer String,
        period String,
        invoice_id String,
        kind String,
        version UInt32,
        references_invoice_id String,
        currency String,
        subtotal_minor Decimal(38, 0),
        total_minor Decimal(38, 0),
        cumulative_total_minor Decimal(38, 0),
        lines String,
        effective_lines String,
        usage String,
        pricing String,
        usage_event_count UInt64,
        usage_checksum UInt64,
        late_event_count UInt64,
        timezone String,
        period_start DateTime('UTC'),
        period_end DateTime('UTC'),
        issued_by String,
        created_at DateTime('UTC')
      `),
      engine: 'ReplacingMergeTree',
      orderBy: raw('(tenant, customer, period, invoice_id)'),
      cluster: { shardingKey: raw('cityHash64(tenant, customer)') },
    }),
};
