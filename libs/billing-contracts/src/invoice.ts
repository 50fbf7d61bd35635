/**
 * The invoice contract: the documents of the ledger (invoices, adjustments, credit notes) as every
 * reader sees them (the query API, renderers, exporters). Types only; `@tally/billing` computes them.
 *
 * Money is integer minor units as strings (`"1234"` = USD 12.34, JPY 1234, KWD 1.234); the currency's
 * minor unit is ISO 4217's (`minorUnitExponent` of `@tally/pricing`). An invoice has one currency.
 */
import type { SubscriptionPeriod } from '@tally/billing-periods';
import type {
  CreditDraw,
  FinalLine,
  InvoiceLineDraft,
  Plan as PricingPlan,
  TaxProfile,
  TaxSummary,
  UnitDraw,
} from '@tally/pricing';

/**
 * `interim`: a progressive-billing invoice issued inside the open period when its accrued amount reached
 * a threshold (version 0; the period-end invoice, version 1, deducts it in an `interim_deduction` line).
 */
export type DocumentKind = 'invoice' | 'adjustment' | 'interim';

/** Why an interim invoice was issued: the threshold the period's accrued amount reached. */
export interface InterimInfo {
  /** How many of the plan's thresholds the accrued amount had reached (the document id ends `-t<this>`). */
  thresholdsCrossed: string;
  /** The highest threshold reached, minor units. */
  thresholdMinor: string;
  /** The amount accrued in the period when it was issued (its lines' sum), minor units. */
  accruedMinor: string;
  /** What earlier interim invoices of the period billed (deducted in this one's lines), minor units. */
  previouslyBilledMinor: string;
}

/** A priced line of an invoice: pricing's line draft plus the subscription and plan it belongs to. */
export interface InvoiceLine extends InvoiceLineDraft {
  subscription: string;
  plan: string;
  /**
   * When the subscription changed plan inside the period, the part of the period this line prices
   * (`[segmentStart, segmentEnd)`, local dates); absent for a line covering the subscription's whole share.
   */
  segmentStart?: string;
  segmentEnd?: string;
  /** A usage line of a plan that carries tiers over: the usage of earlier subscriptions of the period it started from. */
  carriedOver?: string;
}

/** How one line changed between the previous document and a recomputation. */
export interface AdjustmentLine {
  subscription: string;
  plan: string;
  chargeId: string;
  name: string;
  meter?: string;
  quantityBefore: string;
  quantityAfter: string;
  amountMinorBefore: string;
  amountMinorAfter: string;
  /** `amountMinorAfter − amountMinorBefore`. */
  amountMinor: string;
}

/**
 * Which events an invoice billed: how many events of the priced meters' event types the customer
 * sent in the period, and the sum (mod 2^64) of `cityHash64(event_id)` over them.
 */
export interface UsageFingerprint {
  eventCount: string;
  checksum: string;
}

/** Usage of one series (meter or `meter:profile`) of one subscription: the period total and per local day. */
export interface SeriesUsage {
  total: string;
  days: Array<{ day: string; value: string }>;
}

/** Everything a document was computed from, so that it can be recomputed exactly. */
export interface PricingSnapshot {
  subscriptions: SubscriptionPeriod[];
  plans: Record<string, PricingPlan>;
  meterVersions: Record<string, number>;
  /** The finance terms in force for the period (coupons, tax rates, credit ledger cut-off); absent before. */
  finance?: FinanceSnapshot;
}

/** A coupon as applied to a period: which one, and which of its periods this is (0 = the first). */
export interface CouponInForce {
  couponId: string;
  name: string;
  kind: 'percentage' | 'amount';
  percent?: string;
  amount?: string;
  currency?: string;
  duration: 'once' | 'repeating' | 'forever';
  periods?: number;
  appliesTo?: { plans?: string[]; charges?: string[] };
  periodIndex: number;
}

/** The finance terms a document was computed with. */
export interface FinanceSnapshot {
  coupons: CouponInForce[];
  taxProfile: TaxProfile;
  /** The customer's postpaid commitments whose term ends with this period (their true-up is on it). */
  commitments?: Array<{ id: string; currency: string; amountMinor: string; start: string; end: string }>;
  /** The rates that applied (the jurisdiction's, minus exemptions). */
  taxRates: Array<{ id: string; name: string; jurisdiction: string; percent: string; inclusive: boolean }>;
}

