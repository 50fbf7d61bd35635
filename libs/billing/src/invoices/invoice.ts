/**
 * Invoices and adjustments: immutable documents, computed from a period's usage by `@tally/pricing`.
 * A correction never edits an invoice; it is a new document (an adjustment, version n+1) that
 * references the invoice. Pure: no I/O, no clock (callers pass `createdAt`).
 */
import { createHash } from 'node:crypto';
import type { Plan as CatalogPlan } from '@tally/catalog';
import { ValidationFailedError } from '@tally/errors';
import {
  MAXIMUM_ADJUSTMENT_ID,
  MINIMUM_TRUE_UP_ID,
  formatMinor,
  normalizeDecimal,
  priceMeteredAfter,
  planWithGrantedUnits,
  priceUsage,
  showGrantedUnits,
  sumDecimals,
  toMinorUnits,
  type Charge,
  computeCreditNote,
  type CreditEntry,
  type CreditNoteRequest,
  type FinalLine,
  type InvoiceLineDraft,
  type TaxCalculator,
  type Plan as PricingPlan,
} from '@tally/pricing';
import { commitmentTrueUps, computeFinance, lineIdOf, planFeeShare } from './finance';
import {
  drawUnitGrantsForPeriod,
  keptUnitGrants,
  withUnitCredits,
  type GrantedUnits,
  type UnitLedger,
} from './unit-credits';
import type {
  AdjustmentLine,
  InvoiceDocument,
  InvoiceLine,
  PricingSnapshot,
  SeriesUsage,
  UsageFingerprint,
} from '@tally/billing-contracts';
import type { CustomerPeriod, SubscriptionPeriod } from '@tally/billing-periods';

export type {
  AdjustmentLine,
  DocumentKind,
  InvoiceDocument,
  InvoiceLine,
  PricingSnapshot,
  SeriesUsage,
  UsageFingerprint,
} from '@tally/billing-contracts';

/** Deterministic document id from (tenant, customer, period, version): a retried write writes the same row. */
export function invoiceId(tenant: string, customer: string, period: string, version: number): string {
  const digest = createHash('sha256')
    .update(`${tenant}\u0000${customer}\u0000${period}\u0000${version}`)
    .digest('hex')
    .slice(0, 16);
  return `${version === 1 ? 'inv' : 'adj'}-${period}-${digest}-v${version}`;
}

/**
 * The id of the interim invoice issued when the period's accrued amount had reached `thresholdsCrossed`
 * thresholds: `int-<period>-<16 hex>-t<n>`. One id per threshold, so a retried or repeated issue of the
 * same crossing writes the same row.
 */
export function interimInvoiceId(
  tenant: string,
  customer: string,
  period: string,
  thresholdsCrossed: string,
): string {
  const digest = createHash('sha256')
    .update(`${tenant}\u0000${customer}\u0000${period}\u0000interim\u0000${thresholdsCrossed}`)
    .digest('hex')
    .slice(0, 16);
  return `int-${period}-${digest}-t${thresholdsCrossed}`;
}

export const INVOICE_ID_PATTERN =
  /^(?:(?:inv|adj)-\d{4}-\d{2}-[0-9a-f]{16}-v\d{1,9}|int-\d{4}-\d{2}-[0-9a-f]{16}-t\d{1,40})$/;

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

/** The pricing plan of a catalog plan (the catalog validated its charges with `validatePlan`). */
export function pricingPlanOf(plan: CatalogPlan): PricingPlan {
  return {
    id: plan.id,
    name: plan.name,
    currency: plan.currency,
    charges: plan.charges as unknown as Charge[],
    ...(plan.minimumCommitment !== undefined ? { minimumCommitment: plan.minimumCommitment } : {}),
    ...(plan.maximum !== undefined ? { maximum: plan.maximum } : {}),
    ...(plan.proration !== undefined ? { proration: plan.proration } : {}),
    ...(plan.segmentTiers !== undefined ? { segmentTiers: plan.segmentTiers } : {}),
    ...(plan.progressiveBilling !== undefined
      ? { progressiveBilling: plan.progressiveBilling as PricingPlan['progressiveBilling'] }
      : {}),
  };
}

