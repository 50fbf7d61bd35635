import { Inject, Injectable } from '@nestjs/common';
import { currentPeriod, type UsagePeriod } from '@tally/billing-periods';
import { type CatalogProjection, customerTimeZone, type Meter } from '@tally/catalog';
import { NotFoundError, ValidationFailedError } from '@tally/errors';
import { resolveSeries, type Series } from '@tally/metering';
import { USAGE_CATALOG_CACHE, USAGE_CLOCK, USAGE_OPTIONS } from './usage.tokens';
import type { UsageOptions } from './usage-options';

/**
 * What the usage endpoints read of the catalog: meters and series (identifiers come from here, never
 * from the request), zones, and the customer's current period by the one period rule that invoices use
 * (`@tally/billing-periods`).
 */
@Injectable()
export class UsageCatalog {
  constructor(
    @Inject(USAGE_CATALOG_CACHE) private readonly catalog: CatalogProjection,
    @Inject(USAGE_OPTIONS) private readonly options: UsageOptions,
    @Inject(USAGE_CLOCK) private readonly now: () => Date,
  ) {}

  get limits(): Pick<UsageOptions, 'maxRangeDays' | 'maxResultRows'> {
    return this.options;
  }

  meter(tenant: string, key: string): Meter {
    const meter = this.catalog.getMeter(tenant, key);
    if (!meter) throw new NotFoundError('Meter', key);
    return meter;
  }

  /** The series of a meter or of one of its profiles (unknown profile: 422, or 404 with `notFound`). */
  series(meter: Meter, profile: string | undefined, notFound = false): Series {
    if (profile !== undefined && !meter.profiles.some((p) => p.key === profile)) {
      if (notFound) throw new NotFoundError('Profile', `${meter.key}:${profile}`);
      throw new ValidationFailedError([
        {
          field: 'profile',
          code: 'UNKNOWN_PROFILE',
          message: `meter '${meter.key}' has no profile '${profile}'`,
        },
      ]);
    }
    return resolveSeries(meter, profile);
  }

  /** The named meters (every one, sorted by key, when none are named); unknown keys are a 422 listing each. */
  meters(tenant: string, keys?: string[]): Meter[] {
    if (keys === undefined || keys.length === 0) {
      return this.catalog.listMeters(tenant).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    const issues = keys.flatMap((k, i) =>
      this.catalog.getMeter(tenant, k)
        ? []
        : [{ field: `meter[${i}]`, code: 'UNKNOWN_METER', message: `meter '${k}' does not exist` }],
    );
    if (issues.length) throw new ValidationFailedError(issues, 'Invalid query parameters');
    return [...new Set(keys)].map((k) => this.catalog.getMeter(tenant, k) as Meter);
  }

  /** The zone of a customer's periods and days: its own, else its tenant's (UTC for unknown tenants). */
  customerZone(tenant: string, customer: string): string {
    const t = this.catalog.getTenant(tenant);
    const c = this.catalog.getCustomer(tenant, customer);
    return c && t ? customerTimeZone(c, t) : (c?.timezone ?? t?.timezone ?? 'UTC');
  }

  tenantZone(tenant: string): string {
    return this.catalog.getTenant(tenant)?.timezone ?? 'UTC';
  }

  /** The period usage is measured over right now: the active subscription's, else the calendar month. */
  currentPeriod(tenant: string, customer: string, now = this.now()): UsagePeriod {
    return currentPeriod(
      now,
      this.customerZone(tenant, customer),
      this.catalog.subscriptionsOf(tenant, customer),
    );
  }

  /** The customer's subscription, its plan and the tenant's alert rules (what an entitlement limit comes from). */
  limitSources(tenant: string, customer: string, subscriptionId: string | undefined) {
    const subscription = subscriptionId
      ? this.catalog.subscriptionsOf(tenant, customer).find((s) => s.id === subscriptionId)
      : undefined;
    return {
      subscription,
      plan: subscription ? this.catalog.getPlan(tenant, subscription.plan) : undefined,
      alertRules: this.catalog.listAlertRules(tenant),
    };
  }
}
