import { Inject, Injectable } from '@nestjs/common';
import { type CatalogProjection, customerTimeZone, type Meter } from '@tally/catalog';
import {
  customerPeriodUsage,
  MAX_PERIOD_SERIES,
  meterQuery,
  type PeriodUsageRow,
  topCustomers,
} from '@tally/clickhouse';
import { NotFoundError, ValidationFailedError } from '@tally/errors';
import {
  allSeries,
  type Filter,
  MAX_LIMIT,
  resolveSeries,
  type Series,
  windowStartOf,
  type WindowSize,
} from '@tally/metering';
import { entitlementLimit, isAllowed, type LimitSource } from './entitlements';
import { RangeTooLargeError, ResultTooLargeError } from './errors';
import { currentPeriod, formatDate, localDate, localDayStarts, type UsagePeriod } from '@tally/billing-periods';
import { QueryRunner } from './query-runner';
import { meterUsesRollup, monthsOf, rangeUsesRollup, seriesUsesRollup } from './rollups/eligibility';
import { RollupCoverage } from './rollups/rollup-coverage';
import { type BucketRow, rollupBuckets, seriesValue } from './rollups/rollup-buckets';
import {
  BY_TIME_TABLE,
  DAILY_TABLE,
  rollupMeterQuery,
  rollupTopCustomers,
  seriesTotals,
  wholeUtcDays,
} from './rollups/rollup-sql';
import { USAGE_CATALOG_CACHE, USAGE_CLOCK, USAGE_OPTIONS } from './usage.tokens';
import type { UsageOptions } from './usage-options';

/** Where an answer was computed: the hourly roll-up, a scan of `events`, or both (several meters). */
export type UsageSource = 'rollup' | 'events' | 'mixed';

export interface MeterQueryRequest {
  meter: string;
  profile?: string;
  from: Date;
  to: Date;
  window: WindowSize;
  /** IANA zone of hour/day/month windows; default: the one customer's zone, else the tenant's. */
  timezone?: string;
  customers?: string[];
  /** One row per customer (implied when `customers` is given). */
  perCustomer?: boolean;
  groupBy?: string[];
  filters?: Filter[];
  /** Most rows accepted; more is `RESULT_TOO_LARGE`. Default and maximum: `maxResultRows`. */
  limit?: number;
}

export interface MeterQueryRow {
  windowStart: string;
  windowEnd: string;
  customer?: string;
  groups: Record<string, string>;
  value: string;
}

export interface MeterQueryResult {
  meter: string;
  profile: string | null;
  series: string;
  aggregation: string;
  from: string;
  to: string;
  window: WindowSize;
  timezone: string;
  source: UsageSource;
  rows: MeterQueryRow[];
}

export interface DayUsage {
  /** Local calendar date `YYYY-MM-DD` in the response's zone. */
  date: string;
  start: string;
  end: string;
  value: string;
}

export interface SeriesUsage {
  series: string;
  meter: string;
  profile: string | null;
  name: string;
  aggregation: string;
  total: string;
  days?: DayUsage[];
}

export interface CustomerUsageResult {
  customer: string;
  timezone: string;
  from: string;
  to: string;
  source: UsageSource;
  usage: SeriesUsage[];
}

export interface PeriodInfo {
  from: string;
  to: string;
  timezone: string;
  source: UsagePeriod['source'];
  subscription: string | null;
  plan: string | null;
}

export interface CurrentUsageResult {
  customer: string;
  period: PeriodInfo;
  source: UsageSource;
  usage: SeriesUsage[];
}

export interface TopCustomersResult {
  meter: string;
  profile: string | null;
  series: string;
  from: string;
  to: string;
  source: UsageSource;
  customers: Array<{ customer: string; value: string }>;
}

export interface EntitlementResult {
  customer: string;
  series: string;
  meter: string;
  profile: string | null;
  usage: string;
  limit: string | null;
  allowed: boolean;
  limitSource: LimitSource | null;
  period: PeriodInfo;
}

