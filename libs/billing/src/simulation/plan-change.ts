/**
 * Plan changes of a simulation applied to the pricing snapshot an invoice was computed with. Pure.
 */
import type { PlanChange, SimulationSpec } from '@tally/billing-contracts';
import { parsePeriod } from '@tally/billing-periods';
import { ValidationFailedError, type FieldIssue } from '@tally/errors';
import { validatePlan, type Charge, type Plan } from '@tally/pricing';
import type { PricingSnapshot } from '../invoices/invoice';
import { seriesOfPlan } from '../invoices/period-pricing';

/** The plan `change` makes of `base` (the plan as an invoice priced it). */
export function changedPlan(base: Plan, change: PlanChange): Plan {
  if ('draft' in change) return change.draft;
  const p = change.patch;
  const remove = new Set(p.removeCharges ?? []);
  const replacing = new Map((p.charges ?? []).map((c) => [c.id, c]));
  const charges: Charge[] = [];
  for (const c of base.charges) {
    if (remove.has(c.id)) continue;
    charges.push(replacing.get(c.id) ?? c);
    replacing.delete(c.id);
  }
  charges.push(...replacing.values());
  const plan: Plan = { ...base, charges };
  if (p.name !== undefined) plan.name = p.name;
  if (p.minimumCommitment === null) delete plan.minimumCommitment;
  else if (p.minimumCommitment !== undefined) plan.minimumCommitment = p.minimumCommitment;
  if (p.maximum === null) delete plan.maximum;
  else if (p.maximum !== undefined) plan.maximum = p.maximum;
  return plan;
}

/**
 * The snapshot with every changed plan replaced (under the plan id its subscriptions name), plus the
 * meter versions of meters the changes add (`currentMeterVersion`). Unchanged plans stay as billed.
 */
export function simulatedSnapshot(
  snapshot: PricingSnapshot,
  changes: readonly PlanChange[],
  currentMeterVersion: (meterKey: string) => number,
): PricingSnapshot {
  const plans = { ...snapshot.plans };
  for (const change of changes) {
    const base = plans[change.plan];
    if (!base) continue;
    const plan = changedPlan(base, change);
    if (plan.currency !== base.currency) {
      throw new ValidationFailedError([
        {
          field: 'changes',
          code: 'CURRENCY_CHANGED',
          message: `plan '${change.plan}' was billed in ${base.currency}; a simulation compares amounts in the same currency, not ${plan.currency}`,
        },
      ]);
    }
    plans[change.plan] = plan;
  }
  const meterVersions = { ...snapshot.meterVersions };
  for (const plan of Object.values(plans)) {
    for (const key of seriesOfPlan(plan)) {
      const meter = key.split(':', 1)[0];
      meterVersions[meter] ??= currentMeterVersion(meter);
    }
  }
  return { ...snapshot, plans, meterVersions };
}

const MAX_PERIODS = 24;
const MAX_IDS = 100_000;

/**
 * Checks a simulation request as a whole and reports every bad field at once: periods, customer set,
 * and each change (a draft must be a valid plan; a patch's charges valid charges).
 */
export function validateSimulationSpec(spec: SimulationSpec): void {
  const issues: FieldIssue[] = [];
  const periods = spec.periods ?? [];
  if (periods.length === 0 || periods.length > MAX_PERIODS)
    issues.push({ field: 'periods', code: 'INVALID_PERIODS', message: `1 to ${MAX_PERIODS} periods` });
  periods.forEach((p, i) => {
    try {
      parsePeriod(p, `periods[${i}]`);
    } catch (error) {
      if (error instanceof ValidationFailedError) issues.push(...error.details);
      else throw error;
    }
  });
  if (new Set(periods).size !== periods.length)
    issues.push({ field: 'periods', code: 'DUPLICATE_PERIOD', message: 'each period once' });
  const c = spec.customers as Record<string, unknown>;
  if ('ids' in c && Array.isArray(c.ids) && (c.ids.length === 0 || c.ids.length > MAX_IDS))
    issues.push({
      field: 'customers.ids',
      code: 'INVALID_CUSTOMERS',
      message: `1 to ${MAX_IDS} customer ids`,
    });
  if (!spec.changes?.length)
    issues.push({ field: 'changes', code: 'NO_CHANGE', message: 'at least one plan change' });
  const seen = new Set<string>();
  (spec.changes ?? []).forEach((change, i) => {
    if (seen.has(change.plan))
      issues.push({
        field: `changes[${i}].plan`,
        code: 'DUPLICATE_PLAN',
        message: `plan '${change.plan}' changed twice`,
      });
    seen.add(change.plan);
    if ('draft' in change) {
      for (const issue of validatePlan(change.draft))
        issues.push({
          field: `changes[${i}].draft.${issue.field}`.replace(/\.$/, ''),
          code: issue.code,
          message: issue.message,
        });
    } else {
      const charges = change.patch.charges ?? [];
      // Charges are checked as a plan of their own (ids unique, kinds and tiers valid).
      if (charges.length) {
        for (const issue of validatePlan({ id: change.plan, currency: 'USD', charges }))
          issues.push({
            field: `changes[${i}].patch.${issue.field}`,
            code: issue.code,
            message: issue.message,
          });
      }
      for (const [k, v] of [
        ['minimumCommitment', change.patch.minimumCommitment],
        ['maximum', change.patch.maximum],
      ] as const) {
        if (v === undefined || v === null) continue;
        for (const issue of validatePlan({ id: change.plan, currency: 'USD', charges: [], [k]: v }))
          issues.push({
            field: `changes[${i}].patch.${issue.field}`,
            code: issue.code,
            message: issue.message,
          });
      }
    }
  });
  if (issues.length) throw new ValidationFailedError(issues, 'Invalid simulation request');
}
