import { raw } from '../sql/quote';
import type { Migration } from './ddl';

/**
 * Analytics Engine data points (Cloudflare Workers Analytics Engine compatibility, `@tally/analytics-engine`).
 *
 * One row per stored data point of a tenant's dataset: the index, 20 blobs ('' when missing) and 20
 * doubles (0 when missing), as in Cloudflare, plus `_sample_interval`, the number of points the row
 * stands for (1 unless equitable sampling dropped some of its neighbours; queries sum it). Timestamps
 * have second precision (18.16 has no DateTime64). ReplacingMergeTree with `point_id` last in the key
 * collapses a retried batch (same point ids, same rows) when parts merge. Sharded by (tenant,
 * point_id) so that both copies of a retried point meet on one shard.
 */
export const migration0002: Migration = {
  version: 2,
  name: 'datapoints',
  description:
    'Analytics Engine data points (index1, blob1..20, double1..20, _sample_interval) per tenant and dataset',
  statements: (ddl) =>
    ddl.createTable({
      name: 'datapoints',
      columns: raw(`
        tenant String,
        dataset String,
        timestamp DateTime('UTC'),
        point_id String,
        index1 String,
        blob1 String,
        blob2 String,
        blob3 String,
        blob4 String,
        blob5 String,
        blob6 String,
        blob7 String,
        blob8 String,
        blob9 String,
        blob10 String,
        blob11 String,
        blob12 String,
        blob13 String,
        blob14 String,
        blob15 String,
        blob16 String,
        blob17 String,
        blob18 String,
        blob19 String,
        blob20 String,
        double1 Float64,
        double2 Float64,
        double3 Float64,
        double4 Float64,
        double5 Float64,
        double6 Float64,
        double7 Float64,
        double8 Float64,
        double9 Float64,
        double10 Float64,
        double11 Float64,
        double12 Float64,
        double13 Float64,
        double14 Float64,
        double15 Float64,
        double16 Float64,
        double17 Float64,
        double18 Float64,
        double19 Float64,
        double20 Float64,
        _sample_interval UInt32
      `),
      engine: 'ReplacingMergeTree',
      partitionBy: raw('toYYYYMM(timestamp)'),
      orderBy: raw('(tenant, dataset, index1, timestamp, point_id)'),
      cluster: { shardingKey: raw('cityHash64(tenant, point_id)') },
    }),
};
