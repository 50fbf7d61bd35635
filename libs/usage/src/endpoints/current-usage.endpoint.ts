import { Inject, Injectable } from '@nestjs/common';
import type { UsagePeriod } from '@tally/billing-periods';
import type { CreditBalanceService } from '@tally/billing-api';
import type { CatalogProjection, Meter } from '@tally/catalog';
import { USAGE_CATALOG_CACHE, USAGE_CREDITS } from '../usage.tokens';
import { MAX_LIMIT, allSeries, type Series } from '@tally/metering';
import { entitlementLimit, isAllowed } from '../entitlements';
import { QueryRunner } from '../query-runner';
import { UsagePlanner } from '../planner/usage-planner';
import type { BucketRow } from '@tally/clickhouse';
import { seriesValue } from '../rollups/series-value';
import { UsageCatalog } from '../usage-catalog';
import type { CurrentUsageResult, EntitlementResult, UsageSource } from '../usage.types';
import { describeSeries, periodInfo, splitSeriesKey } from './usage-format';

/**
 * `/v1/customers/:id/current-usage` and `/entitlements/:meter`: usage in the customer's current period
 * (the period its next invoice covers, by `@tally/billing-periods`), and that usage against its limit.
 */
@Injectable()
export class CurrentUsageEndpoint {
  constructor(
    @Inject(UsageCatalog) private readonly catalog: UsageCatalog,
    @Inject(UsagePlanner) private readonly planner: UsagePlanner,
    @Inject(QueryRunner) private readonly runner: QueryRunner,
    @Inject(USAGE_CATALOG_CACHE) private readonly cache: Pick<CatalogProjection, 'getCustomer'>,
    @Inject(USAGE_CREDITS) private readonly credits: Pick<CreditBalanceService, 'balance' | 'balances'>,
  ) {}

  /** Every meter's and profile's usage in the customer's current period: one query. */
  async currentUsage(tenant: string, customer: string): Promise<CurrentUsageResult> {
    const period = this.catalog.currentPeriod(tenant, customer);
    const meters = this.catalog.meters(tenant);
    const { totals, source } = await this.totals(
      tenant,
      customer,
      meters.flatMap((m) => allSeries(m).map((s) => ({ meter: m, series: s }))),
      period,
    );
    return {
      customer,
      period: periodInfo(period),
      source,
      usage: meters.flatMap((m) =>
        allSeries(m).map((s) => ({ ...describeSeries(m, s), total: totals.get(s.key) ?? '0' })),
      ),
    };
  }

  /** Usage of one series in the current period against the customer's limit (see entitlements.ts). */
  async entitlement(tenant: string, customer: string, seriesKey: string): Promise<EntitlementResult> {
    const [meterKey, profile] = splitSeriesKey(seriesKey);
    const meter = this.catalog.meter(tenant, meterKey);
    const series = this.catalog.series(meter, profile, true);
    const period = this.catalog.currentPeriod(tenant, customer);
    const { totals } = await this.totals(tenant, customer, [{ meter, series }], period);
    const usage = totals.get(series.key) ?? '0';
    const limit = entitlementLimit({
      series: series.key,
      meter: meter.key,
      profile,
      customer,
      ...this.catalog.limitSources(tenant, customer, period.subscription),
    });
    // A customer with prepaid credit: its balance today, beside the limit (docs/finance.md#prepaid-credits);
    // with unit grants on this meter, the units they still hold today (docs/finance.md#unit-grants).
    const entries = this.cache.getCustomer(tenant, customer)?.billing?.credits ?? [];
    const hasUnitGrants = entries.some((e) => e.type === 'unit_grant' && e.meter === meter.key);
    // One read of the ledger gives both balances.
    const { credit, units } = hasUnitGrants
      ? await this.credits.balances(tenant, customer, meter.key)
      : {
          credit: entries.length > 0 ? await this.credits.balance(tenant, customer) : undefined,
          units: undefined,
        };
    return {
      customer,
      series: series.key,
      meter: meter.key,
      profile: profile ?? null,
      usage,
      limit: limit?.limit ?? null,
      allowed: isAllowed(usage, limit?.limit),
      limitSource: limit?.source ?? null,
      period: periodInfo(period),
      ...(credit
        ? { credit: { currency: credit.currency, balanceMinor: credit.balanceMinor, asOf: credit.asOf } }
        : {}),
      ...(units
        ? { unitGrants: { meter: units.meter, balanceUnits: units.balanceUnits, asOf: units.asOf } }
        : {}),
    };
  }

  /** Several series' totals for one customer: roll-up series from one read of its buckets, the others in UNION ALL scans. */
  private async totals(
    tenant: string,
    customer: string,
    list: Array<{ meter: Meter; series: Series }>,
    period: UsagePeriod,
  ): Promise<{ totals: Map<string, string>; source: UsageSource }> {
    const plan = this.planner.periodTotals(tenant, customer, list, period);
    const [buckets, ...results] = await Promise.all([
      plan.buckets
        ? this.runner.rows<BucketRow>(plan.buckets, MAX_LIMIT, 'current usage', true)
        : Promise.resolve([]),
      ...plan.scans.map((scan) =>
        this.runner.rows<{ series: string; value: string }>(scan.query, scan.series, 'current usage', true),
      ),
    ]);
    const totals = new Map<string, string>();
    for (const row of results.flat()) totals.set(row.series, row.value);
    for (const { series } of plan.rolled) totals.set(series.key, seriesValue(series, buckets));
    return { totals, source: plan.source };
  }
}
