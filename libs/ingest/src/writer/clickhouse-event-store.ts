import { FIND_IDS_CHUNK, findExistingIds, insertEvents, type ClickHouse, type EventRow } from '@tally/clickhouse';
import type { EventStore, StoredEvent } from './batch-writer';

/** The writer's event store on ClickHouse: `events` plus the `event_ids` index its view maintains. */
export class ClickHouseEventStore implements EventStore {
  constructor(private readonly ch: ClickHouse) {}

  async findExisting(keys: { tenant: string; eventId: string }[]): Promise<Map<string, string>> {
    if (keys.length <= FIND_IDS_CHUNK) return findExistingIds(this.ch, this.ch.database, keys);
    // A batch needs several lookup queries; sent together, the server works on them side by side
    // instead of the writer waiting for each in turn (the writer spends most of a flush waiting).
    const chunks: { tenant: string; eventId: string }[][] = [];
    for (let i = 0; i < keys.length; i += FIND_IDS_CHUNK) chunks.push(keys.slice(i, i + FIND_IDS_CHUNK));
    const found = await Promise.all(chunks.map((chunk) => findExistingIds(this.ch, this.ch.database, chunk)));
    const merged = found[0];
    for (const more of found.slice(1)) for (const [key, hash] of more) merged.set(key, hash);
    return merged;
  }

  async insert(events: StoredEvent[]): Promise<void> {
    await insertEvents(this.ch, this.ch.database, events.map(toEventRow));
  }
}

export function toEventRow({ tenant, event, fingerprint, receivedAt }: StoredEvent): EventRow {
  return {
    tenant,
    customer: event.customer,
    eventType: event.type,
    ts: Math.floor(event.ts / 1000),
    tsMs: event.ts % 1000,
    eventId: event.id,
    quantity: event.quantity,
    properties: event.properties,
    source: event.source,
    schemaVersion: event.schemaVersion,
    requestId: event.requestId,
    receivedAt: Math.floor(receivedAt / 1000),
    payloadHash: fingerprint,
  };
}
