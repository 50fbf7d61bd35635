import type { Client } from '@temporalio/client';
import {
  BILLING_WORKFLOWS,
  billingAttributes,
  billingWorkflowIds,
  THRESHOLD_CROSSED_SIGNAL,
  type ProgressiveBillingInput,
} from '@tally/billing-contracts';
import type { Logger } from '@tally/observability';
import type { ProgressiveBilling, ThresholdCrossing } from '../core/progressive-billing';

/** Port: tells billing that an open period reached a threshold (Temporal in production). */
export interface InterimTrigger {
  trigger(crossing: ThresholdCrossing): Promise<void>;
}

export type ProgressiveOptions = Pick<
  ProgressiveBillingInput,
  'idleSeconds' | 'activitySeconds' | 'heartbeatSeconds'
>;

/** Signals-with-start `progressive/<tenant>/<customer>/<period>`: starts it if needed, else wakes it. */
export class TemporalInterimTrigger implements InterimTrigger {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly options: ProgressiveOptions = {},
  ) {}

  async trigger(c: ThresholdCrossing): Promise<void> {
    const input: ProgressiveBillingInput = {
      tenant: c.tenant,
      customer: c.customer,
      period: c.period,
      ...this.options,
    };
    await this.client.workflow.signalWithStart(BILLING_WORKFLOWS.progressiveBilling, {
      taskQueue: this.taskQueue,
      workflowId: billingWorkflowIds.progressiveBilling(c.tenant, c.customer, c.period),
      args: [input],
      signal: THRESHOLD_CROSSED_SIGNAL,
      signalArgs: [c.thresholdsCrossed],
      typedSearchAttributes: billingAttributes('progressive', c.tenant, c.customer, c.period),
    });
  }
}

export interface ProgressiveMonitorReport {
  tenants: number;
  crossings: number;
  signalled: number;
}

/**
 * The billing worker's threshold evaluation for progressive billing, the amount counterpart of the usage
 * alerts (`libs/usage/src/alerts`): every `intervalMs`, each tenant's open periods on a plan with
 * `progressiveBilling` are priced on their usage so far, and each that reached a threshold no interim
 * invoice billed yet wakes its `progressiveBillingWorkflow`, which issues the invoice.
 *
 * Nothing here writes: a crossing missed (a worker down, Temporal unreachable) is seen again on the next
 * evaluation, and one signalled twice (two workers, a retry) is decided once by the workflow's activity.
 * Runs do not overlap.
 */
export class ProgressiveMonitor {
  private timer?: ReturnType<typeof setTimeout>;
  private running?: Promise<ProgressiveMonitorReport>;
  private stopped = false;

  constructor(
    private readonly tenants: () => readonly string[],
    private readonly progressive: Pick<ProgressiveBilling, 'crossings'>,
    private readonly trigger: InterimTrigger,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Evaluates every tenant once (a call during a run waits for that run). */
  runOnce(): Promise<ProgressiveMonitorReport> {
    this.running ??= this.evaluate().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped || this.intervalMs <= 0) return;
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((error: unknown) => this.logger.error({ err: error }, 'progressive billing evaluation failed'))
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async evaluate(): Promise<ProgressiveMonitorReport> {
    const report: ProgressiveMonitorReport = { tenants: 0, crossings: 0, signalled: 0 };
    for (const tenant of this.tenants()) {
      report.tenants++;
      let crossings: ThresholdCrossing[];
      try {
        crossings = await this.progressive.crossings(tenant);
      } catch (error) {
        this.logger.error({ err: error, tenant }, 'could not evaluate progressive billing thresholds');
        continue;
      }
      report.crossings += crossings.length;
      for (const c of crossings) {
        try {
          await this.trigger.trigger(c);
          report.signalled++;
          this.logger.info(
            {
              tenant,
              customer: c.customer,
              period: c.period,
              thresholdsCrossed: c.thresholdsCrossed,
              accruedMinor: c.accruedMinor,
            },
            'progressive billing threshold reached',
          );
        } catch (error) {
          this.logger.error(
            { err: error, tenant, customer: c.customer, period: c.period },
            'could not signal progressive billing',
          );
        }
      }
    }
    return report;
  }
}
