/**
 * `@tally/pricing`: turns a plan and a period's usage into invoice line drafts.
 *
 * Pure: no I/O, no clock, no randomness, no Node built-ins, no side effects at import, so it is safe in
 * Temporal workflow code. No JavaScript floats: every amount and quantity is a decimal string, computed
 * exactly with decimal.js. See docs/pricing.md for the operator's view.
 */
export type {
  BillingPeriodShare,
  Charge,
  ChargeKind,
  DecimalString,
  FlatCharge,
  GraduatedCharge,
  InvoiceLineDraft,
  InvoiceLineKind,
  MeteredCharge,
  Money,
  PackageCharge,
  PerUnitCharge,
  Plan,
  PriceResult,
  PricingInput,
  ProgressiveBilling,
  Tier,
  TierBreakdown,
  VolumeCharge,
} from './types';
export { PRICING_ISSUE_CODES, PricingError, isPricingError } from './errors';
export type { PricingErrorCode, PricingIssue, PricingIssueCode } from './errors';
export {
  CHARGE_KINDS,
  MAXIMUM_ADJUSTMENT_ID,
  MINIMUM_TRUE_UP_ID,
  assertValidPlan,
  assertValidPricingInput,
  validatePlan,
  validatePricingInput,
} from './validate';
export { PRORATED_AMOUNT_DECIMALS, priceUsage } from './price';
export { progressiveThresholds, type ThresholdsCrossed } from './progressive';
export {
  CURRENCY_MINOR_UNITS,
  DEFAULT_MINOR_UNIT_EXPONENT,
  formatMinor,
  isCurrencyCode,
  minorUnitExponent,
  toMinorUnits,
} from './currency';
export {
  MAX_FRACTION_DIGITS,
  MAX_INTEGER_DIGITS,
  addDecimals,
  compareDecimals,
  decimalText,
  isDecimalString,
  multiplyDecimals,
  normalizeDecimal,
  sumDecimals,
} from './decimal';
export { allocate as allocateMinor } from './money';
export { addMonthsToDate, daysFromTo, isLocalDate } from './dates';
export type {
  LineTax,
  TaxCalculator,
  TaxEngine,
  TaxProfile,
  TaxRate,
  TaxRequest,
  TaxResult,
  TaxableLine,
} from './tax';
export { applicableRates, assertValidTaxRates, rateTableTaxCalculator, validateTaxRates } from './tax';
export type { AppliedCoupon, Coupon, CouponDuration, LineDiscount } from './discounts';
export { assertValidCoupon, couponActive, validateCoupon } from './discounts';
export type {
  CreditBalance,
  CreditBucket,
  CreditDraw,
  CreditEntry,
  CreditGrant,
  CreditLogEntry,
  CreditSegment,
  CreditSource,
  CreditTimerRecord,
} from './credits';
export type { CreditGrantTimers, CreditTimerEvent } from './credit-timers';
export { creditGrantTimers, creditTimerEntryId } from './credit-timers';
export {
  DEFAULT_CREDIT_PRIORITY,
  creditBalance,
  creditBoundaries,
  creditSegmentsFromAccrual,
  drawCredits,
} from './credits';
export type {
  DiscountedInvoice,
  FinalLine,
  FinanceLineInput,
  InvoiceTotals,
  TaxSummary,
} from './invoice-totals';
export { completeInvoice, discountInvoice } from './invoice-totals';
export type { PlanSegment, SegmentLine, SegmentedPrice, SegmentedPricingInput } from './segments';
export { priceMeteredAfter, priceSegments, unusedPartCredit } from './segments';
export type { CreditNoteAmounts, CreditNoteLine, CreditNoteRequest } from './credit-notes';
export { computeCreditNote } from './credit-notes';
export type { Commitment } from './commitments';
export { commitmentTrueUp, prepaidCommitmentGrant } from './commitments';
export type { PrepaidCommitmentStatement, PrepaidCommitmentUpfront } from './prepaid-commitment';
export { prepaidCommitmentTrueUp, prepaidCommitmentUpfront } from './prepaid-commitment';
export type { UnitDraw, UnitDrawRequest, UnitGrant, UnitGrantBalance, UnitGrantBucket } from './unit-grants';
export {
  DEFAULT_UNIT_GRANT_PRIORITY,
  drawUnitGrants,
  meterOfSeries,
  planWithGrantedUnits,
  priceUsageWithUnitGrants,
  showGrantedUnits,
  unitGrantBalance,
} from './unit-grants';
