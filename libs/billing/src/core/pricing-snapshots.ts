import type { CustomerPeriod } from '@tally/billing-periods';
import type { Meter } from '@tally/catalog';
import type { Plan as PricingPlan } from '@tally/pricing';
import { BillingRejectedError } from '../errors';
import { financeSnapshotOf } from '../invoices/finance';
import type { PricingSnapshot } from '../invoices/invoice';
import { pricingPlanOf, seriesOfPlan } from '../invoices/period-pricing';
import type { SeriesRef } from '@tally/clickhouse';
import type { BillingCatalogPort, MeterVersionsPort } from './ports';

/** A pricing snapshot and the series (meter versions) its usage is read with. */
export interface PricedSeries {
  pricing: PricingSnapshot;
  series: Record<string, SeriesRef>;
}

/**
 * The plans and meters a period is priced with: for a first invoice, the catalog as of now (current
 * plans and meter versions); for a recomputation, the versions its invoice recorded.
 */
export class PricingSnapshots {
  private readonly meterVersions = new Map<string, Meter>();

  constructor(
    private readonly catalog: Pick<BillingCatalogPort, 'getPlan' | 'getMeter'> &
      Partial<Pick<BillingCatalogPort, 'getTenant' | 'getCustomer'>>,
    private readonly store: MeterVersionsPort,
  ) {}

  /**
   * The plans (as of now) and meters (current versions) a period is priced with, and, given the
   * customer, the finance terms in force (coupons, taxes: docs/finance.md) when there are any.
   */
  current(tenant: string, share: CustomerPeriod, customer?: string): PricedSeries {
    const plans: Record<string, PricingPlan> = {};
    for (const s of share.subscriptions) {
      const plan = this.catalog.getPlan(tenant, s.plan);
      if (!plan)
        throw new BillingRejectedError(
          'UNKNOWN_PLAN',
          `plan '${s.plan}' of subscription '${s.subscription}' does not exist`,
        );
      plans[plan.id] = pricingPlanOf(plan);
    }
    const meterVersions: Record<string, number> = {};
    const series: Record<string, SeriesRef> = {};
    for (const plan of Object.values(plans)) {
      for (const key of seriesOfPlan(plan)) {
        const [meterKey, profile] = key.split(':', 2);
        const meter = this.catalog.getMeter(tenant, meterKey);
        if (!meter)
          throw new BillingRejectedError(
            'UNKNOWN_METER',
            `meter '${meterKey}' of plan '${plan.id}' does not exist`,
          );
        if (profile !== undefined && !meter.profiles.some((p) => p.key === profile)) {
          throw new BillingRejectedError(
            'UNKNOWN_PROFILE',
            `meter '${meterKey}' has no profile '${profile}'`,
          );
        }
        meterVersions[meterKey] = meter.version;
        series[key] = seriesRef(key, meter, profile);
      }
    }
    const finance =
      customer === undefined
        ? undefined
        : financeSnapshotOf(
            this.catalog.getTenant?.(tenant),
            this.catalog.getCustomer?.(tenant, customer),
            share.period,
          );
    return {
      pricing: { subscriptions: share.subscriptions, plans, meterVersions, ...(finance ? { finance } : {}) },
      series,
    };
  }

  /** The meters of a pricing snapshot, at the versions it names. */
  async ofSnapshot(tenant: string, pricing: PricingSnapshot): Promise<Record<string, SeriesRef>> {
    const series: Record<string, SeriesRef> = {};
    for (const plan of Object.values(pricing.plans)) {
      for (const key of seriesOfPlan(plan)) {
        const [meterKey, profile] = key.split(':', 2);
        series[key] = seriesRef(
          key,
          await this.meterVersion(tenant, meterKey, pricing.meterVersions[meterKey]),
          profile,
        );
      }
    }
    return series;
  }

  private async meterVersion(tenant: string, meterKey: string, version: number): Promise<Meter> {
    const cacheKey = `${tenant}\u0000${meterKey}\u0000${version}`;
    let meter = this.meterVersions.get(cacheKey);
    if (!meter) {
      meter = await this.store.getMeterVersion(tenant, meterKey, version);
      if (!meter)
        throw new BillingRejectedError(
          'UNKNOWN_METER',
          `meter '${meterKey}' version ${version} is not stored`,
        );
      if (this.meterVersions.size > 10_000) this.meterVersions.clear();
      this.meterVersions.set(cacheKey, meter);
    }
    return meter;
  }
}

function seriesRef(key: string, meter: Meter, profile: string | undefined): SeriesRef {
  return { key, meter, version: meter.version, ...(profile !== undefined ? { profile } : {}) };
}
