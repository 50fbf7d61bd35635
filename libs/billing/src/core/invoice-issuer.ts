import type { IssueOutcome, IssueRequest } from '@tally/billing-contracts';
import type { CustomerPeriod } from '@tally/billing-periods';
import { isTallyError } from '@tally/errors';
import type { Logger } from '@tally/observability';
import type { CreditEntry, TaxEngine } from '@tally/pricing';
import { creditEntriesOf, termSpendMinor, withTaxEngine } from '../invoices/finance';
import { unitLedgerOf, type UnitLedger } from '../invoices/unit-credits';
import { computeInvoice, type InvoiceDocument } from '../invoices/invoice';
import { groupBy, mapLimit } from './collections';
import type {
  BillingCatalogPort,
  ClosedPeriodsPort,
  InvoiceLedgerPort,
  InvoiceNoticesPort,
  WatermarkPort,
} from './ports';
import type { PricedSeries, PricingSnapshots } from './pricing-snapshots';
import type { UsageLoader } from './usage-loader';

export interface InvoiceIssuerDependencies {
  /** Customers' credit ledgers (finance terms); without it no credit is drawn. */
  catalog?: Pick<BillingCatalogPort, 'getCustomer'>;
  ledger: InvoiceLedgerPort;
  closed: Pick<ClosedPeriodsPort, 'markInvoiced' | 'release'>;
  pricing: Pick<PricingSnapshots, 'current'>;
  usage: Pick<UsageLoader, 'load'>;
  notices: InvoiceNoticesPort;
  /** The completeness watermark each invoice records (read just before its usage). */
  watermark: Pick<WatermarkPort, 'completeThrough'>;
  logger: Logger;
  clock?: () => number;
  /** An external tax engine (docs/finance.md#taxes); the tenant's rate table when absent. */
  taxEngine?: TaxEngine;
}

type Item = { customer: string; share: CustomerPeriod };
type Priced = Item & PricedSeries & { interims: InvoiceDocument[] };

/**
 * Issues the invoices of claimed periods. Idempotent: an invoice's id derives from (tenant, customer,
 * period, version), so one written twice is the same row, and one already in the ledger is reported,
 * not recomputed. A customer whose pricing is refused (unknown plan or meter) does not stop the others:
 * its period is released for a later attempt. The marker turns `invoiced` only after the ledger write.
 */
export class InvoiceIssuer {
  private readonly clock: () => number;

  constructor(private readonly deps: InvoiceIssuerDependencies) {
    this.clock = deps.clock ?? Date.now;
  }

  /**
   * The customer's credit ledger, when the period has finance terms and the customer has credit: the
   * catalog's grants and voids, and the draws of every invoice already issued (in the ledger, or
   * computed earlier in this request for an earlier period).
   */
  private async creditLedger(
    tenant: string,
    item: Priced,
    issuedNow: Map<string, InvoiceDocument[]>,
  ): Promise<{ credits: CreditEntry[]; commitmentSpend: Record<string, string>; unitLedger?: UnitLedger }> {
    const none = { credits: [], commitmentSpend: {} };
    if (!item.pricing.finance) return none;
    const customer = this.deps.catalog?.getCustomer(tenant, item.customer);
    if (!customer?.billing?.credits?.length && !customer?.billing?.commitments?.length) return none;
    const stored = await this.deps.ledger.listForCustomer(tenant, item.customer);
    const documents = [...stored, ...(issuedNow.get(item.customer) ?? [])];
    const commitmentSpend: Record<string, string> = {};
    for (const c of item.pricing.finance.commitments ?? [])
      commitmentSpend[c.id] = termSpendMinor(documents, c.start, c.end).toString();
    const unitLedger = unitLedgerOf(customer, documents);
    return {
      credits: creditEntriesOf(customer, documents),
      commitmentSpend,
      ...(unitLedger.grants.length ? { unitLedger } : {}),
    };
  }

  async issueInvoices(req: IssueRequest): Promise<IssueOutcome[]> {
    // Documents computed in this request (not in the ledger yet), per customer: a later period's credit sees their draws.
    const issuedNow = new Map<string, InvoiceDocument[]>();
    const outcomes = new Map<string, IssueOutcome>();
    const documents: InvoiceDocument[] = [];
    for (const [period, items] of groupBy(req.periods, (p) => p.share.period)) {
      const todo = await this.notYetIssued(req.tenant, period, items, outcomes);
      documents.push(...(await this.compute(req, period, todo, outcomes, issuedNow)));
    }
    await this.deps.ledger.insert(documents);
    for (const doc of documents) this.deps.notices.published(doc);
    // Only now is the period settled; until then the marker says "closing", which the writer treats the same.
    await this.settle(req, [...outcomes.values()]);
    return req.periods.map((p) => outcomes.get(key(p.customer, p.share.period)) as IssueOutcome);
  }

