/**
 * Progressive (threshold) billing: interim invoices inside the open period. Pure, like `./invoice`:
 * the rule of which thresholds an accrued amount reached is `@tally/pricing`'s `progressiveThresholds`;
 * this module decides what an interim invoice bills and how it reads.
 */
import type { CustomerPeriod } from '@tally/billing-periods';
import {
  MINIMUM_TRUE_UP_ID,
  progressiveThresholds,
  type ProgressiveBilling,
  type ThresholdsCrossed,
} from '@tally/pricing';
import {
  interimDeductionLines,
  interimInvoiceId,
  type InvoiceDocument,
  type PricedPeriod,
  type PricingSnapshot,
  type SeriesUsage,
  type UsageFingerprint,
} from './invoice';

/**
 * The period's progressive-billing setting: that of the first of its subscriptions (in the period's
 * order) whose plan has one; undefined when none has.
 */
export function progressiveSettingOf(
  period: Pick<CustomerPeriod, 'subscriptions'>,
  pricing: Pick<PricingSnapshot, 'plans'>,
): { setting: ProgressiveBilling; currency: string } | undefined {
  for (const share of period.subscriptions) {
    const plan = pricing.plans[share.plan];
    if (plan?.progressiveBilling) return { setting: plan.progressiveBilling, currency: plan.currency };
  }
  return undefined;
}

/**
 * What the period has accrued so far: its priced lines, flat fees and the maximum included, without
 * the minimum-commitment true-up (a minimum is settled at the period's end; counting it would reach a
 * threshold below the minimum on the first day). Finance terms (discounts, credits, taxes) are applied
 * by the period-end invoice to the whole period, not to interim invoices.
 */
export function accruedMinorOf(priced: Pick<PricedPeriod, 'lines' | 'totalMinor'>): string {
  let accrued = BigInt(priced.totalMinor);
  for (const l of priced.lines) if (l.chargeId === MINIMUM_TRUE_UP_ID) accrued -= BigInt(l.amountMinor);
  return accrued.toString();
}

export interface InterimComputation {
  tenant: string;
  customer: string;
  period: CustomerPeriod;
  pricing: PricingSnapshot;
  usage: Record<string, Record<string, SeriesUsage>>;
  fingerprint: UsageFingerprint;
  /** The period priced on `usage` (`pricePeriod`). */
  priced: PricedPeriod;
  /** The period's interim invoices so far. */
  previous: readonly InvoiceDocument[];
  issuedBy: string;
  createdAt: string;
}

export type InterimDecision =
  | { issue: InvoiceDocument; crossed: ThresholdsCrossed; accruedMinor: string; currency: string }
  | { issue?: undefined; crossed: ThresholdsCrossed; accruedMinor: string; currency: string };

/**
 * The interim invoice the period calls for: one when the accrued amount reached more thresholds than
 * the last interim invoice had (several thresholds passed at once make one invoice). It bills what
 * accrued minus what earlier interim invoices billed, with their deductions as lines, and is identified
 * by the number of thresholds reached, so the same crossing always yields the same document id.
 */
export function decideInterim(c: InterimComputation): InterimDecision | undefined {
  const found = progressiveSettingOf(c.period, c.pricing);
  if (!found) return undefined;
  const accruedMinor = accruedMinorOf(c.priced);
  const crossed = progressiveThresholds(found.setting, accruedMinor, found.currency);
  const last = c.previous.reduce((m, d) => {
    const n = BigInt(d.interim?.thresholdsCrossed ?? '0');
    return n > m ? n : m;
  }, 0n);
  if (BigInt(crossed.count) <= last) return { crossed, accruedMinor, currency: found.currency };
  const charges = c.priced.lines.filter((l) => l.chargeId !== MINIMUM_TRUE_UP_ID);
  const deductions = interimDeductionLines(c.previous, c.priced.currency);
  const previouslyBilled = -deductions.reduce((s, l) => s + BigInt(l.amountMinor), 0n);
  const total = BigInt(accruedMinor) - previouslyBilled;
  const issue: InvoiceDocument = {
    tenant: c.tenant,
    customer: c.customer,
    period: c.period.period,
    invoiceId: interimInvoiceId(c.tenant, c.customer, c.period.period, crossed.count),
    kind: 'interim',
    version: 0,
    referencesInvoiceId: '',
    currency: c.priced.currency,
    lines: [...charges, ...deductions],
    effectiveLines: charges,
    subtotalMinor: c.priced.subtotalMinor,
    totalMinor: total.toString(),
    cumulativeTotalMinor: accruedMinor,
    usage: c.usage,
    pricing: c.pricing,
    fingerprint: c.fingerprint,
    lateEventCount: 0,
    interim: {
      thresholdsCrossed: crossed.count,
      thresholdMinor: crossed.thresholdMinor,
      accruedMinor,
      previouslyBilledMinor: previouslyBilled.toString(),
    },
    timezone: c.period.timezone,
    periodStart: new Date(c.period.fromMs).toISOString(),
    periodEnd: new Date(c.period.toMs).toISOString(),
    issuedBy: c.issuedBy,
    createdAt: c.createdAt,
  };
  return { issue, crossed, accruedMinor, currency: found.currency };
}
