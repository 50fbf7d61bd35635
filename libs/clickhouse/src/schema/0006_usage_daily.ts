import { raw, sql } from '../sql/quote';
import type { Migration } from './ddl';

const COLUMNS = (time: string) =>
  raw(`
    tenant String,
    event_type String,
    customer String,
    ${time} DateTime('UTC'),
    events AggregateFunction(count),
    quantity_sum AggregateFunction(sum, Decimal(38, 12)),
    quantity_min AggregateFunction(min, Decimal(38, 12)),
    quantity_max AggregateFunction(max, Decimal(38, 12))
  `);

const STATES =
  'countState() AS events, sumState(quantity) AS quantity_sum, minState(quantity) AS quantity_min, maxState(quantity) AS quantity_max';

/**
 * Roll-ups for questions about every customer at once (a month grouped by customer, top customers,
 * tenant-wide alerts), which the customer-first `usage_hourly` of 0003 answers only by reading a whole
 * month of it. A month in a customer's zone is made of whole UTC days plus a few hours at each end:
 *
 * - `usage_daily`: the same partial aggregates per UTC day (about 30 rows per customer and month);
 * - `usage_hourly_by_time`: the hourly roll-up again, ordered by hour before customer, so the few
 *   hours at the ends of a range are read without touching the rest of the month.
 *
 * Both are filled by materialized views from the INSERT into `events`, exact for the same reason as
 * 0003's, and checked for coverage the same way by the query service before it uses them.
 */
export const migration0006: Migration = {
  version: 6,
  name: 'usage_daily',
  description: 'daily and hour-first hourly roll-ups of quantity for questions about all customers at once',
  statements: (ddl) => [
    ...ddl.createTable({
      name: 'usage_daily',
      columns: COLUMNS('day'),
      engine: 'AggregatingMergeTree',
      partitionBy: raw('toYYYYMM(day)'),
      orderBy: raw('(tenant, event_type, customer, day)'),
      cluster: { shardingKey: raw('cityHash64(tenant, customer)') },
    }),
    ddl.createMaterializedView({
      name: 'usage_daily_mv',
      to: 'usage_daily',
      select: (table) =>
        sql`SELECT tenant, event_type, customer, toStartOfDay(ts) AS day, ${raw(STATES)} FROM ${table('events')} GROUP BY tenant, event_type, customer, day`,
    }),
    ...ddl.createTable({
      name: 'usage_hourly_by_time',
      columns: COLUMNS('hour'),
      engine: 'AggregatingMergeTree',
      partitionBy: raw('toYYYYMM(hour)'),
      orderBy: raw('(tenant, event_type, hour, customer)'),
      cluster: { shardingKey: raw('cityHash64(tenant, customer)') },
    }),
    ddl.createMaterializedView({
      name: 'usage_hourly_by_time_mv',
      to: 'usage_hourly_by_time',
      select: (table) =>
        sql`SELECT tenant, event_type, customer, toStartOfHour(ts) AS hour, ${raw(STATES)} FROM ${table('events')} GROUP BY tenant, event_type, customer, hour`,
    }),
  ],
};
