import type { CloseOutcome, CloseRequest, CloseResult, WatermarkState } from '@tally/billing-contracts';
import { invoiceId } from '../invoices/document-ids';
import { mapLimit } from './collections';
import type { DuePeriods } from './due-periods';
import type { ClosedPeriodsPort, WatermarkPort } from './ports';

/**
 * Closes periods: claims each with a marker (created once; its owner may claim it again), then waits
 * for the writer's watermark, so that every event accepted before the close is stored before the
 * usage is read. Markers first, so that the writer treats every later event as late: an event is
 * either in the invoice's usage or seen as late, never neither.
 */
export class PeriodCloser {
  constructor(
    private readonly periods: Pick<DuePeriods, 'describePeriods'>,
    private readonly closed: Pick<ClosedPeriodsPort, 'claim'>,
    private readonly watermark: WatermarkPort,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Claims the periods, then waits for the watermark; `progress` is called on every poll (activities heartbeat). */
  async closePeriods(
    req: CloseRequest,
    progress: (state: WatermarkState) => void = () => undefined,
    pollMs = 250,
    signal?: AbortSignal,
  ): Promise<CloseResult> {
    const shares = this.periods.describePeriods(req.tenant, req.periods);
    const closedAt = new Date(this.clock()).toISOString();
    const outcomes = await mapLimit(req.periods, 32, async (ref, i): Promise<CloseOutcome> => {
      const share = shares[i];
      if (!share) return { ...ref, status: 'no_subscription' };
      const id = invoiceId(req.tenant, ref.customer, ref.period, 1);
      const claim = await this.closed.claim({
        tenant: req.tenant,
        customer: ref.customer,
        period: ref.period,
        fromMs: share.fromMs,
        toMs: share.toMs,
        invoiceId: id,
        owner: req.owner,
        state: 'closing',
        closedAt,
      });
      if (!claim.claimed) {
        const { invoiceId, owner, state } = claim.marker;
        return { ...ref, status: 'taken', invoiceId, owner, state };
      }
      // A claim made earlier by this owner keeps its period: the invoice must cover what the marker says.
      const kept = { ...share, fromMs: claim.marker.fromMs, toMs: claim.marker.toMs };
      return { ...ref, status: 'claimed', invoiceId: id, share: kept };
    });
    const watermark = await this.awaitWatermark(req.tenant, progress, pollMs, signal);
    return { outcomes, watermark };
  }

  /** Polls until the writers have stored every event of the tenant published before the call. */
  async awaitWatermark(
    tenant: string,
    progress: (state: WatermarkState) => void,
    pollMs: number,
    signal?: AbortSignal,
  ): Promise<WatermarkState> {
    const target = await this.watermark.target(tenant);
    for (;;) {
      const state = await this.watermark.check(tenant, target);
      progress(state);
      if (state.reached) return state;
      if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
