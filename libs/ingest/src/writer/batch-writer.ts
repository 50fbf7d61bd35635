import { isClickHouseError, isTransient } from '@tally/clickhouse';
import type { UsageEvent } from '@tally/event-schema';
import {
  readEncodedBatch,
  usageEventOf,
  type DeadLetter,
  type DeadLetterReason,
  type DeadLetterSink,
  type EncodedEvent,
  type EventAdmission,
} from '@tally/ingest-protocol';

/** A message as the writer received it from the stream. */
export interface InboundMessage {
  data: Uint8Array;
  streamSeq: number;
  deliveryCount: number;
  /** Stream timestamp of the message, epoch ms. */
  publishedAt: number;
  /**
   * The tenant the message's subject names (`<prefix>.events.<tenant>`), undefined if the subject
   * names none. The subject is what NATS permissions control (only Tally's services may publish on
   * the stream's subjects), the payload is not: a payload that claims another tenant is refused.
   */
  subjectTenant: string | undefined;
}

/** An event to store: tenant, id, customer, time, fingerprint, receipt time and its encoded columns. */
export type StoredEvent = EncodedEvent;

/** Port: the event store (ClickHouse in production). */
export interface EventStore {
  /** Of these ids (by tenant), those already stored: `dedupKey(tenant, id)` → the fingerprint stored with it. */
  findExisting(idsByTenant: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>>;
  /** Stores all rows or throws; a retry after an ambiguous failure is safe because of `findExisting`. */
  insert(events: StoredEvent[]): Promise<void>;
}

/**
 * Port: told about the events of a batch that are in the store once it was written, before the
 * batch is acked (e.g. to publish late-event notices). A rejection means the batch is not acked.
 */
export interface StoredEventObserver {
  stored(events: readonly StoredEvent[]): Promise<void>;
}

export interface WriteOutcome {
  inserted: number;
  duplicates: number;
  deadLettered: number;
  /** Inserted by this write. */
  stored: StoredEvent[];
  /**
   * Found already stored with the same payload by the `event_ids` lookup: a redelivery of a batch
   * stored by a writer that died before acking, a retry after a partial insert, or a client re-send.
   * Whatever was to follow their insert (late-event notices) may not have happened: observers see them too.
   */
  existing: StoredEvent[];
}

export interface WriteOptions {
  /**
   * Find the events the store refuses instead of failing the whole batch: after an insert fails for
   * a non-transient reason, bisect, store the halves that go in, dead-letter (`STORE_REFUSED`, with
   * the store's error) each single event that is refused. A transient failure still fails the write.
   */
  isolateRefusals?: boolean;
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

  async write(messages: InboundMessage[], options: WriteOptions = {}): Promise<WriteOutcome> {
    const letters: DeadLetter[] = [];
    // One entry per event and no wrapper objects: a batch holds tens of thousands of events for as
    // long as ClickHouse takes to answer, and whatever is allocated per event is garbage to collect.
    const candidates: EncodedEvent[] = [];
    const candidateMessages: InboundMessage[] = [];
    const seenInBatch = new Map<string, Map<string, string>>(); // tenant → id → fingerprint
    const idsByTenant = new Map<string, string[]>();
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
      const read = readEncodedBatch(m.data);
      if (!read.ok) {
        deadLetter(m, 'UNDECODABLE', read.reason, '_unknown');
        continue;
      }
      const { tenant, events } = read.batch;
      if (tenant !== m.subjectTenant) {
        // Filed under the subject's tenant (the publisher's), never the one the payload claims.
        deadLetter(
          m,
          'TENANT_MISMATCH',
          `payload names tenant '${tenant}' but was published on the subject of tenant '${m.subjectTenant ?? '(none)'}'`,
          m.subjectTenant ?? '_unknown',
        );
        continue;
      }
      let seen = seenInBatch.get(tenant);
      if (!seen) seenInBatch.set(tenant, (seen = new Map()));
      let ids = idsByTenant.get(tenant);
      if (!ids) idsByTenant.set(tenant, (ids = []));
      for (const event of events) {
        const rejection = this.admission.check(tenant, event);
        if (rejection) {
          deadLetter(m, rejection.reason, rejection.message, tenant, usageEventOf(event));
          continue;
        }
        const earlier = seen.get(event.id);
        if (earlier !== undefined) {
          if (earlier === event.fingerprint) duplicates++;
          else deadLetter(m, 'IDEMPOTENCY_CONFLICT', conflictMessage(event.id), tenant, usageEventOf(event));
          continue;
        }
        seen.set(event.id, event.fingerprint);
        ids.push(event.id);
        candidates.push(event);
        candidateMessages.push(m);
      }
    }

