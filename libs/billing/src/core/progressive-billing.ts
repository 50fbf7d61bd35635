import type { InterimOutcome, InterimRequest } from '@tally/billing-contracts';
import { customerPeriod, openCustomerPeriod, type CustomerPeriod } from '@tally/billing-periods';
import { customerTimeZone } from '@tally/catalog';
import { isTallyError } from '@tally/errors';
import type { Logger } from '@tally/observability';
import { pricePeriod, type InvoiceDocument } from '../invoices/invoice';
import { decideInterim, progressiveSettingOf } from '../invoices/progressive';
import { chunk, groupBy } from './collections';
import type { BillingCatalogPort, ClosedPeriodsPort, InvoiceLedgerPort, InvoiceNoticesPort } from './ports';
import type { PricedSeries, PricingSnapshots } from './pricing-snapshots';
import type { UsageLoader } from './usage-loader';

export interface ProgressiveBillingDependencies {
  catalog: Pick<
    BillingCatalogPort,
    'getTenant' | 'getCustomer' | 'subscriptionsOf' | 'customersWithSubscriptions'
  >;
  ledger: Pick<InvoiceLedgerPort, 'listForCustomer' | 'documentsOf' | 'insert'>;
  closed: Pick<ClosedPeriodsPort, 'get'>;
  pricing: Pick<PricingSnapshots, 'current'>;
  usage: Pick<UsageLoader, 'load'>;
  notices: InvoiceNoticesPort;
  logger: Logger;
  clock?: () => number;
  /** Customers priced per usage query when scanning a tenant. Default 500. */
  scanChunk?: number;
}

/** A customer whose open period reached a threshold that no interim invoice has billed yet. */
export interface ThresholdCrossing {
  tenant: string;
  customer: string;
  period: string;
  /** The period's instants (epoch ms) and zone, for the alert. */
  fromMs: number;
  toMs: number;
  timezone: string;
  thresholdsCrossed: string;
  accruedMinor: string;
  currency: string;
}

type Candidate = PricedSeries & { customer: string; share: CustomerPeriod };

/**
 * Progressive (threshold) billing: which open periods reached a threshold (`crossings`, read-only, for
 * the monitor that signals the workflows) and the interim invoice of one period (`issueInterim`, the
 * activity). Both decide with the same pure rule (`decideInterim`) on the same usage and pricing as the
 * period-end invoice, so a crossing the monitor sees is the invoice the activity issues.
 *
 * Idempotent, crash by crash (the activity runs in `progressive/<tenant>/<customer>/<period>`, one
 * workflow per period, so two issues of one period never run at once):
 * - a retry after the insert finds the interim invoice in the ledger (its number of thresholds is
 *   already billed) and issues nothing;
 * - a retry before the insert decides again on the usage then, and writes the id of the thresholds it
 *   reaches then: an id is written once, because a later decision needs a higher count;
 * - a repeated signal (several monitors, a redelivery) finds nothing above the last interim invoice.
 * Interim invoices stop once the period has ended or its closed-period marker exists: the period-end
 * invoice is computed at least the grace window after the end and deducts every interim invoice it
 * finds in the ledger then. (An interim activity that decided before the end and stalled for longer
 * than the grace window before writing would be missed by that invoice; the activity refuses to start
 * after the end, and its start-to-close timeout is far below the grace window.)
 */
export class ProgressiveBilling {
  private readonly clock: () => number;

  constructor(private readonly deps: ProgressiveBillingDependencies) {
    this.clock = deps.clock ?? Date.now;
  }

  private timezoneOf(tenant: string, customer: string): string | undefined {
    const t = this.deps.catalog.getTenant(tenant);
    return t ? customerTimeZone(this.deps.catalog.getCustomer(tenant, customer) ?? {}, t) : undefined;
  }

  /** The customer's period, priced as the period-end invoice would price it now; undefined when not progressive. */
  private candidate(
    tenant: string,
    customer: string,
    share: CustomerPeriod | undefined,
  ): Candidate | undefined {
    if (!share) return undefined;
    let priced: PricedSeries;
    try {
      priced = this.deps.pricing.current(tenant, share, customer);
    } catch (error) {
      // A refusal (unknown plan or meter) is the period-end invoice's to report; nothing accrues here.
      if (isTallyError(error) && !error.retryable) return undefined;
      throw error;
    }
    return progressiveSettingOf(share, priced.pricing) ? { ...priced, customer, share } : undefined;
  }

