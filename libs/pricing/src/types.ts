/**
 * Public types of `@tally/pricing`.
 *
 * Every amount and quantity is a decimal STRING (`"12.5"`, `"0.0001"`, `"1000"`): plain notation, an
 * optional leading `-` (rejected wherever a value must not be negative), digits, and an optional `.`
 * followed by digits. No exponents (`1e3`), no `+`, no leading/trailing `.`, no whitespace, no
 * JavaScript numbers. Up to 30 digits before and 30 after the decimal point. Money in major units
 * (dollars) is a `DecimalString`; money in minor units (cents) is an integer string named `...Minor`.
 */

/** A decimal number written as a string, e.g. `"12.5"`, `"0.0001"`, `"1000"`. */
export type DecimalString = string;

/** An amount of money in minor units (cents for USD, yen for JPY, fils for BHD). */
export interface Money {
  /** ISO 4217 code, three upper-case letters. */
  currency: string;
  /** Integer string in the currency's minor units, e.g. `"1234"` = USD 12.34. */
  amountMinor: string;
}

/** Fields every charge has. `id` is unique within a plan and is copied to the invoice line. */
interface ChargeBase {
  id: string;
  /** Shown on the invoice line. */
  name: string;
  /** Free text for operators; ignored by pricing. */
  description?: string;
  /** Operator-defined labels; ignored by pricing. */
  metadata?: Record<string, string>;
}

/** Fields every usage-based charge has. */
interface MeteredChargeBase extends ChargeBase {
  /** Key into `PricingInput.usage`: a meter key, or `"meter:profile"`. Missing usage counts as 0. */
  meter: string;
  /** Included units subtracted from the usage before pricing (never below zero). Default `"0"`. */
  freeUnits?: DecimalString;
}

/** A fixed fee per full billing period, in major units; prorated by active days. */
export interface FlatCharge extends ChargeBase {
  kind: 'flat';
  amount: DecimalString;
}

/** `billableUnits × unitPrice`. */
export interface PerUnitCharge extends MeteredChargeBase {
  kind: 'per_unit';
  unitPrice: DecimalString;
}

/** `ceil(billableUnits / packageSize) × packagePrice`: every started package is billed in full. */
export interface PackageCharge extends MeteredChargeBase {
  kind: 'package';
  packageSize: DecimalString;
  packagePrice: DecimalString;
}

/** Each tier prices the units that fall into it (plus its `flatFee` when at least one unit does). */
export interface GraduatedCharge extends MeteredChargeBase {
  kind: 'graduated';
  tiers: Tier[];
}

/** The one tier the billable total falls into prices every unit (plus that tier's `flatFee`). */
export interface VolumeCharge extends MeteredChargeBase {
  kind: 'volume';
  tiers: Tier[];
}

export type Charge = FlatCharge | PerUnitCharge | PackageCharge | GraduatedCharge | VolumeCharge;
export type ChargeKind = Charge['kind'];
export type MeteredCharge = Exclude<Charge, FlatCharge>;

/**
 * One row of a tier table. Tier `i` covers the quantities in `(tiers[i-1].upTo, tiers[i].upTo]`; the
 * first tier starts above 0. `upTo` ascends strictly and is `null` (no upper bound) on the last tier only.
 */
export interface Tier {
  upTo: DecimalString | null;
  unitPrice: DecimalString;
  /** Charged once when the tier is used (graduated: any unit falls in it; volume: the total does). */
  flatFee?: DecimalString;
}

export interface Plan {
  id: string;
  /** ISO 4217 code, three upper-case letters; decides the minor unit (see `minorUnitExponent`). */
  currency: string;
  /** Priced in this order; invoice lines keep it. Results do not depend on it otherwise. */
  charges: Charge[];
  /** Major units. If the subtotal is lower, a `minimum_true_up` line makes up the difference. */
  minimumCommitment?: DecimalString;
  /** Major units. Cap on the subtotal (usage + flat); the excess is removed by a negative line. */
  maximum?: DecimalString;
  /**
   * How flat fees are prorated when a plan changes inside a period (`priceSegments`): by whole `day`s
   * (the default) or by `second`s of the segment.
   */
  proration?: 'day' | 'second';
  /**
   * When this plan takes over inside a period, whether its tiers count the usage from zero (`reset`,
   * the default) or continue from the usage of the period's earlier segments (`carry_over`).
   */
  segmentTiers?: 'reset' | 'carry_over';
  /**
   * Progressive (threshold) billing: an interim invoice is issued when the amount accrued in the open
   * period reaches a threshold (see `progressiveThresholds`). Ignored by `priceUsage`.
   */
  progressiveBilling?: ProgressiveBilling;
  /** Display name; ignored by pricing. */
  name?: string;
  /** Operator-defined labels; ignored by pricing. */
  metadata?: Record<string, string>;
}

