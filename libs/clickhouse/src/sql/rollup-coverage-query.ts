import { identifier, join, type SqlFragment, sql } from './quote';
import { DAILY_TABLE, type RollupTable } from './rollup-sql-parts';

/**
 * Monthly event counts of `events` and of each roll-up table in `tables`, as rows (month, source, n):
 * a month whose counts agree is fully covered by that roll-up (its view saw every insert). With
 * `eventCounts: 'parts'` the counts of `events` come from `system.parts` (exact for a local MergeTree,
 * and free: no scan of billions of rows every minute); a Distributed `events` (cluster mode) is
 * counted with a scan.
 */
export function rollupCoverage(
  database: string,
  eventCounts: 'parts' | 'scan',
  tables: readonly RollupTable[],
): SqlFragment {
  const branches = [
    eventCounts === 'parts'
      ? sql`SELECT toUInt32(partition) AS month, 'events' AS source, sum(rows) AS n FROM system.parts WHERE database = ${database} AND table = 'events' AND active GROUP BY month`
      : sql`SELECT toYYYYMM(ts) AS month, 'events' AS source, count() AS n FROM ${identifier(database, 'events')} GROUP BY month`,
  ];
  for (const name of tables) {
    const time = name === DAILY_TABLE ? sql`day` : sql`hour`;
    branches.push(
      sql`SELECT toYYYYMM(${time}) AS month, ${name} AS source, countMerge(events) AS n FROM ${identifier(database, name)} GROUP BY month`,
    );
  }
  return join(
    [
      sql`SELECT month, source, sum(n) AS n FROM (`,
      join(branches, '\nUNION ALL\n'),
      sql`)`,
      sql`GROUP BY month, source`,
    ],
    '\n',
  );
}

