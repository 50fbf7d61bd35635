import { Inject, Injectable } from '@nestjs/common';
import { UnavailableError } from '@tally/errors';
import { EventsCompleteness, type NatsConnection, type NatsNames } from '@tally/nats';
import { USAGE_NATS, USAGE_NATS_NAMES } from '../usage.tokens';
import type { CompletenessResult } from '../usage.types';

/**
 * `/v1/usage/completeness`: the tenant's completeness watermark, by the one rule billing closes periods
 * with (`EventsCompleteness`). A client that needs final numbers for a range asks for usage once
 * `completeThrough` is past the range's end; billing does the same before it invoices a period.
 * Real time, not the module's clock: the watermark compares with the times JetStream stamped.
 */
@Injectable()
export class CompletenessEndpoint {
  private readonly completeness: EventsCompleteness;

  constructor(@Inject(USAGE_NATS) nc: NatsConnection, @Inject(USAGE_NATS_NAMES) names: NatsNames) {
    this.completeness = new EventsCompleteness(nc, names);
  }

  async completenessOf(tenant: string): Promise<CompletenessResult> {
    const state = await this.completeness.check(tenant).catch((error: unknown) => {
      throw new UnavailableError('STREAM_UNAVAILABLE', 'The events stream could not be read; retry', 1, error);
    });
    return {
      completeThrough: new Date(state.completeThroughMs).toISOString(),
      upToDate: state.oldestPendingSeq === undefined,
      lagMs: state.checkedAtMs - state.completeThroughMs,
      checkedAt: new Date(state.checkedAtMs).toISOString(),
    };
  }
}
