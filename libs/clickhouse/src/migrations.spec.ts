import { migrationChecksum, migrationId, renderMigrations } from './migrations';
import { raw, sql } from './sql/quote';
import { DdlContext, MIGRATIONS, type Migration } from './schema';

const EVENTS_COLUMNS = `(
    tenant String,
    customer String,
    event_type String,
    ts DateTime('UTC'),
    ts_ms UInt16,
    event_id String,
    quantity Decimal(38, 12),
    properties Nested(key String, value String),
    source String,
    schema_version String,
    request_id String,
    received_at DateTime('UTC'),
    inserted_at DateTime('UTC') DEFAULT now(),
    payload_hash String
)`;

const EVENT_IDS_COLUMNS = `(
    tenant String,
    event_id String,
    payload_hash String,
    ts DateTime('UTC')
)`;

const DATAPOINTS_COLUMNS = `(
    tenant String,
    dataset String,
    timestamp DateTime('UTC'),
    point_id String,
    index1 String,
${Array.from({ length: 20 }, (_, i) => `    blob${i + 1} String,\n`).join('')}${Array.from({ length: 20 }, (_, i) => `    double${i + 1} Float64,\n`).join('')}    _sample_interval UInt32
)`;

const USAGE_HOURLY_COLUMNS = `(
    tenant String,
    event_type String,
    customer String,
    hour DateTime('UTC'),
    events AggregateFunction(count),
    quantity_sum AggregateFunction(sum, Decimal(38, 12)),
    quantity_min AggregateFunction(min, Decimal(38, 12)),
    quantity_max AggregateFunction(max, Decimal(38, 12))
)`;

const USAGE_HOURLY_SELECT =
  'SELECT tenant, event_type, customer, toStartOfHour(ts) AS hour, countState() AS events, sumState(quantity) AS quantity_sum, minState(quantity) AS quantity_min, maxState(quantity) AS quantity_max';

const DATAPOINT_IDS_COLUMNS = `(
    tenant String,
    dataset String,
    point_id String,
    timestamp DateTime('UTC')
)`;

const SCHEMA_MIGRATIONS_COLUMNS = `(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime('UTC') DEFAULT now()
)`;

const INVOICES_COLUMNS = `(
    tenant String,
    customer String,
    period String,
    invoice_id String,
    kind String,
    version UInt32,
    references_invoice_id String,
    currency String,
    subtotal_minor Decimal(38, 0),
    total_minor Decimal(38, 0),
    cumulative_total_minor Decimal(38, 0),
    lines String,
    effective_lines String,
    usage String,
    pricing String,
    usage_event_count UInt64,
    usage_checksum UInt64,
    late_event_count UInt64,
    timezone String,
    period_start DateTime('UTC'),
    period_end DateTime('UTC'),
    issued_by String,
    created_at DateTime('UTC')
)`;

