import type { RebillOutcome, RebillRequest } from '@tally/billing-contracts';
import type { CustomerPeriod } from '@tally/billing-periods';
import { InvoiceNotYetIssuedError } from '../errors';
import { computeAdjustment } from '../invoices/invoice';
import type { InvoiceLedgerPort, InvoiceNoticesPort, WatermarkPort } from './ports';
import type { PricingSnapshots } from './pricing-snapshots';
import type { UsageLoader } from './usage-loader';

export interface RebillerDependencies {
  ledger: Pick<InvoiceLedgerPort, 'listForCustomer' | 'insert'>;
  pricing: Pick<PricingSnapshots, 'ofSnapshot'>;
  usage: Pick<UsageLoader, 'load'>;
  notices: InvoiceNoticesPort;
  /** The completeness watermark each adjustment records (read just before its usage). */
  watermark: Pick<WatermarkPort, 'completeThrough'>;
  clock?: () => number;
}

/**
 * Recomputes a closed period with its invoice's pricing snapshot and appends an adjustment when the
 * events counted changed since the newest document (the usage fingerprint), never twice for the same
 * events: the adjustment's version and id follow from the newest document.
 */
export class Rebiller {
  private readonly clock: () => number;

  constructor(private readonly deps: RebillerDependencies) {
    this.clock = deps.clock ?? Date.now;
  }

  /** Throws `InvoiceNotYetIssuedError` (retryable) while the period is still being closed. */
  async rebill(req: RebillRequest): Promise<RebillOutcome> {
    const docs = await this.deps.ledger.listForCustomer(req.tenant, req.customer, req.period);
    const invoice = docs.find((d) => d.version === 1);
    if (!invoice) throw new InvoiceNotYetIssuedError(req.tenant, req.customer, req.period);
    const latest = docs.reduce((a, b) => (b.version > a.version ? b : a), invoice);
    const share: CustomerPeriod = {
      period: invoice.period,
      timezone: invoice.timezone,
      subscriptions: invoice.pricing.subscriptions,
      fromMs: Date.parse(invoice.periodStart),
      toMs: Date.parse(invoice.periodEnd),
    };
    const series = await this.deps.pricing.ofSnapshot(req.tenant, invoice.pricing);
    const completeThrough = new Date(await this.deps.watermark.completeThrough(req.tenant)).toISOString();
    const usage = await this.deps.usage.load(req.tenant, [
      { customer: req.customer, share, pricing: invoice.pricing, series },
    ]);
    const recomputed = usage.get(req.customer) ?? {
      usage: {},
      fingerprint: { eventCount: '0', checksum: '0' },
    };
    const adjustment = computeAdjustment(invoice, latest, {
      usage: recomputed.usage,
      fingerprint: recomputed.fingerprint,
      issuedBy: req.owner,
      createdAt: new Date(this.clock()).toISOString(),
      completeThrough,
    });
    if (!adjustment)
      return {
        status: 'unchanged',
        latestVersion: latest.version,
        eventCount: latest.fingerprint.eventCount,
      };
    await this.deps.ledger.insert([adjustment]);
    this.deps.notices.published(adjustment);
    return {
      status: 'adjusted',
      invoiceId: adjustment.invoiceId,
      version: adjustment.version,
      totalMinor: adjustment.totalMinor,
      cumulativeTotalMinor: adjustment.cumulativeTotalMinor,
      lateEventCount: adjustment.lateEventCount,
    };
  }
}
