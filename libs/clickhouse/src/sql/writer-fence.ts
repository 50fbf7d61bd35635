import { columnList, identifier, sql, type SqlFragment } from './quote';

/** Where a writer stages a batch before its fenced commit; one table per partition and token. */
export function stagingTableName(partition: number, token: number): string {
  return `events_stage_p${positive(partition, 'partition', true)}_t${positive(token, 'token')}`;
}

/** A staging table: the columns of `events` (its local table in a cluster), in memory. */
export function createStagingTableSql(database: string, eventsTable: string, partition: number, token: number): SqlFragment {
  return sql`CREATE TABLE IF NOT EXISTS ${identifier(database, stagingTableName(partition, token))} AS ${identifier(database, eventsTable)} ENGINE = Memory`;
}

export function truncateStagingTableSql(database: string, partition: number, token: number): SqlFragment {
  return sql`TRUNCATE TABLE ${identifier(database, stagingTableName(partition, token))}`;
}

export function dropTableSql(database: string, table: string): SqlFragment {
  return sql`DROP TABLE IF EXISTS ${identifier(database, table)}`;
}

/** The staging tables of a partition, whatever their token. */
export function stagingTablesSql(database: string, partition: number): SqlFragment {
  return sql`SELECT name FROM system.tables WHERE database = ${database} AND startsWith(name, ${`events_stage_p${positive(partition, 'partition', true)}_t`})`;
}

/** Records a partition's new token: from now on only inserts carrying it commit. */
export function writeFenceSql(database: string, partition: number, token: number): SqlFragment {
  return sql`INSERT INTO ${identifier(database, 'writer_fences')} (partition, token) VALUES (${positive(partition, 'partition', true)}, ${positive(token, 'token')})`;
}

/** The partition's latest token (0 when none was written). */
export function currentFenceSql(database: string, partition: number): SqlFragment {
  return sql`SELECT toString(max(token)) AS token FROM ${identifier(database, 'writer_fences')} WHERE partition = ${positive(partition, 'partition', true)}`;
}

/**
 * Moves the staged batch into `events` if, when the statement runs, `token` is still the partition's
 * latest. The scalar subquery is evaluated once, after the statement was registered in
 * `system.processes`: that is what lets a new owner wait for every commit that could have read an
 * older token (see `fencedCommitQueryIdPrefix`).
 */
export function fencedCommitSql(
  database: string,
  eventsTable: string,
  columns: readonly string[],
  partition: number,
  token: number,
): SqlFragment {
  const list = columnList(columns);
  return sql`INSERT INTO ${identifier(database, eventsTable)} (${list}) SELECT ${list} FROM ${identifier(database, stagingTableName(partition, token))} WHERE (SELECT max(token) FROM ${identifier(database, 'writer_fences')} WHERE partition = ${positive(partition, 'partition', true)}) = ${positive(token, 'token')}`;
}

/** The query id prefix of a partition's fenced commits: `<database>:p<partition>:t`. */
export function fencedCommitQueryIdPrefix(database: string, partition: number): string {
  return `${database}:p${positive(partition, 'partition', true)}:t`;
}

/** How many commits of the partition with another token than `token` are still running. */
export function runningStaleCommitsSql(database: string, partition: number, token: number): SqlFragment {
  const prefix = fencedCommitQueryIdPrefix(database, partition);
  return sql`SELECT count() AS running FROM system.processes WHERE startsWith(query_id, ${prefix}) AND NOT startsWith(query_id, ${`${prefix}${positive(token, 'token')}:`})`;
}

function positive(value: number, what: string, zeroAllowed = false): number {
  if (!Number.isSafeInteger(value) || value < (zeroAllowed ? 0 : 1)) throw new RangeError(`${what} must be a ${zeroAllowed ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  return value;
}