// Pinned on purpose: a change here means every deployed database reports a changed migration.
// Edit an applied migration (or the DDL rendering) only if you really mean it; add a migration instead.
const CHECKSUM_0001 = 'c093a4d8c71372c44c35c7a15ff28661ca929a034da42e57536aa2ea4998b14e';
const CHECKSUM_0002 = '8127347e648b31110fe51273cc0ac865c364d1758c88f9b32f20cf1f8078dfc7';
const CHECKSUM_0003 = 'e36a28dcc289baff63c05762172d713ce0386af6448c66968675dbaff6adefb7';
const CHECKSUM_0004 = 'c98b5a7a07d58276133de72993cd4d85d16161eaed7dabbb79ef1d0c8cfa71ff';
const CHECKSUM_0005 = 'b4b52b3ac30a86dc614d918bedbcb42859d412b50661cf21dac5dad788642b49';
const CHECKSUM_0006 = '357f46604cc6540ad72e53636c2ba6b55c7d1134f112041dd3e42efa0a8943af';
const CHECKSUM_0007 = '9a02c903198d0dd1ae12c65b07bb663362f4a09a73051d04c1c11ab66cd9d08c';
const CHECKSUM_0008 = '91b90e07ddc78e39ff09af90a08dc93d280989434fa0925481bdac3c85376c8c';
const DESCRIPTION_0008 = 'price simulation results: one row per simulation, period and customer';
const SIMULATION_RESULTS_COLUMNS = `(
    tenant String,
    simulation_id String,
    period String,
    customer String,
    result String,
    created_at DateTime('UTC')
)`;
const CHECKSUM_0009 = '0909b59e317bdec0709acaa5b9f537abbebc3a263d9e926ce2a59844e15f9747';
const DESCRIPTION_0009 = "the writers' fencing tokens: an insert commits only while its writer's token is the partition's latest";
const WRITER_FENCES_COLUMNS = `(
    partition UInt16,
    token UInt64,
    fenced_at DateTime('UTC') DEFAULT now()
)`;
const DESCRIPTION_0007 = 'the completeness watermark each invoice and adjustment was computed at';
const INVOICE_COMPLETENESS_COLUMNS = `(
    tenant String,
    customer String,
    period String,
    invoice_id String,
    complete_through DateTime('UTC')
)`;
const DESCRIPTION_0006 =
  'daily and hour-first hourly roll-ups of quantity for questions about all customers at once';
const USAGE_DAILY_COLUMNS = USAGE_HOURLY_COLUMNS.replace('hour DateTime', 'day DateTime');
const USAGE_STATES =
  'countState() AS events, sumState(quantity) AS quantity_sum, minState(quantity) AS quantity_min, maxState(quantity) AS quantity_max';
const DESCRIPTION_0005 = 'invoice ledger: immutable invoices and adjustments with usage fingerprints';
const DESCRIPTION_0004 =
  'the data point dedup index (tenant, dataset, point_id) filled by a materialized view';
const DESCRIPTION_0003 =
  'hourly count/sum/min/max of quantity per tenant, event type and customer, filled by a materialized view';
const DESCRIPTION_0002 =
  'Analytics Engine data points (index1, blob1..20, double1..20, _sample_interval) per tenant and dataset';

