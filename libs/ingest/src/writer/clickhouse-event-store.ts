import { EventRowsEncoder, FIND_IDS_CHUNK, chunkIdsByTenant, findExistingIds, insertEventRowBinary, type ClickHouse, type EventRow } from '@tally/clickhouse';
import type { UsageEvent } from '@tally/event-schema';
import type { EventStore, StoredEvent } from './batch-writer';

/** The writer's event store on ClickHouse: `events` plus the `event_ids` index its view maintains. */
export class ClickHouseEventStore implements EventStore {
  // One insert body at a time (the writer awaits each insert), so one buffer serves every batch.
  private readonly encoder = new EventRowsEncoder(4 << 20);

  constructor(private readonly ch: ClickHouse) {}

  async findExisting(idsByTenant: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>> {
    // A batch needs several lookup queries; sent together, the server works on them side by side
    // instead of the writer waiting for each in turn (the writer spends most of a flush waiting).
    const groups = chunkIdsByTenant(idsByTenant, FIND_IDS_CHUNK);
    const found = await Promise.all(groups.map((group) => findExistingIds(this.ch, this.ch.database, group)));
    const merged = found[0] ?? new Map<string, string>();
    for (const more of found.slice(1)) for (const [key, hash] of more) merged.set(key, hash);
    return merged;
  }

  async insert(events: StoredEvent[]): Promise<void> {
    const encoder = this.encoder;
    encoder.reset();
    // The gateway encoded each event's columns; they are copied, not parsed and written again.
    for (const e of events) encoder.appendEncoded(e.tenant, e.data, e.start, e.end, e.receivedAt, e.fingerprint);
    await insertEventRowBinary(this.ch, this.ch.database, encoder.body());
  }
}

/** The `events` row of an event (seconds-based), for tools and tests that build rows themselves. */
export function toEventRow({
  tenant,
  event,
  fingerprint,
  receivedAt,
}: {
  tenant: string;
  event: UsageEvent;
  fingerprint: string;
  receivedAt: number;
}): EventRow {
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
