import { identifier, sql, type SqlFragment } from './quote';

/** What `schema_migrations` records of an applied migration. */
export interface MigrationRecord {
  version: number;
  name: string;
  checksum: string;
}

/** Records an applied migration (`applied_at` takes its DEFAULT). */
export function recordMigrationSql(database: string, m: MigrationRecord): SqlFragment {
  return sql`INSERT INTO ${identifier(database, 'schema_migrations')} (version, name, checksum) VALUES (${m.version}, ${m.name}, ${m.checksum})`;
}

/**
 * The recorded migrations, one row per version whether or not the ReplacingMergeTree has merged a
 * version recorded twice (a migration re-run after an interruption), in version order.
 */
export function recordedMigrationsSql(database: string): SqlFragment {
  return sql`SELECT version, any(name) AS name, any(checksum) AS checksum FROM ${identifier(database, 'schema_migrations')} GROUP BY version ORDER BY version`;
}
