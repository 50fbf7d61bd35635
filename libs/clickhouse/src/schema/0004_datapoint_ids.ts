import { raw, sql } from '../sql/quote';
import type { Migration } from './ddl';

/**
 * The dedup index of Analytics Engine data points, as `event_ids` is for events.
 *
 * The points writer looks up every point id of a batch here before inserting, so that a batch
 * redelivered after a crash (stored, not acked) or a point sent again in another request is stored
 * once: queries need neither FINAL nor a merge of `datapoints` to count each point once. A
 * materialized view fills it from the very INSERT that stores the points. ReplacingMergeTree collapses
 * an id recorded twice; readers GROUP BY (a retried point may carry another timestamp, hence another
 * partition). Sharded like `datapoints`, by (tenant, point_id).
 */
export const migration0004: Migration = {
  version: 4,
  name: 'datapoint_ids',
  description: 'the data point dedup index (tenant, dataset, point_id) filled by a materialized view',
  statements: (ddl) => [
    ...ddl.createTable({
      name: 'datapoint_ids',
      columns: raw(`
        tenant String,
        dataset String,
        point_id String,
        timestamp DateTime('UTC')
      `),
      engine: 'ReplacingMergeTree',
      partitionBy: raw('toYYYYMM(timestamp)'),
      orderBy: raw('(tenant, dataset, point_id)'),
      cluster: { shardingKey: raw('cityHash64(tenant, point_id)') },
    }),
    ddl.createMaterializedView({
      name: 'datapoint_ids_mv',
      to: 'datapoint_ids',
      select: (table) => sql`SELECT tenant, dataset, point_id, timestamp FROM ${table('datapoints')}`,
    }),
  ],
};
