import { TallyError } from '@tally/errors';

/**
 * Stable, documented codes of plan and input problems (see docs/pricing.md). Never renamed; new ones
 * may be added.
 */
export const PRICING_ISSUE_CODES = Object.freeze([
  /** A required field is missing or has the wrong JSON type. */
  'REQUIRED',
  /** A field that is not part of the plan schema (often a typo, e.g. `freeunits`). */
  'UNKNOWN_FIELD',
  /** Not a decimal string in plain notation, or more than 30 integer / 30 fraction digits. */
  'INVALID_DECIMAL',
  /** A price or fee (`amount`, `unitPrice`, `packagePrice`, `flatFee`) below zero. */
  'NEGATIVE_PRICE',
  /** `minimumCommitment` or `maximum` below zero. */
  'NEGATIVE_AMOUNT',
  /** `freeUnits` or a usage value below zero. */
  'NEGATIVE_QUANTITY',
  /** `currency` is not three upper-case letters. */
  'UNKNOWN_CURRENCY_FORMAT',
  /** `minimumCommitment` / `maximum` has more decimals than the currency's minor unit. */
  'TOO_PRECISE_FOR_CURRENCY',
  /** `minimumCommitment` is greater than `maximum`. */
  'MINIMUM_EXCEEDS_MAXIMUM',
  /** `kind` is none of flat, per_unit, package, graduated, volume. */
  'UNKNOWN_CHARGE_KIND',
  /** Two charges share an `id`. */
  'DUPLICATE_CHARGE_ID',
  /** A charge uses an id reserved for plan-level lines (`minimum_true_up`, `maximum_adjustment`). */
  'RESERVED_CHARGE_ID',
  /** `packageSize` is zero or negative. */
  'PACKAGE_SIZE_NOT_POSITIVE',
  /** A tiered charge has no tiers. */
  'TIERS_EMPTY',
  /** A tier's `upTo` is zero or negative. */
  'TIER_BOUND_NOT_POSITIVE',
  /** A tier's `upTo` is not greater than the previous tier's. */
  'TIERS_NOT_ASCENDING',
  /** A tier other than the last has `upTo: null`. */
  'UNBOUNDED_TIER_NOT_LAST',
  /** The last tier has a finite `upTo`; it must be `null` so every quantity has a tier. */
  'LAST_TIER_MUST_BE_UNBOUNDED',
  /** `period.daysInPeriod` / `period.activeDays` are not integers with 0 ≤ activeDays ≤ daysInPeriod ≥ 1. */
  'INVALID_PERIOD',
  /** `progressiveBilling` has neither `thresholds` nor `repeatEvery`. */
  'PROGRESSIVE_BILLING_EMPTY',
  /** A progressive-billing threshold or `repeatEvery` is zero or negative. */
  'THRESHOLD_NOT_POSITIVE',
  /** Progressive-billing `thresholds` are not strictly ascending. */
  'THRESHOLDS_NOT_ASCENDING',
  /** A credit note names a line the invoice does not have. */
  'UNKNOWN_LINE',
  /** A credit note would credit more of a line than is left to credit. */
  'CREDIT_EXCEEDS_INVOICE',
] as const);

export type PricingIssueCode = (typeof PRICING_ISSUE_CODES)[number];

/** One problem found in a plan or a pricing input. Same shape as `FieldIssue` of `@tally/errors`. */
export interface PricingIssue {
  /**
   * Path of the failing field: `charges[1].tiers[0].upTo` from `validatePlan`; prefixed with `plan.`
   * (and `usage.<meter>`, `period.<field>`) in a `PricingError` thrown by `priceUsage`. `""` = the root.
   */
  field: string;
  code: PricingIssueCode;
  message: string;
}

export type PricingErrorCode = 'INVALID_PLAN' | 'INVALID_USAGE' | 'INVALID_PERIOD' | 'INVALID_ARGUMENT';

/**
 * Thrown by `priceUsage` (and `assertValidPlan`, and the helpers on bad arguments). `code` says which
 * part is wrong (plan first, then period, then usage); `details` lists EVERY issue found, with paths.
 * Maps to HTTP 422 through the shared Tally exception filter.
 */
export class PricingError extends TallyError {
  declare readonly code: PricingErrorCode;
  declare readonly details: PricingIssue[];

  constructor(code: PricingErrorCode, message: string, details: PricingIssue[]) {
    super(code, 422, message, { details });
  }
}

export function isPricingError(error: unknown): error is PricingError {
  return error instanceof PricingError;
}
