/**
 * The finance steps of an invoice (docs/finance.md): the terms in force for a period (coupons, tax
 * profile and rates), the customer's credit ledger (catalog grants and voids + the draws of earlier
 * invoices), and the invoice's money after discounts, credits and taxes. Pure: `@tally/pricing` does
 * every computation; this file only gathers its inputs from the catalog and the ledger.
 */
import type {
  CouponInForce,
  FinanceSnapshot,
  InvoiceDocument,
  InvoiceFinance,
  InvoiceLine,
  PricingSnapshot,
  SeriesUsage,
} from '@tally/billing-contracts';
import { feeShare, parsePeriod, type CustomerPeriod, type SubscriptionPeriod } from '@tally/billing-periods';
import type { Customer, Tenant } from '@tally/catalog';
import {
  applicableRates,
  completeInvoice,
  creditBoundaries,
  creditSegmentsFromAccrual,
  discountInvoice,
  drawCredits,
  commitmentTrueUp,
  formatMinor,
  normalizeDecimal,
  prepaidCommitmentGrant,
  priceUsage,
  rateTableTaxCalculator,
  sumDecimals,
  type AppliedCoupon,
  type BillingPeriodShare,
  type CreditDraw,
  type CreditEntry,
  type CreditGrant,
  type FinanceLineInput,
  type Plan as PricingPlan,
  type TaxCalculator,
  type TaxEngine,
  type TaxRequest,
  type TaxResult,
} from '@tally/pricing';
/**
 * What a plan's flat fees are prorated with in a subscription's share of a period: days, or seconds
 * when the plan says `proration: "second"`, outside any trial (`@tally/billing-periods` `feeShare`).
 */
export function planFeeShare(
  share: SubscriptionPeriod,
  plan: Pick<PricingPlan, 'proration'>,
  timezone: string,
  until?: string,
): BillingPeriodShare {
  return feeShare(share, plan.proration ?? 'day', timezone, until);
}

function periodIndex(firstPeriod: string, period: string): number {
  const a = parsePeriod(firstPeriod, 'firstPeriod');
  const b = parsePeriod(period);
  return (b.year - a.year) * 12 + (b.month - a.month);
}

/**
 * The finance terms of a customer's period, or undefined when neither the tenant nor the customer has
 * any (the invoice is then exactly what pricing gives, as before these terms existed).
 */
export function financeSnapshotOf(
  tenant: Pick<Tenant, 'taxRates' | 'coupons'> | undefined,
  customer: Pick<Customer, 'billing'> | undefined,
  period: string,
): FinanceSnapshot | undefined {
  const billing = customer?.billing;
  const hasTerms = (tenant?.taxRates?.length ?? 0) > 0 || billing !== undefined;
  if (!hasTerms) return undefined;
  const offered = new Map((tenant?.coupons ?? []).map((c) => [c.id, c]));
  const coupons: CouponInForce[] = [];
  for (const r of billing?.coupons ?? []) {
    const c = offered.get(r.coupon);
    const index = periodIndex(r.firstPeriod, period);
    if (!c || index < 0) continue;
    coupons.push({ ...c, couponId: c.id, periodIndex: index } as CouponInForce);
  }
  const taxProfile = {
    ...(billing?.tax?.jurisdiction !== undefined ? { jurisdiction: billing.tax.jurisdiction } : {}),
    ...(billing?.tax?.exempt !== undefined ? { exempt: billing.tax.exempt } : {}),
    ...(billing?.tax?.exemptRates !== undefined ? { exemptRates: billing.tax.exemptRates } : {}),
  };
  const taxRates = applicableRates(tenant?.taxRates ?? [], taxProfile).map((r) => ({ ...r }));
  const commitments = (billing?.commitments ?? [])
    .filter((c) => c.kind === 'postpaid')
    .map(({ id, currency, amountMinor, start, end }) => ({ id, currency, amountMinor, start, end }));
  return { coupons, taxProfile, taxRates, ...(commitments.length ? { commitments } : {}) };
}

/**
 * A customer's credit ledger: the grants and voids of the catalog (and prepaid commitments), then the
 * draws of the invoices already issued (each period's newest document: adjustments keep or trim them).
 */
