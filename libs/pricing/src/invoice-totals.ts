/**
 * An invoice's money, in the order Tally applies it (docs/finance.md "The order"):
 *
 *   1. lines: the charges as priced (`priceUsage`, per segment), with the minimum true-up and the
 *      maximum adjustment (plan-level lines);
 *   2. discounts: the coupons active this period, in redemption order, each on what the previous left;
 *   3. credits: prepaid credit drawn from the ledger (at most what is left after discounts), spread over
 *      the lines in proportion to what they still owe;
 *   4. taxes: per line, on what is left after discounts and credits (inclusive rates carved out of it,
 *      exclusive rates added), rounded per line and rate.
 *
 *   total = Σ lines − discounts − credits + exclusive taxes
 *
 * Every amount is an integer of minor units; every split is exact (largest remainder), so each total is
 * the sum of its lines, to the unit.
 */
import { type Dec, ZERO, max, str } from './decimal';
import { PricingError } from './errors';
import { applyCoupons, type AppliedCoupon } from './discounts';
import { allocate, minorArg } from './money';
import type { CreditDraw } from './credits';
import type { LineTax, TaxCalculator, TaxProfile, TaxResult } from './tax';

/** A priced line as the finance steps see it. */
export interface FinanceLineInput {
  /** Unique within the invoice, e.g. `<subscription>/<chargeId>`. */
  lineId: string;
  chargeId: string;
  plan?: string;
  name: string;
  amountMinor: string;
}

/** One line of a finished invoice: what it cost, what came off it, its taxes and what is left to pay. */
export interface FinalLine {
  lineId: string;
  chargeId: string;
  plan?: string;
  name: string;
  /** As priced (includes inclusive taxes when the prices do). */
  amountMinor: string;
  /** Each coupon's share of this line. */
  discounts: Array<{ couponId: string; amountMinor: string }>;
  discountMinor: string;
  /** This line's share of the credit drawn. */
  creditMinor: string;
  /** `amount − discount − credit`: what the taxes are computed on. */
  taxableMinor: string;
  taxes: LineTax[];
  /** `taxable − inclusive taxes`. */
  netMinor: string;
  /** `taxable + exclusive taxes`: what this line adds to the total. */
  totalMinor: string;
}

export interface TaxSummary {
  rateId: string;
  name: string;
  percent: string;
  inclusive: boolean;
  baseMinor: string;
  amountMinor: string;
}

export interface InvoiceTotals {
  currency: string;
  lines: FinalLine[];
  /** Σ lines' `amountMinor` (charges, true-up and maximum adjustment). */
  subtotalMinor: string;
  /** Per coupon, in the order applied. */
  discounts: Array<{ couponId: string; name: string; amountMinor: string }>;
  discountMinor: string;
  /** Each draw from the credit ledger (bucket, the dates it paid for, amount). */
  credits: CreditDraw[];
  creditMinor: string;
  taxableMinor: string;
  /** Per rate over all lines. */
  taxes: TaxSummary[];
  /** Taxes contained in the prices (not added). */
  taxInclusiveMinor: string;
  /** Taxes added on top. */
  taxExclusiveMinor: string;
  /** `subtotal − discount − credit + taxExclusive`. */
  totalMinor: string;
}

/** Lines after the discounts: what credit may pay (`creditableMinor`, never negative). */
export interface DiscountedInvoice {
  currency: string;
  lines: FinanceLineInput[];
  remaining: Dec[];
  perLine: Array<Array<{ couponId: string; amountMinor: string }>>;
  discounts: Array<{ couponId: string; name: string; amountMinor: string }>;
  creditableMinor: string;
}

/** Step 2: the coupons. */
export function discountInvoice(
  currency: string,
  lines: readonly FinanceLineInput[],
  coupons: readonly AppliedCoupon[] = [],
): DiscountedInvoice {
  const ids = new Set<string>();
  for (const [i, l] of lines.entries()) {
    if (ids.has(l.lineId))
      throw new PricingError('INVALID_ARGUMENT', `line id '${l.lineId}' is used twice`, [
        { field: `lines[${i}].lineId`, code: 'DUPLICATE_CHARGE_ID', message: 'must be unique' },
      ]);
    ids.add(l.lineId);
  }
  const input = lines.map((l, i) => ({
    lineId: l.lineId,
    chargeId: l.chargeId,
    ...(l.plan !== undefined ? { plan: l.plan } : {}),
    amountMinor: minorArg(l.amountMinor, `lines[${i}].amountMinor`),
  }));
  const applied = applyCoupons(coupons, currency, input);
  const left = applied.remaining.reduce((s, r) => s.plus(r), ZERO);
  return {
    currency,
    lines: [...lines],
    remaining: applied.remaining,
    perLine: applied.perLine,
    discounts: applied.perCoupon,
    creditableMinor: str(max(ZERO, left)),
  };
}

