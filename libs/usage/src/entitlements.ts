/**
 * What an entitlement check compares usage with. Pure: the caller passes the catalog entities.
 *
 * The limit of a series (`meter` or `meter:profile`) for a customer is, in this order:
 *
 * 1. the **allowance of the plan** of the customer's active subscription: among the plan's charges on
 *    exactly this series, the smallest of their `freeUnits` (when above 0) and, for graduated and
 *    volume charges, the `upTo` of a free first tier (`unitPrice` 0 and no flat fee);
 * 2. else the **allowance of an alert rule** on the series: the customer's own rules win over
 *    tenant-wide ones; `percent_of_allowance` rules give their `allowance`, `absolute` ones their
 *    `value`; the smallest wins;
 * 3. else there is no limit.
 *
 * Usage is allowed while it is below the limit (`usage < limit`): at the limit the allowance is used up.
 */
import type { AlertRule, Plan, Subscription } from '@tally/catalog';
import { compareDecimals, isDecimalString } from '@tally/pricing';

export type LimitSource =
  | { kind: 'plan_free_units'; subscription: string; plan: string; charge: string }
  | { kind: 'plan_free_tier'; subscription: string; plan: string; charge: string }
  | { kind: 'alert_rule'; rule: string };

export interface EntitlementLimit {
  limit: string;
  source: LimitSource;
}

export interface EntitlementContext {
  /** `meter` or `meter:profile`, as plans name usage. */
  series: string;
  meter: string;
  profile?: string;
  customer: string;
  subscription?: Subscription;
  plan?: Plan;
  alertRules: readonly AlertRule[];
}

const isPositive = (v: unknown): v is string => isDecimalString(v) && compareDecimals(v as string, '0') > 0;

function smallest<T extends EntitlementLimit>(candidates: T[]): T | undefined {
  let best: T | undefined;
  for (const c of candidates) if (!best || compareDecimals(c.limit, best.limit) < 0) best = c;
  return best;
}

function planAllowances(subscription: Subscription, plan: Plan, series: string): EntitlementLimit[] {
  const out: EntitlementLimit[] = [];
  for (const charge of plan.charges) {
    if (charge.meter !== series) continue;
    const base = { subscription: subscription.id, plan: plan.id, charge: String(charge.id) };
    if (isPositive(charge.freeUnits)) {
      out.push({ limit: charge.freeUnits, source: { kind: 'plan_free_units', ...base } });
      continue;
    }
    if ((charge.kind === 'graduated' || charge.kind === 'volume') && Array.isArray(charge.tiers)) {
      const first = charge.tiers[0] as { upTo?: unknown; unitPrice?: unknown; flatFee?: unknown } | undefined;
      const free =
        first &&
        isPositive(first.upTo) &&
        isDecimalString(first.unitPrice) &&
        compareDecimals(first.unitPrice as string, '0') === 0 &&
        (first.flatFee === undefined ||
          (isDecimalString(first.flatFee) && compareDecimals(first.flatFee as string, '0') === 0));
      if (free) out.push({ limit: first.upTo as string, source: { kind: 'plan_free_tier', ...base } });
    }
  }
  return out;
}

function ruleAllowance(rule: AlertRule): string {
  return rule.threshold.kind === 'absolute' ? rule.threshold.value : rule.threshold.allowance;
}

/** The limit that applies (see the file comment), or undefined when nothing limits the series. */
export function entitlementLimit(context: EntitlementContext): EntitlementLimit | undefined {
  if (context.subscription && context.plan) {
    const fromPlan = smallest(planAllowances(context.subscription, context.plan, context.series));
    if (fromPlan) return fromPlan;
  }
  const rules = context.alertRules.filter(
    (r) => r.meter === context.meter && (r.profile ?? undefined) === context.profile,
  );
  const own = rules.filter((r) => r.customer === context.customer);
  const applicable = own.length ? own : rules.filter((r) => r.customer === undefined);
  return smallest(
    applicable.map((r) => ({ limit: ruleAllowance(r), source: { kind: 'alert_rule', rule: r.id } })),
  );
}

/** `usage < limit` (no limit: always allowed). */
export function isAllowed(usage: string, limit: string | undefined): boolean {
  return limit === undefined || compareDecimals(usage, limit) < 0;
}
