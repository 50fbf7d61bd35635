import { jetstreamManager, type JetStreamManager, type MsgRequest } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsNames } from './names';

/** Up to when a tenant's acknowledged events are all stored (see {@link EventsCompleteness}). */
export interface Completeness {
  /**
   * Every event of the tenant that the gateway acknowledged (202, or the NATS reply) before this
   * instant, epoch ms, is stored in ClickHouse and queryable, except the dead-lettered ones.
   */
  completeThroughMs: number;
  /** The oldest of the tenant's messages not yet stored: its events-stream sequence; absent when none. */
  oldestPendingSeq?: number;
  /** Every message of the stream up to this sequence is acked by the writers (0: nothing published yet). */
  ackFloorSeq: number;
  /** When the state was read (the caller's clock, taken before asking JetStream), epoch ms. */
  checkedAtMs: number;
}

/**
 * The completeness watermark, the one rule both the usage API and billing use.
 *
 * Why it holds: the gateway acknowledges an event only once JetStream stored its message in the events
 * stream, and the writers ack a message only after its events are in ClickHouse (with their roll-ups:
 * the materialized views run inside the same INSERT). A message of the tenant that is not acked is
 * therefore still in the stream, above the writers' ack floor. So the tenant's oldest message above
 * the ack floor that is still in the stream is the oldest event not yet stored, and every message
 * JetStream stored before its timestamp is stored in ClickHouse. With no such message, everything
 * acknowledged before the moment we asked is stored.
 *
 * The work-queue events stream deletes a message once acked, so the search skips what was stored above
 * the floor; on a stream with limits retention (an older Tally's) acked messages above the floor are
 * found too and the watermark is only more cautious. It is per tenant: another tenant's backlog does
 * not hold it back. Dead-lettered events are acked without being stored: they never hold it back
 * (they are in the dead-letter stream, and a replay publishes them again as new messages).
 *
 * Times: a pending message's time is the NATS server's clock; "nothing pending" answers the caller's
 * clock taken before the question. Both are the same clock on one host; across hosts keep them in NTP.
 */
export class EventsCompleteness {
  private jsm?: Promise<JetStreamManager>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    private readonly clock: () => number = Date.now,
  ) {}

  async check(tenant: string): Promise<Completeness> {
    const checkedAtMs = this.clock();
    const jsm = await (this.jsm ??= jetstreamManager(this.nc));
    const ackFloor = await this.writersAckFloor(jsm);
    // The server's STREAM.MSG.GET takes `next_by_subj` (the first message of the subject at or after
    // `seq`, wildcards allowed); nats.js types it only for direct gets, which the stream does not
    // enable. The tenant's events are on its unpartitioned subject (older gateways, replays of old)
    // and on its partitions' subjects: the oldest of either.
    let oldest: { seq: number; time: Date } | null = null;
    for (const subject of this.names.eventsTenantSubjects(tenant)) {
      const request = { next_by_subj: subject, seq: ackFloor + 1 } as unknown as MsgRequest;
      const found = await jsm.streams.getMessage(this.names.eventsStream, request).catch((error: unknown) => {
        // No stream yet: nothing was ever acknowledged.
        if (/no message found|stream not found/i.test(String(error))) return null;
        throw error;
      });
      if (found && (!oldest || found.seq < oldest.seq)) oldest = found;
    }
    if (!oldest) return { completeThroughMs: checkedAtMs, ackFloorSeq: ackFloor, checkedAtMs };
    return {
      completeThroughMs: Math.min(oldest.time.getTime(), checkedAtMs),
      oldestPendingSeq: oldest.seq,
      ackFloorSeq: ackFloor,
      checkedAtMs,
    };
  }

  /**
   * Every message up to this sequence is acked by the writers (0 when nothing was ever published).
   * The stream is a work queue: an acked message is deleted, so everything below its first message
   * is acked, whichever partition's consumer acked it. (An older Tally's stream with limits retention
   * keeps acked messages: the search above then finds them too and is only more cautious.)
   */
  private async writersAckFloor(jsm: JetStreamManager): Promise<number> {
    try {
      const { state } = await jsm.streams.info(this.names.eventsStream);
      return state.messages === 0 ? state.last_seq : Math.max(0, state.first_seq - 1);
    } catch (error) {
      if (/stream not found/i.test(String(error))) return 0;
      throw error;
    }
  }
}