describe('renderMigrations', () => {
  it('renders the local schema exactly', () => {
    expect(renderMigrations({ database: 'tally' })).toBe(
      `-- Tally ClickHouse schema for database tally on a single server.
-- Generated by renderMigrations(); every statement is idempotent.

CREATE DATABASE IF NOT EXISTS \`tally\`;

CREATE TABLE IF NOT EXISTS \`tally\`.\`schema_migrations\`
${SCHEMA_MIGRATIONS_COLUMNS}
ENGINE = ReplacingMergeTree
ORDER BY version;

-- 0001_events: raw events (one row per accepted event) and the event_ids dedup index filled by a materialized view
CREATE TABLE IF NOT EXISTS \`tally\`.\`events\`
${EVENTS_COLUMNS}
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, event_type, customer, ts, event_id);

CREATE TABLE IF NOT EXISTS \`tally\`.\`event_ids\`
${EVENT_IDS_COLUMNS}
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS \`tally\`.\`event_ids_mv\`
TO \`tally\`.\`event_ids\`
AS SELECT tenant, event_id, payload_hash, ts FROM \`tally\`.\`events\`;

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (1, 'events', '${CHECKSUM_0001}');

-- 0002_datapoints: ${DESCRIPTION_0002}
CREATE TABLE IF NOT EXISTS \`tally\`.\`datapoints\`
${DATAPOINTS_COLUMNS}
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, dataset, index1, timestamp, point_id);

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (2, 'datapoints', '${CHECKSUM_0002}');

-- 0003_usage_rollups: ${DESCRIPTION_0003}
CREATE TABLE IF NOT EXISTS \`tally\`.\`usage_hourly\`
${USAGE_HOURLY_COLUMNS}
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, event_type, customer, hour)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS \`tally\`.\`usage_hourly_mv\`
TO \`tally\`.\`usage_hourly\`
AS ${USAGE_HOURLY_SELECT} FROM \`tally\`.\`events\` GROUP BY tenant, event_type, customer, hour;

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (3, 'usage_rollups', '${CHECKSUM_0003}');

-- 0004_datapoint_ids: ${DESCRIPTION_0004}
CREATE TABLE IF NOT EXISTS \`tally\`.\`datapoint_ids\`
${DATAPOINT_IDS_COLUMNS}
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, dataset, point_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS \`tally\`.\`datapoint_ids_mv\`
TO \`tally\`.\`datapoint_ids\`
AS SELECT tenant, dataset, point_id, timestamp FROM \`tally\`.\`datapoints\`;

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (4, 'datapoint_ids', '${CHECKSUM_0004}');

-- 0005_invoices: ${DESCRIPTION_0005}
CREATE TABLE IF NOT EXISTS \`tally\`.\`invoices\`
${INVOICES_COLUMNS}
ENGINE = ReplacingMergeTree
ORDER BY (tenant, customer, period, invoice_id);

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (5, 'invoices', '${CHECKSUM_0005}');

-- 0006_usage_daily: ${DESCRIPTION_0006}
CREATE TABLE IF NOT EXISTS \`tally\`.\`usage_daily\`
${USAGE_DAILY_COLUMNS}
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, event_type, customer, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS \`tally\`.\`usage_daily_mv\`
TO \`tally\`.\`usage_daily\`
AS SELECT tenant, event_type, customer, toStartOfDay(ts) AS day, ${USAGE_STATES} FROM \`tally\`.\`events\` GROUP BY tenant, event_type, customer, day;

CREATE TABLE IF NOT EXISTS \`tally\`.\`usage_hourly_by_time\`
${USAGE_HOURLY_COLUMNS}
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, event_type, hour, customer);

CREATE MATERIALIZED VIEW IF NOT EXISTS \`tally\`.\`usage_hourly_by_time_mv\`
TO \`tally\`.\`usage_hourly_by_time\`
AS SELECT tenant, event_type, customer, toStartOfHour(ts) AS hour, ${USAGE_STATES} FROM \`tally\`.\`events\` GROUP BY tenant, event_type, customer, hour;

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (6, 'usage_daily', '${CHECKSUM_0006}');

-- 0007_invoice_completeness: ${DESCRIPTION_0007}
CREATE TABLE IF NOT EXISTS \`tally\`.\`invoice_completeness\`
${INVOICE_COMPLETENESS_COLUMNS}
ENGINE = ReplacingMergeTree
ORDER BY (tenant, customer, period, invoice_id);

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (7, 'invoice_completeness', '${CHECKSUM_0007}');

-- 0008_simulation_results: ${DESCRIPTION_0008}
CREATE TABLE IF NOT EXISTS \`tally\`.\`simulation_results\`
${SIMULATION_RESULTS_COLUMNS}
ENGINE = ReplacingMergeTree
ORDER BY (tenant, simulation_id, period, customer);

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (8, 'simulation_results', '${CHECKSUM_0008}');

-- 0009_writer_fences: ${DESCRIPTION_0009}
CREATE TABLE IF NOT EXISTS \`tally\`.\`writer_fences\`
${WRITER_FENCES_COLUMNS}
ENGINE = MergeTree
ORDER BY (partition, token);

INSERT INTO \`tally\`.\`schema_migrations\` (version, name, checksum) VALUES (9, 'writer_fences', '${CHECKSUM_0009}');
`,
    );
  });

  it('renders the replicated cluster schema exactly', () => {
    expect(renderMigrations({ database: 'billing', cluster: { name: 'prod', replicated: true } })).toBe(
      `-- Tally ClickHouse schema for database billing on cluster prod (replicated).
-- Generated by renderMigrations(); every statement is idempotent.

CREATE DATABASE IF NOT EXISTS \`billing\` ON CLUSTER \`prod\`;

CREATE TABLE IF NOT EXISTS \`billing\`.\`schema_migrations\` ON CLUSTER \`prod\`
${SCHEMA_MIGRATIONS_COLUMNS}
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/billing/schema_migrations', '{replica}')
ORDER BY version;

-- 0001_events: raw events (one row per accepted event) and the event_ids dedup index filled by a materialized view
CREATE TABLE IF NOT EXISTS \`billing\`.\`events_local\` ON CLUSTER \`prod\`
${EVENTS_COLUMNS}
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/billing/events_local', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, event_type, customer, ts, event_id);

CREATE TABLE IF NOT EXISTS \`billing\`.\`events\` ON CLUSTER \`prod\`
AS \`billing\`.\`events_local\`
ENGINE = Distributed('prod', 'billing', 'events_local', cityHash64(tenant, event_id));

CREATE TABLE IF NOT EXISTS \`billing\`.\`event_ids_local\` ON CLUSTER \`prod\`
${EVENT_IDS_COLUMNS}
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/billing/event_ids_local', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant, event_id);

CREATE TABLE IF NOT EXISTS \`billing\`.\`event_ids\` ON CLUSTER \`prod\`
AS \`billing\`.\`event_ids_local\`
ENGINE = Distributed('prod', 'billing', 'event_ids_local', cityHash64(tenant, event_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS \`billing\`.\`event_ids_mv\` ON CLUSTER \`prod\`
TO \`billing\`.\`event_ids_local\`
AS SELECT tenant, event_id, payload_hash, ts FROM \`billing\`.\`events_local\`;

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (1, 'events', '${CHECKSUM_0001}');

-- 0002_datapoints: ${DESCRIPTION_0002}
CREATE TABLE IF NOT EXISTS \`billing\`.\`datapoints_local\` ON CLUSTER \`prod\`
${DATAPOINTS_COLUMNS}
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/billing/datapoints_local', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, dataset, index1, timestamp, point_id);

CREATE TABLE IF NOT EXISTS \`billing\`.\`datapoints\` ON CLUSTER \`prod\`
AS \`billing\`.\`datapoints_local\`
ENGINE = Distributed('prod', 'billing', 'datapoints_local', cityHash64(tenant, point_id));

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (2, 'datapoints', '${CHECKSUM_0002}');

-- 0003_usage_rollups: ${DESCRIPTION_0003}
CREATE TABLE IF NOT EXISTS \`billing\`.\`usage_hourly_local\` ON CLUSTER \`prod\`
${USAGE_HOURLY_COLUMNS}
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/billing/usage_hourly_local', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, event_type, customer, hour)
SETTINGS index_granularity = 1024;

CREATE TABLE IF NOT EXISTS \`billing\`.\`usage_hourly\` ON CLUSTER \`prod\`
AS \`billing\`.\`usage_hourly_local\`
ENGINE = Distributed('prod', 'billing', 'usage_hourly_local', cityHash64(tenant, customer));

CREATE MATERIALIZED VIEW IF NOT EXISTS \`billing\`.\`usage_hourly_mv\` ON CLUSTER \`prod\`
TO \`billing\`.\`usage_hourly_local\`
AS ${USAGE_HOURLY_SELECT} FROM \`billing\`.\`events_local\` GROUP BY tenant, event_type, customer, hour;

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (3, 'usage_rollups', '${CHECKSUM_0003}');

-- 0004_datapoint_ids: ${DESCRIPTION_0004}
CREATE TABLE IF NOT EXISTS \`billing\`.\`datapoint_ids_local\` ON CLUSTER \`prod\`
${DATAPOINT_IDS_COLUMNS}
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/billing/datapoint_ids_local', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, dataset, point_id);

CREATE TABLE IF NOT EXISTS \`billing\`.\`datapoint_ids\` ON CLUSTER \`prod\`
AS \`billing\`.\`datapoint_ids_local\`
ENGINE = Distributed('prod', 'billing', 'datapoint_ids_local', cityHash64(tenant, point_id));

CREATE MATERIALIZED VIEW IF NOT EXISTS \`billing\`.\`datapoint_ids_mv\` ON CLUSTER \`prod\`
TO \`billing\`.\`datapoint_ids_local\`
AS SELECT tenant, dataset, point_id, timestamp FROM \`billing\`.\`datapoints_local\`;

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (4, 'datapoint_ids', '${CHECKSUM_0004}');

-- 0005_invoices: ${DESCRIPTION_0005}
CREATE TABLE IF NOT EXISTS \`billing\`.\`invoices_local\` ON CLUSTER \`prod\`
${INVOICES_COLUMNS}
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/billing/invoices_local', '{replica}')
ORDER BY (tenant, customer, period, invoice_id);

CREATE TABLE IF NOT EXISTS \`billing\`.\`invoices\` ON CLUSTER \`prod\`
AS \`billing\`.\`invoices_local\`
ENGINE = Distributed('prod', 'billing', 'invoices_local', cityHash64(tenant, customer));

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (5, 'invoices', '${CHECKSUM_0005}');

-- 0006_usage_daily: ${DESCRIPTION_0006}
CREATE TABLE IF NOT EXISTS \`billing\`.\`usage_daily_local\` ON CLUSTER \`prod\`
${USAGE_DAILY_COLUMNS}
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/billing/usage_daily_local', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, event_type, customer, day);

CREATE TABLE IF NOT EXISTS \`billing\`.\`usage_daily\` ON CLUSTER \`prod\`
AS \`billing\`.\`usage_daily_local\`
ENGINE = Distributed('prod', 'billing', 'usage_daily_local', cityHash64(tenant, customer));

CREATE MATERIALIZED VIEW IF NOT EXISTS \`billing\`.\`usage_daily_mv\` ON CLUSTER \`prod\`
TO \`billing\`.\`usage_daily_local\`
AS SELECT tenant, event_type, customer, toStartOfDay(ts) AS day, ${USAGE_STATES} FROM \`billing\`.\`events_local\` GROUP BY tenant, event_type, customer, day;

CREATE TABLE IF NOT EXISTS \`billing\`.\`usage_hourly_by_time_local\` ON CLUSTER \`prod\`
${USAGE_HOURLY_COLUMNS}
ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/billing/usage_hourly_by_time_local', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, event_type, hour, customer);

CREATE TABLE IF NOT EXISTS \`billing\`.\`usage_hourly_by_time\` ON CLUSTER \`prod\`
AS \`billing\`.\`usage_hourly_by_time_local\`
ENGINE = Distributed('prod', 'billing', 'usage_hourly_by_time_local', cityHash64(tenant, customer));

CREATE MATERIALIZED VIEW IF NOT EXISTS \`billing\`.\`usage_hourly_by_time_mv\` ON CLUSTER \`prod\`
TO \`billing\`.\`usage_hourly_by_time_local\`
AS SELECT tenant, event_type, customer, toStartOfHour(ts) AS hour, ${USAGE_STATES} FROM \`billing\`.\`events_local\` GROUP BY tenant, event_type, customer, hour;

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (6, 'usage_daily', '${CHECKSUM_0006}');

-- 0007_invoice_completeness: ${DESCRIPTION_0007}
CREATE TABLE IF NOT EXISTS \`billing\`.\`invoice_completeness_local\` ON CLUSTER \`prod\`
${INVOICE_COMPLETENESS_COLUMNS}
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/billing/invoice_completeness_local', '{replica}')
ORDER BY (tenant, customer, period, invoice_id);

CREATE TABLE IF NOT EXISTS \`billing\`.\`invoice_completeness\` ON CLUSTER \`prod\`
AS \`billing\`.\`invoice_completeness_local\`
ENGINE = Distributed('prod', 'billing', 'invoice_completeness_local', cityHash64(tenant, customer));

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (7, 'invoice_completeness', '${CHECKSUM_0007}');

-- 0008_simulation_results: ${DESCRIPTION_0008}
CREATE TABLE IF NOT EXISTS \`billing\`.\`simulation_results_local\` ON CLUSTER \`prod\`
${SIMULATION_RESULTS_COLUMNS}
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/billing/simulation_results_local', '{replica}')
ORDER BY (tenant, simulation_id, period, customer);

CREATE TABLE IF NOT EXISTS \`billing\`.\`simulation_results\` ON CLUSTER \`prod\`
AS \`billing\`.\`simulation_results_local\`
ENGINE = Distributed('prod', 'billing', 'simulation_results_local', cityHash64(tenant, simulation_id));

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (8, 'simulation_results', '${CHECKSUM_0008}');

-- 0009_writer_fences: ${DESCRIPTION_0009}
CREATE TABLE IF NOT EXISTS \`billing\`.\`writer_fences\` ON CLUSTER \`prod\`
${WRITER_FENCES_COLUMNS}
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/billing/writer_fences', '{replica}')
ORDER BY (partition, token);

INSERT INTO \`billing\`.\`schema_migrations\` (version, name, checksum) VALUES (9, 'writer_fences', '${CHECKSUM_0009}');
`,
    );
  });

  it('renders a non-replicated cluster with plain engines and the same Distributed tables', () => {
    const text = renderMigrations({ database: 'tally', cluster: { name: 'c1', replicated: false } });
    expect(text).not.toContain('Replicated');
    expect(text).toContain(
      'CREATE TABLE IF NOT EXISTS `tally`.`events_local` ON CLUSTER `c1`\n' +
        EVENTS_COLUMNS +
        '\nENGINE = MergeTree\nPARTITION BY toYYYYMM(ts)\nORDER BY (tenant, event_type, customer, ts, event_id);',
    );
    expect(text).toContain(
      'CREATE TABLE IF NOT EXISTS `tally`.`schema_migrations` ON CLUSTER `c1`\n' +
        SCHEMA_MIGRATIONS_COLUMNS +
        '\nENGINE = ReplacingMergeTree\nORDER BY version;',
    );
    expect(text).toContain(
      "ENGINE = Distributed('c1', 'tally', 'event_ids_local', cityHash64(tenant, event_id));",
    );
    expect(text).toContain(
      "ENGINE = Distributed('c1', 'tally', 'datapoints_local', cityHash64(tenant, point_id));",
    );
  });

  it('refuses names that are not identifiers', () => {
    expect(() => renderMigrations({ database: 'tally; DROP' })).toThrow(/not a valid database name/);
    expect(() => renderMigrations({ database: 'tally', cluster: { name: 'a-b', replicated: true } })).toThrow(
      /not a valid cluster name/,
    );
  });

  it('refuses migrations out of order or badly named', () => {
    const m = (version: number, name = 'x'): Migration => ({
      version,
      name,
      description: 'test',
      statements: () => [raw('SELECT 1')],
    });
    expect(() => renderMigrations({ database: 'tally', migrations: [m(2), m(1)] })).toThrow(/must increase/);
    expect(() => renderMigrations({ database: 'tally', migrations: [m(1), m(1)] })).toThrow(/must increase/);
    expect(() => renderMigrations({ database: 'tally', migrations: [m(1, 'Bad-Name')] })).toThrow(
      /snake_case/,
    );
  });
});

