import type { Meter } from '@tally/catalog';
import {
  MAX_PERIOD_SERIES,
  meterQuery,
  rollupMeterQuery,
  rollupTopCustomers,
  topCustomers,
  type RollupTable,
} from '@tally/clickhouse';
import { ValidationFailedError } from '@tally/errors';
import { parseMeterDefinition, resolveSeries } from '@tally/metering';
import { RangeTooLargeError } from '../errors';
import type { QueryRunner } from '../query-runner';
import type { RollupCoverage } from '../rollups/rollup-coverage';
import { USAGE_DEFAULTS, type UsageOptions } from '../usage-options';
import { sourceOf, UsagePlanner } from './usage-planner';

// Pure unit: the planner only reads the database name and asks the coverage which months are trusted.
const runner = { database: 'tally' } as QueryRunner;

/** A coverage that trusts `tables` for every month (none when empty). */
function coverage(tables: readonly RollupTable[]): RollupCoverage {
  return {
    covers: (_months: readonly number[], asked: readonly RollupTable[] = ['usage_hourly']) =>
      asked.every((t) => tables.includes(t)),
  } as RollupCoverage;
}

const ALL: RollupTable[] = ['usage_hourly', 'usage_daily', 'usage_hourly_by_time'];

function planner(over: Partial<UsageOptions> = {}, tables: readonly RollupTable[] = ALL): UsagePlanner {
  return new UsagePlanner(runner, coverage(tables), { ...USAGE_DEFAULTS, ...over });
}

const meter = (input: Record<string, unknown>): Meter => ({
  ...parseMeterDefinition({ key: 'calls', name: 'Calls', eventTypes: ['call'], aggregation: 'count', ...input }),
  tenant: 'acme',
  version: 1,
});

const calls = meter({ groupBy: ['region'] });
const users = meter({ key: 'users', aggregation: 'unique_count', valueProperty: 'user' });
const FROM = new Date('2026-03-01T05:00:00Z');
const TO = new Date('2026-03-04T05:00:00Z');
const request = {
  meter: 'calls',
  from: FROM,
  to: TO,
  window: 'none' as const,
  timezone: 'UTC',
  limit: 100,
  perCustomer: true,
  narrow: false,
};

describe('UsagePlanner.meterQuery', () => {
  it('reads the roll-up when it is exact, tiered over whole days for wide questions', () => {
    const series = resolveSeries(calls);
    const plan = planner().meterQuery('acme', calls, series, request);
    const base = { database: 'tally', tenant: 'acme', from: FROM, to: TO, timezone: 'UTC', customers: undefined, groupByCustomer: true, limit: 101 };
    expect(plan.source).toBe('rollup');
    expect(plan.query.text).toBe(rollupMeterQuery({ ...base, series, window: 'none', tiered: true }).text);
    expect(plan.query.text).toContain('usage_daily');
    // One customer's narrow question stays on the customer-first hourly table.
    const narrow = planner().meterQuery('acme', calls, series, { ...request, narrow: true });
    expect(narrow.query.text).toBe(rollupMeterQuery({ ...base, series, window: 'none', tiered: false }).text);
    // Without the daily tiers' coverage, the hourly roll-up alone.
    expect(planner({}, ['usage_hourly']).meterQuery('acme', calls, series, request).query.text).not.toContain('usage_daily');
  });

  it('scans events for filters, groups, uncovered months, disabled roll-ups, odd zones and unique counts', () => {
    const series = resolveSeries(calls);
    const scan = (p: UsagePlanner, over: Record<string, unknown> = {}, m: Meter = calls) =>
      p.meterQuery('acme', m, resolveSeries(m), { ...request, ...over });
    expect(scan(planner(), { filters: [{ property: 'region', operator: 'eq', value: 'eu' }] }).source).toBe('events');
    expect(scan(planner(), { groupBy: ['region'] }).source).toBe('events');
    expect(scan(planner({}, [])).source).toBe('events');
    expect(scan(planner({ rollups: false })).source).toBe('events');
    expect(scan(planner(), { window: 'day', timezone: 'Asia/Kolkata' }).source).toBe('events');
    expect(scan(planner(), { from: new Date('2026-03-01T05:30:00Z') }).source).toBe('events');
    expect(scan(planner(), {}, users).source).toBe('events');
    const plan = scan(planner({ rollups: false }));
    expect(plan.query.text).toBe(
      meterQuery({
        database: 'tally',
        tenant: 'acme',
        from: FROM,
        to: TO,
        timezone: 'UTC',
        customers: undefined,
        groupByCustomer: true,
        limit: 101,
        meter: calls,
        profile: series.profile,
        window: 'none',
        groupBy: [],
        extraFilters: [],
      }).text,
    );
  });
});

