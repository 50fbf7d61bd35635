import * as crypto from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { fingerprintInput } from '@tally/event-schema';
import type { NatsNames } from '@tally/nats';
import { encodeBatchMessage, type IngestBatchMessage } from '../batch-message';
import { publishParts, type PublishAck } from '../jetstream-publish';

export type { PublishAck };

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

  publish(batch: IngestBatchMessage): Promise<PublishAck> {
    const parts = splitToFit(batch, this.nc.info?.max_payload ?? 1024 * 1024);
    return publishParts(this.js, this.names.eventsSubject(batch.tenant), parts, batchMessageId(batch), this.timeoutMs, 'Event');
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