describe('migrations', () => {
  it('are numbered 1, 2, 3, ... with the file-name id', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(migrationId(MIGRATIONS[0])).toBe('0001_events');
    expect(migrationId(MIGRATIONS[1])).toBe('0002_datapoints');
    expect(migrationId(MIGRATIONS[2])).toBe('0003_usage_rollups');
    expect(migrationId(MIGRATIONS[3])).toBe('0004_datapoint_ids');
    expect(migrationId(MIGRATIONS[4])).toBe('0005_invoices');
    expect(migrationId(MIGRATIONS[5])).toBe('0006_usage_daily');
    expect(migrationId(MIGRATIONS[6])).toBe('0007_invoice_completeness');
    expect(migrationId(MIGRATIONS[7])).toBe('0008_simulation_results');
    expect(migrationId(MIGRATIONS[8])).toBe('0009_writer_fences');
  });

  it('have pinned checksums that do not depend on the database or cluster', () => {
    expect(migrationChecksum(MIGRATIONS[0])).toBe(CHECKSUM_0001);
    expect(migrationChecksum(MIGRATIONS[1])).toBe(CHECKSUM_0002);
    expect(migrationChecksum(MIGRATIONS[2])).toBe(CHECKSUM_0003);
    expect(migrationChecksum(MIGRATIONS[3])).toBe(CHECKSUM_0004);
    expect(migrationChecksum(MIGRATIONS[4])).toBe(CHECKSUM_0005);
    expect(migrationChecksum(MIGRATIONS[5])).toBe(CHECKSUM_0006);
    expect(migrationChecksum(MIGRATIONS[6])).toBe(CHECKSUM_0007);
    expect(migrationChecksum(MIGRATIONS[7])).toBe(CHECKSUM_0008);
    expect(migrationChecksum(MIGRATIONS[8])).toBe(CHECKSUM_0009);
  });

  it('use IF NOT EXISTS in every statement, locally and on a cluster', () => {
    for (const ddl of [
      new DdlContext({ database: 'tally' }),
      new DdlContext({ database: 'tally', cluster: { name: 'c', replicated: true } }),
    ]) {
      for (const m of MIGRATIONS) {
        for (const s of m.statements(ddl))
          expect(s.text).toMatch(/^CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS /);
      }
    }
  });

  it('avoid what 18.16 lacks', () => {
    const text =
      renderMigrations({ database: 'tally' }) +
      renderMigrations({ database: 'tally', cluster: { name: 'c', replicated: true } });
    for (const missing of ['DateTime64', 'LowCardinality', 'Map(', 'JSON', ' TTL ', 'toStartOfInterval']) {
      expect(text).not.toContain(missing);
    }
  });
});