describe('UsagePlanner.topCustomers', () => {
  it('ranks from the roll-up unless a filter needs the events', () => {
    const series = resolveSeries(calls);
    const params = { from: FROM, to: TO, limit: 5 };
    const rolled = planner().topCustomers('acme', calls, series, params);
    expect(rolled).toEqual({
      source: 'rollup',
      query: rollupTopCustomers({ database: 'tally', tenant: 'acme', ...params, series, tiered: true }),
    });
    const filters = [{ property: 'region', operator: 'exists' as const }];
    const scanned = planner().topCustomers('acme', calls, series, { ...params, filters });
    expect(scanned).toEqual({
      source: 'events',
      query: topCustomers({ database: 'tally', tenant: 'acme', ...params, meter: calls, profile: undefined, extraFilters: filters }),
    });
  });
});

describe('UsagePlanner.checkRange', () => {
  it('refuses empty ranges, ranges over maxRangeDays and more windows than rows an answer may have', () => {
    const p = planner({ maxRangeDays: 10, maxResultRows: 100 });
    expect(() => p.checkRange(TO, FROM, 'none')).toThrow(ValidationFailedError);
    expect(() => p.checkRange(FROM, FROM, 'none')).toThrow(ValidationFailedError);
    expect(() => p.checkRange(FROM, new Date(FROM.getTime() + 11 * 86_400_000), 'none')).toThrow(RangeTooLargeError);
    expect(() => p.checkRange(FROM, TO, 'minute')).toThrow(/more than the 100 rows/);
    expect(() => p.checkRange(FROM, TO, 'hour')).not.toThrow(); // 72 hours
    expect(() => p.checkRange(FROM, new Date(FROM.getTime() + 10 * 86_400_000), 'day')).not.toThrow();
  });
});

describe('UsagePlanner.periodTotals', () => {
  const period = { from: FROM, to: TO, timezone: 'UTC' } as Parameters<UsagePlanner['periodTotals']>[3];

  it("rolls up what it can from one read of the customer's buckets and scans the rest in chunks", () => {
    const scannedMeters = Array.from({ length: MAX_PERIOD_SERIES + 1 }, (_, i) =>
      meter({ key: `u${i}`, aggregation: 'unique_count', valueProperty: 'user' }),
    );
    const list = [calls, ...scannedMeters].map((m) => ({ meter: m, series: resolveSeries(m) }));
    const plan = planner().periodTotals('acme', 'c1', list, period);
    expect(plan.rolled.map((r) => r.meter.key)).toEqual(['calls']);
    expect(plan.scanned).toHaveLength(MAX_PERIOD_SERIES + 1);
    expect(plan.scans.map((s) => s.series)).toEqual([MAX_PERIOD_SERIES, 1]);
    expect(plan.buckets?.text).toContain("customer = 'c1' AND event_type IN ('call')");
    expect(plan.source).toBe('mixed');
  });

  it('scans everything when the roll-ups are off, and plans nothing for no series', () => {
    const list = [{ meter: calls, series: resolveSeries(calls) }];
    const off = planner({ rollups: false }).periodTotals('acme', 'c1', list, period);
    expect(off).toMatchObject({ rolled: [], source: 'events' });
    expect(off.buckets).toBeUndefined();
    expect(planner().periodTotals('acme', 'c1', [], period)).toEqual({ rolled: [], scanned: [], scans: [], source: 'events' });
  });
});

describe('UsagePlanner.customerDays', () => {
  it('rolls up meters whose every series the roll-up holds, by local day', () => {
    const range = { from: FROM, to: TO, timezone: 'America/New_York' };
    const plan = planner().customerDays('acme', 'c1', [calls, users], range);
    expect(plan.rolled).toEqual([calls]);
    expect(plan.scanned).toEqual([users]);
    expect(plan.buckets?.text).toContain("toStartOfDay(hour, 'America/New_York')");
    expect(plan.scans).toHaveLength(1);
    expect(plan.source).toBe('mixed');
    expect(planner().customerDays('acme', 'c1', [calls], { ...range, timezone: 'Asia/Kolkata' }).source).toBe('events');
  });
});

describe('sourceOf', () => {
  it('names where an answer of rolled and scanned parts came from', () => {
    expect(sourceOf(0, 0)).toBe('events');
    expect(sourceOf(2, 0)).toBe('rollup');
    expect(sourceOf(0, 2)).toBe('events');
    expect(sourceOf(1, 1)).toBe('mixed');
  });
});
