import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ClickHouse } from '@tally/clickhouse';
import type { NatsNames } from '@tally/nats';
import type { Logger } from '@tally/observability';
import type { Registry } from 'prom-client';
import { JetStreamDeadLetterSink } from '@tally/ingest-protocol';
import { WriterLoop, type WriterLoopOptions } from '../writer/writer-loop';
import { ClickHousePointStore } from './clickhouse-point-store';
import { PointsBatchWriter } from './points-writer';

/**
 * The data points' writer loop, as a Nest provider of the writer app: it starts after boot and stops
 * in `onModuleDestroy`, which Nest runs before any `onApplicationShutdown`, so the batch in hand is
 * stored and acked before the app's connections are drained.
 */
export class PointsWriterRuntime implements OnApplicationBootstrap, OnModuleDestroy {
  readonly loop: WriterLoop;

  constructor(
    nc: NatsConnection,
    names: NatsNames,
    clickhouse: ClickHouse,
    logger: Logger,
    options: WriterLoopOptions,
    registry?: Registry,
  ) {
    const writer = new PointsBatchWriter(
      new ClickHousePointStore(clickhouse),
      new JetStreamDeadLetterSink(nc, names),
      registry,
    );
    this.loop = new WriterLoop(
      nc,
      names,
      writer,
      logger.child({ loop: 'points' }),
      undefined,
      undefined,
      options,
      {
        stream: names.pointsStream,
        consumer: names.pointsWriterConsumer,
        filterSubject: names.pointsSubjectAll,
        tenantOf: names.tenantOfPointsSubject,
      },
    );
  }

  onApplicationBootstrap(): Promise<void> {
    return this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }
}
