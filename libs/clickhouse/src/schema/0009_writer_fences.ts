import { raw } from '../sql/quote';
import type { Migration } from './ddl';

/**
 * Fencing tokens of the writers' partitions (docs/ingestion.md, "Several writers").
 *
 * A writer that takes a partition over writes its token (the revision of its lease in NATS KV, which
 * only grows) here before it reads or inserts anything of that partition. Every insert of a writer
 * into `events` is one `INSERT INTO events SELECT ... FROM <its staging table> WHERE (SELECT
 * max(token) ... ) = <its token>`: the token is compared on the server, within the statement that
 * inserts, so a writer that lost its partition (paused, partitioned away) inserts nothing, however
 * late its statement arrives. Per node in a cluster (each shard fences the partitions it stores).
 */
export const migration0009: Migration = {
  version: 9,
  name: 'writer_fences',
  description: "the writers' fencing tokens: an insert commits only while its writer's token is the partition's latest",
  statements: (ddl) => [
    ...ddl.createTable({
      name: 'writer_fences',
      columns: raw(`
        partition UInt16,
        token UInt64,
        fenced_at DateTime('UTC') DEFAULT now()
      `),
      engine: 'MergeTree',
      orderBy: raw('(partition, token)'),
      cluster: 'local',
    }),
  ],
};
