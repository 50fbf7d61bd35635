import * as crypto from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { fingerprintInput } from '@tally/event-schema';
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
 * Message id of a batch: tenant plus a digest of every event's key and fingerprint input (what
 * `eventFingerprint` hashes), so a client retrying the same request is recognised by JetStream,
 * while a different batch is not. One digest over one string rather than a digest per event: this
 * runs for every request, and per-event hashing was an eighth of the gateway's CPU. The text is
 * unambiguous: ids are printable ASCII (never NUL) and fingerprint inputs are length-prefixed.
 */
export function batchMessageId(batch: IngestBatchMessage): string {
  let text = '';
  for (const e of batch.events) text += e.id + '\0' + fingerprintInput(e) + '\n';
  return `${batch.tenant}:${sha256Base64url(text)}`;
}

/** One-shot `crypto.hash` (Node >= 20.12) skips the Hash object; `createHash` otherwise. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash;
const sha256Base64url: (text: string) => string =
  typeof oneShotHash === 'function'
    ? (text) => oneShotHash('sha256', text, 'base64url')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('base64url');

export class JetStreamEventPublisher implements EventPublisher {
  private readonly js: JetStreamClient;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly timeoutMs = 5_000,
  ) {
    this.js = jetstream(nc, { timeout: timeoutMs });
  }

  async publish(batch: IngestBatchMessage): Promise<PublishAck> {
    try {
      const parts = splitToFit(batch, this.nc.info?.max_payload ?? 1024 * 1024);
      const id = batchMessageId(batch);
      // Parts go out one after the other with deterministic ids: if one fails the client retries
      // the request, and JetStream drops the parts it already has.
      let duplicate = true;
      let seq = 0;
      for (const [i, part] of parts.entries()) {
        const ack = await this.js.publish(this.names.eventsSubject(batch.tenant), part, {
          msgID: parts.length === 1 ? id : `${id}:${i}`,
          timeout: this.timeoutMs,
        });
        duplicate &&= ack.duplicate;
        seq = ack.seq;
      }
      return { duplicate, seq };
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

/** Encodes a batch as one message, or several when it exceeds the server's max_payload. */
export function splitToFit(batch: IngestBatchMessage, maxPayload: number): Uint8Array[] {
  const encoded = encodeBatchMessage(batch);
  // Headers and the msg id ride along; keep a margin below the limit.
  if (encoded.byteLength <= maxPayload - 4096 || batch.events.length <= 1) return [encoded];
  const middle = Math.ceil(batch.events.length / 2);
  return [
    ...splitToFit({ ...batch, events: batch.events.slice(0, middle) }, maxPayload),
    ...splitToFit({ ...batch, events: batch.events.slice(middle) }, maxPayload),
  ];
}
