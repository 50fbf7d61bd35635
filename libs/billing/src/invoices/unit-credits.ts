/**
 * Unit grants on invoices (docs/finance.md#unit-grants): which units of a period's usage the customer's
 * unit grants pay for, before the usage is priced. `@tally/pricing` does every computation
 * (`drawUnitGrants`); this file gathers the ledger from the catalog and the documents, and walks the
 * period's subscriptions.
 *
 * The ledger is the catalog's `unit_grant` entries and, per period, the `finance.unitCredits` of the
 * newest document (like money draws: an adjustment keeps or trims its invoice's draws). A draw is
 * written with its invoice, in the same ledger row, with an id derived from the invoice: an invoice
 * written twice (a retried activity) writes the same draws, and an invoice not written drew nothing.
 */
import type { InvoiceDocument, InvoiceFinance, PricingSnapshot, SeriesUsage } from '@tally/billing-contracts';
import type { CustomerPeriod } from '@tally/billing-periods';
import type { Customer } from '@tally/catalog';
import { newestDocumentPerPeriod } from './finance';
import { drawUnitGrants, meterOfSeries, sumDecimals, type UnitDraw, type UnitGrant } from '@tally/pricing';

export interface UnitLedger {
  grants: UnitGrant[];
  draws: UnitDraw[];
}

/** Units granted per subscription, per usage key: what its lines take off before the tiers. */
export type GrantedUnits = Record<string, Record<string, string>>;

/** A customer's unit grants (catalog) and the unit draws of the invoices already issued. */
export function unitLedgerOf(
  customer: Pick<Customer, 'billing'> | undefined,
  documents: readonly InvoiceDocument[],
): UnitLedger {
  const grants: UnitGrant[] = [];
  // The earliest void of each grant (the entries API refuses a second one; a catalog file might not).
  const voided = new Map<string, string>();
  for (const e of customer?.billing?.credits ?? []) {
    if (e.type !== 'void') continue;
    const seen = voided.get(e.grantId);
    if (seen === undefined || e.date < seen) voided.set(e.grantId, e.date);
  }
  for (const e of customer?.billing?.credits ?? []) {
    if (e.type !== 'unit_grant') continue;
    const voidedOn = voided.get(e.id);
    grants.push({
      id: e.id,
      meter: e.meter,
      units: e.units,
      effective: e.effective,
      ...(e.expires !== undefined ? { expires: e.expires } : {}),
      ...(e.priority !== undefined ? { priority: e.priority } : {}),
      ...(voidedOn !== undefined ? { voidedOn } : {}),
    });
  }
  const newest = newestDocumentPerPeriod(documents);
  const draws = [...newest.values()].flatMap((d) => d.finance?.unitCredits ?? []);
  return { grants, draws };
}

/**
 * Draws the unit grants for a period: subscription by subscription (in the period's order), each usage
 * key of a metered charge of its plan, day by day (`drawUnitGrants`); the plan's free units of that key
 * are its first units. Answers the units granted per subscription and key, and the draws to record.
 */
export function drawUnitGrantsForPeriod(
  ledger: UnitLedger,
  period: Pick<CustomerPeriod, 'subscriptions'>,
  pricing: Pick<PricingSnapshot, 'plans'>,
  usage: Record<string, Record<string, SeriesUsage>>,
  invoiceId: string,
): { granted: GrantedUnits; draws: UnitDraw[] } {
  const granted: GrantedUnits = {};
  const made: UnitDraw[] = [];
  if (ledger.grants.length === 0) return { granted, draws: made };
  for (const share of period.subscriptions) {
    const plan = pricing.plans[share.plan];
    if (!plan) continue;
    for (const [series, u] of Object.entries(usage[share.subscription] ?? {})) {
      const charge = plan.charges.find((c) => c.kind !== 'flat' && c.meter === series);
      const meter = meterOfSeries(series);
      if (!charge || charge.kind === 'flat' || !ledger.grants.some((g) => g.meter === meter)) continue;
      const r = drawUnitGrants({
        grants: ledger.grants,
        draws: [...ledger.draws, ...made],
        meter,
        days: u.days,
        ...(charge.freeUnits !== undefined ? { includedUnits: charge.freeUnits } : {}),
        invoiceId,
      });
      if (r.consumedUnits === '0') continue;
      (granted[share.subscription] ??= {})[series] = r.consumedUnits;
      made.push(...r.draws);
    }
  }
  return { granted, draws: mergeDraws(made) };
}

/**
 * What an adjustment keeps of its invoice's unit draws: the same grants, drawn again by the
 * recomputed usage, never more than the newest document drew (those units may be drawn elsewhere since).
 */
export function keptUnitGrants(
  latest: Pick<InvoiceDocument, 'finance'>,
  period: Pick<CustomerPeriod, 'subscriptions'>,
  pricing: Pick<PricingSnapshot, 'plans'>,
  usage: Record<string, Record<string, SeriesUsage>>,
  invoiceId: string,
): { granted: GrantedUnits; draws: UnitDraw[] } {
  const kept = latest.finance?.unitCredits ?? [];
  // Each kept draw becomes a grant of what it drew, usable on the days the original draw could pay for.
  const grants: UnitGrant[] = kept.map((d) => ({
    id: d.grantId,
    meter: d.meter,
    units: d.units,
    effective: d.date,
  }));
  return drawUnitGrantsForPeriod({ grants, draws: [] }, period, pricing, usage, invoiceId);
}

/** One draw per grant and invoice (two usage keys of one meter draw one grant twice): units summed. */
function mergeDraws(draws: readonly UnitDraw[]): UnitDraw[] {
  const byId = new Map<string, UnitDraw>();
  for (const d of draws) {
    const seen = byId.get(d.id);
    if (!seen) byId.set(d.id, { ...d });
    else {
      seen.units = sumDecimals([seen.units, d.units]);
      if (d.date < seen.date) seen.date = d.date;
    }
  }
  return [...byId.values()];
}

/**
 * The document's finance section with its unit draws (`finance.unitCredits`). A document without
 * finance terms draws no unit grant: a customer with grants has a credit ledger, hence terms.
 */
export function withUnitCredits(
  draws: readonly UnitDraw[],
  finance: InvoiceFinance | undefined,
): InvoiceFinance | undefined {
  if (!finance || draws.length === 0) return finance;
  return { ...finance, unitCredits: [...draws] };
}
