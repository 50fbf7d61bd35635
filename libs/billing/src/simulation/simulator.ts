import {
  summarizeSimulations,
  type CustomerSimulation,
  type SimulatedLine,
  type SimulationPage,
  type SimulationPageRequest,
  type SimulationSpec,
  type SimulationSummary,
} from '@tally/billing-contracts';
import type { CustomerPeriod } from '@tally/billing-periods';
import { addSimulationSummaries, emptySimulationSummary } from '@tally/billing-contracts';
import type { SeriesRef } from '@tally/clickhouse';
import { BillingRejectedError } from '../errors';
import { computeFinance } from '../invoices/finance';
import type { InvoiceDocument, InvoiceLine, PricingSnapshot } from '../invoices/invoice';
import { pairLinesByCharge } from '../invoices/line-pairs';
import { pricePeriod } from '../invoices/period-pricing';
import type { BillingCatalogPort, InvoiceLedgerPort, SimulationResultsPort } from '../core/ports';
import type { PricingSnapshots } from '../core/pricing-snapshots';
import type { CustomerUsage, UsageItem, UsageLoader } from '../core/usage-loader';
import { simulatedSnapshot, validateSimulationSpec } from './plan-change';

export interface SimulatorDependencies {
  ledger: Pick<InvoiceLedgerPort, 'documentsOf' | 'invoicedCustomers' | 'countInvoiced'>;
  catalog: Pick<BillingCatalogPort, 'getMeter'>;
  pricing: Pick<PricingSnapshots, 'ofSnapshot'>;
  usage: Pick<UsageLoader, 'load'>;
  /** Where workflow runs keep their results. */
  results?: SimulationResultsPort;
}

interface Candidate {
  customer: string;
  invoice: InvoiceDocument;
  latest: InvoiceDocument;
  share: CustomerPeriod;
  original: UsageItem;
  simulated: UsageItem;
}

/**
 * Re-prices closed periods under changed plans, on the usage their invoices billed, and compares with
 * what was billed. Reads only: the ledger (what was billed, and the pricing snapshot each invoice was
 * computed with), the raw events (through the same usage loader and queries as invoicing, with the
 * meter versions the invoice recorded) and the catalog (current versions of meters a change adds).
 * Nothing is written to the ledger; workflow runs store their results in `SimulationResultsPort`.
 *
 * Why the usage is the invoices' usage: the events are read with the invoice's own period, zone,
 * subscriptions and meter versions, and their fingerprint (count and checksum of the event ids) is
 * compared with the latest document's. Equal: the very events billed were priced (`simulated`). Not
 * equal: events arrived that no document covers yet (`usage_changed`, priced on the events as they are).
 */
export class Simulator {
  constructor(private readonly deps: SimulatorDependencies) {}

  validate(spec: SimulationSpec): void {
    validateSimulationSpec(spec);
    for (const [i, change] of spec.changes.entries()) {
      const charges = 'draft' in change ? change.draft.charges : (change.patch.charges ?? []);
      for (const c of charges) {
        if (c.kind === 'flat') continue;
        const meter = c.meter.split(':', 1)[0];
        if (!this.deps.catalog.getMeter(spec.tenant, meter))
          throw new BillingRejectedError(
            'UNKNOWN_METER',
            `changes[${i}]: meter '${meter}' of charge '${c.id}' does not exist`,
          );
      }
    }
  }

  /** Customer-periods the simulation looks at (an upper bound with a filter). */
  async count(spec: SimulationSpec): Promise<number> {
    if ('ids' in spec.customers) return new Set(spec.customers.ids).size * spec.periods.length;
    let n = 0;
    for (const period of spec.periods) n += await this.deps.ledger.countInvoiced(spec.tenant, period);
    return n;
  }

  /** Every page of every period at once (small simulations, answered directly). */
  async run(
    spec: SimulationSpec,
    pageSize = 2000,
  ): Promise<SimulationSummary & { results: CustomerSimulation[] }> {
    this.validate(spec);
    let summary = emptySimulationSummary();
    const results: CustomerSimulation[] = [];
    for (const period of spec.periods) {
      let after: string | undefined;
      do {
        const page = await this.page({ spec, period, after, limit: pageSize });
        summary = addSimulationSummaries(summary, page);
        results.push(...(page.results ?? []));
        after = page.next;
      } while (after !== undefined);
    }
    return { ...summary, results };
  }

  /** One page of customers of one period; results stored when `simulationId` is given, else returned. */
  async page(req: SimulationPageRequest): Promise<SimulationPage> {
    const { spec, period } = req;
    const customers = await this.customersOf(req);
    const docs = await this.deps.ledger.documentsOf(spec.tenant, period, customers, { pricingOnly: true });
    const candidates: Candidate[] = [];
    let notInvoiced = 0;
    for (const customer of customers) {
      const list = docs.get(customer);
      const invoice = list?.find((d) => d.version === 1);
      if (!list || !invoice) {
        notInvoiced++;
        continue;
      }
      if (!matches(spec, invoice)) continue;
      const latest = list.reduce((a, b) => (b.version > a.version ? b : a));
      candidates.push(await this.candidate(spec, customer, invoice, latest));
    }
    const simulatedUsage = await this.deps.usage.load(
      spec.tenant,
      candidates.map((c) => c.simulated),
    );
    // The fingerprint proves the usage only when it covers the invoice's event types: a change that adds
    // or drops meters reads other types, so the invoice's own are counted again for those customers.
    const other = candidates.filter((c) => !sameEventTypes(c.original.series, c.simulated.series));
    const originalUsage = other.length
      ? await this.deps.usage.load(
          spec.tenant,
          other.map((c) => c.original),
        )
      : new Map<string, CustomerUsage>();
    const results = candidates.map((c) =>
      simulate(c, simulatedUsage.get(c.customer), originalUsage.get(c.customer)),
    );
    if (req.simulationId !== undefined && this.deps.results)
      await this.deps.results.insert(spec.tenant, req.simulationId, results);
    const summary = summarizeSimulations(
      results,
      customers.length - notInvoiced,
      'ids' in spec.customers ? notInvoiced : 0,
    );
    return {
      ...summary,
      ...(req.simulationId === undefined ? { results } : {}),
      ...(customers.length === req.limit && customers.length > 0
        ? { next: customers[customers.length - 1] }
        : {}),
    };
  }

