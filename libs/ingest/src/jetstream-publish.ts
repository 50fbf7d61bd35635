import { JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { UnavailableError } from '@tally/errors';

export interface PublishAck {
  /** JetStream recognised every part's message id: this exact request was already accepted. */
  duplicate: boolean;
  seq: number;
}

/**
 * Publishes the parts of one request in order with deterministic ids and waits for every ack. If
 * one fails the client retries the request, and JetStream drops the parts it already has. Any
 * failure (no responders, timeout, stream full, disconnected) means nothing may be acknowledged:
 * it becomes a 503 the client retries.
 */
export async function publishParts(
  js: JetStreamClient,
  subject: string,
  parts: Uint8Array[],
  requestId: string,
  timeoutMs: number,
  what: string,
): Promise<PublishAck> {
  try {
    let duplicate = true;
    let seq = 0;
    for (const [i, part] of parts.entries()) {
      const ack = await js.publish(subject, part, {
        msgID: parts.length === 1 ? requestId : `${requestId}:${i}`,
        timeout: timeoutMs,
      });
      duplicate &&= ack.duplicate;
      seq = ack.seq;
    }
    return { duplicate, seq };
  } catch (error) {
    const full = error instanceof JetStreamApiError && /maximum|storage|resources/i.test(error.message);
    throw new UnavailableError(
      full ? 'STREAM_FULL' : 'STREAM_UNAVAILABLE',
      full ? `${what} stream is full; retry later` : `${what} stream unavailable; retry later`,
      full ? 5 : 1,
      error,
    );
  }
}
