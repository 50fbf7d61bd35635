import type { Client } from '@temporalio/client';
import { type AlertDispatcher, type AlertEnvelope, alertId, keySegment, PeriodicRun } from '@tally/alerts';
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
  /** Crossings this run fired through the alert path (each wakes its period's workflow). */
  signalled: number;
}

/** The alert a crossing fires, on `<prefix>.alerts.<tenant>` beside the usage alerts. */
export interface BillingThresholdAlert extends AlertEnvelope {
  type: 'billing.threshold_crossed';
  /** The billing period's id (`2026-12`, or the subscription's anchored period). */
  billingPeriod: string;
  /** How many of the plan's thresholds the accrued amount has reached: the interim invoice's number. */
  thresholdsCrossed: string;
  /** What had accrued when it fired, in minor units of `currency`. */
  accruedMinor: string;
  currency: string;
}

export interface ProgressiveMonitorOptions {
  tenants: () => readonly string[];
  progressive: Pick<ProgressiveBilling, 'crossings'>;
  trigger: InterimTrigger;
  /** The alert path the usage alerts go through (shared alert-state bucket, claim timeout). */
  alerts: AlertDispatcher;
  logger: Logger;
  intervalMs: number;
  clock?: () => Date;
}

/** The alert-state key of a crossing: one per customer, period and number of thresholds reached. */
export function billingThresholdKey(c: ThresholdCrossing): string {
  return `${c.tenant}.billing.progressive.${keySegment(c.customer)}.${Math.floor(c.fromMs / 1000)}.t${c.thresholdsCrossed}`;
}

/**
 * Progressive billing's thresholds, evaluated by the billing worker and fired through the alert path
 * (`@tally/alerts`) that usage alerts use: every `intervalMs`, each tenant's open periods on a plan with
 * `progressiveBilling` are priced on their usage so far; each that reached a threshold no interim
 * invoice billed yet fires a `billing.threshold_crossed` alert (claimed once across workers, published
 * on `<prefix>.alerts.<tenant>`) whose action wakes the period's `progressiveBillingWorkflow`, which
 * issues the interim invoice.
 *
 * The alert is the crossing's at-least-once delivery: an action that failed (Temporal unreachable) or
 * a worker that died after claiming leaves the alert `claimed`, and it is delivered again after the
 * claim timeout. A crossing signalled twice is decided once by the workflow's activity. Runs do not
 * overlap.
 */
export class ProgressiveMonitor {
  private readonly runs: PeriodicRun<ProgressiveMonitorReport>;
  private readonly clock: () => Date;

  constructor(private readonly o: ProgressiveMonitorOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.runs = new PeriodicRun(
      () => this.evaluate(),
      o.intervalMs,
      (error) => o.logger.error({ err: error }, 'progressive billing evaluation failed'),
    );
  }

  start(): void {
    this.runs.start();
  }

  async stop(): Promise<void> {
    await this.runs.stop();
    await this.o.alerts.close();
  }

  /** Evaluates every tenant once (a call during a run waits for that run). */
  runOnce(): Promise<ProgressiveMonitorReport> {
    return this.runs.runOnce();
  }

  /** Resolves when every alert fired so far has been delivered (tests). */
  idle(): Promise<void> {
    return this.o.alerts.idle();
  }

  private async evaluate(): Promise<ProgressiveMonitorReport> {
    const report: ProgressiveMonitorReport = { tenants: 0, crossings: 0, signalled: 0 };
    const now = this.clock();
    this.o.alerts.forgetEnded(now);
    for (const tenant of this.o.tenants()) {
      report.tenants++;
      let crossings: ThresholdCrossing[];
      try {
        crossings = await this.o.progressive.crossings(tenant);
      } catch (error) {
        this.o.logger.error({ err: error, tenant }, 'could not evaluate progressive billing thresholds');
        continue;
      }
      report.crossings += crossings.length;
      for (const c of crossings) {
        try {
          if (!(await this.fire(c, now))) continue; // fired already, by an earlier run or another worker
          report.signalled++;
          this.o.logger.info(
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
          this.o.logger.error(
            { err: error, tenant, customer: c.customer, period: c.period },
            'could not fire progressive billing alert',
          );
        }
      }
    }
    return report;
  }

  private fire(c: ThresholdCrossing, now: Date): Promise<boolean> {
    const key = billingThresholdKey(c);
    const alert: BillingThresholdAlert = {
      id: alertId(key),
      type: 'billing.threshold_crossed',
      tenant: c.tenant,
      customer: c.customer,
      period: {
        from: new Date(c.fromMs).toISOString(),
        to: new Date(c.toMs).toISOString(),
        timezone: c.timezone,
      },
      billingPeriod: c.period,
      thresholdsCrossed: c.thresholdsCrossed,
      accruedMinor: c.accruedMinor,
      currency: c.currency,
      firedAt: now.toISOString(),
    };
    return this.o.alerts.fire(key, alert, c.toMs, { action: () => this.o.trigger.trigger(c) }, now);
  }
}