export function creditEntriesOf(
  customer: Pick<Customer, 'billing'> | undefined,
  documents: readonly InvoiceDocument[],
): CreditEntry[] {
  const entries: CreditEntry[] = [];
  for (const e of customer?.billing?.credits ?? []) {
    if (e.type === 'void') entries.push({ type: 'void', id: e.id, grantId: e.grantId, date: e.date });
    else if (e.type === 'expiry' || e.type === 'recurrence') entries.push({ ...e });
    else if (e.type === 'unit_grant')
      continue; // units, not money: `unitLedgerOf` (unit-credits.ts)
    else {
      const grant: Record<string, unknown> = { ...e };
      delete grant.type;
      entries.push({ type: 'grant', grant: grant as unknown as CreditGrant });
    }
  }
  for (const c of customer?.billing?.commitments ?? [])
    if (c.kind === 'prepaid') entries.push({ type: 'grant', grant: prepaidCommitmentGrant({ ...c }) });
  // Per period, the newest document's draws: an adjustment that now owes less than the credit drawn
  // trims its draws, and the rest is back in the balance. Ids stay the invoice's.
  const newest = newestDocumentPerPeriod(documents);
  for (const d of [...newest.values()].sort((a, b) => (a.period < b.period ? -1 : 1))) {
    if (!d.finance) continue;
    const invoice = d.kind === 'invoice' ? d.invoiceId : d.referencesInvoiceId;
    for (const draw of d.finance.credits)
      entries.push({
        type: 'draw',
        id: `${invoice}/${draw.bucketId}/${draw.date}`,
        bucketId: draw.bucketId,
        grantId: draw.grantId,
        date: draw.date,
        amountMinor: draw.amountMinor,
        invoiceId: invoice,
      });
  }
  return entries;
}

function couponOf(c: CouponInForce): AppliedCoupon {
  const { couponId, periodIndex: index, ...rest } = c;
  return { coupon: { ...rest, id: couponId }, periodIndex: index };
}

export function lineIdOf(l: Pick<InvoiceLine, 'subscription' | 'chargeId'>): string {
  return `${l.subscription}/${l.chargeId}`;
}

/**
 * What the customer's charges had cost by the start of local date `at`: each subscription priced with
 * the usage of the days before `at` and its flat fees for the days before `at` (plan-level lines
 * excluded: a minimum is decided at the period's end).
 */
function accruedBy(
  at: string,
  period: CustomerPeriod,
  pricing: PricingSnapshot,
  usage: Record<string, Record<string, SeriesUsage>>,
): bigint {
  let total = 0n;
  for (const s of period.subscriptions) {
    const plan = pricing.plans[s.plan];
    // Usage of the days before `at`, summed exactly (usage values are decimal strings).
    const partial: Record<string, string> = {};
    for (const [series, u] of Object.entries(usage[s.subscription] ?? {}))
      partial[series] = sumDecimals(u.days.filter((d) => d.day < at).map((d) => d.value));
    const priced = priceUsage({
      plan: { ...plan, minimumCommitment: undefined, maximum: undefined },
      usage: partial,
      period: planFeeShare(s, plan, period.timezone, at),
    });
    total += BigInt(priced.subtotalMinor);
  }
  return total;
}

/**
 * The invoice's money after the finance steps. `credit` says where credit comes from: the customer's
 * ledger (a first invoice draws), or the draws of the document being corrected (an adjustment keeps
 * them, trimmed if the period now owes less than they paid).
 */
export function computeFinance(
  args: {
    invoiceId: string;
    currency: string;
    period: CustomerPeriod;
    pricing: PricingSnapshot;
    usage: Record<string, Record<string, SeriesUsage>>;
    lines: InvoiceLine[];
    /** The tax engine's answer for this document (`withTaxEngine`); the snapshot's rate table when absent. */
    taxCalculator?: TaxCalculator;
  },
  credit: { ledger: readonly CreditEntry[] } | { keep: readonly CreditDraw[] },
): InvoiceFinance | undefined {
  const finance = args.pricing.finance;
  if (!finance) return undefined;
  const lines: FinanceLineInput[] = args.lines.map((l) => ({
    lineId: lineIdOf(l),
    chargeId: l.chargeId,
    plan: l.plan,
    name: l.name,
    amountMinor: l.amountMinor,
  }));
  const discounted = discountInvoice(args.currency, lines, finance.coupons.map(couponOf));
  let draws: CreditDraw[] = [];
  if ('keep' in credit) {
    let left = BigInt(discounted.creditableMinor);
    for (const d of credit.keep) {
      const take = BigInt(d.amountMinor) < left ? BigInt(d.amountMinor) : left;
      if (take > 0n) draws.push({ ...d, amountMinor: take.toString() });
      left -= take;
    }
  } else if (credit.ledger.some((e) => e.type === 'grant' && e.grant.currency === args.currency)) {
    const from = args.period.subscriptions.reduce(
      (m, s) => (s.start < m ? s.start : m),
      args.period.subscriptions[0].start,
    );
    const to = args.period.subscriptions.reduce(
      (m, s) => (s.end > m ? s.end : m),
      args.period.subscriptions[0].end,
    );
    const cuts = [from, ...creditBoundaries(credit.ledger, args.currency, from, to), to];
    const accrued: Array<{ from: string; to: string; accruedMinor: string }> = [];
    let before = 0n;
    for (let i = 1; i < cuts.length; i++) {
      const now = accruedBy(cuts[i], args.period, args.pricing, args.usage);
      accrued.push({ from: cuts[i - 1], to: cuts[i], accruedMinor: (now - before).toString() });
      before = now;
    }
    const segments = creditSegmentsFromAccrual(discounted.creditableMinor, accrued);
    draws = drawCredits(credit.ledger, args.currency, segments, args.invoiceId).draws;
  }
  const totals = completeInvoice(discounted, draws, {
    profile: finance.taxProfile,
    calculator: args.taxCalculator ?? rateTableTaxCalculator(finance.taxRates),
  });
  const rest: Partial<typeof totals> = { ...totals };
  delete rest.currency;
  return rest as InvoiceFinance;
}

