import { identifier, join, sql, type SqlFragment } from './quote';

/**
 * `SELECT tenant, event_id, min(payload_hash) AS payload_hash FROM <db>.event_ids WHERE (tenant = t AND
 * event_id IN (SELECT arrayJoin([...]))) OR ... GROUP BY tenant, event_id`: both columns are the sort
 * key, so only granules that can hold these ids are read. An array literal rather than
 * `IN ('a', 'b', ...)`: 18.16 parses one array literal much faster than thousands of separate literals
 * (measured: 5,000 keys take ~200 ms instead of ~480 ms), and the primary key is used all the same.
 * GROUP BY rather than FINAL, and `min()` so that an id stored with two hashes answers deterministically
 * (see `findExistingIds`).
 */
export function findExistingEventIdsSql(
  database: string,
  idsByTenant: ReadonlyMap<string, readonly string[]>,
  /** `event_ids` on one server; `event_ids_local` on a cluster's shard, so that the lookup stays on the shard that stores the events. */
  table = 'event_ids',
): SqlFragment {
  const where = join(
    [...idsByTenant].map(
      ([tenant, ids]) => sql`(tenant = ${tenant} AND event_id IN (SELECT arrayJoin(${ids})))`,
    ),
    ' OR ',
  );
  return sql`SELECT tenant, event_id, min(payload_hash) AS payload_hash FROM ${identifier(database, table)} WHERE ${where} GROUP BY tenant, event_id`;
}