  /** Open periods of the tenant's customers that reached a threshold not yet billed by an interim invoice. */
  async crossings(tenant: string): Promise<ThresholdCrossing[]> {
    const now = this.clock();
    const candidates: Candidate[] = [];
    for (const customer of this.deps.catalog.customersWithSubscriptions(tenant)) {
      const tz = this.timezoneOf(tenant, customer);
      if (!tz) continue;
      const open = openCustomerPeriod(this.deps.catalog.subscriptionsOf(tenant, customer), tz, now);
      const c = this.candidate(tenant, customer, open);
      if (c) candidates.push(c);
    }
    const out: ThresholdCrossing[] = [];
    for (const [period, items] of groupBy(candidates, (c) => c.share.period)) {
      for (const part of chunk(items, this.deps.scanChunk ?? 500)) {
        const customers = part.map((c) => c.customer);
        const [usage, documents] = await Promise.all([
          this.deps.usage.load(tenant, part),
          this.deps.ledger.documentsOf(tenant, period, customers),
        ]);
        for (const c of part) {
          const docs = documents.get(c.customer) ?? [];
          if (docs.some((d) => d.kind !== 'interim')) continue; // closed already
          const decision = this.decide(tenant, c, usage.get(c.customer), docs, 'monitor');
          if (decision?.issue)
            out.push({
              tenant,
              customer: c.customer,
              period,
              fromMs: c.share.fromMs,
              toMs: c.share.toMs,
              timezone: c.share.timezone,
              thresholdsCrossed: decision.crossed.count,
              accruedMinor: decision.accruedMinor,
              currency: decision.currency,
            });
        }
      }
    }
    return out;
  }

  /** Issues the interim invoice the period calls for now, if any (the activity of `progressiveBillingWorkflow`). */
  async issueInterim(req: InterimRequest): Promise<InterimOutcome> {
    const tz = this.timezoneOf(req.tenant, req.customer);
    const share = tz
      ? customerPeriod(this.deps.catalog.subscriptionsOf(req.tenant, req.customer), req.period, tz)
      : undefined;
    if (!share) return { status: 'not_progressive' };
    if (this.clock() >= share.toMs) return { status: 'period_ended' };
    if (await this.deps.closed.get(req.tenant, req.customer, req.period)) return { status: 'period_ended' };
    const c = this.candidate(req.tenant, req.customer, share);
    if (!c) return { status: 'not_progressive' };
    const docs = await this.deps.ledger.listForCustomer(req.tenant, req.customer, req.period);
    if (docs.some((d) => d.kind !== 'interim')) return { status: 'period_ended' };
    const usage = await this.deps.usage.load(req.tenant, [c]);
    const decision = this.decide(req.tenant, c, usage.get(req.customer), docs, req.owner);
    if (!decision) return { status: 'not_progressive' };
    const { issue, crossed, accruedMinor } = decision;
    if (!issue) return { status: 'below_threshold', thresholdsCrossed: crossed.count, accruedMinor };
    await this.deps.ledger.insert([issue]);
    this.deps.notices.published(issue);
    this.deps.logger.info(
      {
        tenant: req.tenant,
        customer: req.customer,
        period: req.period,
        invoiceId: issue.invoiceId,
        totalMinor: issue.totalMinor,
        accruedMinor,
      },
      'interim invoice issued',
    );
    return {
      status: 'issued',
      invoiceId: issue.invoiceId,
      thresholdsCrossed: crossed.count,
      totalMinor: issue.totalMinor,
      accruedMinor,
    };
  }

  private decide(
    tenant: string,
    c: Candidate,
    usage: { usage: InvoiceDocument['usage']; fingerprint: InvoiceDocument['fingerprint'] } | undefined,
    docs: readonly InvoiceDocument[],
    issuedBy: string,
  ) {
    const u = usage ?? { usage: {}, fingerprint: { eventCount: '0', checksum: '0' } };
    return decideInterim({
      tenant,
      customer: c.customer,
      period: c.share,
      pricing: c.pricing,
      usage: u.usage,
      fingerprint: u.fingerprint,
      priced: pricePeriod({ period: c.share, pricing: c.pricing, usage: u.usage }),
      previous: docs.filter((d) => d.kind === 'interim'),
      issuedBy,
      createdAt: new Date(this.clock()).toISOString(),
    });
  }
}
