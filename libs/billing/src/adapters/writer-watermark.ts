import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, NatsNames } from '@tally/nats';

import type { WatermarkState } from '@tally/billing-contracts';

/**
 * "Has the writer stored everything that was published before the close?" The gateway acknowledges an
 * event only once it is in the events stream; the writer acknowledges a message only once its events
 * are in ClickHouse. So when the writers' consumer's ack floor is at or past the tenant's last stream
 * sequence taken at close, every event accepted before the close is queryable. A watermark, not a
 * sleep: it holds however far behind the writer is, and costs nothing when it is not.
 */
export class WriterWatermark {
  private jsm?: JetStreamManager;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
  ) {}

  private async manager(): Promise<JetStreamManager> {
    this.jsm ??= await jetstreamManager(this.nc);
    return this.jsm;
  }

  /** The sequence of the tenant's last message in the events stream (0: none, or no stream yet). */
  async target(tenant: string): Promise<number> {
    const jsm = await this.manager();
    try {
      const last = await jsm.streams.getMessage(this.names.eventsStream, {
        last_by_subj: this.names.eventsSubject(tenant),
      });
      return last?.seq ?? 0;
    } catch (error) {
      if (error instanceof JetStreamApiError || /no message found|stream not found/i.test(String(error)))
        return 0;
      throw error;
    }
  }

  async check(target: number): Promise<WatermarkState> {
    if (target === 0) return { target, ackFloor: 0, reached: true };
    const jsm = await this.manager();
    try {
      const info = await jsm.consumers.info(this.names.eventsStream, this.names.writerConsumer);
      const ackFloor = info.ack_floor.stream_seq;
      return { target, ackFloor, reached: ackFloor >= target };
    } catch (error) {
      // No writer consumer yet: nothing has been stored, so a non-zero target is not reached.
      if (error instanceof JetStreamApiError) return { target, ackFloor: 0, reached: false };
      throw error;
    }
  }
}
