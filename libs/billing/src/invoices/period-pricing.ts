/**
 * The pricing of a period: every subscription of a customer's period priced with its plan by
 * `@tally/pricing`, one currency per period, tiers carried over between subscriptions when the plan
 * says so. The invoice, its adjustments, interim invoices and simulations all price through here.
 */
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
  type InvoiceLineDraft,
  type Plan as PricingPlan,
} from '@tally/pricing';
import type { InvoiceLine, PricingSnapshot, SeriesUsage } from '@tally/billing-contracts';
import type { CustomerPeriod, SubscriptionPeriod } from '@tally/billing-periods';
import { planFeeShare } from './finance';
import type { GrantedUnits } from './unit-credits';

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

/** What pricing a period reads. */
export interface PeriodUsage {
  period: CustomerPeriod;
  pricing: PricingSnapshot;
  /** Per subscription id, per series key. Missing series count as zero usage. */
  usage: Record<string, Record<string, SeriesUsage>>;
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
export function pricePeriod(c: PeriodUsage, granted: GrantedUnits = {}): PricedPeriod {
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
  c: Pick<PeriodUsage, 'period' | 'usage'>,
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
