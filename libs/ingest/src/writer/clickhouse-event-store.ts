import { EventRowsEncoder, findExistingIds, insertEventRowBinary, type ClickHouse } from '@tally/clickhouse';
import type { EventStore, StoredEvent } from './batch-writer';

/** The writer's event store on ClickHouse: `events` plus the `event_ids` index its view maintains. */
export class ClickHouseEventStore implements EventStore {
  // One insert body at a time (the writer awaits each insert), so one buffer serves every batch.
  private readonly encoder = new EventRowsEncoder(4 << 20);

  constructor(private readonly ch: ClickHouse) {}

  findExisting(idsByTenant: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>> {
    return findExistingIds(this.ch, this.ch.database, idsByTenant);
  }

  async insert(events: StoredEvent[]): Promise<void> {
    const encoder = this.encoder;
    encoder.reset();
    // The gateway encoded each event's columns; they are copied, not parsed and written again.
    for (const e of events) encoder.appendEncoded(e.tenant, e.data, e.start, e.end, e.receivedAt, e.fingerprint);
    await insertEventRowBinary(this.ch, this.ch.database, encoder.body());
  }
}

/** Moved to @tally/clickhouse next to `EventRow`; re-exported for the tools that import it from here. */
export { toEventRow } from '@tally/clickhouse';
