import { resolveSeries } from '@tally/metering';
import { rollupMeterQuery } from './rollup-meter-query';
import { wholeUtcDays } from './rollup-sql-parts';
import { rollupTopCustomers } from './rollup-top-customers';
import { FROM, meter, TO, WHERE_CALLS } from './test-support/rollup-fixture';

describe('rollupMeterQuery', () => {
  it('meter query: windows, customers, exact decimal text, every value quoted', () => {
    const series = resolveSeries(
      meter({ key: 'units', eventTypes: ['api', "it's"], aggregation: 'avg', valueProperty: 'quantity' }),
    );
    const query = rollupMeterQuery({
      database: 'tally',
      tenant: 'acme',
      series,
      from: FROM,
      to: TO,
      window: 'day',
      timezone: 'America/New_York',
      customers: ["o'brien"],
      groupByCustomer: true,
      limit: 101,
    });
    expect(query.text).toBe(
      [
        "SELECT toUInt32(toStartOfDay(hour, 'America/New_York')) AS window_start, customer, replaceRegexpOne(toString(sumMerge(quantity_sum) / greatest(countMerge(events), 1)), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1') AS value",
        'FROM `tally`.`usage_hourly`',
        "WHERE tenant = 'acme' AND event_type IN ('api', 'it\\'s') AND hour >= toDateTime('2026-03-01 05:00:00', 'UTC') AND hour < toDateTime('2026-04-01 04:00:00', 'UTC') AND customer IN ('o\\'brien')",
        'GROUP BY window_start, customer',
        'ORDER BY window_start, customer',
        'LIMIT 101',
      ].join('\n'),
    );
  });

  it('meter query without grouping has no GROUP BY (always one row)', () => {
    const query = rollupMeterQuery({
      database: 'd',
      tenant: 'acme',
      series: resolveSeries(meter({})),
      from: FROM,
      to: TO,
      window: 'none',
      timezone: 'UTC',
      limit: 2,
    });
    expect(query.text).toBe(
      `SELECT toString(countMerge(events)) AS value\nFROM \`d\`.\`usage_hourly\`\n${WHERE_CALLS}\nLIMIT 2`,
    );
  });

  it('hour and month windows', () => {
    const base = {
      database: 'd',
      tenant: 'acme',
      series: resolveSeries(meter({})),
      from: FROM,
      to: TO,
      timezone: 'Europe/Berlin',
      limit: 5,
    };
    expect(rollupMeterQuery({ ...base, window: 'hour' }).text).toContain(
      "toUInt32(toStartOfHour(hour, 'Europe/Berlin')) AS window_start",
    );
    expect(rollupMeterQuery({ ...base, window: 'month' }).text).toContain(
      "toUInt32(toDateTime(toStartOfMonth(hour, 'Europe/Berlin'), 'Europe/Berlin')) AS window_start",
    );
  });

  it('tiered: whole UTC days from the daily roll-up, the hours at the ends from the hour-first one', () => {
    const series = resolveSeries(
      meter({ key: 'units', eventTypes: ['api'], aggregation: 'avg', valueProperty: 'quantity' }),
    );
    const query = rollupMeterQuery({
      database: 'tally',
      tenant: 'acme',
      series,
      from: FROM,
      to: TO,
      window: 'none',
      timezone: 'America/New_York',
      groupByCustomer: true,
      limit: 101,
      tiered: true,
    });
    expect(query.text).toBe(
      [
        "SELECT customer, replaceRegexpOne(toString(sumMerge(quantity_sum) / greatest(countMerge(events), 1)), '\\\\.0*$|(\\\\.[0-9]*[1-9])0+$', '\\\\1') AS value",
        "FROM (SELECT customer, quantity_sum, events FROM `tally`.`usage_daily` WHERE tenant = 'acme' AND event_type IN ('api') AND day >= toDateTime('2026-03-02 00:00:00', 'UTC') AND day < toDateTime('2026-04-01 00:00:00', 'UTC') UNION ALL SELECT customer, quantity_sum, events FROM `tally`.`usage_hourly_by_time` WHERE tenant = 'acme' AND event_type IN ('api') AND ((hour >= toDateTime('2026-03-01 05:00:00', 'UTC') AND hour < toDateTime('2026-03-02 00:00:00', 'UTC')) OR (hour >= toDateTime('2026-04-01 00:00:00', 'UTC') AND hour < toDateTime('2026-04-01 04:00:00', 'UTC'))))",
        'GROUP BY customer',
        'ORDER BY customer',
        'LIMIT 101',
      ].join('\n'),
    );
    // Whole days only: no hourly branch. Less than a whole day: the customer-first table as usual.
    const count = resolveSeries(meter({}));
    const days = { database: 'd', tenant: 'acme', series: count, limit: 10, tiered: true };
    expect(
      rollupTopCustomers({
        ...days,
        from: new Date('2026-03-01T00:00:00Z'),
        to: new Date('2026-04-01T00:00:00Z'),
      }).text,
    ).toBe(
      [
        'SELECT customer, toString(countMerge(events)) AS value',
        "FROM (SELECT customer, events FROM `d`.`usage_daily` WHERE tenant = 'acme' AND event_type IN ('call') AND day >= toDateTime('2026-03-01 00:00:00', 'UTC') AND day < toDateTime('2026-04-01 00:00:00', 'UTC'))",
        'GROUP BY customer',
        'ORDER BY countMerge(events) DESC, customer',
        'LIMIT 10',
      ].join('\n'),
    );
    expect(
      rollupTopCustomers({
        ...days,
        from: new Date('2026-03-01T05:00:00Z'),
        to: new Date('2026-03-02T04:00:00Z'),
      }).text,
    ).toContain('FROM `d`.`usage_hourly`\nWHERE');
    expect(wholeUtcDays(new Date('2026-03-01T05:00:00Z'), new Date('2026-03-03T01:00:00Z'))).toEqual({
      start: new Date('2026-03-02T00:00:00Z'),
      end: new Date('2026-03-03T00:00:00Z'),
    });
  });

  it('refuses series the roll-up cannot answer (a bug in the caller, not bad input)', () => {
    const filtered = resolveSeries(
      meter({ filters: [{ property: 'country', operator: 'eq', value: 'USA' }] }),
    );
    expect(() =>
      rollupMeterQuery({
        database: 'd',
        tenant: 't',
        series: filtered,
        from: FROM,
        to: TO,
        window: 'none',
        timezone: 'UTC',
        limit: 1,
      }),
    ).toThrow(/cannot be answered from the roll-up/);
  });
});
