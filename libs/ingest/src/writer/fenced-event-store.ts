import { TallyError } from '@tally/errors';
import { EventRowsEncoder, findExistingIds, insertFenced, type ClickHouse, type Fence, type FenceTarget } from '@tally/clickhouse';
import type { EventStore, StoredEvent } from './batch-writer';

/**
 * The writer no longer owns the partition: a newer owner fenced it. Its batch must be left unacked
 * (nak'ed) for the new owner; whatever it stored, the new owner's dedup lookup sees.
 */
export class OwnershipLostError extends TallyError {
  constructor(readonly fence: Fence) {
    super('WRITER_OWNERSHIP_LOST', 503, `partition ${fence.partition}: token ${fence.token} was superseded by a newer owner`);
  }
}

/**
 * The event store of one partition's owner: every insert commits only while this owner's token is
 * the partition's latest in ClickHouse (see `insertFenced`), so a writer that was paused, partitioned
 * away or slow, and whose partition was taken over meanwhile, cannot store anything late.
 */
export class FencedEventStore implements EventStore {
  // One insert at a time per partition (its loop awaits each), so one buffer serves every batch.
  private readonly encoder = new EventRowsEncoder(1 << 20);

  constructor(
    private readonly ch: ClickHouse,
    private readonly target: FenceTarget,
    readonly fence: Fence,
  ) {}

  findExisting(idsByTenant: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>> {
    return findExistingIds(this.ch, this.target.database, idsByTenant, {}, this.target.eventIdsTable);
  }

  async insert(events: StoredEvent[]): Promise<void> {
    const encoder = this.encoder;
    encoder.reset();
    for (const e of events) encoder.appendEncoded(e.tenant, e.data, e.start, e.end, e.receivedAt, e.fingerprint);
    if (!(await insertFenced(this.ch, this.target, this.fence, encoder.body()))) throw new OwnershipLostError(this.fence);
  }
}
