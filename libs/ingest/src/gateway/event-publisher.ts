import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { eventFingerprint } from '@tally/event-schema';
import { UnavailableError } from '@tally/errors';
import type { NatsNames } from '@tally/nats';
import { encodeBatchMessage, type IngestBatchMessage } from '../batch-message';

export interface PublishAck {
  /** JetStream recognised the message id: this exact batch was already accepted. */
  duplicate: boolean;
  seq: number;
}

/** Port: where accepted batches go. The gateway answers only after `publish` resolved. */
export interface EventPublisher {
  publish(batch: IngestBatchMessage): Promise<PublishAck>;
}

/**
 * Message id of a batch: tenant plus a digest of every event's key and payload fingerprint, so a
 * client retrying the same request is recognised by JetStream, while a different batch is not.
 */
export function batchMessageId(batch: IngestBatchMessage): string {
  const hash = createHash('sha256');
  for (const e of batch.events) hash.update(e.id).update('\0').update(eventFingerprint(e)).update('\n');
  return `${batch.tenant}:${hash.digest('base64url')}`;
}

export class JetStreamEventPublisher implements EventPublisher {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly timeoutMs = 5_000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
  }

  async publish(batch: IngestBatchMessage): Promise<PublishAck> {
    try {
      const ack = await this.js.publish(this.names.eventsSubject(batch.tenant), encodeBatchMessage(batch), {
        msgID: batchMessageId(batch),
        timeout: this.timeoutMs,
      });
      return { duplicate: ack.duplicate, seq: ack.seq };
    } catch (error) {
      // Whatever the cause (no responders, timeout, stream full, disconnected), the batch is not
      // durable: the client must retry, and nothing was acknowledged.
      const full = error instanceof JetStreamApiError && /maximum|storage|resources/i.test(error.message);
      throw new UnavailableError(
        full ? 'STREAM_FULL' : 'STREAM_UNAVAILABLE',
        full ? 'Event stream is full; retry later' : 'Event stream unavailable; retry later',
        full ? 5 : 1,
        error,
      );
    }
  }
}
