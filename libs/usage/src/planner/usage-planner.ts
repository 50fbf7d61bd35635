import { Inject, Injectable } from '@nestjs/common';
import type { UsagePeriod } from '@tally/billing-periods';
import type { Meter } from '@tally/catalog';
import {
  BY_TIME_TABLE,
  customerPeriodUsage,
  DAILY_TABLE,
  MAX_PERIOD_SERIES,
  meterQuery,
  rollupBuckets,
  rollupMeterQuery,
  rollupTopCustomers,
  seriesTotals,
  seriesUsesRollup,
  type SqlFragment,
  topCustomers,
  wholeUtcDays,
} from '@tally/clickhouse';
import { ValidationFailedError } from '@tally/errors';
import { allSeries, type Filter, type Series, type WindowSize } from '@tally/metering';
import { RangeTooLargeError } from '../errors';
import { QueryRunner } from '../query-runner';
import { meterUsesRollup, monthsOf, rangeUsesRollup } from '../rollups/eligibility';
import { RollupCoverage } from '../rollups/rollup-coverage';
import { USAGE_OPTIONS } from '../usage.tokens';
import type { UsageOptions } from '../usage-options';
import type { MeterQueryRequest, UsageSource } from '../usage.types';

const HOUR = 3600;

/** A planned read: the SQL and where its answer comes from. */
export interface Plan {
  query: SqlFragment;
  source: Exclude<UsageSource, 'mixed'>;
}

/** A customer's several series over one range: roll-up series from one read of its buckets, the rest scanned. */
export interface SeriesPlan<T> {
  rolled: T[];
  scanned: T[];
  /** The customer's roll-up buckets (absent when no series is rolled up). */
  buckets?: SqlFragment;
  /** Scans of `events`, at most `MAX_PERIOD_SERIES` series each, and how many series each reads. */
  scans: Array<{ query: SqlFragment; series: number }>;
  source: UsageSource;
}

/**
 * Decides, per request, whether the hourly roll-up (or the daily tier) gives the same answer as a
 * scan of `events`, and builds the SQL for whichever it picked. The roll-up is used only when it is
 * exact: an eligible aggregation, whole hours (or days in a whole-hour zone), no property filters or
 * groups, and months the coverage check has verified. Refuses ranges too long to answer.
 */
@Injectable()
export class UsagePlanner {
  constructor(
    @Inject(QueryRunner) private readonly runner: QueryRunner,
    @Inject(RollupCoverage) private readonly coverage: RollupCoverage,
    @Inject(USAGE_OPTIONS) private readonly options: UsageOptions,
  ) {}

  private get database(): string {
    return this.runner.database;
  }

  meterQuery(
    tenant: string,
    meter: Meter,
    series: Series,
    request: MeterQueryRequest & { timezone: string; limit: number; perCustomer: boolean; narrow: boolean },
  ): Plan {
    const { from, to, window, timezone, customers, perCustomer, limit } = request;
    this.checkRange(from, to, window);
    const groupBy = request.groupBy ?? [];
    const filters = request.filters ?? [];
    const base = {
      database: this.database,
      tenant,
      from,
      to,
      timezone,
      customers,
      groupByCustomer: perCustomer,
      limit: limit + 1,
    };
    if (
      groupBy.length === 0 &&
      filters.length === 0 &&
      this.rollupUsable([series], from, to, window, timezone)
    ) {
      const tiered = !request.narrow && window === 'none' && this.tieredUsable(from, to);
      const rollupWindow = window as Exclude<WindowSize, 'minute'>;
      return { query: rollupMeterQuery({ ...base, series, window: rollupWindow, tiered }), source: 'rollup' };
    }
    const query = meterQuery({
      ...base,
      meter,
      profile: request.profile,
      window,
      groupBy,
      extraFilters: filters,
    });
    return { query, source: 'events' };
  }

  topCustomers(
    tenant: string,
    meter: Meter,
    series: Series,
    request: { profile?: string; from: Date; to: Date; limit: number; filters?: Filter[] },
  ): Plan {
    const { from, to, limit } = request;
    this.checkRange(from, to, 'none');
    const filters = request.filters ?? [];
    const params = { database: this.database, tenant, from, to, limit };
    if (filters.length === 0 && this.rollupUsable([series], from, to, 'none', 'UTC')) {
      return {
        query: rollupTopCustomers({ ...params, series, tiered: this.tieredUsable(from, to) }),
        source: 'rollup',
      };
    }
    return {
      query: topCustomers({ ...params, meter, profile: request.profile, extraFilters: filters }),
      source: 'events',
    };
  }