/**
 * Amount thresholds in major units of the plan's currency, against the amount accrued in the period so
 * far: the listed `thresholds` (ascending), then, when `repeatEvery` is set, every `repeatEvery` above the
 * last of them (from zero without a list). `{ repeatEvery: "1000.00" }` is 1,000, 2,000, 3,000...;
 * `{ thresholds: ["100.00", "500.00"], repeatEvery: "1000.00" }` is 100, 500, 1,500, 2,500...
 */
export interface ProgressiveBilling {
  thresholds?: DecimalString[];
  repeatEvery?: DecimalString;
}

export interface BillingPeriodShare {
  /** Length of the full billing period in days: an integer ≥ 1. */
  daysInPeriod: number;
  /** Days the subscription was active in it: an integer in `[0, daysInPeriod]`. */
  activeDays: number;
  /**
   * `second`: both counts are seconds instead of days (a plan with `proration: "second"`; the invoice
   * computes them in the customer's zone). The rule is the same: `amount × activeDays / daysInPeriod`.
   */
  unit?: 'second';
}

export interface PricingInput {
  plan: Plan;
  /** Aggregated usage for the period, by meter key (or `"meter:profile"`). Non-negative decimals. */
  usage: Record<string, DecimalString>;
  /** Proration of flat fees: the share of the period the subscription was active, in whole days. */
  period: BillingPeriodShare;
}

export type InvoiceLineKind =
  | ChargeKind
  | 'minimum_true_up'
  | 'maximum_adjustment'
  | 'commitment_true_up'
  /** A period-end invoice's deduction of what an interim (progressive) invoice already billed: negative. */
  | 'interim_deduction';

/** One tier's share of a graduated or volume line. */
export interface TierBreakdown {
  /** 1-based position of the tier in the charge's `tiers` (tier 1 = `tiers[0]`). */
  tier: number;
  /** Exclusive lower bound of the tier: the previous tier's `upTo`, `"0"` for the first tier. */
  from: DecimalString;
  /** Inclusive upper bound; `null` = unbounded. */
  upTo: DecimalString | null;
  /** Units priced at this tier's `unitPrice`. */
  quantity: DecimalString;
  unitPrice: DecimalString;
  /** The tier's flat fee as charged (`"0"` if it has none). */
  flatFee: DecimalString;
  /** `quantity × unitPrice + flatFee`, exact. */
  amount: DecimalString;
}

export interface InvoiceLineDraft {
  /** The charge's id; `"minimum_true_up"` / `"maximum_adjustment"` for the plan-level lines. */
  chargeId: string;
  name: string;
  kind: InvoiceLineKind;
  /** Usage-based lines only. */
  meter?: string;
  /** Usage as reported (usage-based lines); `"1"` for flat fees and plan-level lines. */
  quantity: DecimalString;
  /** `max(0, quantity - freeUnits)`: the units actually priced. */
  billableQuantity: DecimalString;
  /** Package lines: `ceil(billableQuantity / packageSize)`, the number of packages billed. */
  packages?: DecimalString;
  /**
   * Units of `quantity` that unit grants paid for (`priceUsageWithUnitGrants`): taken off after the
   * plan's free units and before the tiers, like free units (`billableQuantity` is what is left).
   */
  grantedUnits?: DecimalString;
  /** Graduated and volume lines: the tiers that priced units, in tier order (empty when none did). */
  tiers?: TierBreakdown[];
  /** Flat lines billed for part of the period: the days used as `amount × activeDays / daysInPeriod`. */
  proration?: BillingPeriodShare;
  /**
   * Exact amount in major units, unrounded. A prorated flat line whose share has no exact decimal
   * expansion is shown to 12 decimal places (half-even); `amountMinor` is still rounded from the
   * exact fraction, never from this string.
   */
  amount: DecimalString;
  /** `amount` rounded to the currency's minor units, ROUND_HALF_EVEN (banker's rounding). */
  amountMinor: string;
}

export interface PriceResult {
  currency: string;
  /** One line per charge in plan order, then `minimum_true_up` and `maximum_adjustment` when non-zero. */
  lines: InvoiceLineDraft[];
  /** Sum of the charge lines' `amountMinor` (plan-level lines excluded). */
  subtotalMinor: string;
  /** `max(0, minimumCommitment − subtotal)`, in minor units; `"0"` without a minimum. */
  minimumTrueUpMinor: string;
  /** `min(0, maximum − subtotal)`, in minor units (≤ 0); `"0"` without a maximum. */
  maximumAdjustmentMinor: string;
  /** `subtotal + minimumTrueUp + maximumAdjustment` = the sum of every line's `amountMinor`. */
  totalMinor: string;
}