    const existing = candidates.length ? await this.store.findExisting(idsByTenant) : new Map<string, string>();
    let fresh = candidates;
    const alreadyStored: EncodedEvent[] = [];
    if (existing.size > 0) {
      fresh = [];
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i];
        const stored = existing.get(dedupKey(c.tenant, c.id));
        if (stored === undefined) fresh.push(c);
        else if (stored === c.fingerprint) {
          duplicates++;
          alreadyStored.push(c);
        }
        else deadLetter(candidateMessages[i], 'IDEMPOTENCY_CONFLICT', conflictMessage(c.id), c.tenant, usageEventOf(c));
      }
    }

    let stored = fresh;
    if (fresh.length && options.isolateRefusals) {
      const messageOf = new Map<EncodedEvent, InboundMessage>();
      for (let i = 0; i < candidates.length; i++) messageOf.set(candidates[i], candidateMessages[i]);
      const refused: Array<{ event: EncodedEvent; error: unknown }> = [];
      const inserted: EncodedEvent[] = [];
      await this.insertIsolating(fresh, inserted, alreadyStored, refused);
      for (const { event, error } of refused)
        deadLetter(messageOf.get(event) as InboundMessage, 'STORE_REFUSED', refusalMessage(error), event.tenant, usageEventOf(event));
      stored = inserted;
    } else if (fresh.length) {
      await this.store.insert(fresh);
    }
    if (letters.length) await this.deadLetters.publish(letters);
    return { inserted: stored.length, duplicates, deadLettered: letters.length, stored, existing: alreadyStored };
  }

  /**
   * Inserts `events`, bisecting around what the store refuses. Exactly once still holds: a chunk that
   * failed is looked up again before its halves are inserted (ClickHouse refuses an INSERT before it
   * writes anything, but an ambiguous failure may have stored part of it), and what the lookup finds
   * counts as stored. At most about 2·log2(n) inserts per refused event.
   */
  private async insertIsolating(
    events: EncodedEvent[],
    inserted: EncodedEvent[],
    found: EncodedEvent[],
    refused: Array<{ event: EncodedEvent; error: unknown }>,
  ): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.store.insert(events);
      for (const e of events) inserted.push(e);
      return;
    } catch (error) {
      if (isTransient(error)) throw error;
      const idsByTenant = new Map<string, string[]>();
      for (const e of events) {
        const ids = idsByTenant.get(e.tenant);
        if (ids) ids.push(e.id);
        else idsByTenant.set(e.tenant, [e.id]);
      }
      const existing = await this.store.findExisting(idsByTenant);
      const rest: EncodedEvent[] = [];
      for (const e of events) (existing.has(dedupKey(e.tenant, e.id)) ? found : rest).push(e);
      if (rest.length === 1 && events.length === 1) {
        refused.push({ event: rest[0], error });
        return;
      }
      if (rest.length === 1) return this.insertIsolating(rest, inserted, found, refused);
      const mid = rest.length >>> 1;
      await this.insertIsolating(rest.slice(0, mid), inserted, found, refused);
      await this.insertIsolating(rest.slice(mid), inserted, found, refused);
    }
  }
}

function refusalMessage(error: unknown): string {
  const text = isClickHouseError(error) ? (error.serverMessage ?? error.message) : String((error as Error)?.message ?? error);
  return `ClickHouse refused the event: ${text}`;
}

function conflictMessage(id: string): string {
  return `Idempotency key '${id}' was already used for an event with a different payload`;
}