  private async customersOf(req: SimulationPageRequest): Promise<string[]> {
    const { spec, period, after, limit } = req;
    if ('ids' in spec.customers) {
      return [...new Set(spec.customers.ids)]
        .sort()
        .filter((c) => after === undefined || c > after)
        .slice(0, limit);
    }
    return this.deps.ledger.invoicedCustomers(spec.tenant, period, after, limit);
  }

  private async candidate(
    spec: SimulationSpec,
    customer: string,
    invoice: InvoiceDocument,
    latest: InvoiceDocument,
  ): Promise<Candidate> {
    // The period as the latest document priced it (a backdated subscription change re-prices it).
    const share: CustomerPeriod = {
      period: latest.period,
      timezone: latest.timezone,
      subscriptions: latest.pricing.subscriptions,
      fromMs: Date.parse(latest.periodStart),
      toMs: Date.parse(latest.periodEnd),
    };
    const pricing = simulatedSnapshot(latest.pricing, spec.changes, (meter) => {
      const m = this.deps.catalog.getMeter(spec.tenant, meter);
      if (!m) throw new BillingRejectedError('UNKNOWN_METER', `meter '${meter}' does not exist`);
      return m.version;
    });
    const item = async (p: PricingSnapshot): Promise<UsageItem> => ({
      customer,
      share,
      pricing: p,
      series: await this.deps.pricing.ofSnapshot(invoice.tenant, p),
    });
    return {
      customer,
      invoice,
      latest,
      share,
      original: await item(latest.pricing),
      simulated: await item(pricing),
    };
  }
}

function matches(spec: SimulationSpec, invoice: InvoiceDocument): boolean {
  if (!('filter' in spec.customers)) return true;
  const f = spec.customers.filter;
  if (f.timezone !== undefined && invoice.timezone !== f.timezone) return false;
  if (f.plan !== undefined && !invoice.pricing.subscriptions.some((s) => s.plan === f.plan)) return false;
  return true;
}

function eventTypes(series: Record<string, SeriesRef>): string {
  const types = new Set<string>();
  for (const ref of Object.values(series)) for (const t of ref.meter.eventTypes) types.add(t);
  return [...types].sort().join('\u0000');
}

function sameEventTypes(a: Record<string, SeriesRef>, b: Record<string, SeriesRef>): boolean {
  return eventTypes(a) === eventTypes(b);
}

const NONE = { eventCount: '0', checksum: '0' };

function simulate(
  c: Candidate,
  usage: CustomerUsage | undefined,
  original: CustomerUsage | undefined,
): CustomerSimulation {
  const periodUsage = usage?.usage ?? {};
  const priced = pricePeriod({ period: c.share, pricing: c.simulated.pricing, usage: periodUsage });
  // The invoice's finance terms (coupons, taxes) and credit draws, as an adjustment would apply them.
  const finance = computeFinance(
    {
      invoiceId: c.invoice.invoiceId,
      currency: priced.currency,
      period: c.share,
      pricing: c.simulated.pricing,
      usage: periodUsage,
      lines: priced.lines,
    },
    { keep: c.invoice.finance?.credits ?? [] },
  );
  const fingerprint = (original ?? usage)?.fingerprint ?? NONE;
  const billedFp = c.latest.fingerprint;
  const same = fingerprint.eventCount === billedFp.eventCount && fingerprint.checksum === billedFp.checksum;
  const billed = BigInt(c.latest.cumulativeTotalMinor);
  const simulated = BigInt(finance?.totalMinor ?? priced.totalMinor);
  return {
    customer: c.customer,
    period: c.invoice.period,
    status: same ? 'simulated' : 'usage_changed',
    currency: priced.currency || c.latest.currency,
    billedMinor: billed.toString(),
    simulatedMinor: simulated.toString(),
    differenceMinor: (simulated - billed).toString(),
    invoiceId: c.latest.invoiceId,
    fingerprint: { invoice: { ...billedFp }, priced: { ...fingerprint } },
    lines: compareLines(c.latest.effectiveLines, priced.lines),
  };
}

/** Billed and simulated lines side by side, matched by subscription and charge id, billed order first. */
export function compareLines(
  billed: readonly InvoiceLine[],
  simulated: readonly InvoiceLine[],
): SimulatedLine[] {
  const out: SimulatedLine[] = [];
  for (const { line, before: b, after: a } of pairLinesByCharge(billed, simulated)) {
    const billedMinor = b?.amountMinor ?? '0';
    const simulatedMinor = a?.amountMinor ?? '0';
    out.push({
      subscription: line.subscription,
      plan: line.plan,
      chargeId: line.chargeId,
      name: line.name,
      ...(line.meter !== undefined ? { meter: line.meter } : {}),
      quantityBilled: b?.quantity ?? '0',
      quantitySimulated: a?.quantity ?? '0',
      billedMinor,
      simulatedMinor,
      differenceMinor: (BigInt(simulatedMinor) - BigInt(billedMinor)).toString(),
    });
  }
  return out;
}
