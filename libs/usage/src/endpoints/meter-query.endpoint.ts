import { Inject, Injectable } from '@nestjs/common';
import type { Meter } from '@tally/catalog';
import type { Filter, Series } from '@tally/metering';
import { QueryRunner } from '../query-runner';
import { UsagePlanner } from '../planner/usage-planner';
import { UsageCatalog } from '../usage-catalog';
import type { MeterQueryRequest, MeterQueryResult, TopCustomersResult } from '../usage.types';
import { iso, windowBounds } from './usage-format';

/** Queries about this many customers or fewer read little: one ClickHouse thread each (see QueryRunner). */
const NARROW_CUSTOMERS = 10;

/**
 * `/v1/meters/:key/query` and `/v1/meters/:key/top-customers`, and the per-customer totals the alert
 * evaluator reads: one meter's usage for one tenant (the caller's), planned by `UsagePlanner`.
 */
@Injectable()
export class MeterQueryEndpoint {
  constructor(
    @Inject(UsageCatalog) private readonly catalog: UsageCatalog,
    @Inject(UsagePlanner) private readonly planner: UsagePlanner,
    @Inject(QueryRunner) private readonly runner: QueryRunner,
  ) {}

  async meterQuery(tenant: string, request: MeterQueryRequest): Promise<MeterQueryResult> {
    const meter = this.catalog.meter(tenant, request.meter);
    const series = this.catalog.series(meter, request.profile);
    const timezone =
      request.timezone ??
      (request.customers?.length === 1
        ? this.catalog.customerZone(tenant, request.customers[0])
        : this.catalog.tenantZone(tenant));
    const limit = request.limit ?? this.catalog.limits.maxResultRows;
    const perCustomer = request.perCustomer || request.customers !== undefined;
    const narrow = request.customers !== undefined && request.customers.length <= NARROW_CUSTOMERS;
    const plan = this.planner.meterQuery(tenant, meter, series, {
      ...request,
      timezone,
      limit,
      perCustomer,
      narrow,
    });
    const rows = await this.runner.rows<Record<string, string>>(plan.query, limit, 'meter query', narrow);
    const groupBy = request.groupBy ?? [];
    return {
      meter: meter.key,
      profile: request.profile ?? null,
      series: series.key,
      aggregation: series.aggregation,
      from: request.from.toISOString(),
      to: request.to.toISOString(),
      window: request.window,
      timezone,
      source: plan.source,
      rows: rows.map((row) => {
        const [start, end] =
          request.window === 'none'
            ? [request.from.getTime() / 1000, request.to.getTime() / 1000]
            : windowBounds(request.window, Number(row.window_start), timezone);
        const groups: Record<string, string> = {};
        groupBy.forEach((property, i) => (groups[property] = row[`group_${i}`]));
        return {
          windowStart: iso(start),
          windowEnd: iso(end),
          ...(perCustomer ? { customer: row.customer } : {}),
          groups,
          value: row.value,
        };
      }),
    };
  }

  async topCustomers(
    tenant: string,
    request: { meter: string; profile?: string; from: Date; to: Date; limit: number; filters?: Filter[] },
  ): Promise<TopCustomersResult> {
    const meter = this.catalog.meter(tenant, request.meter);
    const series = this.catalog.series(meter, request.profile);
    const plan = this.planner.topCustomers(tenant, meter, series, request);
    const rows = await this.runner.rows<{ customer: string; value: string }>(
      plan.query,
      request.limit,
      'top customers',
    );
    return {
      meter: meter.key,
      profile: request.profile ?? null,
      series: series.key,
      from: request.from.toISOString(),
      to: request.to.toISOString(),
      source: plan.source,
      customers: rows.map((r) => ({ customer: r.customer, value: r.value })),
    };
  }

  /**
   * Per-customer totals of one series over `[from, to)`: of `customers`, or of every customer with
   * usage when absent. Customers without usage are not listed.
   */
  async customerTotals(
    tenant: string,
    meter: Meter,
    series: Series,
    range: { from: Date; to: Date },
    customers?: string[],
  ): Promise<Array<{ customer: string; value: string }>> {
    const limit = 1_000_000;
    const plan = this.planner.customerTotals(tenant, meter, series, range, customers, limit);
    return this.runner.rows<{ customer: string; value: string }>(plan.query, limit, 'alert usage');
  }
}
