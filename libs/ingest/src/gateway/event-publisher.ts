import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsNames } from '@tally/nats';
import { batchMessageId, partitionBatch, splitToFit, type IngestBatchMessage } from '@tally/ingest-protocol';
import { JetStreamAcks, publishParts, type PublishAck } from '../jetstream-publish';

export type { PublishAck };

/** Port: where accepted batches go. The gateway answers only after `publish` resolved. */
export interface EventPublisher {
  /** `requestId`: the client request's id, for the writer's logs (a message header, not in the batch). */
  publish(batch: IngestBatchMessage, requestId?: string): Promise<PublishAck>;
}

/**
 * Publishes a request's events to their partitions' subjects (`partitionBatch`), one message per
 * partition (more if one exceeds max_payload), and resolves once JetStream acknowledged every one.
 * A partial failure is a 503: the client retries the whole request, and JetStream drops the messages
 * it already has (each part's id is a digest of its own events).
 */
export class JetStreamEventPublisher implements EventPublisher {
  private readonly js: JetStreamAcks;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly timeoutMs = 5_000,
    private readonly partitions = 1,
  ) {
    this.js = new JetStreamAcks(nc);
  }

  async publish(batch: IngestBatchMessage, requestId?: string): Promise<PublishAck> {
    const maxPayload = this.nc.info?.max_payload ?? 1024 * 1024;
    const groups = partitionBatch(batch, this.partitions);
    if (groups.length === 1) return this.publishGroup(groups[0][0], groups[0][1], maxPayload, requestId);
    const acks = await Promise.all(groups.map(([partition, part]) => this.publishGroup(partition, part, maxPayload, requestId)));
    return { duplicate: acks.every((a) => a.duplicate), seq: Math.max(...acks.map((a) => a.seq)) };
  }

  private publishGroup(partition: number, batch: IngestBatchMessage, maxPayload: number, requestId?: string): Promise<PublishAck> {
    return publishParts(
      this.js,
      this.names.eventsPartitionSubject(batch.tenant, partition),
      splitToFit(batch, maxPayload),
      batchMessageId(batch),
      this.timeoutMs,
      'Event',
      requestId,
    );
  }
}
