import type { RebillOutcome, RebillRequest } from '@tally/billing-contracts';
import { customerPeriod, type CustomerPeriod } from '@tally/billing-periods';
import { customerTimeZone } from '@tally/catalog';
import { InvoiceNotYetIssuedError } from '../errors';
import { computeAdjustment, type InvoiceDocument, type PricingSnapshot } from '../invoices/invoice';
import type { BillingCatalogPort, InvoiceLedgerPort, InvoiceNoticesPort, WatermarkPort } from './ports';
import type { TaxEngine } from '@tally/pricing';
import { withTaxEngine } from '../invoices/finance';
import type { PricingSnapshots } from './pricing-snapshots';
import type { UsageLoader } from './usage-loader';

export interface RebillerDependencies {
  ledger: Pick<InvoiceLedgerPort, 'listForCustomer' | 'insert'>;
  pricing: Pick<PricingSnapshots, 'ofSnapshot' | 'current'>;
  /** The customer's subscriptions now: a backdated change re-bills the period (docs/finance.md). */
  catalog?: Pick<BillingCatalogPort, 'getTenant' | 'getCustomer' | 'subscriptionsOf'>;
  usage: Pick<UsageLoader, 'load'>;
  notices: InvoiceNoticesPort;
  /** The completeness watermark each adjustment records (read just before its usage). */
  watermark: Pick<WatermarkPort, 'completeThrough'>;
  clock?: () => number;
  /** An external tax engine; the invoice's rate table when absent. */
  taxEngine?: TaxEngine;
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

  /**
   * The period as the catalog has it now, when its subscriptions differ from the newest document's (a
   * plan change, start or end entered after the invoice, dated inside the period): priced with the
   * plans already in the snapshot (their versions then), new plans as they are now, and the same
   * finance terms. Undefined when nothing changed or the customer has no subscription left in it.
   */
  private subscriptionChange(
    req: RebillRequest,
    latest: InvoiceDocument,
  ): { period: CustomerPeriod; pricing: PricingSnapshot } | undefined {
    const catalog = this.deps.catalog;
    if (!catalog) return undefined;
    const tenant = catalog.getTenant(req.tenant);
    const customer = catalog.getCustomer(req.tenant, req.customer);
    if (!tenant || !customer) return undefined;
    const now = customerPeriod(
      catalog.subscriptionsOf(req.tenant, req.customer),
      req.period,
      customerTimeZone(customer, tenant),
    );
    if (!now || JSON.stringify(now.subscriptions) === JSON.stringify(latest.pricing.subscriptions))
      return undefined;
    const fresh = this.deps.pricing.current(req.tenant, now).pricing;
    return {
      period: now,
      pricing: {
        subscriptions: now.subscriptions,
        plans: { ...fresh.plans, ...latest.pricing.plans },
        meterVersions: { ...fresh.meterVersions, ...latest.pricing.meterVersions },
        ...(latest.pricing.finance ? { finance: latest.pricing.finance } : {}),
      },
    };
  }

  /** Throws `InvoiceNotYetIssuedError` (retryable) while the period is still being closed. */
  async rebill(req: RebillRequest): Promise<RebillOutcome> {
    const docs = await this.deps.ledger.listForCustomer(req.tenant, req.customer, req.period);
    const invoice = docs.find((d) => d.version === 1);
    if (!invoice) throw new InvoiceNotYetIssuedError(req.tenant, req.customer, req.period);
    const latest = docs.reduce((a, b) => (b.version > a.version ? b : a), invoice);
    const changed = this.subscriptionChange(req, latest);
    const pricing = changed?.pricing ?? latest.pricing;
    const share: CustomerPeriod = changed?.period ?? {
      period: latest.period,
      timezone: latest.timezone,
      subscriptions: latest.pricing.subscriptions,
      fromMs: Date.parse(latest.periodStart),
      toMs: Date.parse(latest.periodEnd),
    };
    const series = await this.deps.pricing.ofSnapshot(req.tenant, pricing);
    const completeThrough = new Date(await this.deps.watermark.completeThrough(req.tenant)).toISOString();
    const usage = await this.deps.usage.load(req.tenant, [
      { customer: req.customer, share, pricing, series },
    ]);
    const recomputed = usage.get(req.customer) ?? {
      usage: {},
      fingerprint: { eventCount: '0', checksum: '0' },
    };
    const createdAt = new Date(this.clock()).toISOString();
    const adjustment = await withTaxEngine(this.deps.taxEngine, (taxCalculator) =>
      computeAdjustment(
        invoice,
        latest,
        {
          usage: recomputed.usage,
          fingerprint: recomputed.fingerprint,
          issuedBy: req.owner,
          createdAt,
          completeThrough,
          ...(taxCalculator ? { taxCalculator } : {}),
        },
        changed,
        docs,
      ),
    );
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
