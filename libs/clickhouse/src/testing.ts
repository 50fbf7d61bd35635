// Test-only entry point of @tally/clickhouse (`@tally/clickhouse/testing`). Production code never imports
// it (eslint.config.mjs bans `@tally/*/testing`).
import { randomBytes } from 'node:crypto';
import { createClickHouse, type ClickHouse } from './client';
import { migrate } from './migrations';
import { identifier, sql } from './sql/quote';

export interface TestDatabase {
  /** A handle whose `database` is the new database. */
  client: ClickHouse;
  database: string;
  /** Drops the database and closes the handle. */
  drop(): Promise<void>;
}

/**
 * For integration tests: a fresh database `t_<random hex>` with every migration applied, on the
 * server named by `url` (default `CLICKHOUSE_URL`, then http://127.0.0.1:8123; credentials from
 * `CLICKHOUSE_USER`/`CLICKHOUSE_PASSWORD`). Each test gets its own, so tests never see each other's rows.
 * `requestTimeoutMs` is for fixtures that load many rows with one statement: on a loaded 2-core CI
 * machine such an INSERT can outlast the handle's default 30 s.
 */
export async function createTestDatabase(
  url?: string,
  options: { requestTimeoutMs?: number } = {},
): Promise<TestDatabase> {
  const database = `t_${randomBytes(8).toString('hex')}`;
  const client = createClickHouse({
    url: url ?? process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    username: process.env.CLICKHOUSE_USER ?? 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    database,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  try {
    await migrate(client);
  } catch (error) {
    await client.command(sql`DROP DATABASE IF EXISTS ${identifier(database)}`).catch(() => undefined);
    await client.close();
    throw error;
  }
  return {
    client,
    database,
    async drop() {
      try {
        await client.command(sql`DROP DATABASE IF EXISTS ${identifier(database)}`, {
          operation: 'drop test database',
        });
      } finally {
        await client.close();
      }
    },
  };
}
