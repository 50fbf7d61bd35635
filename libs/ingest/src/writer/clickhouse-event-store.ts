import { findExistingIds, insertEvents, type ClickHouse, type EventRow } from '@tally/clickhouse';
import type { EventStore, StoredEvent } from './batch-writer';

/** The writer's event store on ClickHouse: `events` plus the `event_ids` index its view maintains. */
export class ClickHouseEventStore implements EventStore {
  constructor(private readonly ch: ClickHouse) {}

  findExisting(keys: { tenant: string; eventId: string }[]): Promise<Map<string, string>> {
    return findExistingIds(this.ch, this.ch.database, keys);
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
