import type { UsageEvent } from '@tally/event-schema';

/** Why the writer could not store an event; stable codes, documented in docs/ingestion.md. */
export type DeadLetterReason =
  | 'UNDECODABLE'
  | 'UNKNOWN_TENANT'
  | 'UNKNOWN_CUSTOMER'
  | 'IDEMPOTENCY_CONFLICT'
  /** The payload names another tenant than the subject it was published on. */
  | 'TENANT_MISMATCH'
  /** ClickHouse refused to store the event (a non-transient error); the message carries its error. */
  | 'STORE_REFUSED';

export interface DeadLetter {
  reason: DeadLetterReason;
  message: string;
  /** `_unknown` when the payload did not even name a tenant. */
  tenant: string;
  /** The event as accepted by the gateway (absent when the payload did not decode). */
  event?: UsageEvent;
  /** The original message payload, base64, when it did not decode. */
  rawPayload?: string;
  /** When the writer first saw the message (epoch ms of its stream timestamp). */
  firstSeenAt: number;
  deadLetteredAt: number;
  deliveryCount: number;
  /** Sequence of the original message in the events stream. */
  streamSeq: number;
}

/** Port: durable store of dead letters (a JetStream stream in production). */
export interface DeadLetterSink {
  publish(letters: DeadLetter[]): Promise<void>;
}