  /** Per-customer totals of one series (for alerts): of `customers`, or of every customer with usage. */
  customerTotals(
    tenant: string,
    meter: Meter,
    series: Series,
    range: { from: Date; to: Date },
    customers: string[] | undefined,
    limit: number,
  ): Plan {
    const base = {
      database: this.database,
      tenant,
      from: range.from,
      to: range.to,
      customers,
      groupByCustomer: true,
    };
    const common = { window: 'none' as const, timezone: 'UTC', limit: limit + 1 };
    if (this.rollupUsable([series], range.from, range.to, 'none', 'UTC')) {
      const tiered = customers === undefined && this.tieredUsable(range.from, range.to);
      return { query: rollupMeterQuery({ ...base, ...common, series, tiered }), source: 'rollup' };
    }
    return { query: meterQuery({ ...base, ...common, meter, profile: series.profile }), source: 'events' };
  }

  /** Totals of several series for one customer over its period (current usage, entitlements). */
  periodTotals<T extends { meter: Meter; series: Series }>(
    tenant: string,
    customer: string,
    list: readonly T[],
    period: UsagePeriod,
  ): SeriesPlan<T> {
    const rollupOk = this.rollupUsable([], period.from, period.to, 'none', period.timezone);
    const rolled = list.filter(({ series }) => rollupOk && seriesUsesRollup(series));
    const scanned = list.filter((item) => !rolled.includes(item));
    const base = { database: this.database, tenant, from: period.from, to: period.to };
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
    const scans: SeriesPlan<T>['scans'] = [];
    for (let i = 0; i < parts.length; i += MAX_PERIOD_SERIES) {
      const chunk = parts.slice(i, i + MAX_PERIOD_SERIES);
      scans.push({ query: seriesTotals(chunk), series: chunk.length });
    }
    const eventTypes = [...new Set(rolled.flatMap((r) => r.series.eventTypes))];
    return {
      rolled,
      scanned,
      ...(rolled.length ? { buckets: rollupBuckets({ ...base, customer, eventTypes }) } : {}),
      scans,
      source: list.length === 0 ? 'events' : sourceOf(rolled.length, scanned.length),
    };
  }

  /** Totals and local days of every series of `meters` for one customer (customer usage; the caller checked the range). */
  customerDays(
    tenant: string,
    customer: string,
    meters: readonly Meter[],
    range: { from: Date; to: Date; timezone: string },
  ): SeriesPlan<Meter> {
    const { from, to, timezone } = range;
    const rolled = meters.filter(
      (m) => meterUsesRollup(m) && this.rollupUsable(allSeries(m), from, to, 'day', timezone),
    );
    const scanned = meters.filter((m) => !rolled.includes(m));
    const base = { database: this.database, tenant, customer, from, to };
    const scans = chunkBySeries(scanned).map((group) => ({
      query: customerPeriodUsage({ ...base, meters: group, timezone }),
      series: group.reduce((n, m) => n + allSeries(m).length, 0),
    }));
    const eventTypes = [...new Set(rolled.flatMap((m) => m.eventTypes))];
    return {
      rolled,
      scanned,
      ...(rolled.length ? { buckets: rollupBuckets({ ...base, eventTypes, byDayIn: timezone }) } : {}),
      scans,
      source: sourceOf(rolled.length, scanned.length),
    };
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

  /** Whether whole UTC days of the range can come from the daily roll-up (see `tiered` in @tally/clickhouse's rollup-meter-query.ts). */
  private tieredUsable(from: Date, to: Date): boolean {
    return (
      wholeUtcDays(from, to) !== undefined &&
      this.coverage.covers(monthsOf(from, to), [DAILY_TABLE, BY_TIME_TABLE])
    );
  }

  /** Refuses ranges longer than `maxRangeDays` and windowed queries with more windows than rows allowed. */
  checkRange(from: Date, to: Date, window: WindowSize): void {
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

export function sourceOf(rollup: number, scanned: number): UsageSource {
  return scanned === 0 ? (rollup === 0 ? 'events' : 'rollup') : rollup === 0 ? 'events' : 'mixed';
}

function chunkBySeries(meters: readonly Meter[]): Meter[][] {
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