/** Steps 3 and 4: the credit drawn, then the taxes (from any `TaxCalculator`: the port of a tax engine). */
export function completeInvoice(
  discounted: DiscountedInvoice,
  draws: readonly CreditDraw[],
  tax: { profile: TaxProfile; calculator: TaxCalculator } | { result: TaxResult } | undefined,
): InvoiceTotals {
  const credit = draws.reduce((s, d) => s.plus(minorArg(d.amountMinor, 'draws.amountMinor')), ZERO);
  if (credit.gt(discounted.creditableMinor))
    throw new PricingError(
      'INVALID_ARGUMENT',
      `credit ${str(credit)} exceeds what is left to pay (${discounted.creditableMinor})`,
      [
        {
          field: 'draws',
          code: 'NEGATIVE_AMOUNT',
          message: 'credit may not exceed the invoice after discounts',
        },
      ],
    );
  const weights = discounted.remaining.map((r) => (r.gt(0) ? r : ZERO));
  const creditPerLine = discounted.lines.length ? allocate(credit, weights) : [];
  const taxable = discounted.remaining.map((r, i) => r.minus(creditPerLine[i]));
  const result: TaxResult =
    tax === undefined
      ? { lines: [] }
      : 'result' in tax
        ? tax.result
        : tax.calculator.calculate({
            currency: discounted.currency,
            profile: tax.profile,
            lines: discounted.lines.map((l, i) => ({ lineId: l.lineId, taxableMinor: str(taxable[i]) })),
          });
  const taxesOf = new Map(result.lines.map((l) => [l.lineId, l.taxes]));

  const summary = new Map<string, TaxSummary>();
  let subtotal = ZERO;
  let discount = ZERO;
  let inclusive = ZERO;
  let exclusive = ZERO;
  let taxableTotal = ZERO;
  const lines: FinalLine[] = discounted.lines.map((l, i) => {
    const taxes = taxesOf.get(l.lineId) ?? [];
    const amount = minorArg(l.amountMinor, 'amountMinor');
    const lineDiscount = amount.minus(discounted.remaining[i]);
    let incl = ZERO;
    let excl = ZERO;
    for (const t of taxes) {
      const a = minorArg(t.amountMinor, 'taxes.amountMinor');
      if (t.inclusive) incl = incl.plus(a);
      else excl = excl.plus(a);
      const s = summary.get(t.rateId) ?? { ...t, baseMinor: '0', amountMinor: '0' };
      s.baseMinor = str(ZERO.plus(s.baseMinor).plus(t.baseMinor));
      s.amountMinor = str(a.plus(s.amountMinor));
      summary.set(t.rateId, s);
    }
    subtotal = subtotal.plus(amount);
    discount = discount.plus(lineDiscount);
    inclusive = inclusive.plus(incl);
    exclusive = exclusive.plus(excl);
    taxableTotal = taxableTotal.plus(taxable[i]);
    return {
      lineId: l.lineId,
      chargeId: l.chargeId,
      ...(l.plan !== undefined ? { plan: l.plan } : {}),
      name: l.name,
      amountMinor: str(amount),
      discounts: discounted.perLine[i],
      discountMinor: str(lineDiscount),
      creditMinor: str(creditPerLine[i]),
      taxableMinor: str(taxable[i]),
      taxes,
      netMinor: str(taxable[i].minus(incl)),
      totalMinor: str(taxable[i].plus(excl)),
    };
  });
  return {
    currency: discounted.currency,
    lines,
    subtotalMinor: str(subtotal),
    discounts: discounted.discounts,
    discountMinor: str(discount),
    credits: [...draws],
    creditMinor: str(credit),
    taxableMinor: str(taxableTotal),
    taxes: [...summary.values()],
    taxInclusiveMinor: str(inclusive),
    taxExclusiveMinor: str(exclusive),
    totalMinor: str(subtotal.minus(discount).minus(credit).plus(exclusive)),
  };
}
