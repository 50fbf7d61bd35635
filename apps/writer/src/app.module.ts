import { Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { CatalogProjection } from '@tally/catalog';
import { ClickHouseHealth, ClickHouseMetrics, createClickHouse, migrate, type ClickHouse } from '@tally/clickhouse';
import { openLateEventNotifier, PartitionedWriter, PointsWriterRuntime, WriterMetrics } from '@tally/ingest';
import { CatalogAdmission, JetStreamDeadLetterSink } from '@tally/ingest-protocol';
import { connectNats, ensureStreams, natsNames, NatsHealth, reportStreamDrift, type NatsConnection } from '@tally/nats';
import { HealthModule } from '@tally/nest-kit';
import type { Logger } from '@tally/observability';
import type { Registry } from 'prom-client';
import type { WriterConfig } from './writer.config';

/** Owns the writer's connections and loop, in the order they must start and stop. */
class WriterRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly loop: PartitionedWriter,
    private readonly nc: NatsConnection,
    private readonly clickhouse: ClickHouse,
    private readonly catalog: CatalogProjection,
    private readonly lateEvents?: WriterDependencies['lateEvents'],
    private readonly shards: readonly ClickHouse[] = [],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    await this.lateEvents?.close();
    await this.catalog.close();
    await this.nc.drain();
    await this.clickhouse.close();
    for (const shard of this.shards) await shard.close();
  }
}

export interface WriterDependencies {
  nc: NatsConnection;
  clickhouse: ClickHouse;
  /** On a ClickHouse cluster: one handle per shard (CLICKHOUSE_SHARD_URLS), where the partitions are stored. */
  shards: ClickHouse[];
  catalog: CatalogProjection;
  /** Publishes late-event notices for billing (docs/billing.md#late-events-and-adjustments). */
  lateEvents?: Awaited<ReturnType<typeof openLateEventNotifier>>;
}

/** Connects, migrates and creates the streams before Nest starts, so a broken dependency fails boot loudly. */
export async function connectWriterDependencies(
  config: WriterConfig,
  logger: Logger,
  registry?: Registry,
): Promise<WriterDependencies> {
  const names = natsNames(config.natsPrefix);
  const nc = await connectNats(config.natsUrl, 'tally-writer', config);
  reportStreamDrift(await ensureStreams(nc, names, config), logger, registry);
  const observer = registry && new ClickHouseMetrics(registry);
  const connect = (url: string) =>
    createClickHouse({
      url,
      username: config.clickhouseUser,
      password: config.clickhousePassword,
      database: config.clickhouseDatabase,
      application: 'tally-writer',
      observer,
    });
  const clickhouse = connect(config.clickhouseUrl);
  const cluster = config.clickhouseCluster ? { name: config.clickhouseCluster, replicated: true } : undefined;
  await migrate(clickhouse, { logger, cluster });
  const shards = cluster ? config.clickhouseShardUrls.split(',').map((u) => connect(u.trim())) : [];
  const catalog = await CatalogProjection.open(nc, names);
  const lateEvents = config.lateEvents ? await openLateEventNotifier(nc, names, logger) : undefined;
  return { nc, clickhouse, shards, catalog, lateEvents };
}

@Module({})
export class AppModule {
  static register(config: WriterConfig, deps: WriterDependencies, registry: Registry, logger: Logger): DynamicModule {
    const names = natsNames(config.natsPrefix);
    const metrics = new WriterMetrics(registry);
    // Lag summed over the partitions' consumers (a partition no writer took yet has none).
    metrics.watchConsumer(async () => {
      const jsm = await jetstreamManager(deps.nc);
      const total = { pending: 0, ackPending: 0, redelivered: 0 };
      for (let p = 0; p < config.eventPartitions; p++) {
        const info = await jsm.consumers.info(names.eventsStream, names.writerPartitionConsumer(p)).catch(() => undefined);
        if (!info) continue;
        total.pending += info.num_pending;
        total.ackPending += info.num_ack_pending;
        total.redelivered += info.num_redelivered;
      }
      return total;
    }, registry);
    const loopOptions = {
      maxBatchBytes: config.maxBatchBytes,
      flushIntervalMs: config.flushIntervalMs,
      ackWaitMs: config.ackWaitMs,
      retryMinMs: 200,
      retryMaxMs: 10_000,
      maxRefusals: config.maxRefusals,
    };
    const loop = new PartitionedWriter(
      {
        nc: deps.nc,
        names,
        clickhouse: deps.clickhouse,
        shards: deps.shards,
        deadLetters: new JetStreamDeadLetterSink(deps.nc, names),
        admission: new CatalogAdmission(deps.catalog),
        logger,
        metrics,
        observer: deps.lateEvents?.notifier,
      },
      {
        partitions: config.eventPartitions,
        leaseMs: config.leaseMs,
        cluster: deps.shards.length > 0,
        replicas: config.replicas,
        loop: loopOptions,
      },
    );
    metrics.watchPartitions(() => loop.partitions().length, registry);
    return {
      module: AppModule,
      imports: [
        HealthModule.register(registry, () => [new NatsHealth(deps.nc), new ClickHouseHealth(deps.clickhouse)]),
      ],
      providers: [
        {
          provide: WriterRuntime,
          useFactory: () => new WriterRuntime(loop, deps.nc, deps.clickhouse, deps.catalog, deps.lateEvents, deps.shards),
        },
        // Analytics Engine data points: their own stream, consumer and loop (stopped before WriterRuntime closes).
        {
          provide: PointsWriterRuntime,
          useFactory: () =>
            new PointsWriterRuntime(deps.nc, names, deps.clickhouse, logger, loopOptions, registry),
        },
      ],
    };
  }
}
