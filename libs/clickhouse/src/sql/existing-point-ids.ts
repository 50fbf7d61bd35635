import { identifier, join, sql, type SqlFragment } from './quote';

/**
 * `SELECT tenant, dataset, point_id FROM <db>.datapoint_ids WHERE (tenant = .. AND dataset = .. AND
 * point_id IN (SELECT arrayJoin([...]))) OR ... GROUP BY ...`: the three columns are the sort key, so
 * only granules that can hold these ids are read; GROUP BY rather than FINAL because a point sent again
 * with another timestamp lands in another partition, which FINAL does not merge across.
 */
export function findExistingPointIdsSql(
  database: string,
  groups: ReadonlyArray<{ tenant: string; dataset: string; ids: string[] }>,
): SqlFragment {
  const where = join(
    groups.map(
      (g) =>
        sql`(tenant = ${g.tenant} AND dataset = ${g.dataset} AND point_id IN (SELECT arrayJoin(${g.ids})))`,
    ),
    ' OR ',
  );
  return sql`SELECT tenant, dataset, point_id FROM ${identifier(database, 'datapoint_ids')} WHERE ${where} GROUP BY tenant, dataset, point_id`;
}
