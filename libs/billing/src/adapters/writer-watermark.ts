import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { EventsCompleteness, type NatsConnection, type NatsNames } from '@tally/nats';

import type { WatermarkState } from '@tally/billing-contracts';

/**
 * "Has the writer stored everything that was published before the close?" The gateway acknowledges an
 * event only once it is in the events stream; the writer acknowledges a message only once its events
 * are in ClickHouse. So once no message of the tenant up to its last stream sequence taken at close is
 * waiting to be stored, every event accepted before the close is queryable. A watermark, not a sleep:
 * it holds however far behind the writer is, and costs nothing when it is not. The rule itself is
 * `EventsCompleteness` (`@tally/nats`), the same one the usage API answers `/v1/usage/completeness` with.
 */
export class WriterWatermark {
  private jsm?: JetStreamManager;
  private readonly completeness: EventsCompleteness;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: NatsNames,
    clock: () => number = Date.now,
  ) {
    this.completeness = new EventsCompleteness(nc, names, clock);
  }

  private async manager(): Promise<JetStreamManager> {
    this.jsm ??= await jetstreamManager(this.nc);
    return this.jsm;
  }

  /** The sequence of the tenant's last message in the events stream, any partition (0: none, or no stream yet). */
  async target(tenant: string): Promise<number> {
    const jsm = await this.manager();
    let last = 0;
    for (const subject of this.names.eventsTenantSubjects(tenant)) {
      try {
        const found = await jsm.streams.getMessage(this.names.eventsStream, { last_by_subj: subject });
        last = Math.max(last, found?.seq ?? 0);
      } catch (error) {
        if (!(error instanceof JetStreamApiError || /no message found|stream not found/i.test(String(error)))) throw error;
      }
    }
    return last;
  }

  async check(tenant: string, target: number): Promise<WatermarkState> {
    const state = await this.completeness.check(tenant);
    const oldest = state.oldestPendingSeq;
    return {
      target,
      ackFloor: state.ackFloorSeq,
      // Per tenant: another tenant's backlog does not hold this tenant's invoices back.
      reached: oldest === undefined || oldest > target,
      completeThrough: new Date(state.completeThroughMs).toISOString(),
    };
  }

  async completeThrough(tenant: string): Promise<number> {
    return (await this.completeness.check(tenant)).completeThroughMs;
  }
}
