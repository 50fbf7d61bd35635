import { Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { CatalogProjection } from '@tally/catalog';
import { ClickHouseHealth, ClickHouseMetrics, createClickHouse, migrate, type ClickHouse } from '@tally/clickhouse';
import {
  BatchWriter,
  ClickHouseEventStore,
  openLateEventNotifier,
  PointsWriterRuntime,
  WriterLoop,
  WriterMetrics,
  type EventStore,
} from '@tally/ingest';
import { CatalogAdmission, JetStreamDeadLetterSink } from '@tally/ingest-protocol';
import { connectNats, ensureStreams, natsNames, NatsHealth, reportStreamDrift, type NatsConnection } from '@tally/nats';
import { HealthModule } from '@tally/nest-kit';
import type { Logger } from '@tally/observability';
import type { Registry } from 'prom-client';
import type { WriterConfig } from './writer.config';

/** Owns the writer's connections and loop, in the order they must start and stop. */
class WriterRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly loop: WriterLoop,
    private readonly nc: NatsConnection,
    private readonly clickhouse: ClickHouse,
    private readonly catalog: CatalogProjection,
    private readonly lateEvents?: WriterDependencies['lateEvents'],
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
  }
}

export interface WriterDependencies {
  nc: NatsConnection;
  clickhouse: ClickHouse;
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
  const clickhouse = createClickHouse({
    url: config.clickhouseUrl,
    username: config.clickhouseUser,
    password: config.clickhousePassword,
    database: config.clickhouseDatabase,
    application: 'tally-writer',
    observer: registry && new ClickHouseMetrics(registry),
  });
  await migrate(clickhouse, { logger });
  const catalog = await CatalogProjection.open(nc, names);
  const lateEvents = config.lateEvents ? await openLateEventNotifier(nc, names, logger) : undefined;
  return { nc, clickhouse, catalog, lateEvents };
}

@Module({})
export class AppModule {
  static register(config: WriterConfig, deps: WriterDependencies, registry: Registry, logger: Logger): DynamicModule {
    const names = natsNames(config.natsPrefix);
    const metrics = new WriterMetrics(registry);
    metrics.watchConsumer(async () => {
      const info = await (await jetstreamManager(deps.nc)).consumers.info(names.eventsStream, names.writerConsumer);
      return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
    }, registry);
    const store = new ClickHouseEventStore(deps.clickhouse);
    const writer = new BatchWriter(store, new JetStreamDeadLetterSink(deps.nc, names), new CatalogAdmission(deps.catalog));
    const loopOptions = {
      maxBatchBytes: config.maxBatchBytes,
      flushIntervalMs: config.flushIntervalMs,
      ackWaitMs: config.ackWaitMs,
      retryMinMs: 200,
      retryMaxMs: 10_000,
      maxRefusals: config.maxRefusals,
    };
    const loop = new WriterLoop(deps.nc, names, writer, logger, metrics, deps.lateEvents?.notifier, loopOptions);
    return {
      module: AppModule,
      imports: [
        HealthModule.register(registry, () => [new NatsHealth(deps.nc), new ClickHouseHealth(deps.clickhouse)]),
      ],
      providers: [
        {
          provide: WriterRuntime,
          useFactory: () => new WriterRuntime(loop, deps.nc, deps.clickhouse, deps.catalog, deps.lateEvents),
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