/** Series keys (`meter` or `meter:profile`) a plan's usage-based charges read. */
export function seriesOfPlan(plan: PricingPlan): string[] {
  const keys = new Set<string>();
  for (const c of plan.charges) if (c.kind !== 'flat') keys.add(c.meter);
  return [...keys].sort();
}

export interface InvoiceComputation {
  /** Per postpaid commitment id: what the term's earlier invoices spent (minor units). */
  commitmentSpend?: Record<string, string>;
  /** The customer's credit ledger (catalog entries + earlier invoices' draws); used when `pricing.finance` is set. */
  credits?: CreditEntry[];
  /** The customer's unit grants and earlier unit draws (docs/finance.md#unit-grants). */
  unitLedger?: UnitLedger;
  tenant: string;
  customer: string;
  period: CustomerPeriod;
  pricing: PricingSnapshot;
  /** Per subscription id, per series key. Missing series count as zero usage. */
  usage: Record<string, Record<string, SeriesUsage>>;
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

export interface PricedPeriod {
  currency: string;
  lines: InvoiceLine[];
  subtotalMinor: string;
  totalMinor: string;
}

/**
 * Prices every subscription of the period with its plan; one currency per invoice. `granted`: the units
 * unit grants pay for, per subscription and usage key, taken off before the tiers (unit-credits.ts).
 */
export function pricePeriod(
  c: Pick<InvoiceComputation, 'period' | 'pricing' | 'usage'>,
  granted: GrantedUnits = {},
): PricedPeriod {
  const lines: InvoiceLine[] = [];
  let subtotal = 0n;
  let total = 0n;
  let currency: string | undefined;
  for (const share of c.period.subscriptions) {
    const listed = c.pricing.plans[share.plan];
    if (!listed)
      throw new ValidationFailedError([
        { field: 'plan', code: 'UNKNOWN_PLAN', message: `plan '${share.plan}' is missing` },
      ]);
    if (currency !== undefined && listed.currency !== currency) {
      throw new ValidationFailedError([
        {
          field: 'subscriptions',
          code: 'MIXED_CURRENCIES',
          message: `subscriptions of one period must share a currency (${currency} and ${listed.currency})`,
        },
      ]);
    }
    currency = listed.currency;
    const grants = granted[share.subscription] ?? {};
    const plan = planWithGrantedUnits(listed, grants);
    const usage: Record<string, string> = {};
    for (const [series, u] of Object.entries(c.usage[share.subscription] ?? {})) usage[series] = u.total;
    const priced = priceUsage({ plan, usage, period: planFeeShare(share, plan, c.period.timezone) });
    const carried = carryOver(c, share, plan, usage);
    const own = carried ?? priced;
    for (const line of showGrantedUnits(own.lines, listed, grants))
      lines.push({ ...line, subscription: share.subscription, plan: plan.id });
    subtotal += BigInt(own.subtotalMinor);
    total += BigInt(own.totalMinor);
  }
  return {
    currency: currency ?? '',
    lines,
    subtotalMinor: subtotal.toString(),
    totalMinor: total.toString(),
  };
}

/**
 * A plan with `segmentTiers: "carry_over"` that took over from other subscriptions of the customer in
 * the period (they ended on or before its start): its usage charges continue from their usage of the
 * same series (tiers and free units carried over, docs/finance.md), its flat fees as usual. Undefined
 * when the plan resets tiers or nothing came before.
 */
function carryOver(
  c: Pick<InvoiceComputation, 'period' | 'usage'>,
  share: SubscriptionPeriod,
  plan: PricingPlan,
  usage: Record<string, string>,
): { lines: InvoiceLineDraft[]; subtotalMinor: string; totalMinor: string } | undefined {
  if (plan.segmentTiers !== 'carry_over') return undefined;
  const before: Record<string, string[]> = {};
  for (const other of c.period.subscriptions) {
    if (other.subscription === share.subscription || other.end > share.start) continue;
    for (const [series, u] of Object.entries(c.usage[other.subscription] ?? {}))
      (before[series] ??= []).push(u.total);
  }
  if (Object.keys(before).length === 0) return undefined;
  const priced = priceUsage({ plan, usage, period: planFeeShare(share, plan, c.period.timezone) });
  const lines: InvoiceLineDraft[] = plan.charges.map((charge) => {
    const own = priced.lines.find((l) => l.chargeId === charge.id) as InvoiceLineDraft;
    if (charge.kind === 'flat') return own;
    return priceMeteredAfter(
      plan,
      charge,
      sumDecimals(before[charge.meter] ?? []),
      usage[charge.meter] ?? '0',
    );
  });
  const sub = lines.reduce((s, l) => s + BigInt(l.amountMinor), 0n);
  let trueUp = 0n;
  let cut = 0n;
  if (plan.minimumCommitment !== undefined) {
    const m = BigInt(toMinorUnits(plan.minimumCommitment, plan.currency));
    trueUp = m > sub ? m - sub : 0n;
    if (trueUp > 0n)
      lines.push(planLevelLine(MINIMUM_TRUE_UP_ID, 'Minimum commitment true-up', trueUp, plan.currency));
  }
  if (plan.maximum !== undefined) {
    const m = BigInt(toMinorUnits(plan.maximum, plan.currency));
    cut = m < sub + trueUp ? m - (sub + trueUp) : 0n;
    if (cut < 0n) lines.push(planLevelLine(MAXIMUM_ADJUSTMENT_ID, 'Maximum adjustment', cut, plan.currency));
  }
  return { lines, subtotalMinor: sub.toString(), totalMinor: (sub + trueUp + cut).toString() };
}

function planLevelLine(chargeId: string, name: string, minor: bigint, currency: string): InvoiceLineDraft {
  return {
    chargeId,
    name,
    kind: chargeId === MINIMUM_TRUE_UP_ID ? 'minimum_true_up' : 'maximum_adjustment',
    quantity: '1',
    billableQuantity: '1',
    amount: normalizeDecimal(formatMinor(minor.toString(), currency)),
    amountMinor: minor.toString(),
  };
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
  const finance = withUnitCredits(
    units.draws,
    computeFinance(
      {
        invoiceId: id,
        currency: priced.currency,
        period: c.period,
        pricing: c.pricing,
        usage: c.usage,
        lines: priced.lines,
        ...(c.taxCalculator ? { taxCalculator: c.taxCalculator } : {}),
      },
      { ledger: c.credits ?? [] },
    ),
  );
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
  const period: CustomerPeriod = changed?.period ?? {
    period: latest.period,
    timezone: latest.timezone,
    subscriptions: latest.pricing.subscriptions,
    fromMs: Date.parse(latest.periodStart),
    toMs: Date.parse(latest.periodEnd),
  };
  // A commitment true-up is decided when the invoice is issued; corrections keep it as it was.
  const kept = latest.effectiveLines.filter((l) => l.kind === 'commitment_true_up');
  const units = keptUnitGrants(latest, period, pricing, recomputed.usage, invoice.invoiceId);
  const priced = appendLines(pricePeriod({ period, pricing, usage: recomputed.usage }, units.granted), kept);
  const key = (l: { subscription: string; chargeId: string }) => `${l.subscription}\u0000${l.chargeId}`;
  const before = new Map(latest.effectiveLines.map((l) => [key(l), l]));
  const after = new Map(priced.lines.map((l) => [key(l), l]));
  const lines: AdjustmentLine[] = [];
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(k);
    const a = after.get(k);
    const line = (a ?? b) as InvoiceLine;
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
  const version = latest.version + 1;
  // Finance terms are the invoice's (same coupons, taxes); credit keeps the newest document's draws
  // (trimmed when the period now owes less; never grown again: that credit may be drawn elsewhere since).
  const finance = withUnitCredits(
    units.draws,
    computeFinance(
      {
        invoiceId: invoice.invoiceId,
        currency: priced.currency,
        period,
        pricing,
        usage: recomputed.usage,
        lines: priced.lines,
        ...(recomputed.taxCalculator ? { taxCalculator: recomputed.taxCalculator } : {}),
      },
      { keep: latest.finance?.credits ?? [] },
    ),
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

/**
 * The number of the credit note a downward adjustment is: `cn-<period>-<16 hex>-v<n>`, derived like
 * document ids (the same adjustment always gets the same number; numbers never repeat).
 */
export function creditNoteNumber(invoice: Pick<InvoiceDocument, 'invoiceId'>, version: number): string {
  return invoice.invoiceId.replace(/^inv-/, 'cn-').replace(/-v\d+$/, `-v${version}`);
}

/**
 * The id of a credit note issued on request at `version`: an adjustment id whose digest also covers
 * "credit-note", so it never collides with the rebill adjustment of the same version (both are kept).
 */
export function creditNoteDocumentId(
  tenant: string,
  customer: string,
  period: string,
  version: number,
): string {
  const digest = createHash('sha256')
    .update(`${tenant}\u0000${customer}\u0000${period}\u0000${version}\u0000credit-note`)
    .digest('hex')
    .slice(0, 16);
  return `adj-${period}-${digest}-v${version}`;
}

/** The invoice's final lines (after discounts, credits, taxes) as a credit note credits them. */
export function creditableLines(latest: InvoiceDocument): FinalLine[] {
  if (latest.finance) return latest.finance.lines;
  return latest.effectiveLines.map((l) => ({
    lineId: lineIdOf(l),
    chargeId: l.chargeId,
    plan: l.plan,
    name: l.name,
    amountMinor: l.amountMinor,
    discounts: [],
    discountMinor: '0',
    creditMinor: '0',
    taxableMinor: l.amountMinor,
    taxes: [],
    netMinor: l.amountMinor,
    totalMinor: l.amountMinor,
  }));
}

/**
 * A credit note on request against the invoice of a period (`docs`: every document of the period):
 * full (no `lines`), per line (a line without amount: its rest), or partial (an amount of a line),
 * never more than is left of a line after earlier credit notes (`@tally/pricing` `computeCreditNote`).
 * A new document, version n+1: it changes no line (`effectiveLines`, `finance`, usage as the newest
 * document has them) and owes minus what it gives back. Pure.
 */
export function computeCreditNoteDocument(
  docs: readonly InvoiceDocument[],
  request: CreditNoteRequest & { reason: string },
  meta: { issuedBy: string; createdAt: string },
): InvoiceDocument {
  const invoice = docs.find((d) => d.version === 1);
  if (!invoice)
    throw new ValidationFailedError([{ field: 'invoiceId', code: 'NOT_AN_INVOICE', message: 'no invoice' }]);
  const latest = docs.reduce((a, b) => (b.version > a.version ? b : a), invoice);
  const earlier = docs.flatMap((d) => (d.creditNote ? [{ lines: d.creditNote.lines }] : []));
  const amounts = computeCreditNote(creditableLines(latest), earlier, {
    ...(request.lines ? { lines: request.lines } : {}),
  });
  if (amounts.totalMinor === '0' && amounts.lines.length === 0)
    throw new ValidationFailedError([
      { field: 'lines', code: 'NOTHING_TO_CREDIT', message: 'everything asked for is already credited' },
    ]);
  const version = docs.reduce((m, d) => Math.max(m, d.version), 0) + 1;
  const id = creditNoteDocumentId(invoice.tenant, invoice.customer, invoice.period, version);
  const number = id.replace(/^adj-/, 'cn-');
  const billed = docs.reduce((s, d) => s + BigInt(d.totalMinor), 0n);
  const total = -BigInt(amounts.totalMinor);
  return {
    ...latest,
    invoiceId: id,
    kind: 'adjustment',
    version,
    referencesInvoiceId: invoice.invoiceId,
    lines: [],
    subtotalMinor: '0',
    totalMinor: total.toString(),
    cumulativeTotalMinor: (billed + total).toString(),
    creditNoteNumber: number,
    creditNote: { number, reason: request.reason, ...amounts },
    lateEventCount: 0,
    issuedBy: meta.issuedBy,
    createdAt: meta.createdAt,
    completeThrough: undefined,
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