describe('DdlContext', () => {
  it('builds engines with parameters', () => {
    const ddl = new DdlContext({ database: 'd', cluster: { name: 'c', replicated: true } });
    const [local] = ddl.createTable({
      name: 't',
      columns: raw('k String\nv UInt64'),
      engine: 'ReplacingMergeTree',
      engineArgs: [raw('v')],
      orderBy: raw('k'),
      cluster: { shardingKey: raw('cityHash64(k)') },
    });
    expect(local.text).toBe(
      "CREATE TABLE IF NOT EXISTS `d`.`t_local` ON CLUSTER `c`\n(\n    k String\n    v UInt64\n)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/d/t_local', '{replica}', v)\nORDER BY k",
    );
    const single = new DdlContext({ database: 'd' });
    expect(
      single.createTable({
        name: 't',
        columns: raw('k String'),
        engine: 'ReplacingMergeTree',
        engineArgs: [raw('v')],
        orderBy: raw('k'),
        cluster: 'local',
      })[0].text,
    ).toBe(
      'CREATE TABLE IF NOT EXISTS `d`.`t`\n(\n    k String\n)\nENGINE = ReplacingMergeTree(v)\nORDER BY k',
    );
    expect(
      single.createMaterializedView({ name: 'mv', to: 'x', select: (t) => sql`SELECT 1 FROM ${t('y')}` })
        .text,
    ).toBe('CREATE MATERIALIZED VIEW IF NOT EXISTS `d`.`mv`\nTO `d`.`x`\nAS SELECT 1 FROM `d`.`y`');
  });
});
