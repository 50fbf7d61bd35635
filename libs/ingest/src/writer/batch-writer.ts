import { eventFingerprint, type UsageEvent } from '@tally/event-schema';
import { decodeBatchMessage } from '../batch-message';
import type { DeadLetter, DeadLetterReason, DeadLetterSink } from '../dead-letters/dead-letter';

/** A message as the writer received it from the stream. */
export interface InboundMessage {
  data: Uint8Array;
  streamSeq: number;
  deliveryCount: number;
  /** Stream timestamp of the message, epoch ms. */
  publishedAt: number;
}

export interface StoredEvent {
  tenant: string;
  event: UsageEvent;
  fingerprint: string;
  receivedAt: number;
}

/** Port: the event store (ClickHouse in production). */
export interface EventStore {
  /** For each `tenant\0eventId` already stored, the fingerprint it was stored with. */
  findExisting(keys: { tenant: string; eventId: string }[]): Promise<Map<string, string>>;
  /** Stores all rows or throws; a retry after an ambiguous failure is safe because of `findExisting`. */
  insert(events: StoredEvent[]): Promise<void>;
}

/** Port: catalog checks the writer applies (e.g. unknown tenant, unknown customer). */
export interface EventAdmission {
  check(tenant: string, event: UsageEvent): { reason: DeadLetterReason; message: string } | undefined;
}

/** Port: told about every newly stored event (e.g. to rebill closed periods). */
export interface StoredEventObserver {
  stored(events: StoredEvent[]): Promise<void>;
}

export interface WriteOutcome {
  inserted: number;
  duplicates: number;
  deadLettered: number;
  stored: StoredEvent[];
}

export const dedupKey = (tenant: string, eventId: string): string => `${tenant}\u0000${eventId}`;

/**
 * Turns a set of stream messages into one insert, storing every event exactly once.
 *
 * Exactly once, end to end: the gateway publishes a request as one message (JetStream drops a
 * re-published request within its duplicate window); JetStream delivers at least once, so the
 * writer must tolerate redelivery. Before inserting it drops (1) repeats within the batch and
 * (2) keys already in ClickHouse's `event_ids` index, which a materialized view fills from the very
 * INSERT that stores the events. A crash after the insert and before the ack therefore redelivers
 * events that the lookup then finds and skips. Because nothing reaches `events` twice, every
 * aggregate built from it (queries, roll-ups, invoices) counts each event once.
 * The same key with a different payload is a client bug, not a retry: it is dead-lettered.
 */
export class BatchWriter {
  constructor(
    private readonly store: EventStore,
    private readonly deadLetters: DeadLetterSink,
    private readonly admission: EventAdmission,
    private readonly clock: () => number = Date.now,
  ) {}

  async write(messages: InboundMessage[]): Promise<WriteOutcome> {
    const letters: DeadLetter[] = [];
    const candidates: (StoredEvent & { message: InboundMessage })[] = [];
    const seenInBatch = new Map<string, string>();
    let duplicates = 0;
    const now = this.clock();

    const deadLetter = (m: InboundMessage, reason: DeadLetterReason, message: string, tenant: string, event?: UsageEvent) =>
      letters.push({
        reason,
        message,
        tenant,
        event,
        rawPayload: event ? undefined : Buffer.from(m.data).toString('base64'),
        firstSeenAt: m.publishedAt,
        deadLetteredAt: now,
        deliveryCount: m.deliveryCount,
        streamSeq: m.streamSeq,
      });

    for (const m of messages) {
      const decoded = decodeBatchMessage(m.data);
      if (!decoded.ok) {
        deadLetter(m, 'UNDECODABLE', decoded.reason, '_unknown');
        continue;
      }
      const { tenant, events, receivedAt } = decoded.message;
      for (const event of events) {
        const rejection = this.admission.check(tenant, event);
        if (rejection) {
          deadLetter(m, rejection.reason, rejection.message, tenant, event);
          continue;
        }
        const key = dedupKey(tenant, event.id);
        const fingerprint = eventFingerprint(event);
        const earlier = seenInBatch.get(key);
        if (earlier !== undefined) {
          if (earlier === fingerprint) duplicates++;
          else deadLetter(m, 'IDEMPOTENCY_CONFLICT', conflictMessage(event.id), tenant, event);
          continue;
        }
        seenInBatch.set(key, fingerprint);
        candidates.push({ tenant, event, fingerprint, receivedAt, message: m });
      }
    }

    const existing = candidates.length
      ? await this.store.findExisting(candidates.map((c) => ({ tenant: c.tenant, eventId: c.event.id })))
      : new Map<string, string>();
    const fresh: StoredEvent[] = [];
    for (const c of candidates) {
      const stored = existing.get(dedupKey(c.tenant, c.event.id));
      if (stored === undefined) fresh.push({ tenant: c.tenant, event: c.event, fingerprint: c.fingerprint, receivedAt: c.receivedAt });
      else if (stored === c.fingerprint) duplicates++;
      else deadLetter(c.message, 'IDEMPOTENCY_CONFLICT', conflictMessage(c.event.id), c.tenant, c.event);
    }

    if (fresh.length) await this.store.insert(fresh);
    if (letters.length) await this.deadLetters.publish(letters);
    return { inserted: fresh.length, duplicates, deadLettered: letters.length, stored: fresh };
  }
}

function conflictMessage(id: string): string {
  return `Idempotency key '${id}' was already used for an event with a different payload`;
}
