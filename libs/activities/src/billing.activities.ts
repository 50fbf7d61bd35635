import { ApplicationFailure, Context } from '@temporalio/activity';
import type { BillingServices, DeadLetterReplayer } from '@tally/billing';
import type {
  CloseRequest,
  CloseResult,
  CreditGrantStep,
  CreditGrantStepRequest,
  DueCustomersPage,
  DueCustomersRequest,
  IssueOutcome,
  InterimOutcome,
  InterimRequest,
  IssueRequest,
  PeriodRef,
  RebillOutcome,
  RebillRequest,
  ReplayPageRequest,
  ReplayPageResult,
  SimulationPage,
  SimulationPageRequest,
  SimulationSpec,
} from '@tally/billing-contracts';
import { isTallyError } from '@tally/errors';
import type { BillingMetrics } from './billing-metrics';

/** Dependencies the billing activities receive from the worker (never imported by workflows). */
export interface BillingActivityDependencies {
  billing: BillingServices;
  replayer: DeadLetterReplayer;
  /** How often the watermark wait polls the writer's consumer. Default 250 ms. */
  watermarkPollMs?: number;
  metrics?: BillingMetrics;
}

/**
 * Business rules that refuse (unknown plan, invalid request) cannot succeed on a retry: their errors
 * say so (`retryable: false`) and become non-retryable failures with the rule's code. Anything else
 * (ClickHouse or NATS unavailable, an invoice not written yet) is thrown as is and retried by Temporal.
 */
async function rules<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isTallyError(error) && !error.retryable) {
      throw ApplicationFailure.nonRetryable(error.message, error.code, error.details);
    }
    throw error;
  }
}

/** The activities of billing: thin adapters from Temporal to `@tally/billing`'s services. */
export function createBillingActivities(deps: BillingActivityDependencies) {
  const { billing, replayer, metrics } = deps;
  return {
    /** One page of customers whose period ended in the run's window and is not closed yet. */
    async dueCustomers(req: DueCustomersRequest): Promise<DueCustomersPage> {
      const page = await rules(() => billing.due.dueCustomers(req));
      metrics?.scanned();
      return page;
    },

    /** When each period ends (undefined: the customer has no subscription in it). */
    async describePeriods(
      tenant: string,
      refs: PeriodRef[],
    ): Promise<Array<{ endsAtMs: number } | undefined>> {
      return rules(async () =>
        billing.due.describePeriods(tenant, refs).map((p) => (p ? { endsAtMs: p.toMs } : undefined)),
      );
    },

    /** Claims the periods, then waits (heartbeating) for the writer's watermark. */
    async closePeriods(req: CloseRequest): Promise<CloseResult> {
      const ctx = Context.current();
      return rules(() =>
        billing.closer.closePeriods(
          req,
          (state) => ctx.heartbeat(state),
          deps.watermarkPollMs ?? 250,
          ctx.cancellationSignal,
        ),
      );
    },

    async issueInvoices(req: IssueRequest): Promise<IssueOutcome[]> {
      const outcomes = await rules(() => billing.issuer.issueInvoices(req));
      metrics?.issued(outcomes);
      return outcomes;
    },

    /**
     * `closePeriods` then `issueInvoices` for what it claimed, in one activity: an invoice workflow
     * costs Temporal one activity instead of two (it is the server, not the work, that limits how many
     * per-customer workflows a small machine runs per second). Safe to retry as a whole: claims of the
     * same owner and invoices already in the ledger are recognised.
     */
    async closeAndIssue(req: CloseRequest): Promise<{ close: CloseResult; issued: IssueOutcome[] }> {
      const ctx = Context.current();
      return rules(async () => {
        const close = await billing.closer.closePeriods(
          req,
          (state) => ctx.heartbeat(state),
          deps.watermarkPollMs ?? 250,
          ctx.cancellationSignal,
        );
        const claimed = close.outcomes.flatMap((o) =>
          o.status === 'claimed' ? [{ customer: o.customer, share: o.share }] : [],
        );
        if (!claimed.length) return { close, issued: [] };
        // Keep heartbeating while the invoices are computed, so a large batch is not taken for a dead worker.
        const every = Math.max(1_000, (ctx.info.heartbeatTimeoutMs ?? 30_000) / 3);
        const beat = setInterval(() => ctx.heartbeat({ ...close.watermark, issuing: claimed.length }), every);
        try {
          const issued = await billing.issuer.issueInvoices({
            tenant: req.tenant,
            owner: req.owner,
            periods: claimed,
          });
          metrics?.issued(issued);
          return { close, issued };
        } finally {
          clearInterval(beat);
        }
      });
    },

    async rebill(req: RebillRequest): Promise<RebillOutcome> {
      const outcome = await rules(() => billing.rebiller.rebill(req));
      metrics?.rebilled(outcome);
      return outcome;
    },

    /** The interim invoice the open period's accrued amount calls for now, if any (progressive billing). */
    async issueInterim(req: InterimRequest): Promise<InterimOutcome> {
      return rules(() => billing.progressive.issueInterim(req));
    },

    /** Records what of a credit grant came by now and says how long until the next (`creditGrantWorkflow`). */
    async creditGrantStep(req: CreditGrantStepRequest): Promise<CreditGrantStep> {
      const timers = billing.creditTimers;
      if (!timers)
        throw ApplicationFailure.nonRetryable('this worker has no credit ledger port', 'NO_CREDIT_LEDGER');
      return rules(() => timers.step(req));
    },

    async replayDeadLetterPage(req: ReplayPageRequest): Promise<ReplayPageResult> {
      return rules(() => replayer.replayPage(req));
    },

    /** Checks a simulation request and counts the customer-periods it looks at. */
    async countSimulation(spec: SimulationSpec): Promise<number> {
      return rules(async () => {
        billing.simulator.validate(spec);
        return billing.simulator.count(spec);
      });
    },

    /** One page of a simulation, its results stored under the simulation's id (never in the ledger). */
    async simulatePage(req: SimulationPageRequest): Promise<SimulationPage> {
      return rules(() => billing.simulator.page(req));
    },
  };
}

export type BillingActivities = ReturnType<typeof createBillingActivities>;
