import { ConfigError, env, infraConfig, loadConfig, natsConnectionConfig } from '@tally/config';

export const writerConfigSpec = {
  port: env.port('WRITER_PORT', 3002, 'public port: liveness /health only'),
  host: env.string('WRITER_HOST', '127.0.0.1', 'interface to listen on'),
  internalPort: env.port('WRITER_INTERNAL_PORT', 9402, 'internal listener: /metrics and the detailed /health (docs/operations.md#internal-port)'),
  internalHost: infraConfig.internalHost,
  natsPrefix: env.string('TALLY_NATS_PREFIX', 'tally', 'prefix of every stream, subject and bucket'),
  ...natsConnectionConfig,
  eventsMaxBytes: infraConfig.eventsMaxBytes,
  deadLettersMaxBytes: infraConfig.deadLettersMaxBytes,
  eventPartitions: infraConfig.eventPartitions,
  /** `replicas` as `ensureStreams` reads it. */
  replicas: infraConfig.streamReplicas,
  leaseMs: env.int('WRITER_LEASE_MS', 10_000, 500, 600_000, 'how long a partition lease lasts without renewal (a dead writer\'s partitions move after this)'),
  clickhouseUrl: infraConfig.clickhouseUrl,
  clickhouseUser: infraConfig.clickhouseUser,
  clickhousePassword: infraConfig.clickhousePassword,
  clickhouseDatabase: infraConfig.clickhouseDatabase,
  /**
   * A ClickHouse cluster (docs/scaling.md, "The cluster topology"): its name from `remote_servers`
   * (the schema is migrated ON CLUSTER), and one URL per shard, in shard order, each the replica that
   * fences and stores that shard's partitions: the same list on every writer.
   */
  clickhouseCluster: env.identifier('CLICKHOUSE_CLUSTER', '', 'ClickHouse cluster name (empty: one server)'),
  clickhouseShardUrls: env.urls('CLICKHOUSE_SHARD_URLS', '', ['http', 'https'], "with CLICKHOUSE_CLUSTER: one URL per shard, comma-separated, each the shard's fence replica"),
  // ClickHouse's cost per event falls steeply with the rows per insert (every insert writes a part
  // of `events` and of each view's table): measured on 18.16, 13.8 µs of server CPU per event at
  // 5,000 rows, 6.0 at 15,000, 2.9 at 30,000, 2.4 at 60,000. 8 MiB of compact batch messages is
  // about 58,000 events; below 58,000 events/s the 1 s flush interval ends a batch first.
  maxBatchBytes: env.int('WRITER_MAX_BATCH_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024, 'flush when this many bytes are pending'),
  flushIntervalMs: env.int('WRITER_FLUSH_INTERVAL_MS', 1_000, 10, 60_000, 'flush at least this often'),
  ackWaitMs: env.int('WRITER_ACK_WAIT_MS', 30_000, 1_000, 3_600_000, 'redelivery delay for unacked messages'),
  maxRefusals: env.int('WRITER_MAX_REFUSALS', 3, 1, 1_000, 'times ClickHouse may refuse a batch (non-transient error) before it is bisected and the refused events dead-lettered'),
  nice: env.int('WRITER_NICE', 10, 0, 19, 'CPU priority of the writer (nice value): it yields to the gateway on a shared machine'),
  heapGrowingPercent: env.int('WRITER_HEAP_GROWING_PERCENT', 50, 0, 1_000, 'heap growth allowed before a full GC, % of the live heap (0: V8 default)'),
  /** Late-event rebilling (docs/billing.md): events stored into a closed billing period start a rebill workflow. */
  lateEvents: env.bool('WRITER_LATE_EVENTS', true, 'publish a notice for events stored into closed billing periods'),
  trustProxy: infraConfig.trustProxy,
  logLevel: infraConfig.logLevel,
};

export type WriterConfig = ReturnType<typeof loadWriterConfig>;
export const loadWriterConfig = (source = process.env) => {
  const config = loadConfig('writer', writerConfigSpec, source);
  // A cluster needs the shards to store into, and shards need the cluster's schema.
  if (Boolean(config.clickhouseCluster) !== Boolean(config.clickhouseShardUrls)) {
    throw new ConfigError('writer', [
      config.clickhouseCluster
        ? { env: 'CLICKHOUSE_SHARD_URLS', value: '', message: 'must name one URL per shard when CLICKHOUSE_CLUSTER is set' }
        : { env: 'CLICKHOUSE_CLUSTER', value: '', message: 'must name the cluster when CLICKHOUSE_SHARD_URLS is set' },
    ]);
  }
  return config;
};
