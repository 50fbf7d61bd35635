/**
 * Invoices and adjustments: immutable documents, computed from a period's usage by `@tally/pricing`.
 * A correction never edits an invoice; it is a new document (an adjustment, version n+1) that
 * references the invoice. Pure: no I/O, no clock (callers pass `createdAt`).
 *
 * What a period costs is `./period-pricing`; coupons, credit and taxes are `./finance`; unit grants
 * `./unit-credits`; ids and credit-note numbers `./document-ids`; credit notes on request
 * `./credit-note-document`. This module builds the documents from them.
 */
import {
  formatMinor,
  normalizeDecimal,
  type CreditDraw,
  type CreditEntry,
  type TaxCalculator,
  type UnitDraw,
} from '@tally/pricing';
import { commitmentTrueUps, computeFinance } from './finance';
import { drawUnitGrantsForPeriod, keptUnitGrants, withUnitCredits, type UnitLedger } from './unit-credits';
import { creditNoteNumber, invoiceId } from './document-ids';
import { pairLinesByCharge } from './line-pairs';
import { pricePeriod, type PeriodUsage, type PricedPeriod } from './period-pricing';
import type {
  AdjustmentLine,
  InvoiceDocument,
  InvoiceFinance,
  InvoiceLine,
  PricingSnapshot,
  UsageFingerprint,
} from '@tally/billing-contracts';
import type { CustomerPeriod } from '@tally/billing-periods';

export type {
  AdjustmentLine,
  DocumentKind,
  InvoiceDocument,
  InvoiceLine,
  PricingSnapshot,
  SeriesUsage,
  UsageFingerprint,
} from '@tally/billing-contracts';
// Interim invoices (`./progressive`) and the progressive-billing service import these from here.
export { interimInvoiceId } from './document-ids';
export { pricePeriod, type PricedPeriod } from './period-pricing';

/**
 * The lines by which a document deducts what the period's interim invoices billed: one negative line
 * per interim invoice, named after it (`chargeId` `interim:<its id>`), so the invoice explains itself.
 */
export function interimDeductionLines(interims: readonly InvoiceDocument[], currency: string): InvoiceLine[] {
  return [...interims]
    .sort((a, b) =>
      BigInt(a.interim?.thresholdsCrossed ?? '0') < BigInt(b.interim?.thresholdsCrossed ?? '0') ? -1 : 1,
    )
    .map((d) => {
      const minor = (-BigInt(d.totalMinor)).toString();
      const threshold = d.interim
        ? `, threshold ${formatMinor(d.interim.thresholdMinor, currency)} ${currency}`
        : '';
      return {
        chargeId: `interim:${d.invoiceId}`,
        name: `Billed on interim invoice ${d.invoiceId} (${d.createdAt.slice(0, 10)}${threshold})`,
        kind: 'interim_deduction' as const,
        quantity: '1',
        billableQuantity: '1',
        amount: normalizeDecimal(formatMinor(minor, currency)),
        amountMinor: minor,
        subscription: '',
        plan: '',
      };
    });
}

export interface InvoiceComputation extends PeriodUsage {
  /** Per postpaid commitment id: what the term's earlier invoices spent (minor units). */
  commitmentSpend?: Record<string, string>;
  /** The customer's credit ledger (catalog entries + earlier invoices' draws); used when `pricing.finance` is set. */
  credits?: CreditEntry[];
  /** The customer's unit grants and earlier unit draws (docs/finance.md#unit-grants). */
  unitLedger?: UnitLedger;
  tenant: string;
  customer: string;
  fingerprint: UsageFingerprint;
  issuedBy: string;
  createdAt: string;
  /** The completeness watermark (ISO) at which `usage` was read. */
  completeThrough?: string;
  /** Taxes from an external engine (`withTaxEngine`); the snapshot's rate table when absent. */
  taxCalculator?: TaxCalculator;
  /** Progressive billing: the period's interim invoices, deducted in lines of the invoice. */
  interims?: readonly InvoiceDocument[];
}

/** A priced period with more lines (commitment true-ups) added to its total. */
function appendLines(priced: PricedPeriod, extra: readonly InvoiceLine[]): PricedPeriod {
  if (extra.length === 0) return priced;
  const add = extra.reduce((s, l) => s + BigInt(l.amountMinor), 0n);
  return {
    ...priced,
    lines: [...priced.lines, ...extra],
    totalMinor: (BigInt(priced.totalMinor) + add).toString(),
  };
}