/**
 * What a customer spent, at list price, in the invoices of a term (`[start, end)`, local dates): each
 * period's newest document's lines, commitment true-ups excluded.
 */
export function termSpendMinor(documents: readonly InvoiceDocument[], start: string, end: string): bigint {
  const newest = newestDocumentPerPeriod(documents);
  let spend = 0n;
  for (const d of newest.values()) {
    const first = d.pricing.subscriptions.reduce((m, s) => (s.start < m ? s.start : m), '9999-12-31');
    if (first < start || first >= end) continue;
    for (const l of d.effectiveLines) if (l.kind !== 'commitment_true_up') spend += BigInt(l.amountMinor);
  }
  return spend;
}

/**
 * The true-up lines of the postpaid commitments whose term ends with this period: `max(0, commitment −
 * spend of the term)`, spend being the term's earlier invoices (`earlierSpend`) plus this period's lines.
 */
export function commitmentTrueUps(
  finance: FinanceSnapshot | undefined,
  currency: string,
  period: CustomerPeriod,
  lines: readonly InvoiceLine[],
  earlierSpend: Record<string, string>,
): InvoiceLine[] {
  if (!finance?.commitments?.length || period.subscriptions.length === 0) return [];
  const end = period.subscriptions.reduce((m, s) => (s.end > m ? s.end : m), period.subscriptions[0].end);
  const own = lines.reduce((s, l) => s + BigInt(l.amountMinor), 0n);
  const out: InvoiceLine[] = [];
  for (const c of finance.commitments) {
    if (c.end !== end || c.currency !== currency) continue;
    const { trueUpMinor } = commitmentTrueUp({ ...c, kind: 'postpaid' }, [
      earlierSpend[c.id] ?? '0',
      own.toString(),
    ]);
    if (trueUpMinor === '0') continue;
    out.push({
      subscription: '',
      plan: '',
      chargeId: `commitment:${c.id}`,
      name: `Commitment true-up (${c.start} to ${c.end})`,
      kind: 'commitment_true_up',
      quantity: '1',
      billableQuantity: '1',
      amount: normalizeDecimal(formatMinor(trueUpMinor, currency)),
      amountMinor: trueUpMinor,
    });
  }
  return out;
}

/**
 * Runs a pure document computation with an external (possibly asynchronous) tax engine: once with a
 * calculator that only records the tax request (lines after discounts and credits: taxes never change
 * those), then, with the engine's answer, again. So `computeInvoice` and `computeAdjustment` stay
 * pure and synchronous, and the engine sees exactly what the built-in rate table would tax. Without
 * an engine, or when the document has no finance terms, it is the computation itself.
 */
export async function withTaxEngine<T>(
  engine: TaxEngine | undefined,
  compute: (taxCalculator: TaxCalculator | undefined) => T,
): Promise<T> {
  if (!engine) return compute(undefined);
  let request: TaxRequest | undefined;
  const first = compute({
    calculate(r: TaxRequest): TaxResult {
      request = r;
      return { lines: r.lines.map((l) => ({ lineId: l.lineId, taxes: [] })) };
    },
  });
  if (!request) return first;
  const answer = await engine.calculate(request);
  return compute({ calculate: () => answer });
}

/**
 * Each period's newest document (highest version): what the period stands at now. Draws of credit and
 * of unit grants, and a term's spend, follow it: an adjustment replaces what its invoice said.
 */
export function newestDocumentPerPeriod(documents: readonly InvoiceDocument[]): Map<string, InvoiceDocument> {
  const newest = new Map<string, InvoiceDocument>();
  for (const d of documents) {
    const seen = newest.get(d.period);
    if (!seen || d.version > seen.version) newest.set(d.period, d);
  }
  return newest;
}