/**
 * The money of a document after the finance steps, in order: lines (with minimum and maximum) →
 * discounts → credits → taxes (docs/finance.md). `totalMinor = subtotalMinor − discountMinor −
 * creditMinor + taxExclusiveMinor`; each line's figures add up to the document's.
 */
export interface InvoiceFinance {
  lines: FinalLine[];
  subtotalMinor: string;
  discounts: Array<{ couponId: string; name: string; amountMinor: string }>;
  discountMinor: string;
  /** Each draw from the customer's credit ledger: bucket, the dates it paid for, amount. */
  credits: CreditDraw[];
  creditMinor: string;
  /**
   * Unit grants drawn before pricing (docs/finance.md#unit-grants): per grant, the units of its meter
   * this document's usage consumed (the lines' `grantedUnits`); absent when none.
   */
  unitCredits?: UnitDraw[];
  taxableMinor: string;
  taxes: TaxSummary[];
  taxInclusiveMinor: string;
  taxExclusiveMinor: string;
  totalMinor: string;
}

/**
 * A credit note issued on request against an invoice (refund, dispute: docs/finance.md#credit-notes):
 * which lines, how much of each, and the taxes given back. Its document is an adjustment that changes
 * no line: `totalMinor` is minus this section's `totalMinor`.
 */
export interface CreditNoteSection {
  /** `cn-<period>-<16 hex>-v<n>`, derived from the document id: never changes, never repeats. */
  number: string;
  reason: string;
  lines: Array<{
    lineId: string;
    name: string;
    /** Taxable amount given back (includes inclusive taxes). */
    amountMinor: string;
    taxes: Array<{ rateId: string; inclusive: boolean; amountMinor: string }>;
    totalMinor: string;
  }>;
  subtotalMinor: string;
  taxExclusiveMinor: string;
  taxInclusiveMinor: string;
  totalMinor: string;
}

export interface InvoiceDocument {
  tenant: string;
  customer: string;
  period: string;
  invoiceId: string;
  kind: DocumentKind;
  version: number;
  /** The invoice an adjustment corrects ('' on an invoice). */
  referencesInvoiceId: string;
  currency: string;
  /** Invoice: the lines as priced. Adjustment: the lines that changed, with before/after. */
  lines: InvoiceLine[] | AdjustmentLine[];
  /** The full priced lines after this document: what the next recomputation is compared with. */
  effectiveLines: InvoiceLine[];
  /** Sum of the charge lines (minimum true-up and maximum adjustment excluded). Adjustment: the change. */
  subtotalMinor: string;
  /**
   * Invoice: what the customer owes (after discounts, credits and taxes when `finance` is present).
   * Adjustment: the difference it makes (negative = a credit note, see `creditNoteNumber`).
   */
  totalMinor: string;
  /**
   * What the customer owes for the period after this document. With progressive billing: the period's
   * whole amount, interim invoices included (the period-end invoice's `totalMinor` is this minus them);
   * on an interim invoice, what accrued so far.
   */
  cumulativeTotalMinor: string;
  /** A downward adjustment is a credit note: its number (`cn-<period>-<16 hex>-v<n>`). */
  creditNoteNumber?: string;
  /** A credit note issued on request: what it gives back (the document changes no line). */
  creditNote?: CreditNoteSection;
  /** Discounts, credits and taxes of the period after this document (absent on documents without finance terms). */
  finance?: InvoiceFinance;
  /** Per subscription, per series: the usage priced. */
  usage: Record<string, Record<string, SeriesUsage>>;
  pricing: PricingSnapshot;
  fingerprint: UsageFingerprint;
  /** Adjustment: events counted now that the previous document did not count. */
  lateEventCount: number;
  /** Interim invoice: the threshold that triggered it (docs/billing.md#progressive-billing). */
  interim?: InterimInfo;
  timezone: string;
  periodStart: string;
  periodEnd: string;
  /** Workflow that issued it. */
  issuedBy: string;
  createdAt: string;
  /**
   * The completeness watermark the usage was read at: every event of the tenant acknowledged before
   * this instant was stored and counted (an invoice is computed only once it is past the period's end).
   * Absent on documents written before Tally recorded it.
   */
  completeThrough?: string;
}