  /** The items without an invoice in the ledger, priced; the others get their outcome here. */
  private async notYetIssued(
    tenant: string,
    period: string,
    items: readonly Item[],
    outcomes: Map<string, IssueOutcome>,
  ): Promise<Priced[]> {
    const existing = await this.deps.ledger.documentsOf(
      tenant,
      period,
      items.map((i) => i.customer),
    );
    const todo: Priced[] = [];
    for (const item of items) {
      const invoice = existing.get(item.customer)?.find((d) => d.version === 1);
      if (invoice) {
        const { invoiceId, totalMinor, currency } = invoice;
        outcomes.set(key(item.customer, period), {
          customer: item.customer,
          period,
          status: 'already_issued',
          invoiceId,
          totalMinor,
          currency,
        });
        continue;
      }
      // Progressive billing: the interim invoices of the period, which this invoice deducts.
      const interims = existing.get(item.customer)?.filter((d) => d.kind === 'interim') ?? [];
      try {
        todo.push({ ...item, ...this.deps.pricing.current(tenant, item.share, item.customer), interims });
      } catch (error) {
        outcomes.set(key(item.customer, period), failure(item.customer, period, error));
      }
    }
    return todo;
  }

  private async compute(
    req: IssueRequest,
    period: string,
    todo: readonly Priced[],
    outcomes: Map<string, IssueOutcome>,
    issuedNow: Map<string, InvoiceDocument[]>,
  ): Promise<InvoiceDocument[]> {
    // Read before the usage: everything acknowledged before it is in what the query then reads.
    const completeThrough = new Date(await this.deps.watermark.completeThrough(req.tenant)).toISOString();
    const usage = await this.deps.usage.load(req.tenant, todo);
    const createdAt = new Date(this.clock()).toISOString();
    const documents: InvoiceDocument[] = [];
    for (const item of todo) {
      try {
        const { credits, commitmentSpend, unitLedger } = await this.creditLedger(req.tenant, item, issuedNow);
        const doc = await withTaxEngine(this.deps.taxEngine, (taxCalculator) =>
          computeInvoice({
            ...(taxCalculator ? { taxCalculator } : {}),
            credits,
            ...(unitLedger ? { unitLedger } : {}),
            commitmentSpend,
            tenant: req.tenant,
            customer: item.customer,
            period: item.share,
            pricing: item.pricing,
            usage: usage.get(item.customer)?.usage ?? {},
            fingerprint: usage.get(item.customer)?.fingerprint ?? { eventCount: '0', checksum: '0' },
            issuedBy: req.owner,
            createdAt,
            completeThrough,
            interims: item.interims,
          }),
        );
        documents.push(doc);
        issuedNow.set(item.customer, [...(issuedNow.get(item.customer) ?? []), doc]);
        const { invoiceId, totalMinor, currency } = doc;
        outcomes.set(key(item.customer, period), {
          customer: item.customer,
          period,
          status: 'issued',
          invoiceId,
          totalMinor,
          currency,
        });
      } catch (error) {
        outcomes.set(key(item.customer, period), failure(item.customer, period, error));
      }
    }
    return documents;
  }

  /** Marks issued periods `invoiced` and releases the failed ones. */
  private async settle(req: IssueRequest, outcomes: readonly IssueOutcome[]): Promise<void> {
    await mapLimit(outcomes, 32, async (o) => {
      if (o.status === 'failed') return;
      const share = req.periods.find((p) => p.customer === o.customer && p.share.period === o.period)?.share;
      if (!share) return;
      await this.deps.closed.markInvoiced({
        tenant: req.tenant,
        customer: o.customer,
        period: o.period,
        fromMs: share.fromMs,
        toMs: share.toMs,
        invoiceId: o.invoiceId,
        owner: req.owner,
        state: 'invoiced',
        closedAt: new Date(this.clock()).toISOString(),
        totalMinor: o.totalMinor,
        currency: o.currency,
      });
    });
    for (const o of outcomes) {
      if (o.status !== 'failed') continue;
      this.deps.logger.warn(
        { tenant: req.tenant, ...o },
        'invoice not issued; the period is released for a later attempt',
      );
      await this.deps.closed.release(req.tenant, o.customer, o.period, req.owner);
    }
  }
}

function key(customer: string, period: string): string {
  return `${customer}\u0000${period}`;
}

/** A refusal that no retry can change becomes the customer's outcome; anything else is thrown (and retried). */
function failure(customer: string, period: string, error: unknown): IssueOutcome {
  if (isTallyError(error) && !error.retryable) {
    const detail = error.details[0];
    return {
      customer,
      period,
      status: 'failed',
      code: detail?.code ?? error.code,
      message: detail?.message ?? error.message,
    };
  }
  throw error;
}
