import { randomUUID } from 'node:crypto';
import { TallyError } from '@tally/errors';
import type { ClickHouse } from '../client';
import {
  createStagingTableSql,
  currentFenceSql,
  dropTableSql,
  fencedCommitQueryIdPrefix,
  fencedCommitSql,
  runningStaleCommitsSql,
  stagingTableName,
  stagingTablesSql,
  truncateStagingTableSql,
  writeFenceSql,
} from '../sql/writer-fence';
import { isClickHouseError } from '../errors';
import { identifier } from '../sql/quote';
import { EVENT_COLUMNS } from './eventStore';

/** A writer's claim on a partition: the partition and the token of its lease. */
export interface Fence {
  partition: number;
  token: number;
}

/** Where the fenced inserts of one writer go. */
export interface FenceTarget {
  database: string;
  /** `events` on a single server, `events_local` on a cluster's node (writers never insert through Distributed). */
  eventsTable: string;
  /** The dedup index read before each insert: `event_ids`, or `event_ids_local` on a cluster's node. Default `event_ids`. */
  eventIdsTable?: string;
}

/**
 * Where a writer stores: the database's own tables on one server; on a cluster, the shard-local
 * tables of the shard node it talks to (`events_local`, whose materialized view fills
 * `event_ids_local` on the same node), never the Distributed tables: an asynchronous Distributed
 * insert can be sent twice on retry and is not covered by the fence, and the dedup lookup must read
 * the shard that stores the customer's events.
 */
export function fenceTarget(database: string, cluster: boolean): FenceTarget {
  return cluster
    ? { database, eventsTable: 'events_local', eventIdsTable: 'event_ids_local' }
    : { database, eventsTable: 'events', eventIdsTable: 'event_ids' };
}

export class FenceTakeoverTimeoutError extends TallyError {
  constructor(fence: Fence, waitedMs: number) {
    super(
      'WRITER_FENCE_TIMEOUT',
      503,
      `partition ${fence.partition}: commits of an earlier owner still running after ${waitedMs} ms`,
    );
  }
}

/**
 * Makes `fence` the partition's latest token, then waits until no commit of an older token is
 * running: from then on nothing of an earlier owner can commit (a commit reads the token after it is
 * registered in `system.processes`, so one that read the old token is still listed, or has ended).
 * Then replaces the earlier owners' staging tables by this token's.
 */
export async function takeOverPartition(
  ch: ClickHouse,
  target: FenceTarget,
  fence: Fence,
  { waitMs = 60_000, pollMs = 50 } = {},
): Promise<void> {
  const { database } = target;
  await ch.command(writeFenceSql(database, fence.partition, fence.token), { operation: 'write writer fence' });
  const started = Date.now();
  for (;;) {
    const [row] = await ch.query<{ running: string }>(runningStaleCommitsSql(database, fence.partition, fence.token), {
      operation: 'stale writer commits',
    });
    if (Number(row.running) === 0) break;
    if (Date.now() - started > waitMs) throw new FenceTakeoverTimeoutError(fence, Date.now() - started);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const mine = stagingTableName(fence.partition, fence.token);
  const tables = await ch.query<{ name: string }>(stagingTablesSql(database, fence.partition), { operation: 'staging tables' });
  for (const { name } of tables) {
    if (name !== mine) await ch.command(dropTableSql(database, name), { operation: 'drop stale staging table' });
  }
  await ch.command(createStagingTableSql(database, target.eventsTable, fence.partition, fence.token), {
    operation: 'create staging table',
  });
}

/** The partition's latest token, 0 if none. */
export async function currentFence(ch: ClickHouse, database: string, partition: number): Promise<number> {
  const [row] = await ch.query<{ token: string }>(currentFenceSql(database, partition), { operation: 'current writer fence' });
  return Number(row?.token ?? 0);
}

/**
 * Inserts a `RowBinary` body of `EVENT_COLUMNS` rows into `events` if, and only if, `fence` is still
 * the partition's latest token when the commit runs. Returns whether the rows are stored: true when
 * the token was still the latest after the commit (tokens only grow, so it was the latest during
 * it); false when it was superseded, in which case the rows may or may not be stored and the caller
 * must leave the batch to the partition's new owner (whose dedup lookup sees whatever was stored).
 */
export async function insertFenced(ch: ClickHouse, target: FenceTarget, fence: Fence, body: Buffer): Promise<boolean> {
  try {
    return await stageAndCommit(ch, target, fence, body);
  } catch (error) {
    // A new owner drops the staging tables of older tokens once it has fenced them: ours is gone,
    // so the partition is someone else's.
    if (isClickHouseError(error) && error.serverCode === UNKNOWN_TABLE) return false;
    throw error;
  }
}

const UNKNOWN_TABLE = 60;

async function stageAndCommit(ch: ClickHouse, target: FenceTarget, fence: Fence, body: Buffer): Promise<boolean> {
  const { database } = target;
  const staging = stagingTableName(fence.partition, fence.token);
  // A previous attempt may have left rows (its upload or commit failed half-way): start empty.
  await ch.command(truncateStagingTableSql(database, fence.partition, fence.token), { operation: 'truncate staging table' });
  await ch.insertRowBinary(identifier(database, staging), EVENT_COLUMNS, body, { operation: 'stage events' });
  await ch.command(fencedCommitSql(database, target.eventsTable, EVENT_COLUMNS, fence.partition, fence.token), {
    operation: 'commit staged events',
    queryId: `${fencedCommitQueryIdPrefix(database, fence.partition)}${fence.token}:${randomUUID()}`,
  });
  const stored = (await currentFence(ch, database, fence.partition)) === fence.token;
  // The staged rows are in `events` now (or must not be): free the memory.
  await ch.command(truncateStagingTableSql(database, fence.partition, fence.token), { operation: 'truncate staging table' });
  return stored;
}
