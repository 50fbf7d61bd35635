import { DATAPOINT_COLUMNS, type DataPointStorageRow } from '@tally/analytics-engine';
import { findExistingPointIdsSql, type ClickHouse } from '@tally/clickhouse';
import { pointKey, type PointKey, type PointStore } from './points-writer';

/** Ids per lookup query (an array literal of this many ids parses in well under a second on 18.16). */
export const FIND_POINT_IDS_CHUNK = 5_000;

/** Groups keys by (tenant, dataset) into chunks of at most `size` ids in all. */
export function chunkPointKeys(
  keys: readonly PointKey[],
  size = FIND_POINT_IDS_CHUNK,
): Array<Array<{ tenant: string; dataset: string; ids: string[] }>> {
  const byScope = new Map<string, { tenant: string; dataset: string; ids: Set<string> }>();
  for (const k of keys) {
    const scope = `${k.tenant}\u0000${k.dataset}`;
    let group = byScope.get(scope);
    if (!group) byScope.set(scope, (group = { tenant: k.tenant, dataset: k.dataset, ids: new Set() }));
    group.ids.add(k.pointId);
  }
  const chunks: Array<Array<{ tenant: string; dataset: string; ids: string[] }>> = [];
  let current: Array<{ tenant: string; dataset: string; ids: string[] }> = [];
  let count = 0;
  for (const { tenant, dataset, ids } of byScope.values()) {
    const all = [...ids];
    for (let start = 0; start < all.length;) {
      const take = Math.min(size - count, all.length - start);
      current.push({ tenant, dataset, ids: all.slice(start, start + take) });
      count += take;
      start += take;
      if (count === size) {
        chunks.push(current);
        current = [];
        count = 0;
      }
    }
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** The points writer's store on ClickHouse: `datapoints` plus the `datapoint_ids` index its view fills. */
export class ClickHousePointStore implements PointStore {
  constructor(private readonly ch: ClickHouse) {}

  async findExisting(keys: readonly PointKey[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const groups of chunkPointKeys(keys)) {
      const rows = await this.ch.query<{ tenant: string; dataset: string; point_id: string }>(
        findExistingPointIdsSql(this.ch.database, groups),
        { operation: 'find existing point ids' },
      );
      for (const r of rows)
        found.add(pointKey({ tenant: r.tenant, dataset: r.dataset, pointId: r.point_id }));
    }
    return found;
  }

  async insert(rows: DataPointStorageRow[]): Promise<void> {
    await this.ch.insert(this.ch.table('datapoints'), rows, DATAPOINT_COLUMNS, {
      operation: 'insert data points',
    });
  }
}
