import { Counter, Gauge, type Registry } from 'prom-client';
import type { IssueOutcome, RebillOutcome } from '@tally/billing-contracts';

/**
 * What billing did, as the worker saw it: invoices by outcome, rebills by outcome, and when a
 * billing run last scanned for due customers (every run does, every hour for every tenant), so
 * "billing has stalled" is `time() - tally_billing_last_scan_timestamp_seconds` growing. Labels are
 * statuses only: never tenants or customers.
 */
export class BillingMetrics {
  readonly invoices: Counter<'status'>;
  readonly rebills: Counter<'status'>;
  readonly scans: Counter;
  readonly lastScan: Gauge;

  constructor(registry: Registry) {
    this.invoices = new Counter({
      name: 'tally_billing_invoices_total',
      help: 'Invoices by outcome (issued, already_issued, failed)',
      labelNames: ['status'],
      registers: [registry],
    });
    this.rebills = new Counter({
      name: 'tally_billing_rebills_total',
      help: 'Rebills of closed periods by outcome (adjusted, unchanged)',
      labelNames: ['status'],
      registers: [registry],
    });
    this.scans = new Counter({
      name: 'tally_billing_due_scans_total',
      help: 'Pages of customers billing runs scanned for due periods',
      registers: [registry],
    });
    this.lastScan = new Gauge({
      name: 'tally_billing_last_scan_timestamp_seconds',
      help: 'When a billing run last scanned for due customers (process start until the first scan)',
      registers: [registry],
    });
    this.lastScan.set(Date.now() / 1000);
    // Every outcome's series exists from the start, so rates over them are 0 rather than absent.
    for (const status of ['issued', 'already_issued', 'failed'] as const) this.invoices.inc({ status }, 0);
    for (const status of ['adjusted', 'unchanged'] as const) this.rebills.inc({ status }, 0);
  }

  scanned(): void {
    this.scans.inc();
    this.lastScan.set(Date.now() / 1000);
    // Every outcome's series exists from the start, so rates over them are 0 rather than absent.
    for (const status of ['issued', 'already_issued', 'failed'] as const) this.invoices.inc({ status }, 0);
    for (const status of ['adjusted', 'unchanged'] as const) this.rebills.inc({ status }, 0);
  }

  issued(outcomes: readonly IssueOutcome[]): void {
    for (const o of outcomes) this.invoices.inc({ status: o.status });
  }

  rebilled(outcome: RebillOutcome): void {
    this.rebills.inc({ status: outcome.status });
  }
}
