import { randomBytes } from 'node:crypto';
import { createClickHouse } from './client';
import { migrate, renderMigrations } from './migrations';
import { identifier, raw, sql } from './sql/quote';
import { MIGRATIONS, type Migration } from './schema';
import { createTestDatabase, type TestDatabase } from './testing';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(); // runs migrate once
});

afterAll(async () => {
  await db?.drop();
});

describe('migrate on the real server', () => {
  it('creates the tables of every migration and records them', async () => {
    const tables = await db.client.query<{ name: string; engine: string }>(
      sql`SELECT name, engine FROM system.tables WHERE database = ${db.database} ORDER BY name`,
    );
    expect(tables).toEqual([
      { name: 'datapoint_ids', engine: 'ReplacingMergeTree' },
      { name: 'datapoint_ids_mv', engine: 'MaterializedView' },
      { name: 'datapoints', engine: 'ReplacingMergeTree' },
      { name: 'event_ids', engine: 'ReplacingMergeTree' },
      { name: 'event_ids_mv', engine: 'MaterializedView' },
      { name: 'events', engine: 'MergeTree' },
      { name: 'invoice_completeness', engine: 'ReplacingMergeTree' },
      { name: 'invoices', engine: 'ReplacingMergeTree' },
      { name: 'schema_migrations', engine: 'ReplacingMergeTree' },
      { name: 'simulation_results', engine: 'ReplacingMergeTree' },
      { name: 'usage_daily', engine: 'AggregatingMergeTree' },
      { name: 'usage_daily_mv', engine: 'MaterializedView' },
      { name: 'usage_hourly', engine: 'AggregatingMergeTree' },
      { name: 'usage_hourly_by_time', engine: 'AggregatingMergeTree' },
      { name: 'usage_hourly_by_time_mv', engine: 'MaterializedView' },
      { name: 'usage_hourly_mv', engine: 'MaterializedView' },
      { name: 'writer_fences', engine: 'MergeTree' },
    ]);
    const recorded = await db.client.query<{ version: number; name: string; applied: number }>(
      sql`SELECT version, name, toUInt32(applied_at) > 0 AS applied FROM ${db.client.table('schema_migrations')} ORDER BY version`,
    );
    expect(recorded).toEqual([
      { version: 1, name: 'events', applied: 1 },
      { version: 2, name: 'datapoints', applied: 1 },
      { version: 3, name: 'usage_rollups', applied: 1 },
      { version: 4, name: 'datapoint_ids', applied: 1 },
      { version: 5, name: 'invoices', applied: 1 },
      { version: 6, name: 'usage_daily', applied: 1 },
      { version: 7, name: 'invoice_completeness', applied: 1 },
      { version: 8, name: 'simulation_results', applied: 1 },
      { version: 9, name: 'writer_fences', applied: 1 },
    ]);
  });

  it('is a no-op the second (and third) time', async () => {
    const second = await migrate(db.client);
    expect(second).toEqual({
      database: db.database,
      applied: [],
      alreadyApplied: MIGRATIONS.length,
      unknownVersions: [],
      checksumMismatches: [],
    });
    await migrate(db.client);
    const [{ n }] = await db.client.query<{ n: string }>(
      sql`SELECT toString(count()) AS n FROM ${db.client.table('schema_migrations')}`,
    );
    expect(n).toBe(String(MIGRATIONS.length));
  });

  it('applies only the pending migrations, in order, and reports changed ones', async () => {
    const extra: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'test_extra',
      description: 'test',
      statements: (ddl) =>
        ddl.createTable({
          name: 'extra',
          columns: raw('k String'),
          engine: 'MergeTree',
          orderBy: raw('k'),
          cluster: 'local',
        }),
    };
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_f: object, m: string) => void warnings.push(m) };
    const result = await migrate(db.client, { migrations: [...MIGRATIONS, extra], logger });
    expect(result.applied.map((m) => m.version)).toEqual([extra.version]);
    expect(result.alreadyApplied).toBe(MIGRATIONS.length);

    // The code went back to an older release: the newer version is reported, nothing fails.
    expect((await migrate(db.client)).unknownVersions).toEqual([extra.version]);

    const edited: Migration = { ...extra, statements: (ddl) => [...extra.statements(ddl), raw('SELECT 1')] };
    const again = await migrate(db.client, { migrations: [...MIGRATIONS, edited], logger });
    expect(again.applied).toEqual([]);
    expect(again.checksumMismatches.map((m) => m.version)).toEqual([extra.version]);
    expect(warnings).toHaveLength(1);
  });

  it('creates the database when it is missing, from a handle whose database does not exist yet', async () => {
    const database = `t_${randomBytes(8).toString('hex')}`;
    const ch = createClickHouse({
      url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
      username: 'default',
      password: '',
      database,
    });
    try {
      const result = await migrate(ch);
      expect(result.applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await ch.command(sql`DROP DATABASE IF EXISTS ${identifier(database)}`);
      await ch.close();
    }
  });

  it('survives concurrent runs on an empty database', async () => {
    const database = `t_${randomBytes(8).toString('hex')}`;
    const ch = createClickHouse({
      url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
      username: 'default',
      password: '',
      database,
    });
    try {
      const results = await Promise.all([migrate(ch), migrate(ch), migrate(ch)]);
      expect(results.every((r) => r.checksumMismatches.length === 0)).toBe(true);
      expect((await migrate(ch)).applied).toEqual([]);
    } finally {
      await ch.command(sql`DROP DATABASE IF EXISTS ${identifier(database)}`);
      await ch.close();
    }
  });

  it('renders cluster DDL that the 18.16 parser accepts (it fails on the missing cluster, not on syntax)', async () => {
    const cluster = `c_${randomBytes(4).toString('hex')}`;
    const database = `t_${randomBytes(8).toString('hex')}`;
    const script = renderMigrations({ database, cluster: { name: cluster, replicated: true } });
    const statements = script
      .split(';\n')
      .map((s) =>
        s
          .split('\n')
          .filter((line) => !line.startsWith('--'))
          .join('\n')
          .trim(),
      )
      .filter(Boolean);
    expect(statements.length).toBeGreaterThanOrEqual(8);
    for (const statement of statements) {
      const error = await db.client.command(raw(statement)).then(
        () => undefined,
        (e: unknown) => e,
      );
      // 170 = cluster not found; 81 = database missing (the INSERT that records the migration).
      expect(error).toMatchObject({ serverCode: statement.startsWith('INSERT') ? 81 : 170 });
    }
  });
});
