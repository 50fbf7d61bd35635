import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsNames } from '@tally/nats';
import { batchMessageId, splitToFit, type IngestBatchMessage } from '@tally/ingest-protocol';
import { JetStreamAcks, publishParts, type PublishAck } from '../jetstream-publish';

export type { PublishAck };

/** Port: where accepted batches go. The gateway answers only after `publish` resolved. */
export interface EventPublisher {
  /** `requestId`: the client request's id, for the writer's logs (a message header, not in the batch). */
  publish(batch: IngestBatchMessage, requestId?: string): Promise<PublishAck>;
}

export class JetStreamEventPublisher implements EventPublisher {
  private readonly js: JetStreamAcks;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly timeoutMs = 5_000,
  ) {
    this.js = new JetStreamAcks(nc);
  }

  publish(batch: IngestBatchMessage, requestId?: string): Promise<PublishAck> {
    const parts = splitToFit(batch, this.nc.info?.max_payload ?? 1024 * 1024);
    return publishParts(
      this.js,
      this.names.eventsSubject(batch.tenant),
      parts,
      batchMessageId(batch),
      this.timeoutMs,
      'Event',
      requestId,
    );
  }
}
