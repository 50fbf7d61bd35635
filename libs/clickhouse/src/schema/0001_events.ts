import { raw, sql } from '../sql/quote';
import type { Migration } from './ddl';

/**
 * Raw events and the dedup index.
 *
 * `events` holds one row per accepted event; the writer guarantees each (tenant, event_id) is inserted
 * once. Event time is `ts` (seconds) plus `ts_ms` (milliseconds) because 18.16 has no DateTime64;
 * `quantity` is an exact Decimal(38, 12); `properties` is a Nested(key, value) because 18.16 has no Map.
 *
 * `event_ids` is the dedup index, written by a materialized view FROM `events`, so that the very INSERT
 * that stores an event also records its id (no second write that could be forgotten; the id's part is
 * committed right after the event's, not in one transaction with it). ReplacingMergeTree collapses the same id inserted twice (a retried batch); readers use FINAL
 * or GROUP BY. Sharding by (tenant, event_id) keeps both copies of a duplicate on one shard.
 */
export const migration0001: Migration = {
  version: 1,
  name: 'events',
  description:
    'raw events (one row per accepted event) and the event_ids dedup index filled by a materialized view',
  statements: (ddl) => [
    ...ddl.createTable({
      name: 'events',
      columns: raw(`
        tenant String,
        customer String,
        event_type String,
        ts DateTime('UTC'),
        ts_ms UInt16,
        event_id String,
        quantity Decimal(38, 12),
        properties Nested(key String, value String),
        source String,
        schema_version String,
        request_id String,
        received_at DateTime('UTC'),
        inserted_at DateTime('UTC') DEFAULT now(),
        payload_hash String
      `),
      engine: 'MergeTree',
      partitionBy: raw('toYYYYMM(ts)'),
      orderBy: raw('(tenant, event_type, customer, ts, event_id)'),
      cluster: { shardingKey: raw('cityHash64(tenant, event_id)') },
    }),
    ...ddl.createTable({
      name: 'event_ids',
      columns: raw(`
        tenant String,
        event_id String,
        payload_hash String,
        ts DateTime('UTC')
      `),
      engine: 'ReplacingMergeTree',
      partitionBy: raw('toYYYYMM(ts)'),
      orderBy: raw('(tenant, event_id)'),
      cluster: { shardingKey: raw('cityHash64(tenant, event_id)') },
    }),
    ddl.createMaterializedView({
      name: 'event_ids_mv',
      to: 'event_ids',
      select: (table) => sql`SELECT tenant, event_id, payload_hash, ts FROM ${table('events')}`,
    }),
  ],
};