const HOUR = 3600;
/** Queries about this many customers or fewer read little: one ClickHouse thread each (see QueryRunner). */
const NARROW_CUSTOMERS = 10;

/**
 * Usage answers for one tenant at a time: every method takes the tenant of the caller's API key and
 * puts it into every query, so no parameter can reach another tenant's rows. Meters come from the
 * catalog (identifiers never come from the request); each query runs on the hourly roll-up when it
 * gives the same answer as a scan of `events`, and scans `events` otherwise.
 */
@Injectable()
export class UsageService {
  constructor(
    @Inject(USAGE_CATALOG_CACHE) private readonly catalog: CatalogProjection,
    @Inject(QueryRunner) private readonly runner: QueryRunner,
    @Inject(RollupCoverage) private readonly coverage: RollupCoverage,
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

  // ------------------------------------------------------------------------------------- meter query

  async meterQuery(tenant: string, request: MeterQueryRequest): Promise<MeterQueryResult> {
    const meter = this.meter(tenant, request.meter);
    const series = this.series(meter, request.profile);
    const timezone =
      request.timezone ??
      (request.customers?.length === 1
        ? this.customerZone(tenant, request.customers[0])
        : this.tenantZone(tenant));
    const limit = request.limit ?? this.options.maxResultRows;
    this.checkRange(request.from, request.to, request.window);
    const groupBy = request.groupBy ?? [];
    const filters = request.filters ?? [];
    const perCustomer = request.perCustomer || request.customers !== undefined;
    const narrow = request.customers !== undefined && request.customers.length <= NARROW_CUSTOMERS;
    const rollup =
      groupBy.length === 0 &&
      filters.length === 0 &&
      this.rollupUsable([series], request.from, request.to, request.window, timezone);
    const query = rollup
      ? rollupMeterQuery({
          database: this.runner.database,
          tenant,
          series,
          from: request.from,
          to: request.to,
          window: request.window as Exclude<WindowSize, 'minute'>,
          timezone,
          customers: request.customers,
          groupByCustomer: perCustomer,
          limit: limit + 1,
          tiered: !narrow && request.window === 'none' && this.tieredUsable(request.from, request.to),
        })
      : meterQuery({
          database: this.runner.database,
          tenant,
          meter,
          profile: request.profile,
          from: request.from,
          to: request.to,
          window: request.window,
          timezone,
          customers: request.customers,
          groupByCustomer: perCustomer,
          groupBy,
          extraFilters: filters,
          limit: limit + 1,
        });
    const rows = await this.runner.rows<Record<string, string>>(query, limit, 'meter query', narrow);
    return {
      meter: meter.key,
      profile: request.profile ?? null,
      series: series.key,
      aggregation: series.aggregation,
      from: request.from.toISOString(),
      to: request.to.toISOString(),
      window: request.window,
      timezone,
      source: rollup ? 'rollup' : 'events',
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

  // ---------------------------------------------------------------------------------- customer usage

  /** Total and per-day usage of every meter and profile (or of `meters`) for one customer. */
  async customerUsage(
    tenant: string,
    customer: string,
    range: { from: Date; to: Date; timezone: string },
    meterKeys?: string[],
  ): Promise<CustomerUsageResult> {
    const { from, to, timezone } = range;
    this.checkRange(from, to, 'day');
    const meters = this.meters(tenant, meterKeys);
    const days = localDayStarts(from, to, timezone);
    const seriesCount = meters.reduce((n, m) => n + allSeries(m).length, 0);
    const maxRows = seriesCount * (days.length + 1);
    if (maxRows > this.options.maxResultRows) throw new ResultTooLargeError(this.options.maxResultRows);

    const rollupMeters = meters.filter(
      (m) => meterUsesRollup(m) && this.rollupUsable(allSeries(m), from, to, 'day', timezone),
    );
    const scanMeters = meters.filter((m) => !rollupMeters.includes(m));
    const totals = new Map<string, string>();
    const perDay = new Map<string, Map<number, string>>();
    const scans = chunkBySeries(scanMeters).map((group) =>
      this.runner.rows<PeriodUsageRow>(
        customerPeriodUsage({
          database: this.runner.database,
          tenant,
          customer,
          meters: group,
          from,
          to,
          timezone,
        }),
        maxRows,
        'customer usage',
        true,
      ),
    );
    const rolled = rollupMeters.length
      ? this.runner.rows<BucketRow>(
          rollupBuckets({
            database: this.runner.database,
            tenant,
            customer,
            eventTypes: eventTypesOf(rollupMeters),
            from,
            to,
            byDayIn: timezone,
          }),
          maxRows,
          'customer usage',
          true,
        )
      : Promise.resolve([]);
    const [buckets, ...scanned] = await Promise.all([rolled, ...scans]);
    for (const row of scanned.flat()) {
      if (row.bucket === 'total') totals.set(row.series, row.value);
      else setDay(perDay, row.series, Number(row.day_start), row.value);
    }
    const byDay = new Map<number, BucketRow[]>();
    for (const row of buckets) {
      const day = Number(row.day_start);
      byDay.set(day, [...(byDay.get(day) ?? []), row]);
    }
    for (const series of rollupMeters.flatMap(allSeries)) {
      totals.set(series.key, seriesValue(series, buckets));
      for (const [day, rows] of byDay) setDay(perDay, series.key, day, seriesValue(series, rows));
    }
    const labels = days.map((start, i) => ({
      date: formatDate(localDate(new Date(start * 1000), timezone)),
      start: iso(Math.max(start, from.getTime() / 1000)),
      end: iso(Math.min(days[i + 1] ?? to.getTime() / 1000, to.getTime() / 1000)),
    }));
    return {
      customer,
      timezone,
      from: from.toISOString(),
      to: to.toISOString(),
      source: sourceOf(rollupMeters.length, scanMeters.length),
      usage: meters.flatMap((m) =>
        allSeries(m).map((s) => ({
          ...describeSeries(m, s),
          total: totals.get(s.key) ?? '0',
          days: labels.map((label, i) => ({ ...label, value: perDay.get(s.key)?.get(days[i]) ?? '0' })),
        })),
      ),
    };
  }

  // ---------------------------------------------------------------------------------- current usage

  /** Every meter's and profile's usage in the customer's current period: one query. */
  async currentUsage(tenant: string, customer: string): Promise<CurrentUsageResult> {
    const period = this.currentPeriod(tenant, customer);
    const meters = this.meters(tenant);
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

  // ------------------------------------------------------------------------------------ entitlement

  /** Usage of one series in the current period against the customer's limit (see entitlements.ts). */
  async entitlement(tenant: string, customer: string, seriesKey: string): Promise<EntitlementResult> {
    const [meterKey, profile] = splitSeriesKey(seriesKey);
    const meter = this.meter(tenant, meterKey);
    const series = this.series(meter, profile, true);
    const period = this.currentPeriod(tenant, customer);
    const { totals } = await this.totals(tenant, customer, [{ meter, series }], period);
    const usage = totals.get(series.key) ?? '0';
    const subscription = period.subscription
      ? this.catalog.subscriptionsOf(tenant, customer).find((s) => s.id === period.subscription)
      : undefined;
    const limit = entitlementLimit({
      series: series.key,
      meter: meter.key,
      profile,
      customer,
      subscription,
      plan: subscription ? this.catalog.getPlan(tenant, subscription.plan) : undefined,
      alertRules: this.catalog.listAlertRules(tenant),
    });
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
    };
  }

  // ---------------------------------------------------------------------------------- top customers

  async topCustomers(
    tenant: string,
    request: { meter: string; profile?: string; from: Date; to: Date; limit: number; filters?: Filter[] },
  ): Promise<TopCustomersResult> {
    const meter = this.meter(tenant, request.meter);
    const series = this.series(meter, request.profile);
    this.checkRange(request.from, request.to, 'none');
    const filters = request.filters ?? [];
    const rollup =
      filters.length === 0 && this.rollupUsable([series], request.from, request.to, 'none', 'UTC');
    const params = {
      database: this.runner.database,
      tenant,
      from: request.from,
      to: request.to,
      limit: request.limit,
    };
    const query = rollup
      ? rollupTopCustomers({ ...params, series, tiered: this.tieredUsable(request.from, request.to) })
      : topCustomers({ ...params, meter, profile: request.profile, extraFilters: filters });
    const rows = await this.runner.rows<{ customer: string; value: string }>(
      query,
      request.limit,
      'top customers',
    );
    return {
      meter: meter.key,
      profile: request.profile ?? null,
      series: series.key,
      from: request.from.toISOString(),
      to: request.to.toISOString(),
      source: rollup ? 'rollup' : 'events',
      customers: rows.map((r) => ({ customer: r.customer, value: r.value })),
    };
  }

  // ------------------------------------------------------------------------------------ for alerts

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
    const base = {
      database: this.runner.database,
      tenant,
      from: range.from,
      to: range.to,
      customers,
      groupByCustomer: true,
    };
    const rollup = this.rollupUsable([series], range.from, range.to, 'none', 'UTC');
    const query = rollup
      ? rollupMeterQuery({
          ...base,
          series,
          window: 'none',
          timezone: 'UTC',
          limit: limit + 1,
          tiered: customers === undefined && this.tieredUsable(range.from, range.to),
        })
      : meterQuery({
          ...base,
          meter,
          profile: series.profile,
          window: 'none',
          timezone: 'UTC',
          limit: limit + 1,
        });
    return this.runner.rows<{ customer: string; value: string }>(query, limit, 'alert usage');
  }

  // --------------------------------------------------------------------------------------- helpers

  private series(meter: Meter, profile: string | undefined, notFound = false): Series {
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

  private meters(tenant: string, keys?: string[]): Meter[] {
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

  /**
   * Several series' totals for one customer: the roll-up series from one read of the customer's
   * roll-up rows, the others in one UNION ALL scan of `events` (both at once).
   */
  private async totals(
    tenant: string,
    customer: string,
    list: Array<{ meter: Meter; series: Series }>,
    period: UsagePeriod,
  ): Promise<{ totals: Map<string, string>; source: UsageSource }> {
    const totals = new Map<string, string>();
    const rollupOk = this.rollupUsable([], period.from, period.to, 'none', period.timezone);
    const rolled = list.filter(({ series }) => rollupOk && seriesUsesRollup(series));
    const scanned = list.filter((item) => !rolled.includes(item));
    const base = { database: this.runner.database, tenant, from: period.from, to: period.to };
    const parts = scanned.map(({ meter, series }) => ({
      key: series.key,
      query: meterQuery({
        ...base,
        customers: [customer],
        limit: 1,
        meter,
        profile: series.profile,
        window: 'none',
        timezone: period.timezone,
      }),
    }));
    const chunks: Array<typeof parts> = [];
    for (let i = 0; i < parts.length; i += MAX_PERIOD_SERIES)
      chunks.push(parts.slice(i, i + MAX_PERIOD_SERIES));
    const bucketQuery = rolled.length
      ? this.runner.rows<BucketRow>(
          rollupBuckets({
            ...base,
            customer,
            eventTypes: [...new Set(rolled.flatMap((r) => r.series.eventTypes))],
          }),
          MAX_LIMIT,
          'current usage',
          true,
        )
      : Promise.resolve([]);
    const [buckets, ...results] = await Promise.all([
      bucketQuery,
      ...chunks.map((c) =>
        this.runner.rows<{ series: string; value: string }>(seriesTotals(c), c.length, 'current usage', true),
      ),
    ]);
    for (const row of results.flat()) totals.set(row.series, row.value);
    for (const { series } of rolled) totals.set(series.key, seriesValue(series, buckets));
    return { totals, source: list.length === 0 ? 'events' : sourceOf(rolled.length, scanned.length) };
  }

  private rollupUsable(
    series: Series[],
    from: Date,
    to: Date,
    window: WindowSize,
    timezone: string,
  ): boolean {
    return (
      this.options.rollups &&
      series.every(seriesUsesRollup) &&
      rangeUsesRollup(from, to, window, timezone) &&
      this.coverage.covers(monthsOf(from, to))
    );
  }

  /** Whether whole UTC days of the range can come from the daily roll-up (see rollup-sql.ts, tiered). */
  private tieredUsable(from: Date, to: Date): boolean {
    return (
      wholeUtcDays(from, to) !== undefined &&
      this.coverage.covers(monthsOf(from, to), [DAILY_TABLE, BY_TIME_TABLE])
    );
  }

  /** Refuses ranges longer than `maxRangeDays` and windowed queries with more windows than rows allowed. */
  private checkRange(from: Date, to: Date, window: WindowSize): void {
    const seconds = (to.getTime() - from.getTime()) / 1000;
    if (seconds <= 0) {
      throw new ValidationFailedError([
        { field: 'to', code: 'EMPTY_RANGE', message: 'to must be after from' },
      ]);
    }
    if (seconds > this.options.maxRangeDays * 86_400) {
      throw new RangeTooLargeError(`The range is longer than ${this.options.maxRangeDays} days`);
    }
    const windowSeconds = { minute: 60, hour: HOUR, day: 23 * HOUR, month: 28 * 86_400, none: Infinity }[
      window
    ];
    const windows = Math.ceil(seconds / windowSeconds);
    if (windows > this.options.maxResultRows) {
      throw new RangeTooLargeError(
        `The range holds about ${windows} ${window} windows, more than the ${this.options.maxResultRows} rows an answer may have; use a coarser window or a shorter range`,
      );
    }
  }
}

function setDay(perDay: Map<string, Map<number, string>>, series: string, day: number, value: string): void {
  let m = perDay.get(series);
  if (!m) perDay.set(series, (m = new Map()));
  m.set(day, value);
}

function eventTypesOf(meters: readonly Meter[]): string[] {
  return [...new Set(meters.flatMap((m) => m.eventTypes))];
}

function chunkBySeries(meters: Meter[]): Meter[][] {
  const groups: Meter[][] = [];
  let current: Meter[] = [];
  let count = 0;
  for (const m of meters) {
    const n = allSeries(m).length;
    if (count + n > MAX_PERIOD_SERIES && current.length) {
      groups.push(current);
      current = [];
      count = 0;
    }
    current.push(m);
    count += n;
  }
  if (current.length) groups.push(current);
  return groups;
}

function describeSeries(meter: Meter, series: Series): Omit<SeriesUsage, 'total' | 'days'> {
  const profile =
    series.profile === undefined ? undefined : meter.profiles.find((p) => p.key === series.profile);
  return {
    series: series.key,
    meter: meter.key,
    profile: series.profile ?? null,
    name: profile?.name ?? meter.name,
    aggregation: series.aggregation,
  };
}

function sourceOf(rollup: number, scanned: number): UsageSource {
  return scanned === 0 ? (rollup === 0 ? 'events' : 'rollup') : rollup === 0 ? 'events' : 'mixed';
}

function periodInfo(period: UsagePeriod): PeriodInfo {
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    timezone: period.timezone,
    source: period.source,
    subscription: period.subscription ?? null,
    plan: period.plan ?? null,
  };
}

/** `meter` or `meter:profile`. */
export function splitSeriesKey(key: string): [string, string | undefined] {
  const i = key.indexOf(':');
  return i < 0 ? [key, undefined] : [key.slice(0, i), key.slice(i + 1)];
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

/** The window that starts at `start` (epoch seconds, as the SQL reports it): `[start, next start)`. */
export function windowBounds(
  window: Exclude<WindowSize, 'none'>,
  start: number,
  timeZone: string,
): [number, number] {
  switch (window) {
    case 'minute':
      return [start, start + 60];
    case 'hour':
      return [start, start + HOUR];
    case 'day':
      // A local day lasts 23 to 25 hours: 26 hours on is inside the next one.
      return [start, windowStartOf('day', start + 26 * HOUR, timeZone)];
    case 'month':
      return [start, windowStartOf('month', start + 32 * 86_400, timeZone)];
  }
}
