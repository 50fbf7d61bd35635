import { JetStreamApiError } from '@nats-io/jetstream';
import {
  createInbox,
  DrainingConnectionError,
  headers,
  NoRespondersError,
  TimeoutError,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { UnavailableError } from '@tally/errors';

export interface PublishAck {
  /** JetStream recognised every part's message id: this exact request was already accepted. */
  duplicate: boolean;
  seq: number;
}

/**
 * NATS header carrying the id of the HTTP (or NATS) request a message came from, so the writer's log
 * lines name it; the payload's codec is left alone.
 */
export const REQUEST_ID_MSG_HEADER = 'Tally-Request-Id';

/** What publishParts needs of JetStream: `JetStreamAcks` (nats.js's `JetStreamClient` fits too). */
export interface JetStreamPublishTarget {
  publish(
    subject: string,
    payload: Uint8Array,
    options: { msgID: string; timeout: number; requestId?: string },
  ): Promise<PublishAck>;
}

/**
 * Publishes the parts of one request in order with deterministic ids and waits for every ack. If
 * one fails the client retries the request, and JetStream drops the parts it already has. Any
 * failure (no responders, timeout, stream full, disconnected) means nothing may be acknowledged:
 * it becomes a 503 the client retries.
 */
export async function publishParts(
  js: JetStreamPublishTarget,
  subject: string,
  parts: Uint8Array[],
  requestId: string,
  timeoutMs: number,
  what: string,
  /** The client request's id, sent as the `Tally-Request-Id` header. */
  clientRequestId?: string,
): Promise<PublishAck> {
  try {
    let duplicate = true;
    let seq = 0;
    for (const [i, part] of parts.entries()) {
      const ack = await js.publish(subject, part, {
        msgID: parts.length === 1 ? requestId : `${requestId}:${i}`,
        timeout: timeoutMs,
        ...(clientRequestId ? { requestId: clientRequestId } : {}),
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

interface PendingAck {
  subject: string;
  resolve(ack: PublishAck): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * JetStream publishes as plain NATS publishes whose acks come back on one wildcard subscription, as
 * `js.publish` does through `nc.request`, minus what that costs per message: nats.js's RequestOne
 * builds a `RequestError` for every request it completes (to reject its already settled promise;
 * `noAsyncTraces` does not avoid it, no option does) and `js.publish` a TextDecoder per ack. That
 * was ~15 µs of CPU per publish, a third of the client side of it and ~4% of the gateway's CPU. The
 * outcomes are js.publish's: the ack, a JetStreamApiError (stream full, ...), no responders, a
 * timeout, a closed connection.
 */
export class JetStreamAcks implements JetStreamPublishTarget {
  private readonly inbox: string;
  private readonly pending = new Map<string, PendingAck>();
  private readonly subscription: Subscription;
  private next = 0;

  constructor(private readonly nc: NatsConnection) {
    this.inbox = `${createInbox()}.`;
    this.subscription = nc.subscribe(`${this.inbox}*`, { callback: (error, msg) => this.settle(error, msg) });
    // A drained or closed connection answers nothing more: fail what still waits rather than time out.
    void this.subscription.closed.then(() => this.failAll(new Error('NATS connection closed')));
  }

  publish(
    subject: string,
    payload: Uint8Array,
    options: { msgID: string; timeout: number; requestId?: string },
  ): Promise<PublishAck> {
    return new Promise<PublishAck>((resolve, reject) => {
      if (this.nc.isDraining() || this.subscription.isClosed()) {
        reject(new DrainingConnectionError());
        return;
      }
      const token = (this.next++).toString(36);
      const h = headers();
      h.set('Nats-Msg-Id', options.msgID);
      if (options.requestId) h.set(REQUEST_ID_MSG_HEADER, options.requestId);
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new TimeoutError());
      }, options.timeout);
      this.pending.set(token, { subject, resolve, reject, timer });
      try {
        this.nc.publish(subject, payload, { reply: this.inbox + token, headers: h });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(error as Error);
      }
    });
  }

  private settle(error: Error | null, msg: Msg): void {
    // An error here is the subscription's (a permissions violation, say): no ack will come.
    if (error) return this.failAll(error);
    const token = msg.subject.slice(this.inbox.length);
    const pending = this.pending.get(token);
    if (!pending) return; // answered after its timeout
    this.pending.delete(token);
    clearTimeout(pending.timer);
    // The server's "no responders" status: no stream listens on the subject.
    if (msg.data.length === 0) return pending.reject(new NoRespondersError(pending.subject));
    try {
      const ack = msg.json<{
        seq?: number;
        duplicate?: boolean;
        error?: ConstructorParameters<typeof JetStreamApiError>[0];
      }>();
      if (ack.error) return pending.reject(new JetStreamApiError(ack.error));
      if (typeof ack.seq !== 'number') return pending.reject(new Error('invalid JetStream ack'));
      pending.resolve({ duplicate: ack.duplicate === true, seq: ack.seq });
    } catch (parseError) {
      pending.reject(parseError as Error);
    }
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}
