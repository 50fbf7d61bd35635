import { raw, sql } from '../sql/quote';
import type { Migration } from './ddl';

/**
 * Hourly usage roll-ups for the query service (`@tally/usage`).
 *
 * `usage_hourly` holds, per (tenant, event type, customer, UTC hour), the partial aggregates of the
 * events' `quantity`: count, sum, min and max as AggregateFunction states, filled by a materialized
 * view from the very INSERT that stores the events. Because the writer inserts every event exactly
 * once, merging the states gives exactly what a scan of `events` gives, for any range of whole hours
 * and any zone whose day starts on a UTC hour. Meters with filters, profiles or a value property other
 * than `quantity` cannot use it and scan `events`.
 *
 * The view only sees rows inserted after it exists: on a database that already held events, the
 * query service notices (it compares the monthly event counts of both tables) and keeps scanning
 * `events` for those months until an operator backfills them (docs/usage-api.md).
 * Sharded by (tenant, customer) for inserts through the Distributed table; the view writes locally.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'usage_rollups',
  description:
    'hourly count/sum/min/max of quantity per tenant, event type and customer, filled by a materialized view',
  statements: (ddl) => [
    ...ddl.createTable({
      name: 'usage_hourly',
      columns: raw(`
        tenant String,
        event_type String,
        customer String,
        hour DateTime('UTC'),
        events AggregateFunction(count),
        quantity_sum AggregateFunction(sum, Decimal(38, 12)),
        quantity_min AggregateFunction(min, Decimal(38, 12)),
        quantity_max AggregateFunction(max, Decimal(38, 12))
      `),
      engine: 'AggregatingMergeTree',
      partitionBy: raw('toYYYYMM(hour)'),
      orderBy: raw('(tenant, event_type, customer, hour)'),
      // One customer's month is at most 744 rows: small granules keep such a read to a few thousand rows.
      settings: raw('index_granularity = 1024'),
      cluster: { shardingKey: raw('cityHash64(tenant, customer)') },
    }),
    ddl.createMaterializedView({
      name: 'usage_hourly_mv',
      to: 'usage_hourly',
      select: (table) =>
        sql`SELECT tenant, event_type, customer, toStartOfHour(ts) AS hour, countState() AS events, sumState(quantity) AS quantity_sum, minState(quantity) AS quantity_min, maxState(quantity) AS quantity_max FROM ${table('events')} GROUP BY tenant, event_type, customer, hour`,
    }),
  ],
};