/** The first document of a period: version 1. */
export function computeInvoice(c: InvoiceComputation): InvoiceDocument {
  const id = invoiceId(c.tenant, c.customer, c.period.period, 1);
  const units = c.unitLedger
    ? drawUnitGrantsForPeriod(c.unitLedger, c.period, c.pricing, c.usage, id)
    : { granted: {}, draws: [] };
  const base = pricePeriod(c, units.granted);
  const priced = appendLines(
    base,
    commitmentTrueUps(c.pricing.finance, base.currency, c.period, base.lines, c.commitmentSpend ?? {}),
  );
  const finance = financeOf({ ...c, invoiceId: id }, priced, { ledger: c.credits ?? [] }, units.draws);
  const total = finance?.totalMinor ?? priced.totalMinor;
  // Progressive billing: the period's amount is `total`, of which the interim invoices billed a part;
  // this invoice bills the rest. The deductions are lines of this document only, never effective lines,
  // so adjustments compare charges with charges and their deltas stay exact.
  const deductions = interimDeductionLines(c.interims ?? [], priced.currency);
  const billed = deductions.reduce((s, l) => s + BigInt(l.amountMinor), 0n);
  return {
    tenant: c.tenant,
    customer: c.customer,
    period: c.period.period,
    invoiceId: id,
    kind: 'invoice',
    version: 1,
    referencesInvoiceId: '',
    currency: priced.currency,
    lines: [...priced.lines, ...deductions],
    effectiveLines: priced.lines,
    subtotalMinor: priced.subtotalMinor,
    totalMinor: (BigInt(total) + billed).toString(),
    cumulativeTotalMinor: total,
    ...(finance ? { finance } : {}),
    usage: c.usage,
    pricing: c.pricing,
    fingerprint: c.fingerprint,
    lateEventCount: 0,
    timezone: c.period.timezone,
    periodStart: new Date(c.period.fromMs).toISOString(),
    periodEnd: new Date(c.period.toMs).toISOString(),
    issuedBy: c.issuedBy,
    createdAt: c.createdAt,
    ...(c.completeThrough !== undefined ? { completeThrough: c.completeThrough } : {}),
  };
}

/**
 * The adjustment that brings the period from `latest` (its newest document) to a recomputation with
 * the same pricing snapshot, or undefined when the recomputation billed exactly the same events
 * (same fingerprint): a signal repeated for events already billed changes nothing. When new events
 * were counted but no amount changed, the adjustment is still issued (total 0), so that every late
 * event is traceable to a document.
 */
export function computeAdjustment(
  invoice: InvoiceDocument,
  latest: InvoiceDocument,
  recomputed: Pick<
    InvoiceComputation,
    'usage' | 'fingerprint' | 'issuedBy' | 'createdAt' | 'completeThrough' | 'taxCalculator'
  >,
  /**
   * A backdated subscription change: the period as the catalog now has it, priced with this snapshot
   * (the adjustment is issued even when no new event was counted).
   */
  changed?: { period: CustomerPeriod; pricing: PricingSnapshot },
  /**
   * Every document of the period: with credit notes on request among them, what the period owes is
   * the recomputation minus every credit note, and the adjustment is that minus the sum of every
   * document's total (robust to a credit note written beside an adjustment of the same version).
   */
  periodDocuments?: readonly InvoiceDocument[],
): InvoiceDocument | undefined {
  if (
    !changed &&
    recomputed.fingerprint.eventCount === latest.fingerprint.eventCount &&
    recomputed.fingerprint.checksum === latest.fingerprint.checksum
  ) {
    return undefined;
  }
  const pricing = changed?.pricing ?? latest.pricing;
  const period = changed?.period ?? periodOfDocument(latest);
  // A commitment true-up is decided when the invoice is issued; corrections keep it as it was.
  const kept = latest.effectiveLines.filter((l) => l.kind === 'commitment_true_up');
  const units = keptUnitGrants(latest, period, pricing, recomputed.usage, invoice.invoiceId);
  const priced = appendLines(pricePeriod({ period, pricing, usage: recomputed.usage }, units.granted), kept);
  const lines = adjustmentLines(latest.effectiveLines, priced.lines);
  const version = latest.version + 1;
  // Finance terms are the invoice's (same coupons, taxes); credit keeps the newest document's draws
  // (trimmed when the period now owes less; never grown again: that credit may be drawn elsewhere since).
  const finance = financeOf(
    { ...recomputed, invoiceId: invoice.invoiceId, period, pricing },
    priced,
    { keep: latest.finance?.credits ?? [] },
    units.draws,
  );
  const docs = periodDocuments ?? [latest];
  const credited = docs.reduce((s, d) => (d.creditNote ? s + BigInt(d.totalMinor) : s), 0n);
  const billed = periodDocuments
    ? periodDocuments.reduce((s, d) => s + BigInt(d.totalMinor), 0n)
    : BigInt(latest.cumulativeTotalMinor);
  const cumulative = (BigInt(finance?.totalMinor ?? priced.totalMinor) + credited).toString();
  const delta = BigInt(cumulative) - billed;
  const late = BigInt(recomputed.fingerprint.eventCount) - BigInt(latest.fingerprint.eventCount);
  return {
    ...invoice,
    invoiceId: invoiceId(invoice.tenant, invoice.customer, invoice.period, version),
    kind: 'adjustment',
    version,
    referencesInvoiceId: invoice.invoiceId,
    lines,
    effectiveLines: priced.lines,
    subtotalMinor: (BigInt(priced.subtotalMinor) - BigInt(subtotalOf(latest))).toString(),
    totalMinor: delta.toString(),
    cumulativeTotalMinor: cumulative,
    ...(delta < 0n ? { creditNoteNumber: creditNoteNumber(invoice, version) } : {}),
    pricing,
    periodStart: new Date(period.fromMs).toISOString(),
    periodEnd: new Date(period.toMs).toISOString(),
    ...(finance ? { finance } : {}),
    usage: recomputed.usage,
    fingerprint: recomputed.fingerprint,
    lateEventCount: Number(late > 0n ? late : 0n),
    issuedBy: recomputed.issuedBy,
    createdAt: recomputed.createdAt,
    // Its own watermark, never the invoice's (absent when the caller had none).
    completeThrough: recomputed.completeThrough,
  };
}

