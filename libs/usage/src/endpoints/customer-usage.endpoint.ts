import { Inject, Injectable } from '@nestjs/common';
import { formatDate, localDate, localDayStarts } from '@tally/billing-periods';
import type { BucketRow, PeriodUsageRow } from '@tally/clickhouse';
import { allSeries } from '@tally/metering';
import { ResultTooLargeError } from '../errors';
import { QueryRunner } from '../query-runner';
import { UsagePlanner } from '../planner/usage-planner';
import { seriesValue } from '../rollups/series-value';
import { UsageCatalog } from '../usage-catalog';
import type { CustomerUsageResult } from '../usage.types';
import { describeSeries, iso } from './usage-format';

/** `/v1/customers/:id/usage`: total and per-day usage of every meter and profile (or of `meters`) for one customer. */
@Injectable()
export class CustomerUsageEndpoint {
  constructor(
    @Inject(UsageCatalog) private readonly catalog: UsageCatalog,
    @Inject(UsagePlanner) private readonly planner: UsagePlanner,
    @Inject(QueryRunner) private readonly runner: QueryRunner,
  ) {}

  async customerUsage(
    tenant: string,
    customer: string,
    range: { from: Date; to: Date; timezone: string },
    meterKeys?: string[],
  ): Promise<CustomerUsageResult> {
    const { from, to, timezone } = range;
    this.planner.checkRange(from, to, 'day');
    const meters = this.catalog.meters(tenant, meterKeys);
    const days = localDayStarts(from, to, timezone);
    const seriesCount = meters.reduce((n, m) => n + allSeries(m).length, 0);
    const maxRows = seriesCount * (days.length + 1);
    const { maxResultRows } = this.catalog.limits;
    if (maxRows > maxResultRows) throw new ResultTooLargeError(maxResultRows);

    const plan = this.planner.customerDays(tenant, customer, meters, range);
    const read = <R>(query: Parameters<QueryRunner['rows']>[0]) =>
      this.runner.rows<R>(query, maxRows, 'customer usage', true);
    const [buckets, ...scanned] = await Promise.all([
      plan.buckets ? read<BucketRow>(plan.buckets) : Promise.resolve([]),
      ...plan.scans.map((scan) => read<PeriodUsageRow>(scan.query)),
    ]);
    const totals = new Map<string, string>();
    const perDay = new Map<string, Map<number, string>>();
    for (const row of scanned.flat()) {
      if (row.bucket === 'total') totals.set(row.series, row.value);
      else setDay(perDay, row.series, Number(row.day_start), row.value);
    }
    const byDay = new Map<number, BucketRow[]>();
    for (const row of buckets) {
      const day = Number(row.day_start);
      byDay.set(day, [...(byDay.get(day) ?? []), row]);
    }
    for (const series of plan.rolled.flatMap(allSeries)) {
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
      source: plan.source,
      usage: meters.flatMap((m) =>
        allSeries(m).map((s) => ({
          ...describeSeries(m, s),
          total: totals.get(s.key) ?? '0',
          days: labels.map((label, i) => ({ ...label, value: perDay.get(s.key)?.get(days[i]) ?? '0' })),
        })),
      ),
    };
  }
}

function setDay(perDay: Map<string, Map<number, string>>, series: string, day: number, value: string): void {
  let m = perDay.get(series);
  if (!m) perDay.set(series, (m = new Map()));
  m.set(day, value);
}