/** Sum of the charge lines (what `subtotalMinor` of an invoice is) of a document's effective lines. */
function subtotalOf(doc: InvoiceDocument): string {
  let sum = 0n;
  for (const l of doc.effectiveLines) {
    if (l.kind !== 'minimum_true_up' && l.kind !== 'maximum_adjustment' && l.kind !== 'commitment_true_up')
      sum += BigInt(l.amountMinor);
  }
  return sum.toString();
}

/**
 * The document's finance (coupons, credit, taxes, then the unit credits it drew) on its priced lines;
 * undefined when the pricing snapshot has no finance terms.
 */
function financeOf(
  document: PeriodUsage & { invoiceId: string; taxCalculator?: TaxCalculator },
  priced: PricedPeriod,
  credit: { ledger: readonly CreditEntry[] } | { keep: readonly CreditDraw[] },
  unitDraws: readonly UnitDraw[],
): InvoiceFinance | undefined {
  return withUnitCredits(
    unitDraws,
    computeFinance(
      {
        invoiceId: document.invoiceId,
        currency: priced.currency,
        period: document.period,
        pricing: document.pricing,
        usage: document.usage,
        lines: priced.lines,
        ...(document.taxCalculator ? { taxCalculator: document.taxCalculator } : {}),
      },
      credit,
    ),
  );
}

/** The customer period a document was priced for, as the document recorded it. */
function periodOfDocument(doc: InvoiceDocument): CustomerPeriod {
  return {
    period: doc.period,
    timezone: doc.timezone,
    subscriptions: doc.pricing.subscriptions,
    fromMs: Date.parse(doc.periodStart),
    toMs: Date.parse(doc.periodEnd),
  };
}

/**
 * One line per charge of a subscription whose quantity or amount changed between the effective lines
 * `before` and `after` (a charge on one side only changes from or to zero).
 */
function adjustmentLines(before: readonly InvoiceLine[], after: readonly InvoiceLine[]): AdjustmentLine[] {
  const lines: AdjustmentLine[] = [];
  for (const { line, before: b, after: a } of pairLinesByCharge(before, after)) {
    const amountBefore = b?.amountMinor ?? '0';
    const amountAfter = a?.amountMinor ?? '0';
    if (b && a && b.quantity === a.quantity && amountBefore === amountAfter) continue;
    lines.push({
      subscription: line.subscription,
      plan: line.plan,
      chargeId: line.chargeId,
      name: line.name,
      ...(line.meter !== undefined ? { meter: line.meter } : {}),
      quantityBefore: b?.quantity ?? '0',
      quantityAfter: a?.quantity ?? '0',
      amountMinorBefore: amountBefore,
      amountMinorAfter: amountAfter,
      amountMinor: (BigInt(amountAfter) - BigInt(amountBefore)).toString(),
    });
  }
  return lines;
}
